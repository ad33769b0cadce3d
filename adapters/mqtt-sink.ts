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

/** Payloads from this size on are written as they are, not copied into the arena. */
const LARGE_PAYLOAD_BYTES = 8192;
const ARENA_BYTES = 256 * 1024;

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

  /** `count` messages failed for one reason: all counted, one log line. */
  const fail = (e: Error, count = 1) => {
    stats.errors += count;
    log.report(e);
    options.onError?.(e);
  };
  const settled = () => stats.delivered + stats.errors >= stats.published;
  const wake = () => {
    if (!settled()) return;
    for (const w of waiters.splice(0)) w();
  };

  // QoS 0 fast path. mqtt.js costs several µs per publish (packet object, validation, several small
  // writes); a QoS 0 PUBLISH is just header + topic + payload, so while connected with nothing queued in
  // mqtt.js, the sink frames it here: small messages are appended to an arena buffer, large payloads (event
  // packets) are kept as they are, and everything published in one tick leaves in one corked write.
  // mqtt.js' own writes (PINGREQ…) are whole packets written synchronously, so they never split ours.
  const client = conn.client as typeof conn.client & { queue: unknown[] };
  const topicHeads = new Map<string, Buffer>();
  let arena = Buffer.allocUnsafe(ARENA_BYTES);
  /** Arena bytes [sealed, used) are framed but not yet handed to a write; bytes before `sealed` are never rewritten. */
  let used = 0;
  let sealed = 0;
  let chunks: Buffer[] = [];
  let batchCount = 0;
  let flushQueued = false;
  const fastPathOpen = () => client.connected && client.queue.length === 0 && !(client.stream as { destroyed?: boolean }).destroyed;
  const topicHead = (topic: string): Buffer => {
    let h = topicHeads.get(topic);
    if (!h) {
      const t = Buffer.from(topic, 'utf8');
      // Topic length, topic, and for MQTT 5 an empty property list.
      h = Buffer.alloc(2 + t.length + (conn.protocolVersion === 5 ? 1 : 0));
      h.writeUInt16BE(t.length, 0);
      t.copy(h, 2);
      if (topicHeads.size > 10_000) topicHeads.clear();
      topicHeads.set(topic, h);
    }
    return h;
  };
  const seal = () => {
    if (used > sealed) chunks.push(arena.subarray(sealed, used));
    sealed = used;
  };
  const flushFast = () => {
    flushQueued = false;
    seal();
    const parts = chunks;
    const n = batchCount;
    chunks = [];
    batchCount = 0;
    if (parts.length === 0) return;
    if (!fastPathOpen()) {
      fail(new Error(`${n} QoS 0 messages dropped: the connection was lost before they were written`), n);
      return wake();
    }
    const stream = client.stream;
    stream.cork();
    const last = parts.length - 1;
    for (let k = 0; k < last; k++) stream.write(parts[k]!);
    // Writes complete in order: the last one's callback means all of them reached the socket.
    stream.write(parts[last]!, (err?: Error | null) => {
      if (err) fail(new Error(`${n} QoS 0 messages lost: ${err.message}`), n);
      else stats.delivered += n;
      wake();
    });
    stream.uncork();
  };
  const writeFast = (topic: string, payload: Uint8Array) => {
    const head = topicHead(topic);
    const large = payload.length >= LARGE_PAYLOAD_BYTES;
    let remaining = head.length + payload.length;
    const need = 5 + head.length + (large ? 0 : payload.length);
    if (used + need > arena.length) {
      seal();
      arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, need));
      used = sealed = 0;
    }
    const a = arena;
    a[used++] = retain ? 0x31 : 0x30;
    do {
      const digit = remaining % 128;
      remaining = Math.floor(remaining / 128);
      a[used++] = remaining > 0 ? digit | 128 : digit;
    } while (remaining > 0);
    a.set(head, used);
    used += head.length;
    if (large) {
      seal();
      chunks.push(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    } else {
      a.set(payload, used);
      used += payload.length;
    }
    batchCount++;
    if (!flushQueued) {
      flushQueued = true;
      process.nextTick(flushFast);
    }
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
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    stats.bytes += bytes.length;
    if (qos === 0 && fastPathOpen()) writeFast(topic, bytes);
    else
      conn.client.publish(topic, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { qos, retain }, (err) => {
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
