/**
 * SPIF / AEStream UDP events as an RxJS observable: `fromUdp({ port })` binds a dgram socket on subscribe and
 * emits EventPacket batches decoded by src/formats/spif.ts; unsubscribing closes the socket.
 *
 * Datagrams that arrive in the same event-loop turn are decoded together into one packet (flushed with
 * setImmediate), so a fast sender gives packets of many datagrams while a slow one still gets each datagram
 * out at once. Events without a timestamp word are stamped with the datagram's arrival time (Unix µs by
 * default). `stats` counts datagrams, events, malformed datagrams and — when the sender uses spikeflow's
 * sequence-word extension — lost and late datagrams; it is reset at each subscription.
 * Bind to port 0 for an ephemeral port: `stats.port` / `onListening` give the actual one.
 */

import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Observable } from 'rxjs';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { SpifDecoder, type SpifDecoderStats } from '../src/formats/spif.js';
import type { DecodeError } from '../src/formats/types.js';

export interface UdpSourceOptions {
  readonly port: number;
  /** Address to bind (default 127.0.0.1; '0.0.0.0' or '::' for all interfaces). */
  readonly host?: string;
  /** 'auto' (default): per-word timestamp flag; true: always event+timestamp pairs; false: never. */
  readonly timestamps?: boolean | 'auto';
  /** 'auto' (default): recognise spikeflow sequence words; true/false to force. */
  readonly sequence?: boolean | 'auto';
  readonly sequenceMarker?: number;
  /** Added to the 32-bit timestamps of timestamped events. */
  readonly timeBase?: number;
  /** Put on every packet (SPIF carries none). */
  readonly geometry?: Geometry;
  /** Arrival clock in µs for events without a timestamp word (default: Unix time in µs). */
  readonly clock?: () => number;
  /** SO_RCVBUF in bytes; the kernel may cap it (net.core.rmem_max). A larger buffer survives bursts. */
  readonly receiveBufferSize?: number;
  readonly reuseAddr?: boolean;
  /** Complete after this many ms without a datagram (counted from the first one). Default: never. */
  readonly idleTimeoutMs?: number;
  readonly onListening?: (address: { address: string; port: number }) => void;
  /** Malformed datagrams. Default: counted only (a network source should not flood stderr). */
  readonly onError?: (e: DecodeError) => void;
}

export interface UdpSourceStats extends SpifDecoderStats {
  /** Bound port (the actual one when 0 was asked), 0 until listening. */
  port: number;
  /** SO_RCVBUF as the kernel granted it (Linux reports twice the size asked, capped by rmem_max). */
  receiveBufferSize: number;
  packets: number;
}

export type UdpSource = Observable<EventPacket> & { readonly stats: UdpSourceStats };

function newStats(): UdpSourceStats {
  return { port: 0, receiveBufferSize: 0, packets: 0, datagrams: 0, bytes: 0, events: 0, lost: 0, late: 0, resyncs: 0, sequenced: 0, malformed: 0 };
}

export function unixMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export function fromUdp(options: UdpSourceOptions): UdpSource {
  const stats = newStats();
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? unixMicros;
  const events = new Observable<EventPacket>((subscriber) => {
    Object.assign(stats, newStats());
    const decoder = new SpifDecoder({
      timestamps: options.timestamps,
      sequence: options.sequence,
      sequenceMarker: options.sequenceMarker,
      timeBase: options.timeBase,
      geometry: options.geometry,
      uri: `udp://${host}:${options.port}`,
    });
    const pending: Uint8Array[] = [];
    const arrivals: number[] = [];
    let flushScheduled: NodeJS.Immediate | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    let closed = false;

    const socket: Socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: options.reuseAddr ?? false });

    const close = () => {
      if (closed) return;
      closed = true;
      if (flushScheduled) clearImmediate(flushScheduled);
      if (idleTimer) clearTimeout(idleTimer);
      socket.removeAllListeners('message');
      try {
        socket.close();
      } catch {
        // already closed by a failed bind
      }
    };

    const flush = () => {
      flushScheduled = undefined;
      if (pending.length === 0) return;
      const { packet, errors } = decoder.decode(pending, arrivals);
      pending.length = 0;
      arrivals.length = 0;
      Object.assign(stats, decoder.stats);
      for (const e of errors) options.onError?.(e);
      if (packet.length > 0) {
        stats.packets++;
        subscriber.next(packet);
      }
    };

    const armIdle = () => {
      if (options.idleTimeoutMs === undefined) return;
      if (idleTimer) idleTimer.refresh();
      else
        idleTimer = setTimeout(() => {
          flush();
          close();
          subscriber.complete();
        }, options.idleTimeoutMs);
    };

    socket.on('message', (msg: Buffer) => {
      pending.push(msg);
      arrivals.push(clock());
      flushScheduled ??= setImmediate(flush);
      armIdle();
    });
    socket.on('error', (e) => {
      close();
      subscriber.error(e);
    });
    socket.bind(options.port, host, () => {
      if (options.receiveBufferSize) {
        try {
          socket.setRecvBufferSize(options.receiveBufferSize);
        } catch {
          // best effort: the kernel default stays
        }
      }
      stats.receiveBufferSize = socket.getRecvBufferSize();
      const a = socket.address();
      stats.port = a.port;
      options.onListening?.({ address: a.address, port: a.port });
    });

    return close;
  });
  return Object.assign(events, { stats });
}
