/** Shared pieces of the MQTT adapter tests: message builders, collecting a source, polling. */
import { fromMqtt, type MqttMessage, type MqttSource, type MqttSourceOptions } from '../../adapters/mqtt-source.js';
import { packetOf, type EventPacket } from '../../src/events/packet.js';
import type { WireDraft } from '../../adapters/mqtt-sink.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until true; throws with `what` after `timeoutMs` (generous: CI machines are slow). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface Collected {
  readonly source: MqttSource;
  readonly got: MqttMessage[];
  readonly errors: Error[];
  readonly logLines: string[];
  stop(): void;
}

/** Subscribes a source, collecting messages, errors and log lines; resolves once its topics are subscribed. */
export async function collect(options: MqttSourceOptions): Promise<Collected> {
  const logLines: string[] = [];
  const errors: Error[] = [];
  const got: MqttMessage[] = [];
  const source = fromMqtt({ ...options, log: { sink: (l) => logLines.push(l), ...options.log }, onError: (e) => errors.push(e) });
  let failure: unknown;
  const sub = source.subscribe({ next: (m) => got.push(m), error: (e) => (failure = e) });
  await waitFor(() => source.stats.subscribes > 0 || failure !== undefined, 'the source to subscribe');
  if (failure) throw failure;
  return { source, got, errors, logLines, stop: () => sub.unsubscribe() };
}

export function decision(i: number): WireDraft {
  return { kind: 'decision', pipeline: 'gesture', region: `r${i % 3}`, label: `class-${i % 5}`, classIndex: i % 5, confidence: (i % 100) / 100, timeUs: 1000 * i, latencySteps: i % 7, latencyUs: 12.5 * i, emittedUnixMs: 1.7e12 + i };
}

export function spikes(i: number): WireDraft {
  const n = 50 + i;
  return { kind: 'spikes', source: 'snn', layer: 'out', stepStart: 100 * i, timeStartUs: 1e6 + i, dtUs: 100, neuron: Uint32Array.from({ length: n }, (_, k) => (k * 7 + i) % 300), stepOffset: Uint32Array.from({ length: n }, (_, k) => k >> 2) };
}

export function metrics(i: number): WireDraft {
  return { kind: 'metrics', pipeline: 'gesture', timeUnixMs: 1.7e12 + i, values: { eventsPerSecond: 1e6 + i, lagMs: i / 4 } };
}

/** A packet of n events with integer µs times (the compact wire encoding) or fractional ones. */
export function eventPacket(n: number, seed: number, fractional = false): EventPacket {
  const x = new Uint16Array(n);
  const y = new Uint16Array(n);
  const t = new Float64Array(n);
  const p = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    x[k] = (k * 13 + seed) % 640;
    y[k] = (k * 7 + seed) % 480;
    t[k] = 5e9 + seed * 1e4 + k * 3 + (fractional ? 0.25 : 0);
    p[k] = (k + seed) & 1;
  }
  return packetOf(x, y, t, p, { width: 640, height: 480 }, { format: 'test', uri: 'left-dvs' });
}

/** An MQTT remaining-length field (variable-length integer, 7 bits per byte). */
export function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 128;
    out.push(d);
  } while (n > 0);
  return out;
}
