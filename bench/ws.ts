/**
 * `npm run bench -- ws [--quick] [--clients N] [--seconds S] [--encoding json|proto] [--typed-clients] [--only fan-out|small|events]`
 *
 * WebSocket publisher over loopback:
 *  1. fan-out: N clients (default 1000) × 100 decisions/s for S seconds (default 10); latency percentiles
 *     from emit to receipt (issue goal: p99 < 20 ms), plus loss and drops. The clients are lean: one child
 *     process of plain TCP sockets with a minimal frame reader (bench/ws-raw-clients.ts), so that on a
 *     2-core machine the server under test is not starved by a thousand full clients; --typed-clients
 *     runs them as typed clients (connectWs) in two worker threads instead (bench/ws-clients.ts);
 *  2. small messages: msg/s delivered to 8 raw clients by startWsServer (encoding each decision) vs a plain `ws` server
 *     broadcasting pre-encoded bytes (no filters, no bounded queues), same process, same kind of clients;
 *  3. event packets of 4096 events to one typed client (decoded): M events/s, per encoding.
 * Throughput runs are closed-loop: publish while the bytes waiting in the servers stay under 4 MiB,
 * so neither server drops or buffers without bound; the msg/s comparison alternates 3 rounds of each
 * and takes medians, since a shared machine's load drifts. Default run: well under 2 minutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WebSocketServer, type WebSocket } from 'ws';
import { startWsServer } from '../adapters/ws-server.js';
import { encodeWire } from '../src/wire/protobuf-codec.js';
import type { Decision } from '../src/wire/messages.js';
import { packetFromArrays } from '../src/events/packet.js';

interface Result {
  /** CPU µs the clients' process spent since the reset (raw clients only). */
  cpuUs?: number;
  received: number;
  events: number;
  lost: number;
  serverDropped: number;
  histogram: Float64Array;
  bucketMs: number;
}

interface Settings {
  clients: number;
  seconds: number;
  encoding: 'json' | 'proto';
  throughputSeconds: number;
  typedClients: boolean;
  only?: 'fan-out' | 'small' | 'events';
}

function parseArgs(args: string[]): Settings {
  const s: Settings = { clients: 1000, seconds: 10, encoding: 'json', throughputSeconds: 4, typedClients: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--quick') Object.assign(s, { clients: 200, seconds: 4, throughputSeconds: 2 });
    else if (a === '--clients') s.clients = Number(args[++i]);
    else if (a === '--seconds') s.seconds = Number(args[++i]);
    else if (a === '--encoding') s.encoding = args[++i] === 'proto' ? 'proto' : 'json';
    else if (a === '--typed-clients') s.typedClients = true;
    else if (a === '--only') {
      const v = args[++i];
      if (v !== 'fan-out' && v !== 'small' && v !== 'events') throw new Error('bench ws: --only fan-out|small|events');
      s.only = v;
    }
    else throw new Error(`bench ws: unknown argument ${a}`);
  }
  return s;
}

const wallMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class ClientWorker {
  private readonly w: Worker;
  readonly ready: Promise<void>;
  constructor(job: { mode: 'latency' | 'count' | 'events'; url: string; clients: number; encoding: 'json' | 'proto' }) {
    // tsx's --import hooks do not reach worker threads: the worker registers them itself, then loads the TypeScript.
    const url = new URL('./ws-clients.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); }).catch((e) => { console.error(e); process.exit(1); });`;
    this.w = new Worker(boot, { eval: true, workerData: job });
    this.ready = new Promise((resolve, reject) => {
      this.w.once('error', reject);
      this.w.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
    });
  }
  reset(fromSequence: number): void {
    this.w.postMessage({ reset: fromSequence });
  }
  stop(): Promise<Result> {
    return this.ask('stop');
  }
  snapshot(): Promise<Result> {
    return this.ask('snapshot');
  }
  private ask(what: string): Promise<Result> {
    return new Promise((resolve) => {
      this.w.once('message', (m: { result: Result }) => resolve(m.result));
      this.w.postMessage(what);
    });
  }
}

interface Clients {
  readonly ready: Promise<void>;
  reset(fromSequence: number): void;
  stop(): Promise<Result>;
}

/** bench/ws-raw-clients.ts in a child process. */
class RawClients implements Clients {
  private readonly child: ChildProcess;
  readonly ready: Promise<void>;
  constructor(job: { url: string; clients: number; encoding: 'json' | 'proto' }) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ws-raw-clients.ts', import.meta.url)), JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
    });
  }
  reset(fromSequence: number): void {
    this.child.send({ reset: fromSequence });
  }
  stop(): Promise<Result> {
    return new Promise((resolve) => {
      this.child.once('message', (m: { result: Result & { histogram: number[] } }) => resolve({ ...m.result, histogram: Float64Array.from(m.result.histogram) }));
      this.child.send('stop');
    });
  }
}

function percentiles(results: Result[]): Record<string, number> {
  const h = new Float64Array(results[0]!.histogram.length);
  for (const r of results) for (let i = 0; i < h.length; i++) h[i]! += r.histogram[i]!;
  const total = h.reduce((a, b) => a + b, 0);
  const at = (q: number) => {
    let acc = 0;
    for (let i = 0; i < h.length; i++) {
      acc += h[i]!;
      if (acc >= q * total) return Math.round((i + 1) * results[0]!.bucketMs * 100) / 100;
    }
    return Infinity;
  };
  return { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: at(1) };
}

function decision(sequence: number): Decision {
  return { sequence, pipeline: 'bench', region: 'cam0', label: 'wave', classIndex: 3, confidence: 0.9, timeUs: sequence * 10_000, latencySteps: 2, latencyUs: 1500, emittedUnixMs: wallMs() };
}

async function fanOut(s: Settings): Promise<Record<string, unknown>> {
  const server = await startWsServer({ maxClients: s.clients + 10, log: { sink: () => undefined } });
  const workers: Clients[] = s.typedClients
    ? [0, 1].map((k) => new ClientWorker({ mode: 'latency', url: server.url, clients: Math.floor(s.clients / 2) + (k === 0 ? s.clients % 2 : 0), encoding: s.encoding }))
    : [new RawClients({ url: server.url, clients: s.clients, encoding: s.encoding })];
  try {
    const t0 = Date.now();
    await Promise.all(workers.map((w) => w.ready));
    while (server.clients().filter((c) => c.streams.decisions).length < s.clients) await sleep(20);
    const connectMs = Date.now() - t0;
    console.log(`fan-out: ${s.clients} clients connected and subscribed in ${connectMs} ms`);
    // 1 s warm-up (JIT, socket buffers), then the measured run; every 10 ms, one decision to all.
    let seq = 0;
    const publishMs: number[] = [];
    const run = async (ms: number) => {
      const start = wallMs();
      for (let k = 1; wallMs() < start + ms; k++) {
        const t = performance.now();
        server.publish('decisions', decision(++seq));
        publishMs.push(performance.now() - t);
        const wait = start + k * 10 - wallMs();
        if (wait > 0) await sleep(wait);
      }
    };
    await run(1000);
    await sleep(200);
    for (const w of workers) w.reset(seq + 1);
    publishMs.length = 0;
    const sentBefore = server.stats.sent;
    const seqBefore = seq;
    const cpu0 = process.cpuUsage();
    await run(s.seconds * 1000);
    await sleep(1000);
    // This process is the server (and the publishing loop): CPU per delivered message is the fan-out's cost.
    const serverCpu = process.cpuUsage(cpu0);
    const results = await Promise.all(workers.map((w) => w.stop()));
    const received = results.reduce((a, r) => a + r.received, 0);
    const published = seq - seqBefore;
    const out = {
      clients: s.clients,
      clientKind: s.typedClients ? 'typed clients (connectWs) in 2 worker threads' : 'raw TCP clients with a minimal frame reader, one child process',
      encoding: s.encoding,
      decisionsPerSecondPerClient: Math.round(published / s.seconds),
      published,
      delivered: received,
      expected: published * s.clients,
      sentByServer: server.stats.sent - sentBefore,
      lost: results.reduce((a, r) => a + r.lost, 0),
      serverDropped: server.stats.dropped,
      ...percentiles(results),
      // Server CPU per decision sent to all clients (the synchronous publish call: encode once, queue/send to each).
      publishMsMedian: Math.round(publishMs.sort((a, b) => a - b)[publishMs.length >> 1]! * 100) / 100,
      serverCpuUsPerDelivery: Math.round(((serverCpu.user + serverCpu.system) / Math.max(1, received)) * 100) / 100,
      ...(results[0]!.cpuUs !== undefined ? { clientsCpuUsPerDelivery: Math.round((results[0]!.cpuUs / Math.max(1, received)) * 100) / 100 } : {}),
      loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
      connectMs,
    };
    console.log(`fan-out: ${JSON.stringify(out)}`);
    return out;
  } finally {
    await server.close();
  }
}

/** Publishes bursts while `backlog()` (bytes waiting in the server) stays under 4 MiB, for `ms`. */
async function closedLoop(publishBurst: () => void, backlog: () => number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (backlog() < 4 << 20) publishBurst();
    await new Promise((r) => setImmediate(r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Messages per second the clients of `worker` receive while `burst` runs closed-loop for `ms`. */
async function rate(worker: ClientWorker, burst: () => void, backlog: () => number, ms: number): Promise<number> {
  const before = (await worker.snapshot()).received;
  const t0 = performance.now();
  await closedLoop(burst, backlog, ms);
  const after = (await worker.snapshot()).received;
  return (after - before) / ((performance.now() - t0) / 1000);
}

async function smallMessages(s: Settings): Promise<Record<string, unknown>> {
  const clients = 8;
  const burst = 200;
  const bytes = encodeWire({ kind: 'decision', ...decision(1) });
  const ours = await startWsServer({ log: { sink: () => undefined }, sendBufferBytes: 4 << 20, queueBytes: 4 << 20 });
  const oursClients = new ClientWorker({ mode: 'count', url: ours.url, clients, encoding: 'proto' });
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const plainClients = new ClientWorker({ mode: 'count', url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, clients, encoding: 'proto' });
  await Promise.all([oursClients.ready, plainClients.ready]);
  while (ours.clients().filter((c) => c.streams.decisions).length < clients) await sleep(10);
  let seq = 0;
  const oursRates: number[] = [];
  const plainRates: number[] = [];
  // Alternating rounds, medians: the machine's load drifts, and both see the same drift.
  for (let round = 0; round < 3; round++) {
    oursRates.push(
      await rate(
        oursClients,
        () => {
          for (let i = 0; i < burst; i++) ours.publish('decisions', decision(++seq));
        },
        () => ours.clients().reduce((a, c) => a + c.bufferedAmount + c.queuedBytes, 0),
        (s.throughputSeconds * 1000) / 2,
      ),
    );
    plainRates.push(
      await rate(
        plainClients,
        () => {
          // The plain baseline sends pre-encoded bytes; ours encodes each decision once per publish.
          for (let i = 0; i < burst; i++) for (const c of wss.clients) (c as WebSocket).send(bytes);
        },
        () => [...wss.clients].reduce((a, c) => a + c.bufferedAmount, 0),
        (s.throughputSeconds * 1000) / 2,
      ),
    );
  }
  await Promise.all([oursClients.stop(), plainClients.stop()]);
  const oursDropped = ours.stats.dropped;
  await ours.close();
  for (const c of wss.clients) c.terminate();
  await new Promise((r2) => wss.close(r2));
  const o = median(oursRates);
  const p = median(plainRates);
  const out = { clients, messageBytes: bytes.length, oursMsgPerSecond: Math.round(o), plainWsMsgPerSecond: Math.round(p), ratioOursToPlain: Math.round((o / p) * 100) / 100, rounds: { ours: oursRates.map(Math.round), plain: plainRates.map(Math.round) }, oursDropped };
  console.log(`small messages: ${JSON.stringify(out)}`);
  return out;
}

async function eventPackets(s: Settings, encoding: 'json' | 'proto'): Promise<Record<string, unknown>> {
  const n = 4096;
  const packets = Array.from({ length: 8 }, (_, k) =>
    packetFromArrays(
      {
        x: Array.from({ length: n }, (_, i) => (i * 37 + k) % 640),
        y: Array.from({ length: n }, (_, i) => (i * 11) % 480),
        t: Array.from({ length: n }, (_, i) => 1_000_000 + k * n + i),
        p: Array.from({ length: n }, (_, i) => i & 1),
      },
      { width: 640, height: 480 },
      { format: 'bench', uri: 'cam0' },
    ),
  );
  const server = await startWsServer({ log: { sink: () => undefined }, sendBufferBytes: 8 << 20, queueBytes: 8 << 20 });
  const w = new ClientWorker({ mode: 'events', url: server.url, clients: 1, encoding });
  await w.ready;
  while (server.clients().filter((c) => c.streams.events).length < 1) await sleep(10);
  let k = 0;
  const t0 = performance.now();
  await closedLoop(
    () => server.publish('events', packets[k++ % packets.length]!),
    () => server.clients().reduce((a, c) => a + c.bufferedAmount + c.queuedBytes, 0),
    s.throughputSeconds * 1000,
  );
  await sleep(300);
  const r = await w.stop();
  const seconds = (performance.now() - t0) / 1000;
  const out = { encoding, eventsPerPacket: n, mEventsPerSecond: Math.round((r.events / seconds / 1e6) * 100) / 100, packetsPerSecond: Math.round(r.received / seconds), published: k, lost: r.lost, serverDropped: server.stats.dropped };
  await server.close();
  console.log(`event packets: ${JSON.stringify(out)}`);
  return out;
}

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const s = parseArgs(args);
  const part = (name: Settings['only']) => s.only === undefined || s.only === name;
  const fan = part('fan-out') ? await fanOut(s) : undefined;
  const small = part('small') ? await smallMessages(s) : undefined;
  const proto = part('events') ? await eventPackets(s, 'proto') : undefined;
  const json = part('events') ? await eventPackets(s, 'json') : undefined;
  return { fanOut: fan, smallMessages: small, eventPackets: proto && { proto, json }, ...(fan ? { goal: { p99BelowMs: 20, met: (fan.p99Ms as number) < 20 } } : {}) };
}
