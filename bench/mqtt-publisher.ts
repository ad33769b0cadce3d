/**
 * The publishing side of `npm run bench -- mqtt`, run as a child process so that publisher and subscriber
 * get a core each: `node --import tsx bench/mqtt-publisher.ts '<json PublisherJob>'`. Publishes `count`
 * messages as fast as the socket takes them (waiting for the writes every `batch` messages, so memory stays
 * bounded), then prints one JSON line {published, seconds, cpuUs} (cpuUs: this process' user + system CPU).
 *
 * Payloads per mode: 'spikeflow' protobuf Envelopes (sequence +1 per message); 'baseline' what a plain
 * mqtt.js script sends — a Decision as JSON.stringify of a plain object, an event packet as the raw bytes
 * of its x, y, t, p arrays. Decisions carry their send time (performance.timeOrigin + now, ms) for the
 * latency under saturation.
 *
 * Publishers (`job.publisher`):
 *  - 'raw' (the lean load generator): every payload is encoded before the clock starts, framed as MQTT 5
 *    QoS 0 PUBLISH packets, and written in batches on a plain TCP socket (no-delay) that spoke CONNECT /
 *    CONNACK itself; only the send times are patched into the frames as they go. On a 2-core machine the
 *    publisher shares the CPU with the broker and the subscriber under test, so it should cost ~nothing.
 *  - 'client': each mode's own client — openMqttSink for 'spikeflow', mqtt.js publish() for 'baseline' —
 *    encoding every message as it goes (what a real publisher costs).
 */
import { connect, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { openMqttSink } from '../adapters/mqtt-sink.js';
import { packetOf, type EventPacket } from '../src/events/packet.js';
import { encodeWire } from '../src/wire/protobuf-codec.js';
import { remainingLength } from '../test/helpers/mqtt.js';

export interface PublisherJob {
  readonly url: string;
  readonly mode: 'spikeflow' | 'baseline';
  readonly kind: 'decision' | 'events';
  readonly topic: string;
  readonly count: number;
  readonly eventsPerPacket: number;
  readonly qos: 0 | 1;
  readonly batch: number;
  /** Default 'client'. */
  readonly publisher?: 'raw' | 'client';
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


/** A QoS 0 MQTT 5 PUBLISH frame (empty property list). */
export function publishFrame(topic: string, payload: Uint8Array): Buffer {
  const t = Buffer.from(topic, 'utf8');
  const body = 2 + t.length + 1 + payload.length;
  const head = Buffer.from([0x30, ...remainingLength(body), t.length >> 8, t.length & 255]);
  return Buffer.concat([head, t, Buffer.from([0]), payload]);
}

/** Plain TCP, MQTT 5 CONNECT (clean start), resolves at an accepted CONNACK. */
export function rawConnect(url: string, id = `bench-raw-${process.pid}`): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || 1883) }, () => {
      socket.setNoDelay(true);
      const idBytes = Buffer.from(id);
      // Protocol name, level 5, flags: clean start, keepalive 60 s, no properties; client id.
      const vh = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 0x02, 0, 60, 0]);
      const body = Buffer.concat([vh, Buffer.from([idBytes.length >> 8, idBytes.length & 255]), idBytes]);
      socket.write(Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]));
    });
    socket.once('error', reject);
    socket.once('data', (d: Buffer) => {
      // CONNACK: 0x20, length, flags, reason code 0.
      if (d[0] !== 0x20 || d[3] !== 0) return reject(new Error(`raw publisher: no CONNACK accepted (${d.subarray(0, 8).toString('hex')})`));
      resolve(socket);
    });
  });
}

/** Frames for `job`, and where each one's send time goes (-1: none): built before the clock starts. */
function prebuild(job: PublisherJob): { frames: Buffer; ends: Uint32Array; timeAt: Int32Array; timeText: boolean } {
  const parts: Buffer[] = [];
  const ends = new Uint32Array(job.count);
  const timeAt = new Int32Array(job.count).fill(-1);
  const packets = job.kind === 'events' ? [benchPacket(job.eventsPerPacket, 1), benchPacket(job.eventsPerPacket, 2)] : [];
  const placeholder = nowMs();
  let at = 0;
  for (let i = 0; i < job.count; i++) {
    let payload: Uint8Array;
    let timeFromEnd = -1;
    if (job.mode === 'spikeflow') {
      // Sequence numbers from 1 as the sink numbers them; a Decision's emitted_unix_ms is its last field (8 bytes).
      payload = job.kind === 'decision' ? encodeWire({ ...benchDecision(i, placeholder), sequence: i + 1 }) : encodeWire({ kind: 'events', sequence: i + 1, packet: packets[i & 1]! });
      if (job.kind === 'decision') timeFromEnd = 8;
    } else if (job.kind === 'decision') {
      // Fixed-width send time (toFixed(3) of an epoch in ms) last, so it can be rewritten in place.
      payload = Buffer.from(JSON.stringify({ seq: i, ...benchDecision(i, 0) }).replace(/"emittedUnixMs":0}$/, `"emittedUnixMs":${placeholder.toFixed(3)}}`));
      timeFromEnd = 18;
    } else payload = rawPacketBytes(packets[i & 1]!, placeholder);
    const frame = publishFrame(job.topic, payload);
    parts.push(frame);
    at += frame.length;
    ends[i] = at;
    if (timeFromEnd > 0) timeAt[i] = at - timeFromEnd;
  }
  return { frames: Buffer.concat(parts, at), ends, timeAt, timeText: job.mode === 'baseline' };
}

/** CPU is counted from here: the raw publisher moves it past its prebuilding. */
let cpuFrom: NodeJS.CpuUsage | undefined;

async function runRaw(job: PublisherJob): Promise<number> {
  const { frames, ends, timeAt, timeText } = prebuild(job);
  const socket = await rawConnect(job.url);
  socket.on('data', () => {});
  cpuFrom = process.cpuUsage();
  const t0 = performance.now();
  let from = 0;
  for (let i = 0; i < job.count; i += job.batch) {
    const last = Math.min(job.count, i + job.batch);
    const t = nowMs();
    for (let k = i; k < last; k++) {
      const p = timeAt[k]!;
      if (p < 0) continue;
      if (timeText) frames.write(t.toFixed(3), p, 'latin1');
      else frames.writeDoubleLE(t, p);
    }
    const to = ends[last - 1]!;
    // Written as is: the frames buffer is not touched again until these bytes have left (see the wait).
    const more = socket.write(frames.subarray(from, to));
    from = to;
    if (!more) await new Promise<void>((r) => socket.once('drain', r));
  }
  await new Promise<void>((r) => socket.write(Buffer.alloc(0), () => r()));
  const seconds = (performance.now() - t0) / 1000;
  // DISCONNECT, then close.
  await new Promise<void>((r) => socket.end(Buffer.from([0xe0, 0]), () => r()));
  return seconds;
}

// Run as a script (not when bench/mqtt.ts imports the helpers above).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const job = JSON.parse(process.argv[2] ?? '{}') as PublisherJob;
  cpuFrom = process.cpuUsage();
  const seconds = job.publisher === 'raw' ? await runRaw(job) : job.mode === 'spikeflow' ? await runSpikeflow(job) : await runBaseline(job);
  const cpu = process.cpuUsage(cpuFrom);
  process.stdout.write(JSON.stringify({ published: job.count, seconds, cpuUs: cpu.user + cpu.system }) + '\n');
}
