/**
 * The spikeflow WebSocket protocol, shared by server and client (browser-safe: no Node imports).
 *
 * Encoding is negotiated by subprotocol: `spikeflow.v1.json` (every message a JSON text) or
 * `spikeflow.v1.proto` (data as binary protobuf Envelopes, control messages as JSON text).
 * Data messages keep the publisher's `sequence`; control messages are JSON objects with an `op`:
 *   client → server  {"op":"subscribe","stream":"decisions","filter":{"region":"cam0"}}
 *                    {"op":"unsubscribe","stream":"decisions"}
 *   server → client  {"op":"hello",...} {"op":"subscribed",...} {"op":"status",...} {"op":"error",...}
 * Frames (count images) are their own message: binary "SFF1" (ws-frames.ts) or JSON `{"version":1,"frame":{...}}`.
 */
import type { EventPacket } from '../src/events/packet.js';
import type { Decision, MetricsMessage, SpikeBatch, WireKind } from '../src/wire/messages.js';
import type { CountFrame } from './ws-frames.js';

export const SUBPROTOCOL_JSON = 'spikeflow.v1.json';
export const SUBPROTOCOL_PROTO = 'spikeflow.v1.proto';
export type WsEncoding = 'json' | 'proto';

export const STREAMS = ['decisions', 'spikes', 'events', 'frames', 'metrics'] as const;
export type StreamName = (typeof STREAMS)[number];
/** Streams a pipeline publishes; frames are made by the server from 'events'. */
export type PublishStream = Exclude<StreamName, 'frames'>;

/** What each stream carries (as published, and as a client receives it). */
export interface StreamPayloads {
  decisions: Decision;
  spikes: SpikeBatch;
  events: EventPacket;
  frames: CountFrame;
  metrics: MetricsMessage;
}

export const STREAM_OF_KIND: Readonly<Record<WireKind, StreamName>> = { decision: 'decisions', spikes: 'spikes', events: 'events', metrics: 'metrics' };

/** Filter values are exact matches; a comma-separated value matches any of its items. */
export type StreamFilter = Readonly<Record<string, string>>;

/** Filter keys each stream understands (minConfidence: decisions at or above it). */
export const FILTER_KEYS: Readonly<Record<StreamName, readonly string[]>> = {
  decisions: ['region', 'pipeline', 'label', 'minConfidence'],
  spikes: ['source', 'layer'],
  events: ['source'],
  frames: ['source'],
  metrics: ['pipeline'],
};

export function isStreamName(s: unknown): s is StreamName {
  return typeof s === 'string' && (STREAMS as readonly string[]).includes(s);
}

/** The stream's source name of an event packet, as the wire encodes it. */
export function packetSourceName(p: EventPacket): string {
  return p.source.uri ?? p.source.format;
}

/** Checks a filter against the stream's keys; returns the reason it is invalid, or undefined. */
export function filterProblem(stream: StreamName, filter: StreamFilter): string | undefined {
  for (const [k, v] of Object.entries(filter)) {
    if (!FILTER_KEYS[stream].includes(k)) return `unknown filter '${k}' for ${stream} (known: ${FILTER_KEYS[stream].join(', ') || 'none'})`;
    if (typeof v !== 'string') return `filter '${k}' must be a string`;
    if (k === 'minConfidence' && !Number.isFinite(Number(v))) return `filter minConfidence must be a number`;
  }
  return undefined;
}

/** A compiled filter: one predicate per stream item. */
export type Matcher<S extends StreamName> = (item: StreamPayloads[S]) => boolean;

export function compileFilter<S extends StreamName>(stream: S, filter: StreamFilter): Matcher<S> {
  const sets = new Map<string, Set<string>>();
  let minConfidence = -Infinity;
  for (const [k, v] of Object.entries(filter)) {
    if (k === 'minConfidence') minConfidence = Number(v);
    else sets.set(k, new Set(v.split(',')));
  }
  if (sets.size === 0 && minConfidence === -Infinity) return () => true;
  const field = (item: StreamPayloads[S], k: string): string => {
    if (stream === 'events') return packetSourceName(item as EventPacket);
    return String((item as unknown as Record<string, unknown>)[k] ?? '');
  };
  return (item) => {
    if (minConfidence > -Infinity && !((item as Decision).confidence >= minConfidence)) return false;
    for (const [k, allowed] of sets) if (!allowed.has(field(item, k))) return false;
    return true;
  };
}

// Control messages.
export interface SubscribeMessage {
  readonly op: 'subscribe';
  readonly stream: StreamName;
  readonly filter?: StreamFilter;
}
export interface UnsubscribeMessage {
  readonly op: 'unsubscribe';
  readonly stream: StreamName;
}
export type ClientControl = SubscribeMessage | UnsubscribeMessage;

export interface HelloMessage {
  readonly op: 'hello';
  readonly encoding: WsEncoding;
  readonly streams: Readonly<Partial<Record<StreamName, StreamFilter>>>;
  readonly statusIntervalMs: number;
  readonly heartbeatMs: number;
}
/** Periodic per-connection accounting; counts are cumulative over this connection. */
export interface StatusMessage {
  readonly op: 'status';
  readonly timeUnixMs: number;
  readonly sent: Readonly<Partial<Record<StreamName, number>>>;
  /** Messages dropped for this client by the drop-oldest policy (it read too slowly). */
  readonly dropped: Readonly<Partial<Record<StreamName, number>>>;
  readonly queuedBytes: number;
  readonly bufferedAmount: number;
}
export interface ServerNotice {
  readonly op: 'subscribed' | 'unsubscribed' | 'error';
  readonly stream?: StreamName;
  readonly filter?: StreamFilter;
  readonly error?: string;
}
export type ServerControl = HelloMessage | StatusMessage | ServerNotice;

/** Parses a client's control text; throws an Error saying what is wrong. */
export function parseClientControl(text: string): ClientControl {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new Error(`control message is not JSON (${text.length} chars)`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('control message must be a JSON object');
  const m = o as Record<string, unknown>;
  if (m.op !== 'subscribe' && m.op !== 'unsubscribe') throw new Error(`unknown op ${JSON.stringify(m.op)?.slice(0, 40)}`);
  if (!isStreamName(m.stream)) throw new Error(`unknown stream ${JSON.stringify(m.stream)?.slice(0, 40)} (known: ${STREAMS.join(', ')})`);
  if (m.op === 'unsubscribe') return { op: 'unsubscribe', stream: m.stream };
  const filter = m.filter ?? {};
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new Error('filter must be an object');
  const problem = filterProblem(m.stream, filter as StreamFilter);
  if (problem) throw new Error(problem);
  return { op: 'subscribe', stream: m.stream, filter: filter as StreamFilter };
}
