/**
 * DV (dv-runtime) network output over TCP as an RxJS observable of EventPacket batches.
 *
 * A DV output server sends the AEDAT 4 stream without its file framing: the size-prefixed IOHeader
 * flatbuffer, then packets (int32 streamId, int32 size, payload) — an AEDAT4 file minus the 14-byte
 * '#!AER-DAT4.0\r\n' line and minus the data table. So this source feeds the registry's aedat4 decoder a
 * synthetic magic line followed by the socket bytes (no network special case in the decoder). DecodeError
 * offsets are rewritten to offsets in the TCP stream of the current connection.
 *
 * A dropped connection (or one that cannot be opened) is retried with the live adapters' exponential
 * backoff (adapters/backoff.ts) unless `reconnect: false`; each loss is counted in `stats` and reported to
 * `onError`. Every connection starts a fresh decoder, since the server sends a new IOHeader. Side batches
 * go to `options.side` when given and are always counted. A fatal decode error (not an AEDAT4 stream)
 * errors the observable.
 *
 * Backpressure: `pause()` stops reading the socket (TCP flow control then holds the server back) and
 * `resume()` reads on; a reconnection made while paused stays paused.
 */

import { Socket } from 'node:net';
import { Backoff, type BackoffOptions } from './backoff.js';
import { Observable, type Observer } from 'rxjs';
import type { EventPacket } from '../src/events/packet.js';
import { sideCount, type SideBatch, type SideKind } from '../src/events/side.js';
import { createDecoder } from '../src/formats/registry.js';
import { DecodeError, type DecodeResult, type DecoderOptions, type StreamDecoder } from '../src/formats/types.js';

/** What an AEDAT4 file has before the IOHeader and the network stream lacks. */
const AEDAT4_MAGIC = new TextEncoder().encode('#!AER-DAT4.0\r\n');
const MAX_KEPT_ERRORS = 1000;

/** Reconnect backoff: first delay (default 200 ms) × factor (2) per failed attempt up to maxDelayMs (5 s), ±jitter (0.1); maxAttempts failed attempts in a row are tolerated (default: unlimited). */
export type ReconnectOptions = BackoffOptions;

export interface DvTcpOptions {
  readonly port: number;
  readonly host?: string;
  /** Default: reconnect with the default backoff. false: complete when the server closes, error when the connection fails. */
  readonly reconnect?: false | ReconnectOptions;
  readonly decoder?: DecoderOptions;
  readonly side?: Partial<Observer<SideBatch>>;
  /** Non-fatal decode errors and connection losses. Default: one line on stderr. */
  readonly onError?: (e: Error) => void;
}

export interface DvTcpStats {
  connections: number;
  /** Connections that ended or failed while the source was subscribed. */
  disconnects: number;
  connected: boolean;
  bytes: number;
  events: number;
  packets: number;
  side: Record<SideKind, number>;
  /** Decode errors and connection errors (at most the first 1000; `errorCount` counts them all). */
  errors: Error[];
  errorCount: number;
}

export type DvTcpSource = Observable<EventPacket> & {
  readonly stats: DvTcpStats;
  /** Stop reading the socket (backpressure); the server is held back by TCP flow control. */
  pause(): void;
  resume(): void;
};

function newStats(): DvTcpStats {
  return { connections: 0, disconnects: 0, connected: false, bytes: 0, events: 0, packets: 0, side: { trigger: 0, imu: 0, frame: 0, monitor: 0 }, errors: [], errorCount: 0 };
}

export function fromDvTcp(options: DvTcpOptions): DvTcpSource {
  const stats = newStats();
  const host = options.host ?? '127.0.0.1';
  const uri = `tcp://${host}:${options.port}`;
  const reconnect = options.reconnect === false ? undefined : (options.reconnect ?? {});
  const onError = options.onError ?? ((e: Error) => process.stderr.write(`${uri}: ${e.message}\n`));
  let paused = false;
  let current: Socket | undefined;

  const events = new Observable<EventPacket>((subscriber) => {
    Object.assign(stats, newStats());
    let socket: Socket | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    const backoff = new Backoff(reconnect ?? {});
    let finished = false;

    const record = (e: Error) => {
      stats.errorCount++;
      if (stats.errors.length < MAX_KEPT_ERRORS) stats.errors.push(e);
    };

    const finish = (e?: unknown) => {
      if (finished) return;
      finished = true;
      if (retryTimer) clearTimeout(retryTimer);
      socket?.destroy();
      if (e !== undefined) subscriber.error(e);
      else {
        options.side?.complete?.();
        subscriber.complete();
      }
    };

    /** Emit one decode result; false after a fatal error (the observable has errored). */
    const deliver = (r: DecodeResult): boolean => {
      for (const p of r.events) {
        if (p.length === 0) continue;
        stats.events += p.length;
        stats.packets++;
        subscriber.next(p);
      }
      for (const b of r.side) {
        stats.side[b.kind] += sideCount(b);
        options.side?.next?.(b);
      }
      for (const raw of r.errors) {
        const e = new DecodeError(raw.format, Math.max(0, raw.offset - AEDAT4_MAGIC.length), raw.detail, raw.fatal);
        record(e);
        if (e.fatal) {
          finish(e);
          return false;
        }
        onError(e);
      }
      return true;
    };

    const connect = () => {
      retryTimer = undefined;
      let decoder: StreamDecoder | undefined;
      let socketError: Error | undefined;
      let gotData = false;
      const s = new Socket();
      socket = current = s;
      if (paused) s.pause();
      s.on('connect', () => {
        stats.connections++;
        stats.connected = true;
        decoder = createDecoder('aedat4', { ...options.decoder, uri });
        deliver(decoder.push(AEDAT4_MAGIC));
      });
      s.on('data', (chunk: Buffer) => {
        if (finished || !decoder) return;
        gotData = true;
        stats.bytes += chunk.length;
        deliver(decoder.push(chunk));
      });
      s.on('error', (e) => {
        socketError = e;
      });
      s.on('close', () => {
        if (finished || subscriber.closed) return;
        const wasConnected = decoder !== undefined;
        stats.connected = false;
        if (decoder && !deliver(decoder.end())) return;
        if (wasConnected) stats.disconnects++;
        // Only a connection that delivered data resets the backoff: a server that accepts and hangs up
        // at once must not be hammered at the initial delay.
        if (gotData) backoff.reset();
        const why = socketError ? socketError.message : 'closed by the server';
        if (!reconnect) {
          if (socketError) finish(socketError);
          else finish();
          return;
        }
        const delay = backoff.next();
        if (delay === undefined) {
          finish(new Error(`${uri}: giving up after ${backoff.failures} failed connection attempts (${why})`));
          return;
        }
        const loss = new Error(`${wasConnected ? 'connection lost' : 'cannot connect'} (${why}); reconnecting in ${Math.round(delay)} ms`);
        record(loss);
        onError(loss);
        retryTimer = setTimeout(connect, delay);
      });
      s.connect(options.port, host);
    };

    connect();
    return () => {
      finished = true;
      if (retryTimer) clearTimeout(retryTimer);
      socket?.destroy();
    };
  });
  return Object.assign(events, {
    stats,
    pause() {
      paused = true;
      current?.pause();
    },
    resume() {
      paused = false;
      current?.resume();
    },
  });
}
