/**
 * Recorded event files as RxJS observables: `fromFile(path)` emits EventPacket batches, `openRecording(path)`
 * also exposes the side streams (triggers, IMU, frames) as typed observables of the same reading.
 *
 * I/O only: bytes are read with a FileHandle into ONE reused buffer, one chunk at a time, and handed to a
 * StreamDecoder from the format registry; the next chunk is read only after everything decoded from the
 * current one was emitted (so nothing is buffered ahead). The decoders copy what they keep, which is what
 * makes the buffer reuse safe (StreamDecoder contract: "the decoder does not keep `chunk`").
 *
 * Pacing: 'fast' emits as fast as the consumer takes it; `{ speed }` replays in real time × speed — packets
 * are sliced (views, no copies) into windows of ~1 ms of wall time and each slice is emitted once the wall
 * clock reaches the time of its last event, waiting with timers (no busy-waiting). Side batches are
 * interleaved by their first timestamp. `loop` replays the file again with all times shifted so they keep
 * increasing (the next pass starts 1 µs after the previous pass's latest event).
 *
 * Errors: non-fatal DecodeErrors are recorded in `stats.errors` and passed to `onError` (default: one line
 * on stderr naming file, format and offset); a fatal one — or a file whose format cannot be detected —
 * errors the observable AFTER every event decoded before it was emitted. Unsubscribing stops the reading
 * and closes the file at once (a pending read finishes first; FileHandle.close waits for it).
 */

import { open, type FileHandle } from 'node:fs/promises';
import { Observable, EMPTY, type Observer, type Subscriber } from 'rxjs';
import { catchError, filter, share } from 'rxjs/operators';
import { slicePacket, type EventPacket, type Geometry } from '../src/events/packet.js';
import { sideCount, type FrameRecord, type ImuBatch, type MonitorBatch, type SideBatch, type SideKind, type TriggerBatch } from '../src/events/side.js';
import { createDecoder, detectFormat } from '../src/formats/registry.js';
import { DecodeError, type DecodeResult, type DecoderOptions } from '../src/formats/types.js';
import { ProgressLine } from '../src/runtime/progress-line.js';
import { ReplayClock, Sleeper, replayChunkBytes } from './pacing.js';

const HEAD_BYTES = 65536;
/** Keep at most this many errors in `stats.errors` (a corrupt file replayed in a loop would grow forever). */
const MAX_KEPT_ERRORS = 1000;

export type Pace = 'fast' | { readonly speed: number };

export interface FileProgress {
  readonly path: string;
  readonly pass: number;
  readonly bytesRead: number;
  readonly fileSize: number;
  readonly events: number;
  /** Events per second of wall time since the reading started. */
  readonly rate: number;
}

export interface FileSourceOptions {
  /** Registry format name, or 'auto' (default): detect from the first 64 KiB and the extension. */
  readonly format?: string;
  /** Passed to the decoder (pool, format-specific knobs); `uri` is set to the path. */
  readonly decoder?: DecoderOptions;
  /** Bytes per read (default 1 MiB, 64 KiB when paced: replayChunkBytes). */
  readonly chunkSize?: number;
  readonly pace?: Pace;
  /** true: replay forever; a number: that many passes in all. Default: one pass. */
  readonly loop?: boolean | number;
  /** Progress line on stderr: default only when stderr is a terminal (shown after 1 s, so short files stay quiet). */
  readonly progress?: boolean;
  /** Called after every chunk. */
  readonly onProgress?: (p: FileProgress) => void;
  /** Non-fatal decode errors. Default: one line on stderr. */
  readonly onError?: (e: DecodeError) => void;
  /** fromFile only: receives the side batches (and `complete` when the file ends). Without it they are only counted. */
  readonly side?: Partial<Observer<SideBatch>>;
}

export interface FileSourceStats {
  path: string;
  format: string;
  fileSize: number;
  /** Bytes read over all passes. */
  bytes: number;
  events: number;
  packets: number;
  /** Side records seen per kind (delivered or not). */
  side: Record<SideKind, number>;
  /** Decode errors (at most the first 1000; `errorCount` counts them all). */
  errors: DecodeError[];
  errorCount: number;
  /** Passes started (loop). */
  passes: number;
  geometry: Geometry;
  /** True while the file is open. */
  fileOpen: boolean;
  done: boolean;
}

export type FileSource = Observable<EventPacket> & { readonly stats: FileSourceStats };

export interface Recording {
  readonly events: Observable<EventPacket>;
  /** Every side batch; the typed streams below are filters of it. */
  readonly side: Observable<SideBatch>;
  readonly triggers: Observable<TriggerBatch>;
  readonly imu: Observable<ImuBatch>;
  readonly frames: Observable<FrameRecord>;
  readonly monitor: Observable<MonitorBatch>;
  readonly stats: FileSourceStats;
}

type Item = EventPacket | SideBatch;

function isSide(item: Item): item is SideBatch {
  return (item as SideBatch).kind !== undefined;
}

function isPacket(item: Item): item is EventPacket {
  return (item as SideBatch).kind === undefined;
}

export function newFileStats(path: string): FileSourceStats {
  return {
    path,
    format: '',
    fileSize: 0,
    bytes: 0,
    events: 0,
    packets: 0,
    side: { trigger: 0, imu: 0, frame: 0, monitor: 0 },
    errors: [],
    errorCount: 0,
    passes: 0,
    geometry: { width: 0, height: 0 },
    fileOpen: false,
    done: false,
  };
}

/** Event packets of a recorded file. Side batches go to `options.side` when given, else they are only counted in `stats`. */
export function fromFile(path: string, options: FileSourceOptions = {}): FileSource {
  const stats = newFileStats(path);
  const items = recordingItems(path, options, stats);
  const events = new Observable<EventPacket>((subscriber) =>
    items.subscribe({
      next: (item) => {
        if (isPacket(item)) subscriber.next(item);
        else options.side?.next?.(item);
      },
      error: (e) => subscriber.error(e),
      complete: () => {
        options.side?.complete?.();
        subscriber.complete();
      },
    }),
  );
  return Object.assign(events, { stats });
}

/**
 * A recording with its side streams. One shared reading feeds all the streams: it starts at the first
 * subscription, so subscribe to every stream you want in the same tick (the file opens asynchronously, so
 * subscribers added synchronously miss nothing). Errors are delivered on `events`; the side streams just
 * complete (their subscribers need no error handler). Events and side batches are emitted in file order.
 */
export function openRecording(path: string, options: Omit<FileSourceOptions, 'side'> = {}): Recording {
  const stats = newFileStats(path);
  const items = recordingItems(path, options, stats).pipe(share());
  const side = items.pipe(
    filter(isSide),
    catchError(() => EMPTY),
  );
  return {
    events: items.pipe(filter(isPacket)),
    side,
    triggers: side.pipe(filter((b): b is TriggerBatch => b.kind === 'trigger')),
    imu: side.pipe(filter((b): b is ImuBatch => b.kind === 'imu')),
    frames: side.pipe(filter((b): b is FrameRecord => b.kind === 'frame')),
    monitor: side.pipe(filter((b): b is MonitorBatch => b.kind === 'monitor')),
    stats,
  };
}

/** Events and side batches of one reading, in file order; each subscription reads the file anew. */
function recordingItems(path: string, options: FileSourceOptions, stats: FileSourceStats): Observable<Item> {
  return new Observable<Item>((subscriber) => {
    const reader = new FileReading(path, options, stats, subscriber);
    void reader.run();
    return () => reader.stop();
  });
}

class FileReading {
  private handle: FileHandle | undefined;
  private closing: Promise<void> | undefined;
  private stopped = false;
  private readonly sleeper = new Sleeper();
  private readonly clock: ReplayClock | undefined;
  private readonly progress: ProgressLine;
  private readonly onError: (e: DecodeError) => void;
  /** Added to every time of the current pass (loop). */
  private shift = 0;
  private firstTime = NaN;
  private latestTime = -Infinity;
  private fatal: DecodeError | undefined;
  /** Bytes of the current pass read so far. */
  private position = 0;

  constructor(
    private readonly path: string,
    private readonly options: FileSourceOptions,
    private readonly stats: FileSourceStats,
    private readonly subscriber: Subscriber<Item>,
  ) {
    Object.assign(stats, newFileStats(path));
    const pace = options.pace ?? 'fast';
    if (pace !== 'fast') {
      if (!(pace.speed > 0)) throw new RangeError(`fromFile: pace.speed must be > 0, got ${pace.speed}`);
      this.clock = new ReplayClock(pace.speed);
    }
    this.progress = new ProgressLine(path, { show: options.progress });
    this.onError = options.onError ?? ((e) => process.stderr.write(`${path}: ${e.format} decode error at byte offset ${e.offset}: ${e.detail}\n`));
  }

  private get cancelled(): boolean {
    return this.stopped || this.subscriber.closed;
  }

  stop(): void {
    this.stopped = true;
    this.sleeper.cancel();
    void this.close();
  }

  private close(): Promise<void> {
    const h = this.handle;
    if (!h) return Promise.resolve();
    this.closing ??= h.close().then(
      () => void (this.stats.fileOpen = false),
      () => void (this.stats.fileOpen = false),
    );
    return this.closing;
  }

  async run(): Promise<void> {
    try {
      await this.read();
      this.progress.finish();
      await this.close();
      if (this.cancelled) return;
      this.stats.done = true;
      if (this.fatal) this.subscriber.error(this.fatal);
      else this.subscriber.complete();
    } catch (e) {
      this.progress.finish();
      await this.close();
      if (!this.cancelled) this.subscriber.error(e);
    }
  }

  private async read(): Promise<void> {
    const { path, options, stats } = this;
    const handle = await open(path, 'r');
    this.handle = handle;
    stats.fileOpen = true;
    if (this.cancelled) return;
    stats.fileSize = (await handle.stat()).size;
    const chunkSize = options.chunkSize ?? replayChunkBytes(this.clock !== undefined);
    if (!(Number.isInteger(chunkSize) && chunkSize > 0)) throw new RangeError(`fromFile: chunkSize must be a positive integer, got ${chunkSize}`);
    const format = await this.resolveFormat(handle);
    if (format === undefined || this.cancelled) return;
    stats.format = format;
    const buffer = new Uint8Array(chunkSize);
    const passes = options.loop === true ? Infinity : typeof options.loop === 'number' ? options.loop : 1;
    for (let pass = 0; pass < passes; pass++) {
      if (pass > 0) {
        // No events in a pass: nothing to shift by, and looping would spin forever.
        if (Number.isNaN(this.firstTime)) return;
        this.shift = this.latestTime + 1 - this.firstTime;
      }
      stats.passes = pass + 1;
      const decoder = createDecoder(format, { ...options.decoder, uri: path });
      this.position = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, chunkSize, this.position);
        if (this.cancelled || bytesRead === 0) break;
        this.position += bytesRead;
        stats.bytes += bytesRead;
        const result = decoder.push(buffer.subarray(0, bytesRead));
        stats.geometry = decoder.geometry;
        await this.deliver(result);
        this.updateProgress();
        options.onProgress?.(this.progressOf());
        if (this.cancelled || this.fatal) return;
        if (decoder.failed) {
          this.fatal = new DecodeError(format, this.position, 'decoder stopped', true);
          return;
        }
      }
      if (this.cancelled) return;
      await this.deliver(decoder.end());
      if (this.cancelled || this.fatal) return;
    }
  }

  /** The format to decode with, or undefined after a detection failure (then `fatal` is set). */
  private async resolveFormat(handle: FileHandle): Promise<string | undefined> {
    const given = this.options.format ?? 'auto';
    if (given !== 'auto') return given;
    const head = new Uint8Array(Math.min(HEAD_BYTES, this.stats.fileSize));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    try {
      return detectFormat(head.subarray(0, bytesRead), this.path).format;
    } catch (e) {
      this.fatal = new DecodeError('unknown', 0, (e as Error).message, true);
      this.record(this.fatal);
      return undefined;
    }
  }

  private record(e: DecodeError): void {
    this.stats.errorCount++;
    if (this.stats.errors.length < MAX_KEPT_ERRORS) this.stats.errors.push(e);
  }

  /** Emit one decode result: events (sliced and timed when paced), side batches interleaved by time, then errors. */
  private async deliver(r: DecodeResult): Promise<void> {
    const side = r.side.map((b) => (this.shift ? shiftSide(b, this.shift) : b));
    side.sort((a, b) => sideStart(a) - sideStart(b));
    let s = 0;
    for (const packet of r.events) {
      if (packet.length === 0) continue;
      if (this.shift) shiftTimes(packet.t, this.shift);
      this.noteTimes(packet);
      const window = this.clock ? this.clock.windowUs : Infinity;
      for (let i = 0; i < packet.length && !this.cancelled; ) {
        const end = sliceEnd(packet.t, i, window);
        const first = packet.t[i]!;
        while (s < side.length && sideStart(side[s]!) <= first && !this.cancelled) this.emitSide(side[s++]!);
        if (this.clock) {
          this.clock.start(first);
          await this.sleeper.sleep(this.clock.delayMs(packet.t[end - 1]!));
        }
        if (this.cancelled) return;
        const slice = slicePacket(packet, i, end);
        this.stats.events += slice.length;
        this.stats.packets++;
        this.subscriber.next(slice);
        if (this.clock) this.updateProgress();
        i = end;
      }
    }
    while (s < side.length && !this.cancelled) {
      const batch = side[s++]!;
      if (this.clock) await this.sleeper.sleep(this.clock.delayMs(sideStart(batch)));
      if (!this.cancelled) this.emitSide(batch);
    }
    for (const e of r.errors) {
      this.record(e);
      if (e.fatal) this.fatal ??= e;
      else this.onError(e);
    }
  }

  private emitSide(batch: SideBatch): void {
    this.stats.side[batch.kind] += sideCount(batch);
    this.subscriber.next(batch);
  }

  private noteTimes(packet: EventPacket): void {
    const t = packet.t;
    if (Number.isNaN(this.firstTime)) this.firstTime = t[0]!;
    let latest = this.latestTime;
    for (let i = 0; i < t.length; i++) if (t[i]! > latest) latest = t[i]!;
    this.latestTime = latest;
  }

  private updateProgress(): void {
    const s = this.stats;
    const pass = s.passes > 1 ? `pass ${s.passes}, ` : '';
    this.progress.update(this.position, s.fileSize, `${pass}${s.events} events, ${(s.events / 1e6 / Math.max(this.progress.elapsedS, 1e-9)).toFixed(2)} Mev/s`);
  }

  private progressOf(): FileProgress {
    const s = this.stats;
    return { path: s.path, pass: s.passes, bytesRead: this.position, fileSize: s.fileSize, events: s.events, rate: s.events / Math.max(this.progress.elapsedS, 1e-9) };
  }
}

/** End (exclusive) of the slice starting at `start`: events with t < t[start] + windowUs (at least one event). */
function sliceEnd(t: Float64Array, start: number, windowUs: number): number {
  if (windowUs === Infinity) return t.length;
  const limit = t[start]! + windowUs;
  let j = start + 1;
  while (j < t.length && t[j]! < limit) j++;
  return j;
}

function shiftTimes(t: Float64Array, dt: number): void {
  for (let i = 0; i < t.length; i++) t[i] += dt;
}

function sideStart(b: SideBatch): number {
  return b.kind === 'frame' ? b.t : b.length > 0 ? b.t[0]! : -Infinity;
}

/** A copy of a side batch with all times moved by dt (side data is rare: copying is fine). */
function shiftSide(b: SideBatch, dt: number): SideBatch {
  if (b.kind === 'frame') return { ...b, t: b.t + dt, exposureStart: b.exposureStart + dt, exposureEnd: b.exposureEnd + dt };
  const t = Float64Array.from(b.t);
  shiftTimes(t, dt);
  return { ...b, t };
}

