/**
 * MQTT topics as an RxJS observable of decoded spikeflow messages: `fromMqtt({ url, topics })` connects on
 * subscribe (MQTT 5, TCP no-delay), subscribes to the topics (wildcards allowed) and emits `{ topic, message }`
 * per MQTT message; unsubscribing disconnects.
 *
 * Payloads: 'protobuf' (default; the spikeflow Envelope, src/wire), 'json' (its JSON mapping) or 'aer' — raw
 * event words in `format` (any registry format, e.g. evt2/evt3, or 'spif'), each topic one byte stream with its
 * own decoder, emitted as `events` messages numbered per topic.
 *
 * After a lost connection the source reconnects with backoff and subscribes again unless the broker resumed
 * its session. With QoS 1, `clean: false`, a fixed `clientId` and a session expiry, the broker queues what is
 * published while the source is away, so nothing is lost across a source or broker restart (a broker that
 * persists its sessions: mosquitto with `persistence true`). QoS-1 redeliveries may repeat a message.
 *
 * Bad payloads (not decodable, unknown wire version, over `maxPayloadBytes`) are counted, logged rate-limited
 * naming the topic, and skipped: the messages around them are delivered. `stats` counts per source and per
 * topic, including messages lost according to the publishers' sequence numbers; it is reset per subscription.
 */
import { Observable } from 'rxjs';
import type { IConnackPacket, IPublishPacket } from 'mqtt';
import { createDecoder } from '../src/formats/registry.js';
import { SpifDecoder, type SpifDecoderOptions } from '../src/formats/spif.js';
import type { DecoderOptions, FormatName, StreamDecoder } from '../src/formats/types.js';
import { decodeJson, decodeWire, SequenceTracker, WireError, type WireMessage } from '../src/wire/index.js';
import { RateLimitedLog } from './error-log.js';
import { newConnectionStats, openConnection, type ConnectionStats, type ManagedConnection, type MqttConnectionOptions } from './mqtt-client.js';
import { unixMicros } from './udp-source.js';

export type MqttPayload = 'protobuf' | 'json' | 'aer';
export type MqttQos = 0 | 1 | 2;

export interface MqttSourceOptions extends MqttConnectionOptions {
  /** Topic filters; `+` and `#` wildcards allowed. */
  readonly topics: string | readonly string[];
  /** Default 'protobuf'. */
  readonly payload?: MqttPayload;
  /** For payload 'aer': the word format ('evt2', 'evt3', … or 'spif'). */
  readonly format?: FormatName | 'spif';
  /** For payload 'aer': decoder options (registry DecoderOptions, or SpifDecoderOptions for 'spif'). */
  readonly decoder?: DecoderOptions | SpifDecoderOptions;
  /** Subscription QoS, the most the broker will deliver with (default 1). */
  readonly qos?: MqttQos;
  /** Larger payloads are refused as bad (default 16 MiB). */
  readonly maxPayloadBytes?: number;
  /**
   * Topics whose state (loss counting, stream decoder, stats.byTopic) is kept, default 10,000: a
   * wildcard over an unbounded topic space must not grow memory without bound. Past it the oldest
   * topic's state is dropped (counted in stats.evictedTopics); if that topic comes back, its sequence
   * tracking starts afresh.
   */
  readonly maxTopics?: number;
  /** Each bad payload (a WireError or DecodeError naming the topic), besides counting and the rate-limited log. */
  readonly onError?: (e: Error) => void;
}

export interface MqttMessage {
  readonly topic: string;
  readonly message: WireMessage;
  /** The broker marked it retained. */
  readonly retained: boolean;
}

export interface MqttTopicStats {
  messages: number;
  bytes: number;
  events: number;
  bad: number;
  /** Missing sequence numbers. */
  lost: number;
  /** Sequence numbers that went back (publisher restart, or a QoS-1 redelivery). */
  restarts: number;
}

export interface MqttSourceStats extends ConnectionStats {
  /** Subscriptions granted at the last (re)subscription. */
  subscribed: number;
  /** Times the topics were subscribed (first connection, and each reconnection without a resumed session). */
  subscribes: number;
  messages: number;
  bytes: number;
  events: number;
  /** Payloads that could not be decoded (oversize ones included). */
  bad: number;
  oversize: number;
  lost: number;
  byTopic: Record<string, MqttTopicStats>;
  /** Topic states dropped to stay within maxTopics. */
  evictedTopics: number;
}

export type MqttSource = Observable<MqttMessage> & { readonly stats: MqttSourceStats };

export const DEFAULT_MAX_PAYLOAD_BYTES = 16 << 20;

function newStats(): MqttSourceStats {
  return { ...newConnectionStats(), subscribed: 0, subscribes: 0, messages: 0, bytes: 0, events: 0, bad: 0, oversize: 0, lost: 0, byTopic: {}, evictedTopics: 0 };
}

interface TopicState {
  readonly stats: MqttTopicStats;
  readonly tracker: SequenceTracker;
  decoder?: StreamDecoder;
  spif?: SpifDecoder;
  spifLost: number;
}

export function fromMqtt(options: MqttSourceOptions): MqttSource {
  const stats = newStats();
  const topics = typeof options.topics === 'string' ? [options.topics] : [...options.topics];
  if (topics.length === 0) throw new Error('fromMqtt: no topics');
  const payload = options.payload ?? 'protobuf';
  if (payload === 'aer' && !options.format) throw new Error("fromMqtt: payload 'aer' needs a format (e.g. 'evt3' or 'spif')");
  const qos = options.qos ?? 1;
  const maxBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxTopics = options.maxTopics ?? 10_000;
  if (!(Number.isInteger(maxTopics) && maxTopics >= 1)) throw new Error(`fromMqtt: maxTopics must be a positive integer, got ${maxTopics}`);

  const source = new Observable<MqttMessage>((subscriber) => {
    Object.assign(stats, newStats());
    const states = new Map<string, TopicState>();
    let conn: ManagedConnection | undefined;
    let done = false;
    let badLog: RateLimitedLog | undefined;

    const stateOf = (topic: string): TopicState => {
      let s = states.get(topic);
      if (!s) {
        s = { stats: { messages: 0, bytes: 0, events: 0, bad: 0, lost: 0, restarts: 0 }, tracker: new SequenceTracker(), spifLost: 0 };
        states.set(topic, s);
        stats.byTopic[topic] = s.stats;
        if (states.size > maxTopics) {
          // Maps iterate in insertion order: the first key is the oldest topic.
          const oldest = states.keys().next().value as string;
          states.delete(oldest);
          delete stats.byTopic[oldest];
          stats.evictedTopics++;
        }
      }
      return s;
    };

    const bad = (s: TopicState, e: Error) => {
      s.stats.bad++;
      stats.bad++;
      badLog?.report(e);
      options.onError?.(e);
    };

    const emit = (topic: string, s: TopicState, message: WireMessage, retained: boolean) => {
      if (message.kind === 'events') {
        s.stats.events += message.packet.length;
        stats.events += message.packet.length;
      }
      subscriber.next({ topic, message, retained });
    };

    const decodeAer = (topic: string, s: TopicState, bytes: Buffer, retained: boolean) => {
      const where = `mqtt topic ${topic}`;
      if (options.format === 'spif') {
        s.spif ??= new SpifDecoder({ ...(options.decoder as SpifDecoderOptions), uri: `${conn?.where}/${topic}` });
        const r = s.spif.decode([bytes], [unixMicros()]);
        const lost = s.spif.stats.lost - s.spifLost;
        s.spifLost = s.spif.stats.lost;
        s.stats.lost += lost;
        stats.lost += lost;
        for (const e of r.errors) bad(s, new WireError(e.message, where));
        if (r.packet.length > 0) emit(topic, s, { kind: 'events', sequence: s.stats.messages, packet: r.packet }, retained);
        return;
      }
      s.decoder ??= createDecoder(options.format!, { ...(options.decoder as DecoderOptions), uri: `${conn?.where}/${topic}` });
      const r = s.decoder.push(bytes);
      for (const e of r.errors) bad(s, new WireError(e.message, where));
      // A fatal error stops a stream decoder: the next payload starts a fresh one.
      if (s.decoder.failed) s.decoder = undefined;
      for (const packet of r.events) if (packet.length > 0) emit(topic, s, { kind: 'events', sequence: s.stats.messages, packet }, retained);
    };

    const onMessage = (topic: string, bytes: Buffer, retained: boolean) => {
      if (done) return;
      const s = stateOf(topic);
      stats.messages++;
      stats.bytes += bytes.length;
      s.stats.messages++;
      s.stats.bytes += bytes.length;
      if (bytes.length > maxBytes) {
        stats.oversize++;
        bad(s, new WireError(`payload of ${bytes.length} bytes exceeds the limit of ${maxBytes}`, `mqtt topic ${topic}`));
        return;
      }
      try {
        if (payload === 'aer') return decodeAer(topic, s, bytes, retained);
        const message = payload === 'json' ? decodeJson(bytes.toString('utf8')) : decodeWire(bytes);
        const gap = s.tracker.observe(message.sequence);
        s.stats.lost += gap;
        s.stats.restarts = s.tracker.restarts;
        stats.lost += gap;
        emit(topic, s, message, retained);
      } catch (e) {
        // Decoders throw WireError; anything else (a RangeError from a mangled array) is a bad payload too.
        const err = e instanceof WireError ? e.at(`mqtt topic ${topic}`) : new WireError((e as Error).message ?? String(e), `mqtt topic ${topic}`);
        bad(s, err);
      }
    };

    const subscribeTopics = () => {
      const c = conn!.client;
      c.subscribe(
        topics,
        { qos },
        (err, granted) => {
          if (done) return;
          if (err) {
            // The connection dropped meanwhile (resubscribed at the next CONNACK) or the broker refused.
            badLog?.report(`subscribe failed: ${err.message}`);
            return;
          }
          stats.subscribes++;
          stats.subscribed = (granted ?? []).filter((g) => g.qos !== 128 && g.qos <= 2).length;
          const refused = (granted ?? []).filter((g) => g.qos > 2).map((g) => g.topic);
          if (refused.length) badLog?.report(`subscription refused for ${refused.join(', ')}`);
        },
      );
    };

    openConnection(options, stats, {
      onConnect: (connack: IConnackPacket) => {
        if (done) return;
        if (!connack.sessionPresent || stats.subscribes === 0) subscribeTopics();
      },
      onGiveUp: (e) => {
        if (done) return;
        done = true;
        subscriber.error(e);
      },
      // Plain QoS 0 publishes come straight off the socket (mqtt-client.ts PublishSplitter); the rest via mqtt.js below.
      onPublish: onMessage,
      // Protobuf and JSON decoding copy what they keep; raw AER decoders may hold on to the bytes.
      transientPayloads: payload !== 'aer',
    }).then(
      (c) => {
        if (done) return void c.close(true);
        conn = c;
        badLog = new RateLimitedLog(`mqtt ${c.where}`, options.log);
        c.client.on('message', (topic: string, bytes: Buffer, packet: IPublishPacket) => onMessage(topic, bytes, packet.retain));
      },
      (e: unknown) => {
        if (done) return;
        done = true;
        subscriber.error(e);
      },
    );

    return () => {
      if (done && !conn) return;
      done = true;
      badLog?.flush();
      void conn?.close();
    };
  });
  return Object.assign(source, { stats });
}
