/**
 * WebSocket publisher: `startWsServer({ port })` serves decisions, spikes, event packets, frames (event
 * packets accumulated into count images, ws-frames.ts) and metrics to any number of clients.
 *
 * A client picks streams by path (`/decisions?region=cam0`, `/?streams=decisions,metrics`) or by
 * subscribe messages (ws-protocol.ts), and an encoding by subprotocol (`spikeflow.v1.json` /
 * `spikeflow.v1.proto`; without one, `?encoding=proto|json`, default JSON). Each published message is
 * encoded at most once per encoding, and framed once per encoding as a WebSocket frame (header and
 * payload in one buffer): the same buffer is written to every matching client's socket, one write each,
 * and the writes to one client within a tick leave in one syscall.
 *
 * Slow clients never stall the pipeline or other clients: `publish` only queues. Each client has a
 * bounded send path: bytes in the socket (`bufferedAmount`) up to `sendBufferBytes`, then an own queue
 * up to `queueBytes`, beyond which the oldest queued messages are dropped and counted per stream. The
 * counts reach the client in periodic `status` messages; sequence numbers show the same gaps.
 * Admission (token, Origin allowlist), heartbeats and maxPayload: ws-endpoint.ts.
 */
import type { Socket } from 'node:net';
import type { Observable, Subscription } from 'rxjs';
import * as wsModule from 'ws';
import { WebSocket } from 'ws';
import type { Geometry } from '../src/events/packet.js';
import { encodeJson } from '../src/wire/json-codec.js';
import type { WireMessage } from '../src/wire/messages.js';
import { encodeWire } from '../src/wire/protobuf-codec.js';
import { newEndpointStats, startWsEndpoint, type Admitted, type WsEndpointOptions, type WsEndpointStats } from './ws-endpoint.js';
import { encodeFrame, FrameAccumulator, frameJsonParts, type CountFrame } from './ws-frames.js';
import { frameCounterKernel } from '../src/events/pixel-kernels.js';
import { windowCounter } from '../src/events/window-counter.js';
import {
  compileFilter,
  filterProblem,
  isStreamName,
  packetSourceName,
  parseClientControl,
  STREAMS,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_PROTO,
  type Matcher,
  type PublishStream,
  type ServerControl,
  type StreamFilter,
  type StreamName,
  type StreamPayloads,
  type WsEncoding,
} from './ws-protocol.js';

export interface WsServerOptions extends WsEndpointOptions {
  /** Per client: bytes the socket may hold unsent (its bufferedAmount) before messages wait in the queue. Default 1 MiB. */
  readonly sendBufferBytes?: number;
  /** Per client: queued bytes beyond which the oldest queued messages are dropped. Default 1 MiB. */
  readonly queueBytes?: number;
  /** Period of the status message to each client (0 = none). Default 1000 ms. */
  readonly statusIntervalMs?: number;
  /** Frame window in µs of event time (default 33,333: 30 frames per second of events). */
  readonly frameWindowUs?: number;
  /** Frame size for packets that carry no geometry (otherwise their events are not framed). */
  readonly frameGeometry?: Geometry;
}

export interface WsServerStats extends WsEndpointStats {
  published: Record<StreamName, number>;
  /** Data messages handed to sockets, all clients. */
  sent: number;
  /** Data messages dropped for slow clients, all clients. */
  dropped: number;
  /** Bad client messages (not JSON, unknown op or stream, binary). */
  badMessages: number;
  /** Messages that could not be encoded (e.g. spike arrays of different lengths); skipped. */
  publishErrors: number;
}

export interface WsClientInfo {
  readonly name: string;
  readonly encoding: WsEncoding;
  readonly streams: Readonly<Partial<Record<StreamName, StreamFilter>>>;
  readonly queuedBytes: number;
  readonly bufferedAmount: number;
  readonly sent: Readonly<Partial<Record<StreamName, number>>>;
  readonly dropped: Readonly<Partial<Record<StreamName, number>>>;
}

export interface WsServer {
  /** ws://host:port */
  readonly url: string;
  readonly port: number;
  readonly stats: WsServerStats;
  publish<S extends PublishStream>(stream: S, item: StreamPayloads[S]): void;
  /** Publishes every item of `source` until it ends or the server closes. */
  attach<S extends PublishStream>(source: Observable<StreamPayloads[S]>, stream: S): Subscription;
  /** Emits the frames still accumulating (also done when an attached events stream completes). */
  flushFrames(): void;
  clients(): WsClientInfo[];
  close(): Promise<void>;
}

interface Out {
  readonly data: Uint8Array;
  readonly stream: StreamName | undefined;
  readonly binary: boolean;
  /** The whole WebSocket frame (unmasked, as a server sends), when the message was framed once for all clients. */
  readonly frame: Buffer | undefined;
}

/** ws' frame builder (untyped in @types/ws): the header, and the payload as given when unmasked. */
const frameParts = (wsModule as unknown as { Sender: { frame(data: Buffer, o: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[] } }).Sender.frame;

/** An unmasked final WebSocket frame carrying `data`: header and payload in one buffer. */
export function serverFrame(data: Uint8Array, binary: boolean): Buffer {
  const parts = frameParts(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), frameOptions(binary));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** A final, unmasked server frame (ws's framing). */
const frameOptions = (binary: boolean) => ({ fin: true, rsv1: false, opcode: binary ? 2 : 1, mask: false, readOnly: true });

/** The longest WebSocket frame header (a 64-bit length, unmasked). */
const MAX_FRAME_HEADER = 10;

/**
 * A count frame's JSON message (frameToJson's text) and its frame as serverFrame makes it, built in
 * one buffer: the JSON is written after room for the longest header, with the counts' base64
 * straight in, and ws's header for its length goes just before it. A busy frame's counts are copied
 * twice (to base64, into the buffer) instead of four times. `data` is a view of `frame`.
 */
export function jsonFrameMessage(f: CountFrame): { data: Buffer; frame: Buffer } {
  const { head, counts, tail } = frameJsonParts(f);
  const base64 = Buffer.from(counts.buffer, counts.byteOffset, counts.byteLength).toString('base64');
  const buffer = Buffer.allocUnsafe(MAX_FRAME_HEADER + Buffer.byteLength(head) + base64.length + tail.length);
  let at = MAX_FRAME_HEADER + buffer.write(head, MAX_FRAME_HEADER, 'utf8');
  at += buffer.write(base64, at, 'latin1');
  buffer.write(tail, at, 'latin1');
  const data = buffer.subarray(MAX_FRAME_HEADER);
  const parts = frameParts(data, frameOptions(false));
  if (parts.length === 1) return { data, frame: parts[0]! };
  const header = parts[0]!;
  const start = MAX_FRAME_HEADER - header.length;
  header.copy(buffer, start);
  return { data, frame: buffer.subarray(start) };
}

interface Sub {
  readonly filter: StreamFilter;
  readonly match: Matcher<StreamName>;
}

const RESERVED_QUERY = new Set(['token', 'encoding', 'streams']);

/** Subscriptions a connection URL asks for; throws on a bad path or filter. */
function subscriptionsOf(url: URL): Map<StreamName, StreamFilter> {
  const subs = new Map<StreamName, StreamFilter>();
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '') {
    for (const s of (url.searchParams.get('streams') ?? '').split(',').filter(Boolean)) {
      if (!isStreamName(s)) throw new Error(`unknown stream '${s.slice(0, 40)}'`);
      subs.set(s, {});
    }
    return subs;
  }
  const stream = path.slice(1);
  if (!isStreamName(stream)) throw new Error(`no stream at ${path.slice(0, 60)} (streams: ${STREAMS.join(', ')})`);
  const filter: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (!RESERVED_QUERY.has(k)) filter[k] = v;
  const problem = filterProblem(stream, filter);
  if (problem) throw new Error(problem);
  subs.set(stream, filter);
  return subs;
}

class Connection {
  readonly subs = new Map<StreamName, Sub>();
  private queue: (Out | undefined)[] = [];
  private head = 0;
  queuedBytes = 0;
  readonly sent: Record<StreamName, number> = { decisions: 0, spikes: 0, events: 0, frames: 0, metrics: 0 };
  readonly dropped: Record<StreamName, number> = { decisions: 0, spikes: 0, events: 0, frames: 0, metrics: 0 };
  private readonly written = () => this.pump();
  private corked = false;
  private readonly socket: Socket | undefined;
  /**
   * Ready-made frames may go straight to the socket: no extension negotiated (permessage-deflate would
   * transform payloads; the endpoint never offers it) and ws' sender has nothing of its own pending.
   */
  private readonly direct: boolean;
  private readonly uncork = () => {
    this.corked = false;
    this.socket?.uncork();
  };

  constructor(
    readonly ws: WebSocket,
    readonly name: string,
    readonly encoding: WsEncoding,
    private readonly server: { stats: WsServerStats; sendBufferBytes: number; queueBytes: number },
  ) {
    this.socket = (ws as unknown as { _socket?: Socket })._socket;
    this.direct = this.socket !== undefined && ws.extensions === '';
  }

  subscribe(stream: StreamName, filter: StreamFilter): void {
    this.subs.set(stream, { filter, match: compileFilter(stream, filter) as Matcher<StreamName> });
  }

  control(m: ServerControl): void {
    this.enqueue(Buffer.from(JSON.stringify(m)), undefined, false, undefined);
  }

  /** Sends now when the socket has room and nothing waits; otherwise queues (drop-oldest). */
  enqueue(data: Uint8Array, stream: StreamName | undefined, binary: boolean, frame: Buffer | undefined): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.head === this.queue.length && this.ws.bufferedAmount < this.server.sendBufferBytes) {
      this.write(data, stream, binary, frame);
      return;
    }
    this.queue.push({ data, stream, binary, frame });
    this.queuedBytes += data.length;
    // Drop-oldest: the newest message always stays, so the latest state reaches a client that catches up.
    while (this.queuedBytes > this.server.queueBytes && this.queue.length - this.head > 1) {
      const old = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      this.queuedBytes -= old.data.length;
      if (old.stream) {
        this.dropped[old.stream]++;
        this.server.stats.dropped++;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private write(data: Uint8Array, stream: StreamName | undefined, binary: boolean, frame: Buffer | undefined): void {
    if (stream) {
      this.sent[stream]++;
      this.server.stats.sent++;
    }
    // Messages to one client within one tick leave in one write (one syscall instead of one each).
    if (!this.corked && this.socket) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    // A write that fills the socket past the limit carries a callback: it runs once those bytes left
    // Node's buffer, the moment to move queued messages on. Other writes need none (cheaper fan-out).
    const full = this.ws.bufferedAmount + data.length >= this.server.sendBufferBytes;
    if (frame && this.direct) {
      // The frame shared by all clients, written as is (socket writes never modify their buffer).
      if (full) this.socket!.write(frame, this.written);
      else this.socket!.write(frame);
    } else if (full) this.ws.send(data, { binary }, this.written);
    else this.ws.send(data, { binary });
  }

  private pump(): void {
    while (this.head < this.queue.length && this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount < this.server.sendBufferBytes) {
      const out = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      this.queuedBytes -= out.data.length;
      this.write(out.data, out.stream, out.binary, out.frame);
    }
    if (this.head === this.queue.length && this.head > 0) {
      this.queue = [];
      this.head = 0;
    }
  }

  release(): void {
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  info(): WsClientInfo {
    return {
      name: this.name,
      encoding: this.encoding,
      streams: Object.fromEntries([...this.subs].map(([s, sub]) => [s, sub.filter])),
      queuedBytes: this.queuedBytes,
      bufferedAmount: this.ws.bufferedAmount,
      sent: { ...this.sent },
      dropped: { ...this.dropped },
    };
  }
}

/** Lazily encoded bytes of one message, and their WebSocket frame, shared by all clients of an encoding. */
class Encoded {
  private json?: Uint8Array;
  private proto?: Uint8Array;
  private jsonFrame?: Buffer;
  private protoFrame?: Buffer;
  constructor(
    /** The JSON text, or the message with its frame already built (jsonFrameMessage). */
    private readonly toJson: () => string | { data: Buffer; frame: Buffer },
    private readonly toProto: () => Uint8Array,
  ) {}
  get(e: WsEncoding): Uint8Array {
    if (e === 'proto') return (this.proto ??= this.toProto());
    if (!this.json) {
      const j = this.toJson();
      if (typeof j === 'string') this.json = Buffer.from(j);
      else ({ data: this.json, frame: this.jsonFrame } = j);
    }
    return this.json;
  }
  frame(e: WsEncoding): Buffer {
    return e === 'json' ? (this.jsonFrame ??= serverFrame(this.get(e), false)) : (this.protoFrame ??= serverFrame(this.get(e), true));
  }
}

export async function startWsServer(options: WsServerOptions = {}): Promise<WsServer> {
  const connections = new Set<Connection>();
  const attached = new Set<Subscription>();
  // Counted by the WASM loop when it is built (the TypeScript one otherwise: same counts).
  const frames = new FrameAccumulator(options.frameWindowUs ?? 33_333, options.frameGeometry, (g) => frameCounterKernel('auto', g) ?? windowCounter(g));
  const eventSequence = new Map<string, number>();
  const config = { stats: undefined as unknown as WsServerStats, sendBufferBytes: options.sendBufferBytes ?? 1 << 20, queueBytes: options.queueBytes ?? 1 << 20 };
  const statusIntervalMs = options.statusIntervalMs ?? 1000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;

  const onConnection = ({ ws, url, name, protocol }: Admitted) => {
    const encoding: WsEncoding = protocol === SUBPROTOCOL_PROTO ? 'proto' : protocol === SUBPROTOCOL_JSON ? 'json' : url.searchParams.get('encoding') === 'proto' ? 'proto' : 'json';
    const c = new Connection(ws, name, encoding, config);
    for (const [s, f] of subscriptionsOf(url)) c.subscribe(s, f);
    connections.add(c);
    ws.on('close', () => {
      connections.delete(c);
      c.release();
    });
    ws.on('message', (data, isBinary) => {
      try {
        if (isBinary) throw new Error('binary message (this endpoint only takes subscribe/unsubscribe JSON)');
        const m = parseClientControl(data.toString());
        if (m.op === 'subscribe') c.subscribe(m.stream, m.filter ?? {});
        else c.subs.delete(m.stream);
        c.control({ op: m.op === 'subscribe' ? 'subscribed' : 'unsubscribed', stream: m.stream, ...(m.op === 'subscribe' ? { filter: m.filter ?? {} } : {}) });
      } catch (e) {
        stats.badMessages++;
        endpoint.log.report(`client ${name}: ${(e as Error).message}`);
        c.control({ op: 'error', error: (e as Error).message });
      }
    });
    c.control({ op: 'hello', encoding, streams: c.info().streams, statusIntervalMs, heartbeatMs });
  };

  const stats: WsServerStats = {
    ...newEndpointStats(),
    published: { decisions: 0, spikes: 0, events: 0, frames: 0, metrics: 0 },
    sent: 0,
    dropped: 0,
    badMessages: 0,
    publishErrors: 0,
  };
  config.stats = stats;
  // Clients only send subscribe messages here: a small maxPayload by default.
  const endpoint = await startWsEndpoint('ws-server', { ...options, maxPayload: options.maxPayload ?? 64 * 1024 }, {
    protocols: [SUBPROTOCOL_JSON, SUBPROTOCOL_PROTO],
    route: (url) => {
      try {
        subscriptionsOf(url);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
    onConnection,
  }, stats);

  const dispatch = <S extends StreamName>(stream: S, item: StreamPayloads[S], encoded: Encoded) => {
    for (const c of connections) {
      const sub = c.subs.get(stream);
      if (!sub || !sub.match(item)) continue;
      let data: Uint8Array;
      let frame: Buffer;
      try {
        data = encoded.get(c.encoding);
        frame = encoded.frame(c.encoding);
      } catch (e) {
        stats.publishErrors++;
        endpoint.log.report(`cannot encode ${stream}: ${(e as Error).message}`);
        return;
      }
      c.enqueue(data, stream, c.encoding === 'proto', frame);
    }
  };

  const wire = (m: WireMessage) => new Encoded(() => encodeJson(m), () => encodeWire(m));
  const emitFrame = (f: CountFrame) => {
    stats.published.frames++;
    dispatch('frames', f, new Encoded(() => jsonFrameMessage(f), () => encodeFrame(f)));
  };
  const anyFrameSubscriber = () => {
    for (const c of connections) if (c.subs.has('frames')) return true;
    return false;
  };

  const publish = <S extends PublishStream>(stream: S, item: StreamPayloads[S]): void => {
    stats.published[stream]++;
    switch (stream) {
      case 'events': {
        const p = item as StreamPayloads['events'];
        const source = packetSourceName(p);
        const sequence = (eventSequence.get(source) ?? 0) + 1;
        eventSequence.set(source, sequence);
        dispatch('events', p, wire({ kind: 'events', sequence, packet: p }));
        if (anyFrameSubscriber()) frames.add(p, emitFrame);
        return;
      }
      case 'decisions':
        return dispatch(stream, item, wire({ ...(item as StreamPayloads['decisions']), kind: 'decision' }));
      case 'spikes':
        return dispatch(stream, item, wire({ ...(item as StreamPayloads['spikes']), kind: 'spikes' }));
      case 'metrics':
        return dispatch(stream, item, wire({ ...(item as StreamPayloads['metrics']), kind: 'metrics' }));
    }
  };

  const status =
    statusIntervalMs > 0
      ? setInterval(() => {
          for (const c of connections) c.control({ op: 'status', timeUnixMs: Date.now(), sent: { ...c.sent }, dropped: { ...c.dropped }, queuedBytes: c.queuedBytes, bufferedAmount: c.ws.bufferedAmount });
        }, statusIntervalMs)
      : undefined;
  status?.unref();

  return {
    url: endpoint.url,
    port: endpoint.port,
    stats,
    publish,
    attach: (source, stream) => {
      const sub = source.subscribe({
        next: (x) => publish(stream, x),
        error: (e: unknown) => endpoint.log.report(`attached ${stream} stream failed: ${e instanceof Error ? e.message : String(e)}`),
        complete: () => {
          if (stream === 'events') frames.flush(emitFrame);
        },
      });
      attached.add(sub);
      sub.add(() => attached.delete(sub));
      return sub;
    },
    flushFrames: () => frames.flush(emitFrame),
    clients: () => [...connections].map((c) => c.info()),
    close: async () => {
      if (status) clearInterval(status);
      for (const s of [...attached]) s.unsubscribe();
      await endpoint.close();
    },
  };
}
