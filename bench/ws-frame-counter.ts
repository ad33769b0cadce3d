/**
 * One lean WebSocket client for `npm run bench -- node-red`: `node --import tsx bench/ws-frame-counter.ts URL`.
 * A plain TCP socket that does the HTTP upgrade itself and counts the server's frames that hold a JSON
 * decision (unmasked; a ping gets its pong) without decoding them, so it costs the server under test
 * almost nothing. Prints `{"ready":true}` once upgraded; on SIGTERM, or 3 s after the last frame once `expect` (argv[3]) frames
 * arrived or none came for 10 s, prints {frames, firstMs, lastMs, cpuUs} and exits.
 */
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';

const url = new URL(process.argv[2] ?? '');
const expect = Number(process.argv[3] ?? Infinity);
const socket = connect(Number(url.port), url.hostname);
socket.setNoDelay(true);
let upgraded = false;
let pending: Buffer = Buffer.alloc(0);
let frames = 0;
let firstMs = 0;
let lastMs = 0;
const cpu0 = process.cpuUsage();
const now = () => performance.timeOrigin + performance.now();
/** Only decisions count (a server may also send a hello or status frames). */
const DECISION = Buffer.from('"decision"');

function finish(): void {
  const c = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ frames, firstMs, lastMs, cpuUs: c.user + c.system }) + '\n');
  socket.destroy();
  process.exit(0);
}

socket.on('connect', () => {
  socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
});
socket.on('data', (chunk: Buffer) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  if (!upgraded) {
    const end = pending.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = pending.subarray(0, end).toString();
    if (!/^HTTP\/1\.1 101/.test(head)) {
      process.stderr.write(`ws-frame-counter: ${url.href} refused the upgrade: ${head.split('\r\n')[0]}\n`);
      process.exit(1);
    }
    upgraded = true;
    pending = pending.subarray(end + 4);
    process.stdout.write('{"ready":true}\n');
  }
  let o = 0;
  for (;;) {
    if (pending.length - o < 2) break;
    const op = pending[o]! & 0x0f;
    let len = pending[o + 1]! & 0x7f;
    let h = 2;
    if (len === 126) {
      if (pending.length - o < 4) break;
      len = pending.readUInt16BE(o + 2);
      h = 4;
    } else if (len === 127) {
      if (pending.length - o < 10) break;
      len = Number(pending.readBigUInt64BE(o + 2));
      h = 10;
    }
    if (pending.length - o < h + len) break;
    if (op === 0x9) {
      // Pong with the ping's payload, masked (client frames must be).
      const body = pending.subarray(o + h, o + h + len);
      socket.write(Buffer.concat([Buffer.from([0x8a, 0x80 | len, 0, 0, 0, 0]), body]));
    } else if ((op === 0x1 || op === 0x2) && pending.subarray(o + h, o + h + len).includes(DECISION)) {
      const t = now();
      if (frames === 0) firstMs = t;
      lastMs = t;
      frames++;
    }
    o += h + len;
  }
  pending = pending.subarray(o);
});
socket.on('error', (e) => {
  process.stderr.write(`ws-frame-counter: ${e.message}\n`);
  process.exit(1);
});
process.on('SIGTERM', finish);
setInterval(() => {
  const idle = now() - (lastMs || now());
  if ((frames >= expect && idle > 3000) || (frames > 0 && idle > 10_000)) finish();
}, 200);
