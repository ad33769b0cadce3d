/**
 * The publishing side of `npm run bench -- mqtt`, run as a child process so that publisher and subscriber
 * get a core each: `node --import tsx bench/mqtt-publisher.ts '<json PublisherJob>'`. Publishes `count`
 * messages as fast as the socket takes them (waiting for the writes every `batch` messages, so memory stays
 * bounded), then prints one JSON line {published, seconds, cpuUs} (cpuUs: this process' user + system CPU).
 *
 * mode 'spikeflow': openMqttSink, protobuf Envelopes. mode 'baseline': a plain mqtt.js script — a Decision as
 * JSON.stringify of a plain object, an event packet as the raw bytes of its x, y, t, p arrays.
 * Decisions carry their send time (performance.timeOrigin + now, ms) for the latency under saturation.
 */
import { pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { openMqttSink } from '../adapters/mqtt-sink.js';
import { packetOf, type EventPacket } from '../src/events/packet.js';

export interface PublisherJob {
  readonly url: string;
  readonly mode: 'spikeflow' | 'baseline';
  readonly kind: 'decision' | 'events';
  readonly topic: string;
  readonly count: number;
  readonly eventsPerPacket: number;
  readonly qos: 0 | 1;
  readonly batch: number;
}

const nowMs = () => performance.timeOrigin + performance.now();

export function benchPacket(n: number, seed: number): EventPacket {
  const x = new Uint16Array(n);
  const y = new Uint16Array(n);
  const t = new Float64Array(n);
  const p = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    x[k] = (k * 13 + seed) % 1280;
    y[k] = (k * 7 + seed) % 720;
    t[k] = 1e9 + seed * 1000 + (k >> 2);
    p[k] = k & 1;
  }
  return packetOf(x, y, t, p, { width: 1280, height: 720 }, { format: 'bench', uri: 'bench-dvs' });
}

export function benchDecision(i: number, emittedUnixMs: number) {
  return { kind: 'decision' as const, pipeline: 'bench', region: 'left', label: 'wave', classIndex: i % 10, confidence: 0.87, timeUs: i * 1000, latencySteps: 3, latencyUs: 3000, emittedUnixMs };
}

/** Raw SoA bytes of a packet with the send time in front: the baseline's binary payload. */
export function rawPacketBytes(p: EventPacket, sentMs: number): Buffer {
  const n = p.length;
  const out = Buffer.allocUnsafe(8 + n * 13);
  out.writeDoubleLE(sentMs, 0);
  Buffer.from(p.t.buffer, p.t.byteOffset, n * 8).copy(out, 8);
  Buffer.from(p.x.buffer, p.x.byteOffset, n * 2).copy(out, 8 + n * 8);
  Buffer.from(p.y.buffer, p.y.byteOffset, n * 2).copy(out, 8 + n * 10);
  Buffer.from(p.p.buffer, p.p.byteOffset, n).copy(out, 8 + n * 12);
  return out;
}

async function runSpikeflow(job: PublisherJob): Promise<number> {
  const sink = await openMqttSink({ url: job.url, topic: job.topic, qos: job.qos, log: { sink: (l) => process.stderr.write(l + '\n') } });
  await sink.ready;
  const packets = job.kind === 'events' ? [benchPacket(job.eventsPerPacket, 1), benchPacket(job.eventsPerPacket, 2)] : [];
  const t0 = performance.now();
  for (let i = 0; i < job.count; i++) {
    if (job.kind === 'decision') sink.publish(benchDecision(i, nowMs()));
    else sink.publish(packets[i & 1]!);
    if (i % job.batch === job.batch - 1) await sink.drain(60_000);
  }
  await sink.drain(60_000);
  const seconds = (performance.now() - t0) / 1000;
  await sink.close();
  return seconds;
}

async function runBaseline(job: PublisherJob): Promise<number> {
  const client = await mqtt.connectAsync(job.url, { protocolVersion: 5 });
  // Same as the sink does: mqtt.js adds a 'drain' listener per publish while the socket buffer is full.
  client.stream.setMaxListeners(0);
  const packets = job.kind === 'events' ? [benchPacket(job.eventsPerPacket, 1), benchPacket(job.eventsPerPacket, 2)] : [];
  const t0 = performance.now();
  let pending = 0;
  let wake: (() => void) | undefined;
  const done = () => {
    pending--;
    if (pending === 0) wake?.();
  };
  for (let i = 0; i < job.count; i++) {
    const payload = job.kind === 'decision' ? JSON.stringify({ seq: i, ...benchDecision(i, nowMs()) }) : rawPacketBytes(packets[i & 1]!, nowMs());
    pending++;
    client.publish(job.topic, payload, { qos: job.qos }, done);
    if (i % job.batch === job.batch - 1 && pending > 0) await new Promise<void>((r) => (wake = r));
  }
  if (pending > 0) await new Promise<void>((r) => (wake = r));
  const seconds = (performance.now() - t0) / 1000;
  await client.endAsync();
  return seconds;
}

// Run as a script (not when bench/mqtt.ts imports the helpers above).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const job = JSON.parse(process.argv[2] ?? '{}') as PublisherJob;
  const cpu0 = process.cpuUsage();
  const seconds = job.mode === 'spikeflow' ? await runSpikeflow(job) : await runBaseline(job);
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ published: job.count, seconds, cpuUs: cpu.user + cpu.system }) + '\n');
}
