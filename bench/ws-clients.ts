/**
 * Client side of `bench/ws.ts`, run in worker threads so the clients do not share the server's event
 * loop. Modes (workerData.mode):
 *  - 'latency': `clients` typed clients (connectWs) on 'decisions'; latency = receipt − emittedUnixMs,
 *    both from performance.timeOrigin + now(), into a 0.05 ms histogram;
 *  - 'count': `clients` raw `ws` clients counting messages (the server's send path, no decoding);
 *  - 'events': one typed client on 'events', counting decoded events.
 * The worker posts {ready} once connected, and its counts on 'snapshot' or 'stop' (which also ends it);
 * {reset: n} zeroes the counts and ignores decisions numbered below n from then on.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { connectWs, type WsClient } from '../adapters/ws-client.js';

interface Job {
  readonly mode: 'latency' | 'count' | 'events';
  readonly url: string;
  readonly clients: number;
  readonly encoding: 'json' | 'proto';
}

const job = workerData as Job;
const now = () => performance.timeOrigin + performance.now();
const BUCKET_MS = 0.05;
const histogram = new Float64Array(200_000); // up to 10 s
let received = 0;
let events = 0;
const typed: WsClient[] = [];
const raw: WebSocket[] = [];
const quiet = { sink: () => undefined };

async function start(): Promise<void> {
  if (job.mode === 'count') {
    await Promise.all(
      Array.from({ length: job.clients }, () => {
        const ws = new WebSocket(`${job.url}/decisions`, job.encoding === 'proto' ? 'spikeflow.v1.proto' : 'spikeflow.v1.json');
        raw.push(ws);
        ws.on('message', () => received++);
        return new Promise((r, j) => {
          ws.once('open', r);
          ws.once('error', j);
        });
      }),
    );
    return;
  }
  for (let k = 0; k < job.clients; k++) {
    const stream = job.mode === 'events' ? 'events' : 'decisions';
    const c = connectWs({ url: job.url, streams: [stream], encoding: job.encoding, log: quiet, idleTimeoutMs: 0 });
    typed.push(c);
    if (job.mode === 'events')
      c.stream('events').subscribe((p) => {
        received++;
        events += p.length;
      });
    else
      c.stream('decisions').subscribe((d) => {
        if (d.sequence < fromSequence) return;
        received++;
        const ms = now() - d.emittedUnixMs;
        histogram[Math.min(histogram.length - 1, Math.max(0, Math.floor(ms / BUCKET_MS)))]!++;
      });
    // Connect in small groups: 1000 simultaneous handshakes overflow the listen backlog on a small box.
    if (k % 50 === 49) await Promise.all(typed.slice(-50).map((x) => x.ready));
  }
  await Promise.all(typed.map((c) => c.ready));
}

let fromSequence = 0;
parentPort!.on('message', (m: string | { reset: number }) => {
  if (typeof m === 'object') {
    // Count only decisions published from here on (clients that lag still receive the warm-up's).
    fromSequence = m.reset;
    received = 0;
    events = 0;
    histogram.fill(0);
    return;
  }
  if (m !== 'stop' && m !== 'snapshot') return;
  const lost = typed.reduce((a, c) => a + c.stats.lost, 0);
  const serverDropped = typed.reduce((a, c) => a + c.stats.serverDropped, 0);
  parentPort!.postMessage({ result: { received, events, lost, serverDropped, histogram, bucketMs: BUCKET_MS } });
  if (m === 'snapshot') return;
  for (const c of typed) c.close();
  for (const ws of raw) ws.terminate();
  setTimeout(() => process.exit(0), 100);
});

start().then(
  () => parentPort!.postMessage({ ready: true }),
  (e: Error) => parentPort!.postMessage({ error: e.message }),
);
