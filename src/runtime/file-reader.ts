/**
 * A recorded file as a pausable source for the runtime. adapters/file-source.ts has no pause: it reads
 * the next chunk as soon as the previous one was emitted, which with the runtime's queued edges would
 * read the whole file into the queue. Here the read loop waits on a gate that the edge's queue closes
 * when it fills, so at most two chunks (one read ahead) plus the queue are ever in memory.
 *
 * Pacing: 'fast', or real time × speed (packets sliced into ~1 ms windows of wall time and each slice
 * emitted when the wall clock reaches it; adapters/pacing.ts).
 */
import { open } from 'node:fs/promises';
import { Observable } from 'rxjs';
import { slicePacket, type EventPacket, type Geometry } from '../events/packet.js';
import { PacketPool } from '../events/pool.js';
import { createDecoder, detectFormat } from '../formats/registry.js';
import { addToTimes, kernelPacketPool } from '../formats/wasm-kernels.js';
import { ReplayClock, Sleeper, replayChunkBytes } from '../../adapters/pacing.js';

export interface PausableFileOptions {
  readonly format?: string;
  readonly pace?: 'fast' | { readonly speed: number };
  /** Passes over the file (times shifted so they keep increasing); default 1. */
  readonly passes?: number;
  /** Bytes per read, decoded in one go (default 1 MiB, 64 KiB when paced: replayChunkBytes). */
  readonly chunkSize?: number;
  /** Largest packet handed downstream (views of the decoded packet, no copy); default 8192 events. */
  readonly maxEvents?: number;
  /** Sensor geometry for packets whose file does not say (DAT files without a Width/Height header). */
  readonly geometry?: Geometry;
  /**
   * Decode into buffers in the WASM kernels' memory (kernelPacketPool: no copy out of their staging
   * area, and a later pass's times shifted in WASM). Only for a consumer that recycles every packet:
   * a buffer there that is never given back stays taken. Default false.
   */
  readonly kernelBuffers?: boolean;
}

export interface PausableFileStats {
  bytes: number;
  events: number;
  packets: number;
  errors: number;
  paused: boolean;
  /** Times the reading waited for the queue. */
  pauses: number;
  /** Decoded packets whose buffers came back (recycle). */
  recycled: number;
  /** Reads from the file (chunks decoded). */
  reads: number;
}

export interface PausableFile {
  readonly stream: Observable<EventPacket>;
  readonly stats: PausableFileStats;
  pause(): void;
  resume(): void;
  /**
   * The consumer is done with a packet this source emitted (and keeps nothing of it): once the last
   * slice of a decoded packet is recycled, its buffers go back to the reader's pool for the next
   * packets. Optional: packets never recycled are garbage-collected as usual.
   */
  recycle(packet: EventPacket): void;
  /**
   * Paced replays: when the packet was due (its last event, on the performance.now() clock), which
   * is when a live sensor would have delivered it however busy the pipeline was; undefined as fast
   * as possible.
   */
  dueAt(packet: EventPacket): number | undefined;
}

export function pausableFile(path: string, o: PausableFileOptions = {}): PausableFile {
  const stats: PausableFileStats = { bytes: 0, events: 0, packets: 0, errors: 0, paused: false, pauses: 0, recycled: 0, reads: 0 };
  // The decoders' buffers: recycled ones are handed out again. The last slice of each decoded packet
  // maps to the packet, whose pool holder is dropped when that slice is recycled.
  const pool = o.kernelBuffers ? kernelPacketPool(65536, 8) : new PacketPool(65536, 8);
  const lastSlice = new WeakMap<EventPacket, EventPacket>();
  const due = new WeakMap<EventPacket, number>();
  let wake: (() => void) | undefined;
  const gate = async (): Promise<void> => {
    while (stats.paused) await new Promise<void>((r) => (wake = r));
  };
  const stream = new Observable<EventPacket>((sub) => {
    let stopped = false;
    const sleeper = new Sleeper();
    const clock = o.pace && o.pace !== 'fast' ? new ReplayClock(o.pace.speed) : undefined;
    const maxEvents = o.maxEvents ?? 8192;
    const run = async (): Promise<void> => {
      const h = await open(path, 'r');
      let reading: Promise<{ bytesRead: number }> | undefined;
      try {
        const size = (await h.stat()).size;
        const head = new Uint8Array(Math.min(65536, size));
        await h.read(head, 0, head.length, 0);
        const format = !o.format || o.format === 'auto' ? detectFormat(head, path).format : o.format;
        // Two buffers: the next chunk is read into one while the other is decoded and emitted, so a
        // reader with nothing else to do in the meantime (a worker thread) does not wait on the disk.
        const chunkBytes = o.chunkSize ?? replayChunkBytes(clock !== undefined);
        let buf = new Uint8Array(chunkBytes);
        let spare = new Uint8Array(chunkBytes);
        let shift = 0;
        let first = NaN;
        let latest = -Infinity;
        const emit = async (events: readonly EventPacket[]): Promise<void> => {
          for (const pk of events) {
            if (pk.length === 0) continue;
            // A later pass's times are shifted a slice at a time, just before it goes out (in WASM, two
            // at a time, when the buffer lies in the kernels' memory).
            if (Number.isNaN(first)) first = pk.t[0]! + shift;
            latest = Math.max(latest, pk.t[pk.length - 1]! + shift);
            let i = 0;
            let dueAtWall = NaN;
            while (i < pk.length && !stopped) {
              // Bounded packets: a pause can then hold back part of a chunk, and latency stays per-slice.
              let j = Math.min(pk.length, i + maxEvents);
              if (clock) {
                // One window of wall time per slice; wait until its last event is due.
                const limit = pk.t[i]! + clock.windowUs;
                j = i + 1;
                while (j < pk.length && j < i + maxEvents && pk.t[j]! < limit) j++;
                dueAtWall = clock.dueAt(pk.t[j - 1]! + shift);
                await sleeper.sleep(dueAtWall - performance.now());
              }
              await gate();
              if (stopped) return;
              if (shift) addToTimes(pk.t, i, j, shift);
              const slice = slicePacket(pk, i, j);
              const part = o.geometry && !(slice.geometry.width > 0 && slice.geometry.height > 0) ? { ...slice, geometry: o.geometry } : slice;
              if (j === pk.length) lastSlice.set(part, pk);
              if (clock) due.set(part, dueAtWall);
              stats.events += part.length;
              stats.packets++;
              sub.next(part);
              i = j;
            }
          }
        };
        for (let pass = 0; pass < (o.passes ?? 1) && !stopped; pass++) {
          if (pass > 0) {
            if (Number.isNaN(first)) break;
            shift += latest + 1 - first;
            first = NaN;
          }
          const dec = createDecoder(format, { uri: path, pool });
          let pos = 0;
          reading = h.read(buf, 0, buf.length, pos);
          for (;;) {
            const { bytesRead } = await reading;
            reading = undefined;
            if (stopped || bytesRead === 0) break;
            pos += bytesRead;
            reading = h.read(spare, 0, spare.length, pos);
            stats.bytes += bytesRead;
            stats.reads++;
            const r = dec.push(buf.subarray(0, bytesRead));
            stats.errors += r.errors.length;
            await emit(r.events);
            if (stopped) return;
            [buf, spare] = [spare, buf];
          }
          const r = dec.end();
          stats.errors += r.errors.length;
          await emit(r.events);
        }
      } finally {
        // A read still under way when the reader stopped or failed ends before the file is closed.
        await reading?.catch(() => undefined);
        await h.close();
      }
    };
    run().then(
      () => !stopped && sub.complete(),
      (e: unknown) => !stopped && sub.error(e),
    );
    return () => {
      stopped = true;
      sleeper.cancel();
      stats.paused = false;
      wake?.();
    };
  });
  return {
    stream,
    stats,
    pause() {
      if (!stats.paused) stats.pauses++;
      stats.paused = true;
    },
    dueAt: (packet) => due.get(packet),
    recycle(packet) {
      const pk = lastSlice.get(packet);
      if (!pk) return;
      lastSlice.delete(packet);
      if (pool.release(pk)) stats.recycled++;
    },
    resume() {
      stats.paused = false;
      const w = wake;
      wake = undefined;
      w?.();
    },
  };
}
