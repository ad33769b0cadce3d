/**
 * `npm run bench -- mqtt [--quick] [--rounds N] [--decisions N] [--packets N] [--events-per-packet N] [--rate MSG_PER_S]`
 *
 * MQTT over loopback through a mosquitto started here (free port, no persistence, TCP no-delay), QoS 0:
 *  - throughput: a publisher child process (bench/mqtt-publisher.ts) sends N messages as fast as it can,
 *    this process subscribes and counts; msg/s is measured at the subscriber, first to last arrival.
 *    Small messages = Decisions; event packets = `eventsPerPacket` events each (reported in M events/s).
 *    Latency under saturation (decisions): send wall-clock time in the message vs arrival. `rounds` rounds
 *    (default 3) alternate baseline and spikeflow; each figure is the median round's.
 *    The load generator is the lean 'raw' publisher: payloads encoded and framed as MQTT PUBLISH packets
 *    before the clock starts, written in batches on a plain TCP socket (only send times patched in). The
 *    machine has 2 cores for publisher, broker and subscriber: a publisher that costs ~nothing leaves them
 *    to the path under test (mosquitto → our MQTT source → decode). The same raw publisher feeds the baseline.
 *  - own publishers, one round: the same with each side's real publisher (openMqttSink / mqtt.js
 *    publish), encoding as it goes: msg/s of the whole path and the publisher's CPU per message.
 *  - broker ceiling: the raw publisher → mosquitto → a subscriber that only counts PUBLISH frames (no
 *    MQTT library, no decoding, bench/mqtt-raw-subscriber.ts): what mosquitto relays here and now; with
 *    mosquitto's own CPU per message (from /proc), which caps every subscriber on a 2-core machine.
 *  - latency below saturation: publisher and subscriber in this process (one clock), Decisions at `rate`
 *    msg/s and event packets at 500 packets/s (each at most a tenth of the throughput just measured, so
 *    below saturation even on a busy machine) for 2 s each; p50/p99 from publish() to the subscriber.
 *  - CPU µs per message on each side (publisher child, subscriber process): a cost figure that holds on a
 *    shared machine where msg/s depends on the neighbours; the machine's load average is reported too.
 *  - baseline, same run, same broker: a plain mqtt.js script path without spikeflow — Decisions as
 *    JSON.stringify/JSON.parse, event packets as raw x/y/t/p bytes wrapped back into typed arrays — and the
 *    ratio spikeflow / baseline.
 * Issue goals: ≥ 100k msg/s small messages (5× Node-RED's ~20k), ≥ 20 M events/s, p99 < 10 ms below saturation.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { fromMqtt } from '../adapters/mqtt-source.js';
import { openMqttSink } from '../adapters/mqtt-sink.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { benchDecision, benchPacket, rawPacketBytes, type PublisherJob } from './mqtt-publisher.js';
import { rawSubscribe } from './mqtt-raw-subscriber.js';

const here = dirname(fileURLToPath(import.meta.url));
const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Settings {
  rounds: number;
  decisions: number;
  packets: number;
  eventsPerPacket: number;
  rate: number;
  latencySeconds: number;
}

function parseArgs(args: string[]): Settings {
  const s: Settings = { rounds: 3, decisions: 80_000, packets: 800, eventsPerPacket: 4096, rate: 10_000, latencySeconds: 2 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--decisions') s.decisions = value();
    else if (a === '--packets') s.packets = value();
    else if (a === '--events-per-packet') s.eventsPerPacket = value();
    else if (a === '--rate') s.rate = value();
    else if (a === '--rounds') s.rounds = Math.round(value());
    else if (a === '--quick') Object.assign(s, { rounds: 1, decisions: 50_000, packets: 500, latencySeconds: 1 });
    else throw new Error(`mqtt bench: unknown argument ${a} (use --quick, --rounds N, --decisions N, --packets N, --events-per-packet N, --rate MSG_PER_S)`);
  }
  return s;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function latencyFigures(lat: number[]): { p50Ms: number; p99Ms: number; maxMs: number } {
  const s = Float64Array.from(lat).sort();
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { p50Ms: r(percentile(s, 0.5)), p99Ms: r(percentile(s, 0.99)), maxMs: r(s.length ? s[s.length - 1]! : NaN) };
}

/** What a subscriber saw: arrivals counted, first/last arrival times, decoded events, latencies. */
class Receiver {
  count = 0;
  events = 0;
  first = 0;
  last = 0;
  readonly latencies: number[] = [];
  arrive(events: number, sentMs?: number): void {
    const now = performance.now();
    if (this.count === 0) this.first = now;
    this.last = now;
    this.count++;
    this.events += events;
    if (sentMs !== undefined) this.latencies.push(performance.timeOrigin + now - sentMs);
  }
  /** Resolves when `n` arrived, or after `idleMs` without arrivals (QoS 0 may drop). */
  async wait(n: number, idleMs = 5000): Promise<void> {
    let seen = -1;
    let since = performance.now();
    while (this.count < n) {
      if (this.count !== seen) {
        seen = this.count;
        since = performance.now();
      } else if (performance.now() - since > idleMs) return;
      await sleep(20);
    }
  }
}

type Mode = 'spikeflow' | 'baseline';
type Kind = 'decision' | 'events';

/** A subscriber of one mode on `topic`; `sentTimeOf(seq)` gives send times (else the message's own); resolves to its close. */
async function subscribe(url: string, mode: Mode, kind: Kind, topic: string, rx: Receiver, sentTimeOf?: (seq: number) => number): Promise<() => Promise<void>> {
  if (mode === 'spikeflow') {
    const source = fromMqtt({ url, topics: topic, qos: 0 });
    const sub = source.subscribe((m) => {
      const msg = m.message;
      if (msg.kind === 'decision') rx.arrive(0, sentTimeOf ? sentTimeOf(msg.sequence) : msg.emittedUnixMs);
      else if (msg.kind === 'events') rx.arrive(msg.packet.length, sentTimeOf?.(msg.sequence));
    });
    while (source.stats.subscribes === 0) await sleep(10);
    return async () => sub.unsubscribe();
  }
  const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
  client.on('message', (_t, payload: Buffer) => {
    if (kind === 'decision') {
      const d = JSON.parse(payload.toString('utf8')) as { seq: number; emittedUnixMs: number };
      rx.arrive(0, sentTimeOf ? sentTimeOf(d.seq) : d.emittedUnixMs);
    } else {
      // A plain script gets its typed arrays back by copying (a Buffer's offset is not 8-aligned).
      const n = (payload.length - 8) / 13;
      const aligned = new Uint8Array(payload.length - 8);
      aligned.set(payload.subarray(8));
      const arrays = { t: new Float64Array(aligned.buffer, 0, n), x: new Uint16Array(aligned.buffer, n * 8, n), y: new Uint16Array(aligned.buffer, n * 10, n), p: aligned.subarray(n * 12) };
      rx.arrive(arrays.x.length, sentTimeOf ? sentTimeOf(payload.readDoubleLE(0)) : undefined);
    }
  });
  await client.subscribeAsync(topic, { qos: 0 });
  return async () => void (await client.endAsync());
}

export function runPublisher(job: PublisherJob): Promise<{ published: number; seconds: number; cpuUs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'mqtt-publisher.ts'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`publisher exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** CPU µs process `pid` has used so far (Linux /proc). */
export function processCpuUs(pid: number | string): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}

/** CPU µs the broker process has used so far, or NaN. */
function brokerCpuUs(dir: string): number {
  try {
    return processCpuUs(execFileSync('pgrep', ['-f', `${dir}/mosquitto.conf`]).toString().trim().split('\n')[0]!);
  } catch {
    return NaN;
  }
}

type PublisherKind = 'raw' | 'client';

async function throughput(url: string, brokerDir: string, mode: Mode | 'count-only', kind: Kind, s: Settings, publisher: PublisherKind): Promise<Record<string, number>> {
  const topic = `bench/${mode}/${kind}/tp`;
  const rx = new Receiver();
  const counter = mode === 'count-only' ? await rawSubscribe(url, topic) : undefined;
  const close = counter ? async () => counter.close() : await subscribe(url, mode as Mode, kind, topic, rx);
  const count = kind === 'decision' ? s.decisions : s.packets;
  const pubMode: Mode = mode === 'baseline' ? 'baseline' : 'spikeflow';
  const broker0 = brokerCpuUs(brokerDir);
  const cpu0 = process.cpuUsage();
  const pub = await runPublisher({ url, mode: pubMode, kind, topic, count, eventsPerPacket: s.eventsPerPacket, qos: 0, batch: kind === 'decision' ? 2000 : 20, publisher });
  if (counter) {
    // The counter sees frames only: follow its count the way Receiver.wait does.
    rx.count = -1;
    let seen = -1;
    while (counter.count < count && counter.count !== seen) {
      seen = counter.count;
      await sleep(300);
    }
    Object.assign(rx, { count: counter.count, first: counter.first, last: counter.last });
  } else await rx.wait(count);
  const cpu = process.cpuUsage(cpu0);
  const brokerUs = brokerCpuUs(brokerDir) - broker0;
  await close();
  const seconds = (rx.last - rx.first) / 1000;
  const msgPerS = seconds > 0 ? (rx.count - 1) / seconds : 0;
  // CPU per message does not depend on what else runs on the machine: a load-independent cost figure.
  const round2 = (v: number) => Math.round(v * 100) / 100;
  const r: Record<string, number> = {
    sent: pub.published,
    received: rx.count,
    publisherMsgPerS: Math.round(pub.published / pub.seconds),
    msgPerS: Math.round(msgPerS),
    publisherCpuUsPerMsg: round2(pub.cpuUs / pub.published),
    subscriberCpuUsPerMsg: round2((cpu.user + cpu.system) / Math.max(1, rx.count)),
    brokerCpuUsPerMsg: round2(brokerUs / Math.max(1, rx.count)),
  };
  if (kind === 'events') r.mEventsPerS = Math.round((msgPerS * s.eventsPerPacket) / 1e4) / 100;
  else if (!counter) Object.assign(r, { saturatedLatency: latencyFigures(rx.latencies) });
  return r;
}

/** Paced publishing in this process: `rate` msg/s for `seconds`, latency from publish() to arrival. */
async function latency(url: string, mode: Mode, kind: Kind, rate: number, seconds: number, eventsPerPacket: number): Promise<Record<string, unknown>> {
  const topic = `bench/${mode}/${kind}/lat`;
  const rx = new Receiver();
  const sentAt: number[] = [];
  const close = await subscribe(url, mode, kind, topic, rx, (seq) => sentAt[seq] ?? NaN);
  const packet = benchPacket(eventsPerPacket, 3);
  let publish: (i: number) => void;
  let end: () => Promise<void>;
  if (mode === 'spikeflow') {
    const sink = await openMqttSink({ url, topic, qos: 0 });
    await sink.ready;
    publish = (i) => {
      const t = nowMs();
      const seq = kind === 'decision' ? sink.publish(benchDecision(i, t)) : sink.publish(packet);
      sentAt[seq] = t;
    };
    end = () => sink.close();
  } else {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
    publish = (i) => {
      const t = nowMs();
      sentAt[i] = t;
      client.publish(topic, kind === 'decision' ? JSON.stringify({ seq: i, ...benchDecision(i, t) }) : rawPacketBytes(packet, i), { qos: 0 });
    };
    end = async () => void (await client.endAsync());
  }
  const n = Math.round(rate * seconds);
  const t0 = performance.now();
  let i = 0;
  while (i < n) {
    const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    while (i < due) publish(i++);
    await sleep(1);
  }
  await rx.wait(n, 3000);
  await end();
  await close();
  return { rate, sent: n, received: rx.count, ...latencyFigures(rx.latencies) };
}

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const s = parseArgs(args);
  const broker = await startMosquitto();
  console.log(`mosquitto on ${broker.url}; decisions ${s.decisions}, packets ${s.packets} × ${s.eventsPerPacket} events`);
  try {
    const result: Record<string, Record<string, unknown>> = { spikeflow: {}, baseline: {} };
    // Rounds alternate the two paths so that a busy neighbour hurts both alike; the median round counts.
    const rounds: Record<string, Array<Record<string, number>>> = {};
    const ceiling: Record<string, unknown> = {};
    for (let round = 1; round <= s.rounds; round++) {
      for (const mode of ['count-only', 'baseline', 'spikeflow'] as const) {
        for (const kind of ['decision', 'events'] as const) {
          const r = await throughput(broker.url, broker.dir, mode, kind, s, 'raw');
          console.log(`round ${round} ${mode} ${kind} throughput (raw publisher): ${JSON.stringify(r)}`);
          (rounds[`${mode}/${kind}`] ??= []).push(r);
        }
      }
    }
    for (const [key, rs] of Object.entries(rounds)) {
      const [mode, kind] = key.split('/') as [Mode | 'count-only', Kind];
      const sorted = [...rs].sort((a, b) => a.msgPerS! - b.msgPerS!);
      const median = { ...sorted[sorted.length >> 1]!, msgPerSRounds: rs.map((r) => r.msgPerS) };
      if (mode === 'count-only') ceiling[kind] = median;
      else result[mode]![`${kind}Throughput`] = median;
    }
    // One round with each side's own publisher: the whole path, and what publishing costs.
    for (const mode of ['baseline', 'spikeflow'] as const) {
      for (const kind of ['decision', 'events'] as const) {
        const r = await throughput(broker.url, broker.dir, mode, kind, s, 'client');
        console.log(`${mode} ${kind} throughput (own publisher): ${JSON.stringify(r)}`);
        result[mode]![`${kind}ThroughputOwnPublisher`] = r;
      }
    }
    for (const mode of ['baseline', 'spikeflow'] as const) {
      // Below saturation: at most a tenth of the throughput this mode just reached on this machine (here one
      // process publishes and subscribes, and the machine may be shared).
      const tp = result[mode] as Record<string, Record<string, number>>;
      const decisionRate = Math.max(100, Math.min(s.rate, Math.round(tp.decisionThroughput!.msgPerS! / 10)));
      const packetRate = Math.max(10, Math.min(500, Math.round(tp.eventsThroughput!.msgPerS! / 10)));
      const ld = await latency(broker.url, mode, 'decision', decisionRate, s.latencySeconds, s.eventsPerPacket);
      console.log(`${mode} decision latency below saturation: ${JSON.stringify(ld)}`);
      const le = await latency(broker.url, mode, 'events', packetRate, s.latencySeconds, s.eventsPerPacket);
      console.log(`${mode} events latency below saturation: ${JSON.stringify(le)}`);
      Object.assign(result[mode]!, { decisionLatency: ld, eventsLatency: le });
    }
    const sf = result.spikeflow as Record<string, Record<string, number>>;
    const bl = result.baseline as Record<string, Record<string, number>>;
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    return {
      settings: s,
      broker: 'mosquitto 2 (loopback, QoS 0, TCP no-delay)',
      load: 'raw publisher child: pre-encoded payloads in pre-built PUBLISH frames on a plain TCP socket (own-publisher figures: openMqttSink / mqtt.js)',
      brokerCeiling: ceiling,
      ...result,
      ratioToBaseline: {
        decisionMsgPerS: ratio(sf.decisionThroughput!.msgPerS!, bl.decisionThroughput!.msgPerS!),
        eventsPerS: ratio(sf.eventsThroughput!.mEventsPerS!, bl.eventsThroughput!.mEventsPerS!),
        // > 1: spikeflow spends less CPU per message than the plain script (publishers: each side's own).
        decisionPublisherCpu: ratio(bl.decisionThroughputOwnPublisher!.publisherCpuUsPerMsg!, sf.decisionThroughputOwnPublisher!.publisherCpuUsPerMsg!),
        decisionSubscriberCpu: ratio(bl.decisionThroughput!.subscriberCpuUsPerMsg!, sf.decisionThroughput!.subscriberCpuUsPerMsg!),
        eventsPublisherCpu: ratio(bl.eventsThroughputOwnPublisher!.publisherCpuUsPerMsg!, sf.eventsThroughputOwnPublisher!.publisherCpuUsPerMsg!),
        eventsSubscriberCpu: ratio(bl.eventsThroughput!.subscriberCpuUsPerMsg!, sf.eventsThroughput!.subscriberCpuUsPerMsg!),
      },
      loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
      goals: {
        decisionsAtLeast100kMsgPerS: sf.decisionThroughput!.msgPerS! >= 100_000,
        eventsAtLeast20MPerS: sf.eventsThroughput!.mEventsPerS! >= 20,
        p99Below10msBelowSaturation: (sf.decisionLatency as unknown as { p99Ms: number }).p99Ms < 10 && (sf.eventsLatency as unknown as { p99Ms: number }).p99Ms < 10,
      },
    };
  } finally {
    await broker.close();
  }
}
