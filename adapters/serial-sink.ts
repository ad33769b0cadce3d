/**
 * Decisions, spikes and events to a microcontroller over a serial line: `openSerialSink({ path,
 * baudRate, framing })` opens the port and writes each message in the chosen framing
 * (src/formats/serial/frame-encoder.ts: COBS/SLIP frames with optional CRC carrying a protobuf
 * Envelope or compact binary records, text lines, or raw AER words).
 *
 * Unplug/replug: the port is reopened with the shared backoff, as for fromSerial. Messages sent while
 * the device is away wait in a queue of at most `maxQueueBytes` (default 64 KiB); beyond it the oldest
 * are dropped (a controller wants the latest decisions, not a backlog) and counted in `stats.dropped`.
 * The same bound applies to bytes the port has not yet written when the line is slower than the
 * producer: then the new message is dropped. Each message is written whole; a loss mid-write may cut
 * one frame, which the receiver's framing rejects. Sequence numbers are assigned by the sink.
 */

import { Subscription, type Observable } from 'rxjs';
import type { SerialPort } from 'serialport';
import type { EventPacket } from '../src/events/packet.js';
import { SerialFrameEncoder, type SerialFrameEncoderStats, type SerialSinkFraming } from '../src/formats/serial/frame-encoder.js';
import type { Decision, SpikeBatch, WireMessage } from '../src/wire/messages.js';
import { attachSerial, newLinkStats, type SerialLinkStats, type SerialPortOptions } from './serial-connection.js';

export interface SerialSinkOptions extends SerialPortOptions {
  readonly framing: SerialSinkFraming;
  readonly maxQueueBytes?: number;
  /** Bytes the device sends back (acknowledgements, logs); read and dropped when not given. */
  readonly onData?: (chunk: Uint8Array) => void;
}

export interface SerialSinkStats extends SerialLinkStats, SerialFrameEncoderStats {
  /** Messages accepted by send. */
  messages: number;
  bytesWritten: number;
  /** Bytes waiting for the device (queued while away, or not yet written by the port). */
  queuedBytes: number;
  writeErrors: number;
}

export type SinkDecision = Omit<Decision, 'sequence'> & { readonly sequence?: number };

export interface SerialSink {
  readonly stats: SerialSinkStats;
  /** Encode and write (or queue) one message; false when it was dropped or cannot be carried. */
  send(m: WireMessage): boolean;
  sendDecision(d: SinkDecision): boolean;
  sendEvents(packet: EventPacket): boolean;
  sendSpikes(batch: Omit<SpikeBatch, 'sequence'>): boolean;
  /** Send every message of `source` until it completes or the subscription is closed. */
  attach(source: Observable<WireMessage>): Subscription;
  /** Resolves once the port is open (immediately when it is). */
  connected(): Promise<void>;
  /** Resolves when the bytes written so far have left the port's buffer. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export function openSerialSink(options: SerialSinkOptions): SerialSink {
  const encoder = new SerialFrameEncoder(options.framing);
  const maxQueue = options.maxQueueBytes ?? 65536;
  const stats: SerialSinkStats = { ...newLinkStats(), ...encoder.stats, messages: 0, bytesWritten: 0, queuedBytes: 0, writeErrors: 0 };
  const queue: Uint8Array[] = [];
  let queued = 0;
  let port: SerialPort | undefined;
  let sequence = 0;
  let waiters: (() => void)[] = [];
  const subscriptions = new Subscription();

  const sync = () => {
    Object.assign(stats, encoder.stats);
    stats.queuedBytes = queued + (port?.writableLength ?? 0);
  };

  const write = (p: SerialPort, bytes: Uint8Array) => {
    p.write(bytes, (e) => {
      if (e) {
        stats.writeErrors++;
        return; // the loss itself is reported by the link
      }
      stats.bytesWritten += bytes.length;
      link.healthy();
      sync();
    });
  };

  const link = attachSerial(options, stats, {
    open: (p) => {
      port = p;
      while (queue.length > 0) write(p, queue.shift()!);
      queued = 0;
      sync();
      for (const w of waiters) w();
      waiters = [];
    },
    data: (chunk) => options.onData?.(chunk),
    lost: () => {
      port = undefined;
      sync();
    },
  });

  const sink: SerialSink = {
    stats,
    send(m) {
      const droppedBefore = encoder.stats.dropped;
      const bytes = encoder.encode(m);
      stats.messages++;
      if (bytes.length === 0) {
        sync();
        return encoder.stats.dropped === droppedBefore;
      }
      if (port && port.isOpen) {
        if (port.writableLength + bytes.length > maxQueue) {
          encoder.stats.dropped++;
          sync();
          return false;
        }
        write(port, bytes);
      } else {
        queue.push(bytes);
        queued += bytes.length;
        // Oldest first: a controller acts on the latest messages.
        while (queued > maxQueue && queue.length > 0) {
          queued -= queue.shift()!.length;
          encoder.stats.dropped++;
        }
      }
      sync();
      return true;
    },
    sendDecision(d) {
      return sink.send({ kind: 'decision', ...d, sequence: d.sequence ?? sequence++ });
    },
    sendEvents(packet) {
      return sink.send({ kind: 'events', sequence: sequence++, packet });
    },
    sendSpikes(batch) {
      return sink.send({ kind: 'spikes', ...batch, sequence: sequence++ });
    },
    attach(source) {
      const s = source.subscribe({ next: (m) => void sink.send(m), error: (e: unknown) => link.report(e instanceof Error ? e : new Error(String(e))) });
      subscriptions.add(s);
      return s;
    },
    connected() {
      if (port?.isOpen) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    drain() {
      const p = port;
      if (!p || !p.isOpen || p.writableLength === 0) return Promise.resolve();
      return new Promise((resolve) => p.drain(() => resolve()));
    },
    async close() {
      subscriptions.unsubscribe();
      port = undefined;
      await link.detach();
      for (const w of waiters) w();
      waiters = [];
    },
  };
  return sink;
}
