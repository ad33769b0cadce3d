/**
 * Send event packets as SPIF / AEStream UDP datagrams (encoding in src/formats/spif.ts).
 *
 * `sendUdp(source, { host, port })` accepts an Observable, an (async) iterable or an array of packets and
 * resolves with the send statistics once everything was sent and the socket is closed.
 * Pacing: 'fast' sends as fast as the socket accepts, yielding to the event loop every `burst` datagrams
 * (a receiver on the same host — even in the same process — can keep up, and UDP gives no flow control);
 * `{ speed }` sends every ~1 ms slice of events when the wall clock reaches its event time × 1/speed,
 * like fromFile's pacing. An Observable source pushes: its packets are queued until sent, so pace at the
 * source (fromFile's `pace`) or use an iterable when the source is much faster than the network.
 */

import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { isObservable, type Observable } from 'rxjs';
import { slicePacket, type EventPacket } from '../src/events/packet.js';
import { SpifEncoder, type SpifEncoderOptions, type SpifEncoderStats } from '../src/formats/spif.js';
import type { Pace } from './file-source.js';
import { ReplayClock, Sleeper } from './pacing.js';

export interface UdpSenderOptions extends SpifEncoderOptions {
  readonly port: number;
  readonly host?: string;
  readonly pace?: Pace;
  /** Datagrams sent before yielding to the event loop (default 16). */
  readonly burst?: number;
  /** Stops sending; the promise then resolves with what was sent. */
  readonly signal?: AbortSignal;
}

export interface UdpSendStats extends SpifEncoderStats {
  bytes: number;
  /** Failed sends (e.g. ECONNREFUSED when nothing listens on loopback); sending goes on. */
  sendErrors: number;
  firstError?: string;
}

export type PacketSource = Observable<EventPacket> | Iterable<EventPacket> | AsyncIterable<EventPacket>;

export async function sendUdp(source: PacketSource, options: UdpSenderOptions): Promise<UdpSendStats> {
  const host = options.host ?? '127.0.0.1';
  const burst = options.burst ?? 16;
  const encoder = new SpifEncoder(options);
  const pace = options.pace ?? 'fast';
  if (pace !== 'fast' && !(pace.speed > 0)) throw new RangeError(`sendUdp: pace.speed must be > 0, got ${pace.speed}`);
  const clock = pace === 'fast' ? undefined : new ReplayClock(pace.speed);
  const sleeper = new Sleeper();
  const stats: UdpSendStats = { datagrams: 0, events: 0, outOfRange: 0, bytes: 0, sendErrors: 0 };
  const socket: Socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  const abort = () => sleeper.cancel();
  options.signal?.addEventListener('abort', abort);
  const aborted = () => options.signal?.aborted === true;
  let inBurst = 0;
  let lastSent: Promise<void> = Promise.resolve();

  const sendOne = (datagram: Uint8Array) =>
    (lastSent = new Promise<void>((resolve) => {
      stats.datagrams++;
      socket.send(datagram, (e) => {
        if (e) {
          stats.sendErrors++;
          stats.firstError ??= e.message;
        } else {
          stats.bytes += datagram.length;
        }
        resolve();
      });
    }));

  const sendPacket = async (packet: EventPacket) => {
    const window = clock ? clock.windowUs : Infinity;
    for (let i = 0; i < packet.length && !aborted(); ) {
      let end = packet.length;
      if (clock) {
        const limit = packet.t[i]! + window;
        end = i + 1;
        while (end < packet.length && packet.t[end]! < limit) end++;
        clock.start(packet.t[i]!);
        await sleeper.sleep(clock.delayMs(packet.t[end - 1]!));
      }
      for (const datagram of encoder.encode(slicePacket(packet, i, end))) {
        if (aborted()) break;
        const sent = sendOne(datagram);
        if (++inBurst >= burst) {
          inBurst = 0;
          await sent;
          await new Promise((r) => setImmediate(r));
        }
      }
      i = end;
    }
  };

  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(options.port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // Send errors arrive through the callbacks; keep a listener so they never become uncaught.
    socket.on('error', (e) => {
      stats.sendErrors++;
      stats.firstError ??= e.message;
    });
    for await (const packet of iterate(source)) {
      if (aborted()) break;
      await sendPacket(packet);
    }
    await lastSent;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await new Promise<void>((r) => {
      try {
        socket.close(() => r());
      } catch {
        r(); // never connected
      }
    });
  }
  stats.events = encoder.stats.events;
  stats.outOfRange = encoder.stats.outOfRange;
  return stats;
}

/** Packets of any supported source, in order; an Observable's packets are queued while earlier ones are sent. */
async function* iterate(source: PacketSource): AsyncGenerator<EventPacket> {
  if (!isObservable(source)) {
    yield* source as AsyncIterable<EventPacket>;
    return;
  }
  const queue: EventPacket[] = [];
  let head = 0;
  let done = false;
  let failed = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const subscription = source.subscribe({
    next: (p) => {
      queue.push(p);
      wake?.();
    },
    error: (e) => {
      failed = true;
      failure = e;
      done = true;
      wake?.();
    },
    complete: () => {
      done = true;
      wake?.();
    },
  });
  try {
    for (;;) {
      while (head < queue.length) {
        const packet = queue[head]!;
        queue[head++] = undefined as unknown as EventPacket; // let sent packets be collected
        yield packet;
      }
      queue.length = head = 0;
      if (failed) throw failure;
      if (done) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  } finally {
    subscription.unsubscribe();
  }
}
