/**
 * A serial device (USB-UART, microcontroller, FPGA bridge) as an RxJS observable of EventPacket
 * batches: `fromSerial({ path, baudRate, framing })` opens the port on subscribe and decodes its bytes
 * with src/formats/serial (raw AER words, COBS/SLIP frames with optional CRC, text event lines, or
 * analog sample lines through a spike encoder). Everything one read delivers becomes one packet.
 *
 * Unplug/replug: when the device goes away the loss is counted (`stats.disconnects`,
 * `stats.connected = false`) and reported (onError + a rate-limited log line naming the port), a
 * partial frame is dropped, and the port is reopened with backoff — the path may be missing for a
 * while — until it is back; frames sent after the replug arrive on the same subscription. The
 * observable does not error or complete on unplug (only with `reconnect: false`, or options the port
 * rejects). Bad frames are counted by reason in `stats.badFrames` and reported the same way.
 *
 * Slow consumers: packets are emitted synchronously from the port's data event, so a synchronous
 * consumer holds off the next read by itself. A consumer that queues (e.g. an async concatMap) can call
 * `source.pause()` / `source.resume()`: reading stops, the OS buffers the bytes, and with `rtscts` the
 * device is told to stop sending; without flow control a UART driver drops bytes once its buffer is full.
 * The port is shared with an openSerialSink on the same path (adapters/serial-connection.ts); pausing
 * stops reading for both, and while paused a loss is noticed by the path check rather than by reads.
 * `stats` is reset at each subscription.
 */

import { Observable } from 'rxjs';
import type { SerialPort } from 'serialport';
import type { EventPacket, Geometry } from '../src/events/packet.js';
import type { PacketPool } from '../src/events/pool.js';
import { SerialDecoder, type SerialFraming } from '../src/formats/serial/decoder.js';
import { noBadFrames, type BadFrameCounts } from '../src/formats/serial/types.js';
import type { WireMessage } from '../src/wire/messages.js';
import { attachSerial, newLinkStats, type SerialLinkStats, type SerialPortOptions } from './serial-connection.js';
import { unixMicros } from './udp-source.js';

export interface SerialSourceOptions extends SerialPortOptions {
  readonly framing: SerialFraming;
  readonly geometry?: Geometry;
  /** µs added to times decoded from AER words. */
  readonly timeBase?: number;
  /** Arrival clock in µs for framings without time (default: Unix time in µs). */
  readonly clock?: () => number;
  readonly pool?: PacketPool;
  /** Wire messages that carry no events (e.g. decisions the device sends back). */
  readonly onWire?: (m: WireMessage) => void;
}

export interface SerialSourceStats extends SerialLinkStats {
  bytes: number;
  /** Good frames (COBS/SLIP frames, text lines, raw AER words). */
  frames: number;
  events: number;
  packets: number;
  badFrames: BadFrameCounts;
  otherMessages: number;
  paused: boolean;
}

export type SerialSource = Observable<EventPacket> & {
  readonly stats: SerialSourceStats;
  /** Stop reading (bytes wait in the OS buffer) until `resume()`. */
  pause(): void;
  resume(): void;
};

function newStats(): SerialSourceStats {
  return { ...newLinkStats(), bytes: 0, frames: 0, events: 0, packets: 0, badFrames: noBadFrames(), otherMessages: 0, paused: false };
}

export function fromSerial(options: SerialSourceOptions): SerialSource {
  const stats = newStats();
  const clock = options.clock ?? unixMicros;
  // Built here so a bad framing throws at the call, not on subscribe.
  new SerialDecoder(options.framing).close();
  const ports = new Set<SerialPort>();

  const events = new Observable<EventPacket>((subscriber) => {
    Object.assign(stats, newStats(), { paused: stats.paused });
    const decoder = new SerialDecoder(options.framing, {
      uri: `serial:${options.path}`,
      geometry: options.geometry,
      pool: options.pool,
      timeBase: options.timeBase,
      onWire: options.onWire,
    });
    let port: SerialPort | undefined;
    const link = attachSerial(options, stats, {
      open: (p) => {
        port = p;
        ports.add(p);
        if (stats.paused) p.pause();
      },
      data: (chunk) => {
        if (subscriber.closed) return; // bytes still in flight while the port closes after unsubscribe
        const framesBefore = decoder.stats.frames;
        const r = decoder.push(chunk, clock());
        const d = decoder.stats;
        stats.bytes = d.bytes;
        stats.frames = d.frames;
        stats.otherMessages = d.otherMessages;
        Object.assign(stats.badFrames, d.badFrames);
        if (d.frames > framesBefore) link.healthy(); // only a link that delivers good frames resets the backoff
        for (const e of r.errors) link.report(e);
        for (const p of r.packets) {
          stats.events += p.length;
          stats.packets++;
          subscriber.next(p);
        }
      },
      lost: (e, retryMs) => {
        if (port) ports.delete(port);
        port = undefined;
        decoder.reset(); // a frame cut by the loss must not be glued to the first bytes after the replug
        if (retryMs === undefined) subscriber.error(e);
      },
    });
    return () => {
      if (port) ports.delete(port);
      void link.detach();
      decoder.close();
    };
  });

  return Object.assign(events, {
    stats,
    pause() {
      stats.paused = true;
      for (const p of ports) p.pause();
    },
    resume() {
      stats.paused = false;
      for (const p of ports) p.resume();
    },
  });
}
