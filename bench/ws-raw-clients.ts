/**
 * Lean load for the fan-out part of `npm run bench -- ws`: `clients` WebSocket clients in one child
 * process (`node --import tsx bench/ws-raw-clients.ts '<json job>'`), each a plain TCP socket that did the
 * HTTP upgrade itself and reads frames with a minimal parser (server frames are unmasked; pings get a
 * pong). Each decision's latency is receipt − emittedUnixMs (both performance.timeOrigin + now()), found
 * in the JSON text without parsing the rest, or read by decodeWire for the protobuf encoding.
 * The clients cost little CPU, so on a small machine the server under test keeps the cores.
 *
 * IPC with the parent: sends {ready} once all are connected and subscribed (the server's hello arrived);
 * takes {reset: n} (zero the counts, ignore decisions numbered below n), 'snapshot' and 'stop' (answer
 * {result} with the counts and this process' CPU µs since the reset, and for 'stop' close and exit).
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { decodeWire } from '../src/wire/protobuf-codec.js';

interface Job {
  readonly url: string;
  readonly clients: number;
  readonly encoding: 'json' | 'proto';
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const now = () => performance.timeOrigin + performance.now();
const BUCKET_MS = 0.05;
const histogram = new Float64Array(200_000); // up to 10 s
let received = 0;
let cpuFrom = process.cpuUsage();
let fromSequence = 0;
let lost = 0;
const lastSeq: number[] = [];
const sockets: Socket[] = [];
const EMITTED = Buffer.from('"emittedUnixMs":');
const SEQUENCE = Buffer.from('"sequence":');
const PONG_MASK = Buffer.alloc(4); // a zero mask: the payload goes as is

function numberAt(b: Buffer, key: Buffer): number {
  const at = b.indexOf(key);
  if (at < 0) return NaN;
  let end = at + key.length;
  while (end < b.length && b[end] !== 0x2c && b[end] !== 0x7d) end++;
  return Number(b.toString('latin1', at + key.length, end));
}

function onDecision(k: number, sequence: number, emittedUnixMs: number): void {
  const prev = lastSeq[k];
  if (prev !== undefined && sequence > prev + 1) lost += sequence - prev - 1;
  lastSeq[k] = sequence;
  if (sequence < fromSequence) return;
  received++;
  const ms = now() - emittedUnixMs;
  histogram[Math.min(histogram.length - 1, Math.max(0, Math.floor(ms / BUCKET_MS)))]!++;
}

function open(k: number): Promise<void> {
  const u = new URL(job.url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port) }, () => {
      s.setNoDelay(true);
      const protocol = job.encoding === 'proto' ? 'spikeflow.v1.proto' : 'spikeflow.v1.json';
      s.write(`GET /decisions HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
    });
    sockets.push(s);
    s.once('error', reject);
    let upgraded = false;
    let pending: Buffer | undefined;
    s.on('data', (chunk: Buffer) => {
      let b = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      if (!upgraded) {
        const end = b.indexOf('\r\n\r\n');
        if (end < 0) return void (pending = b);
        if (!b.toString('latin1', 0, 12).includes('101')) return reject(new Error(`upgrade refused: ${b.toString('latin1', 0, end)}`));
        upgraded = true;
        b = b.subarray(end + 4);
      }
      let i = 0;
      while (i + 2 <= b.length) {
        const opcode = b[i]! & 0x0f;
        let len = b[i + 1]! & 0x7f;
        let h = i + 2;
        if (len === 126) {
          if (h + 2 > b.length) break;
          len = b.readUInt16BE(h);
          h += 2;
        } else if (len === 127) {
          if (h + 8 > b.length) break;
          len = Number(b.readBigUInt64BE(h));
          h += 8;
        }
        if (h + len > b.length) break;
        const payload = b.subarray(h, h + len);
        i = h + len;
        if (opcode === 9) {
          s.write(Buffer.concat([Buffer.from([0x8a, 0x80 | payload.length]), PONG_MASK, payload]));
        } else if (opcode === 1) {
          if (payload[2] === 0x6f /* {"op":… */) {
            if (payload.indexOf('"hello"') >= 0) resolve();
          } else onDecision(k, numberAt(payload, SEQUENCE), numberAt(payload, EMITTED));
        } else if (opcode === 2) {
          const m = decodeWire(payload);
          if (m.kind === 'decision') onDecision(k, m.sequence, m.emittedUnixMs);
        }
      }
      if (i < b.length) pending = b.subarray(i);
    });
  });
}

async function start(): Promise<void> {
  // In groups: a thousand simultaneous handshakes overflow the listen backlog of a small box.
  for (let k = 0; k < job.clients; k += 50) await Promise.all(Array.from({ length: Math.min(50, job.clients - k) }, (_, j) => open(k + j)));
}

process.on('message', (m: string | { reset: number }) => {
  if (typeof m === 'object') {
    fromSequence = m.reset;
    received = 0;
    lost = 0;
    histogram.fill(0);
    cpuFrom = process.cpuUsage();
    return;
  }
  if (m !== 'stop' && m !== 'snapshot') return;
  const cpu = process.cpuUsage(cpuFrom);
  process.send!({ result: { received, events: 0, lost, serverDropped: 0, histogram: Array.from(histogram), bucketMs: BUCKET_MS, cpuUs: cpu.user + cpu.system } });
  if (m === 'snapshot') return;
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 100);
});

start().then(
  () => process.send!({ ready: true }),
  (e: Error) => process.send!({ error: e.message }),
);
