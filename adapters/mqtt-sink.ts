/**
 * Publishing spikeflow messages to MQTT: `openMqttSink({ url, topic })` connects (MQTT 5, TCP no-delay,
 * reconnect with backoff) and publishes Decisions, spike batches, event packets and metrics as protobuf
 * Envelopes (default) or their JSON mapping, at the configured QoS.
 *
 * Every message gets a sequence number, +1 per topic from 1, so a receiver counts losses per topic (the
 * sequence the caller put on a message is replaced). `topic` may hold `{kind}` (events, spikes, decision,
 * metrics). Messages published while disconnected are queued by mqtt.js in memory and sent on reconnection;
 * QoS ≥ 1 ones that were in flight are resent, so with QoS 1 none is lost across a broker restart (some may
 * arrive twice). `drain()` waits until everything was written (QoS 0) or acknowledged (QoS ≥ 1).
 */
import type { Observable, Subscription } from 'rxjs';
import type { EventPacket } from '../src/events/packet.js';
import { encodeJson, encodeWire, type WireKind, type WireMessage } from '../src/wire/index.js';
import { RateLimitedLog } from './error-log.js';
import { newConnectionStats, openConnection, type ConnectionStats, type ManagedConnection, type MqttConnectionOptions } from './mqtt-client.js';
import type { MqttQos } from './mqtt-source.js';

type WithoutSequence<T> = T extends unknown ? Omit<T, 'sequence'> & { readonly sequence?: number } : never;
/** A wire message whose sequence number the sink assigns. */
export type WireDraft = WithoutSequence<WireMessage>;
/** What the sink publishes: a wire message, or a bare EventPacket (sent as an `events` message). */
export type Publishable = WireDraft | EventPacket;

export interface MqttSinkOptions extends MqttConnectionOptions {
  /** Topic, or a template with `{kind}`, or a function of the message. Default 'spikeflow/{kind}'. */
  readonly topic?: string | ((m: WireDraft) => string);
  /** 'protobuf' (default) or 'json'. */
  readonly payload?: 'protobuf' | 'json';
  /** Default 0. */
  readonly qos?: MqttQos;
  readonly retain?: boolean;
  /** Publish errors (refused by the broker, encoding failures): besides counting and the rate-limited log. */
  readonly onError?: (e: Error) => void;
}

export interface MqttSinkStats extends ConnectionStats {
  /** publish() calls that produced a payload. */
  published: number;
  bytes: number;
  events: number;
  /** QoS 0: written to the socket; QoS ≥ 1: acknowledged by the broker. */
  delivered: number;
  errors: number;
  byKind: Record<WireKind, number>;
  /** Last sequence number used per topic. */
  sequences: Record<string, number>;
}

export interface MqttSink {
  readonly stats: MqttSinkStats;
  /** Resolves at the first accepted connection. */
  readonly ready: Promise<void>;
  /** Publishes one message; returns its sequence number. Throws only after close(). */
  publish(m: Publishable, topic?: string): number;
  /** Publishes every message of a stream; the subscription ends with it (or when unsubscribed). */
  attach(source: Observable<Publishable>, topic?: string): Subscription;
  /** Resolves when every message published so far is delivered (see stats.delivered), or after timeoutMs (default 10 s) with false. */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Drains (bounded), disconnects, releases the embedded broker if used. */
  close(): Promise<void>;
}

function isPacket(m: Publishable): m is EventPacket {
  return (m as { kind?: unknown }).kind === undefined && (m as EventPacket).x instanceof Uint16Array;
}

export async function openMqttSink(options: MqttSinkOptions): Promise<MqttSink> {
  const stats: MqttSinkStats = {
    ...newConnectionStats(),
    published: 0,
    bytes: 0,
    events: 0,
    delivered: 0,
    errors: 0,
    byKind: { events: 0, spikes: 0, decision: 0, metrics: 0 },
    sequences: {},
  };
  const qos = options.qos ?? 0;
  const retain = options.retain ?? false;
  const json = options.payload === 'json';
  const topicOption = options.topic ?? 'spikeflow/{kind}';
  const topicOf = typeof topicOption === 'function' ? topicOption : (m: WireDraft) => topicOption.replace('{kind}', m.kind);
  const attached = new Set<Subscription>();
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {});
  const conn: ManagedConnection = await openConnection(options, stats, {
    onConnect: () => resolveReady(),
    onGiveUp: (e) => rejectReady(e),
  });
  const log = new RateLimitedLog(`mqtt ${conn.where}`, options.log);
  const waiters: Array<() => void> = [];
  let closed = false;

  const fail = (e: Error) => {
    stats.errors++;
    log.report(e);
    options.onError?.(e);
  };
  const settled = () => stats.delivered + stats.errors >= stats.published;
  const wake = () => {
    if (!settled()) return;
    for (const w of waiters.splice(0)) w();
  };

  const publish = (input: Publishable, topicOverride?: string): number => {
    if (closed) throw new Error(`mqtt sink ${conn.where}: publish after close`);
    const draft: WireDraft = isPacket(input) ? { kind: 'events', packet: input } : input;
    const topic = topicOverride ?? topicOf(draft);
    const sequence = (stats.sequences[topic] ?? 0) + 1;
    let payload: Uint8Array | string;
    try {
      const m = { ...draft, sequence } as WireMessage;
      payload = json ? encodeJson(m) : encodeWire(m);
    } catch (e) {
      fail(new Error(`topic ${topic}: cannot encode ${draft.kind} (${(e as Error).message})`));
      return -1;
    }
    stats.sequences[topic] = sequence;
    stats.published++;
    stats.byKind[draft.kind]++;
    if (draft.kind === 'events') stats.events += draft.packet.length;
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    stats.bytes += bytes.length;
    conn.client.publish(topic, bytes, { qos, retain }, (err) => {
      if (err) fail(new Error(`topic ${topic}: publish failed (${err.message})`));
      else stats.delivered++;
      wake();
    });
    return sequence;
  };

  const drain = (timeoutMs = 10_000): Promise<boolean> =>
    new Promise((resolve) => {
      if (settled()) return resolve(true);
      const timer = setTimeout(() => {
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      waiters.push(done);
    });

  return {
    stats,
    ready,
    publish,
    attach(source, topic) {
      const sub = source.subscribe({
        next: (m) => publish(m, topic),
        error: (e: unknown) => fail(new Error(`attached stream failed: ${(e as Error).message ?? String(e)}`)),
      });
      attached.add(sub);
      sub.add(() => attached.delete(sub));
      return sub;
    },
    drain,
    async close() {
      if (closed) return;
      for (const s of [...attached]) s.unsubscribe();
      if (stats.connected) await drain(3000);
      closed = true;
      log.flush();
      await conn.close();
    },
  };
}
