/**
 * Typed client of a spikeflow WebSocket server (ws-server.ts), for Node and browsers.
 *
 * Browser-safe: this module imports only browser-safe modules (src/wire JSON codec, sequence tracker,
 * backoff, error log, ws-protocol, ws-frames). It uses the global `WebSocket` when there is one (browsers,
 * Node ≥ 22) or the one passed as `WebSocket`; otherwise it loads the `ws` package at run time. The
 * protobuf codec (src/wire/protobuf-codec.ts, which reads the .proto file from disk) is likewise loaded
 * at run time in Node only when `encoding: 'proto'` is asked; a browser passes `codec` for that.
 *
 * `connectWs({ url, streams })` connects at once, subscribes (subscribe messages, so one connection
 * carries several streams with their filters), and reconnects with backoff when the connection drops
 * or stays silent past `idleTimeoutMs` (the server's status messages keep a healthy one busy).
 * Loss: gaps in the publishers' sequence numbers (per stream and source) are counted in `stats.lost`,
 * across reconnects too; the server's own count of messages it dropped for this client arrives in
 * status messages (`stats.serverDropped`). Decisions filtered by anything but pipeline are not
 * sequence-tracked (the filter's gaps are not losses): for them only serverDropped counts.
 */
import { Subject, filter, map, type Observable } from 'rxjs';
import { decodeJson } from '../src/wire/json-codec.js';
import type { WireMessage } from '../src/wire/messages.js';
import { SequenceTracker } from '../src/wire/sequence.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { RateLimitedLog, type ErrorLogOptions } from './error-log.js';
import { decodeFrame, frameFromJson, isFrameBytes } from './ws-frames.js';
import {
  STREAM_OF_KIND,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_PROTO,
  packetSourceName,
  type ServerControl,
  type StatusMessage,
  type StreamFilter,
  type StreamName,
  type StreamPayloads,
  type WsEncoding,
} from './ws-protocol.js';

/** The part of the WHATWG WebSocket interface used here (browsers, Node ≥ 22, and the `ws` package). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: unknown) => WebSocketLike;

export interface WireCodec {
  decode(bytes: Uint8Array): WireMessage;
}

export interface WsClientOptions {
  /** Server URL, e.g. ws://127.0.0.1:8090 (the path and query are replaced). */
  readonly url: string;
  /** Streams to subscribe to, with optional filters: ['decisions'] or { decisions: { region: 'cam0' } }. */
  readonly streams: readonly StreamName[] | Readonly<Partial<Record<StreamName, StreamFilter>>>;
  /** Default 'json'. */
  readonly encoding?: WsEncoding;
  /** Sent as `Authorization: Bearer` where the WebSocket implementation takes headers (`ws`), else as ?token=. */
  readonly token?: string;
  readonly WebSocket?: WebSocketConstructor;
  /** Protobuf decoder for encoding 'proto' (default in Node: src/wire's decodeWire, loaded on demand). */
  readonly codec?: WireCodec;
  /** Reconnect backoff (default: forever, 200 ms doubling to 5 s); false: end when the connection ends. */
  readonly reconnect?: false | BackoffOptions;
  /** Reconnect when nothing arrived for this long (default 10 s; 0 = never). */
  readonly idleTimeoutMs?: number;
  /** Connection problems and bad messages (rate-limited). Default: console.error. */
  readonly log?: ErrorLogOptions;
}

export interface WsClientStats {
  connected: boolean;
  connects: number;
  disconnects: number;
  received: Record<StreamName, number>;
  /** Messages missing from the publishers' sequence numbers (server drops and reconnect gaps). */
  lost: number;
  /** Sequence steps back (a publisher restarted). */
  restarts: number;
  /** Messages the server reports it dropped for this client (drop-oldest), summed over connections. */
  serverDropped: number;
  /** Messages that could not be decoded. */
  badMessages: number;
  /** Errors the server answered to our control messages. */
  serverErrors: number;
}

export type WsMessage = { [S in StreamName]: { readonly stream: S; readonly data: StreamPayloads[S] } }[StreamName];

export interface WsClient {
  /** Every data message. */
  readonly messages$: Observable<WsMessage>;
  /** The server's periodic status messages. */
  readonly status$: Observable<StatusMessage>;
  readonly stats: WsClientStats;
  stream<S extends StreamName>(stream: S): Observable<StreamPayloads[S]>;
  /** Resolves once connected and every subscription is acknowledged (the first time); rejects if the server refuses one. */
  readonly ready: Promise<void>;
  /** Closes the connection and completes the observables. */
  close(): void;
}

// Loaded by computed specifiers so that bundlers leave them out of browser builds.
const loadModule = (spec: string): Promise<any> => import(spec);
const WS_PACKAGE = 'ws';
const PROTOBUF_CODEC = '../src/wire/protobuf-codec.js';

function streamMap(s: WsClientOptions['streams']): Map<StreamName, StreamFilter> {
  if (Array.isArray(s)) return new Map((s as StreamName[]).map((n) => [n, {}]));
  return new Map(Object.entries(s) as [StreamName, StreamFilter][]);
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}

/** The identity a publisher numbers messages by, for sequence tracking. */
function sequenceKey(m: WsMessage): string {
  switch (m.stream) {
    case 'events':
      return `events\0${packetSourceName(m.data)}`;
    case 'frames':
      return `frames\0${m.data.source}`;
    case 'spikes':
      return `spikes\0${m.data.source}\0${m.data.layer}`;
    case 'decisions':
      return `decisions\0${m.data.pipeline}`;
    case 'metrics':
      return `metrics\0${m.data.pipeline}`;
  }
}

function fromWire(w: WireMessage): WsMessage {
  if (w.kind === 'events') return { stream: 'events', data: w.packet };
  const { kind, ...rest } = w;
  return { stream: STREAM_OF_KIND[kind], data: rest } as WsMessage;
}

export function connectWs(options: WsClientOptions): WsClient {
  const encoding = options.encoding ?? 'json';
  const subs = streamMap(options.streams);
  // The log names the server by origin only: a URL query could hold a token.
  const log = new RateLimitedLog(`ws-client ${new URL(options.url).host}`, options.log);
  const backoff = options.reconnect === false ? undefined : new Backoff(options.reconnect ?? {});
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  const messages = new Subject<WsMessage>();
  const statuses = new Subject<StatusMessage>();
  const trackers = new Map<string, SequenceTracker>();
  const stats: WsClientStats = {
    connected: false,
    connects: 0,
    disconnects: 0,
    received: { decisions: 0, spikes: 0, events: 0, frames: 0, metrics: 0 },
    lost: 0,
    restarts: 0,
    serverDropped: 0,
    badMessages: 0,
    serverErrors: 0,
  };
  let socket: WebSocketLike | undefined;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let droppedBefore = 0; // server drops reported by earlier connections
  let droppedNow = 0;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined); // a caller that never awaits `ready` must not see an unhandled rejection

  const finish = (e?: Error) => {
    if (closed) return;
    closed = true;
    clearTimeout(retry);
    clearTimeout(idle);
    try {
      socket?.close(1000, 'client closing');
    } catch {
      // never opened
    }
    if (e) {
      rejectReady(e);
      messages.error(e);
    } else {
      rejectReady(new Error('closed before connecting'));
      messages.complete();
    }
    statuses.complete();
    log.flush();
  };

  const setup = (async () => {
    const Ctor: WebSocketConstructor =
      options.WebSocket ?? ((globalThis as { WebSocket?: WebSocketConstructor }).WebSocket as WebSocketConstructor | undefined) ?? (await loadModule(WS_PACKAGE)).WebSocket;
    const codec: WireCodec | undefined = encoding === 'proto' ? (options.codec ?? { decode: (await loadModule(PROTOBUF_CODEC)).decodeWire }) : undefined;
    const takesHeaders = !options.WebSocket && !(globalThis as { WebSocket?: unknown }).WebSocket;
    return { Ctor, codec, takesHeaders };
  })();

  // Decisions are numbered per pipeline: a filter on region, label or confidence leaves gaps that are
  // not losses, so such a subscription relies on the server's drop counts (serverDropped) instead.
  const untracked = new Set<StreamName>();
  for (const [stream, f] of subs) if (stream === 'decisions' && Object.keys(f).some((k) => k !== 'pipeline')) untracked.add(stream);

  const deliver = (m: WsMessage, seq: number) => {
    stats.received[m.stream]++;
    if (untracked.has(m.stream)) {
      messages.next(m);
      return;
    }
    const key = sequenceKey(m);
    let t = trackers.get(key);
    if (!t) trackers.set(key, (t = new SequenceTracker()));
    const restartsBefore = t.restarts;
    stats.lost += t.observe(seq);
    stats.restarts += t.restarts - restartsBefore;
    messages.next(m);
  };

  let acks = 0;
  const onControl = (c: ServerControl) => {
    if (c.op === 'subscribed') {
      if (++acks === subs.size) resolveReady();
    } else if (c.op === 'status') {
      const dropped = Object.values(c.dropped).reduce((a, b) => a + (b ?? 0), 0);
      droppedNow = dropped;
      stats.serverDropped = droppedBefore + dropped;
      statuses.next(c);
    } else if (c.op === 'error') {
      stats.serverErrors++;
      log.report(`server: ${c.error ?? 'error'}`);
      if (acks < subs.size) rejectReady(new Error(`subscription refused: ${c.error ?? 'error'}`));
    }
  };

  const onData = (data: unknown, codec: WireCodec | undefined) => {
    if (typeof data === 'string') {
      const o = JSON.parse(data) as Record<string, unknown>;
      if (typeof o.op === 'string') return onControl(o as unknown as ServerControl);
      if (o.frame !== undefined) {
        if (o.version !== 1) throw new Error(`unsupported wire version ${String(o.version)}`);
        const f = frameFromJson(o.frame);
        return deliver({ stream: 'frames', data: f }, f.sequence);
      }
      const w = decodeJson(o);
      return deliver(fromWire(w), w.sequence);
    }
    const bytes = bytesOf(data);
    if (!bytes) throw new Error(`unexpected message type ${Object.prototype.toString.call(data)}`);
    if (isFrameBytes(bytes)) {
      const f = decodeFrame(bytes);
      return deliver({ stream: 'frames', data: f }, f.sequence);
    }
    if (!codec) throw new Error(`binary message on a JSON connection (${bytes.length} bytes)`);
    const w = codec.decode(bytes);
    deliver(fromWire(w), w.sequence);
  };

  // One timer per connection, re-armed lazily from the last arrival time: a timer reset per message
  // would cost more than decoding a small message.
  let lastArrival = 0;
  const armIdle = (ws: WebSocketLike) => {
    if (idleTimeoutMs <= 0) return;
    lastArrival = Date.now();
    if (idle !== undefined) return;
    const check = () => {
      const quiet = Date.now() - lastArrival;
      if (quiet < idleTimeoutMs) {
        idle = setTimeout(check, idleTimeoutMs - quiet);
        return;
      }
      idle = undefined;
      log.report(`nothing received for ${idleTimeoutMs} ms; reconnecting`);
      ws.close(4000, 'idle');
      // A dead peer may never complete the closing handshake: go on without waiting for it.
      dropped(ws, 'idle timeout');
    };
    idle = setTimeout(check, idleTimeoutMs);
  };

  const endedSockets = new WeakSet<WebSocketLike>();
  const dropped = (ws: WebSocketLike, why: string) => {
    if (endedSockets.has(ws)) return;
    endedSockets.add(ws);
    clearTimeout(idle);
    idle = undefined;
    if (ws !== socket || closed) return;
    if (stats.connected) stats.disconnects++;
    stats.connected = false;
    droppedBefore += droppedNow;
    droppedNow = 0;
    const delay = backoff?.next();
    if (delay === undefined) {
      if (!backoff) finish();
      else finish(new Error(`giving up after ${backoff.failures - 1} failed attempts (${why})`));
      return;
    }
    log.report(`connection ended (${why}); reconnecting in ${delay} ms`);
    retry = setTimeout(connect, delay);
  };

  const connect = () => {
    if (closed) return;
    setup.then(
      ({ Ctor, codec, takesHeaders }) => {
        if (closed) return;
        const u = new URL(options.url);
        u.pathname = '/';
        u.search = '';
        if (options.token && !takesHeaders) u.searchParams.set('token', options.token);
        const protocol = encoding === 'proto' ? SUBPROTOCOL_PROTO : SUBPROTOCOL_JSON;
        const ws = takesHeaders && options.token ? new Ctor(u.href, protocol, { headers: { authorization: `Bearer ${options.token}` } }) : new Ctor(u.href, protocol);
        socket = ws;
        if (ws.binaryType === 'blob') ws.binaryType = 'arraybuffer';
        let gotData = false;
        ws.onopen = () => {
          stats.connects++;
          stats.connected = true;
          acks = 0;
          for (const [stream, f] of subs) ws.send(JSON.stringify({ op: 'subscribe', stream, filter: f }));
          if (subs.size === 0) resolveReady();
          armIdle(ws);
        };
        ws.onmessage = (ev) => {
          lastArrival = Date.now();
          if (!gotData) {
            gotData = true;
            backoff?.reset();
          }
          try {
            onData(ev.data, codec);
          } catch (e) {
            stats.badMessages++;
            log.report(`bad message: ${(e as Error).message}`);
          }
        };
        ws.onerror = (ev) => {
          const m = (ev as { message?: string; error?: Error }).message ?? (ev as { error?: Error }).error?.message;
          if (m) log.report(m);
        };
        ws.onclose = (ev) => dropped(ws, `code ${ev.code}${ev.reason ? ` ${ev.reason}` : ''}`);
      },
      (e: Error) => finish(e),
    );
  };

  connect();

  return {
    messages$: messages.asObservable(),
    status$: statuses.asObservable(),
    stats,
    ready,
    stream: <S extends StreamName>(s: S) =>
      messages.pipe(
        filter((m): m is Extract<WsMessage, { stream: S }> => m.stream === s),
        map((m) => m.data as StreamPayloads[S]),
      ),
    close: () => finish(),
  };
}
