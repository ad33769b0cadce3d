/**
 * Machinery shared by the Prophesee EVT 2.0 / 2.1 / 3.0 decoders:
 *   - time-base loop tracking exactly as OpenEB's standalone decoders do it;
 *   - the monitor subtypes given to words that are counted rather than decoded;
 *   - UnknownWordRuns: one DecodeError per run of consecutive unknown words (not one per word);
 *   - EvtStreamDecoder: the stream scaffolding (header → whole, aligned words → the format's word
 *     loop, truncation and header errors, result assembly). Each format only writes its word loop.
 *     A word split across chunks is completed in a small buffer and decoded on its own, so chunks are
 *     never joined (no copy of a whole chunk per push);
 *   - staging: word loops write into small fixed arrays, emitStaged copies them into packets.
 *
 * Time base (OpenEB metavision_evt2/evt3_raw_file_decoder.cpp): a TIME_HIGH word gives the high
 * part H (µs, already shifted). The new base is H + loops·LOOP; when it lies below the current base
 * by at least (LOOP − unit − threshold) the counter has wrapped: add one LOOP. EVT2/2.1: unit 2^6,
 * LOOP 2^34, threshold 10·2^6. EVT3: unit 2^12, LOOP 2^24, threshold 10·2^12. Any smaller step back is
 * kept as is (OpenEB does not treat it as a loop either).
 */

import { UNKNOWN_GEOMETRY, type Geometry } from '../../events/packet.js';
import { PacketBuilder } from '../../events/builder.js';
import { SideCollector } from '../../events/side.js';
import { DecodeError, NO_RESULT, type DecodeResult, type DecoderOptions, type FormatName, type StreamDecoder } from '../types.js';
import { RawHeaderReader, type EvtVersion, type RawHeaderInfo } from './raw-header.js';

export const EVT2_LOOP_US = 2 ** 34;
/** A TIME_HIGH falling back by at least this much means the 34-bit counter wrapped: (2^34 − 2^6) − 10·2^6. */
export const EVT2_LOOP_DROP_US = EVT2_LOOP_US - 64 - 10 * 64;
export const EVT3_LOOP_US = 2 ** 24;
/** A TIME_HIGH falling back by at least this much means the 24-bit counter wrapped: (2^24 − 2^12) − 10·2^12. */
export const EVT3_LOOP_DROP_US = EVT3_LOOP_US - 4096 - 10 * 4096;

/**
 * The time base after a TIME_HIGH word whose high part is `highUs` (µs, < loop), given the current
 * base (which already includes the loops counted so far).
 */
export function nextTimeBase(current: number, highUs: number, loopUs: number, loopDropUs: number): number {
  let next = highUs + Math.floor(current / loopUs) * loopUs;
  if (current > next && current - next >= loopDropUs) next += loopUs;
  return next;
}

/**
 * Little-endian 32-bit words of 4-aligned bytes (EvtStreamDecoder guarantees the alignment) as int32:
 * V8 keeps int32 loads in registers, while uint32 values ≥ 2^31 would become doubles.
 * (Little-endian hosts assumed, as in bytes.ts.)
 */
export function i32View(bytes: Uint8Array): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
}

/** Monitor subtype for IMU words (EVT2 0xD with its 5 CONTINUED words counted once; EVT3 0xD). Raw IMU units are undocumented, so samples are counted, not converted. */
export const MONITOR_IMU = 0xfffd;
/** Monitor subtype for EVT3 EM_Y words: the ADDR_X/vector events that follow are exposure-measurement events, which OpenEB does not decode as CD events. */
export const MONITOR_EM_ROW = 0xfffe;

/** Events per staging block: the word loops write into fixed arrays of this size, then copy (see emitStaged). */
export const STAGE = 8192;

/** Aligned bounce buffer for chunks whose words are not aligned in memory (a multiple of 8 bytes long). */
const ALIGN_SCRATCH = new Uint8Array(64 * 1024);

/** Copy `count` staged events into the builder, sealing full packets as needed. */
export function emitStaged(b: PacketBuilder, x: Uint16Array, y: Uint16Array, t: Float64Array, p: Uint8Array, count: number): void {
  let from = 0;
  while (from < count) {
    if (b.n === b.x.length) b.reserve(b.capacity);
    const n = b.n;
    const m = Math.min(count - from, b.x.length - n);
    const to = from + m;
    b.x.set(x.subarray(from, to), n);
    b.y.set(y.subarray(from, to), n);
    b.t.set(t.subarray(from, to), n);
    b.p.set(p.subarray(from, to), n);
    b.n = n + m;
    from = to;
  }
}

/** Runs of unknown words reported individually before further ones are only counted. */
const MAX_REPORTED_RUNS = 100;

/** Coalesces consecutive unknown words into one error per run (offset of its first word). */
export class UnknownWordRuns {
  /** Unknown words seen in total. */
  total = 0;
  private start = -1;
  private count = 0;
  private firstType = 0;
  private runs = 0;

  constructor(
    readonly format: string,
    readonly wordBytes: number,
  ) {}

  /** An unknown word at absolute byte `offset`; `type` is its type nibble. */
  note(offset: number, type: number, errors: DecodeError[]): void {
    this.total++;
    if (this.start >= 0 && offset === this.start + this.count * this.wordBytes) {
      this.count++;
      return;
    }
    this.flush(errors);
    this.start = offset;
    this.count = 1;
    this.firstType = type;
  }

  /** Report the open run if it ended before `decodedEnd` (the next word was a known one). */
  flushIfClosed(decodedEnd: number, errors: DecodeError[]): void {
    if (this.start >= 0 && this.start + this.count * this.wordBytes < decodedEnd) this.flush(errors);
  }

  flush(errors: DecodeError[]): void {
    if (this.start < 0) return;
    this.runs++;
    const type = `0x${this.firstType.toString(16).toUpperCase()}`;
    if (this.runs <= MAX_REPORTED_RUNS) {
      const what = this.count === 1 ? `word of unknown type ${type}` : `${this.count} consecutive words of unknown type (the first of type ${type})`;
      errors.push(new DecodeError(this.format, this.start, `${what} skipped`));
    } else if (this.runs === MAX_REPORTED_RUNS + 1) {
      errors.push(new DecodeError(this.format, this.start, `word of unknown type ${type} skipped; further unknown words are counted, not reported`));
    }
    this.start = -1;
    this.count = 0;
  }
}

/**
 * Header handling, word alignment across chunks and result assembly for a RAW EVT decoder.
 * Subclasses implement `decodeWords(bytes, offset, errors)` over whole words.
 */
export abstract class EvtStreamDecoder implements StreamDecoder {
  geometry: Geometry = UNKNOWN_GEOMETRY;
  header: Readonly<Record<string, string>> = {};
  bytesIn = 0;
  failed = false;
  /** Words skipped because they came before the first TIME_HIGH (time base unknown, as OpenEB). */
  wordsBeforeTimeBase = 0;
  protected readonly builder: PacketBuilder;
  protected readonly side = new SideCollector();
  protected readonly unknown: UnknownWordRuns;
  /**
   * False (the default): decodeWords gets 4-aligned bytes (typed-array word views need it), copied
   * through a scratch buffer when the chunk is not. A decoder that copies the words elsewhere anyway
   * (into a WASM kernel's memory) sets it true and gets whole words at any alignment, uncopied.
   */
  protected acceptsUnalignedWords = false;
  private readonly headerReader = new RawHeaderReader();
  /** The first bytes of a word split across chunks (`partialLength` of them; own buffer, so aligned). */
  private readonly partial: Uint8Array;
  private partialLength = 0;
  /** Data bytes (after the header) received so far. */
  private dataBytes = 0;
  /** Absolute offset of the first data byte (= header length). */
  private dataStart = 0;
  private ended = false;

  constructor(
    readonly format: FormatName,
    /** The EVT version this decoder reads; a header declaring another one is a fatal error. */
    private readonly version: EvtVersion,
    readonly wordBytes: number,
    options: DecoderOptions,
  ) {
    this.builder = new PacketBuilder(UNKNOWN_GEOMETRY, { format, uri: options.uri }, options.pool);
    this.partial = new Uint8Array(wordBytes);
    this.unknown = new UnknownWordRuns(format, wordBytes);
  }

  /** Unknown words seen so far. */
  get unknownWords(): number {
    return this.unknown.total;
  }

  /** Decode whole words; `offset` is the absolute stream offset of bytes[0]. */
  protected abstract decodeWords(bytes: Uint8Array, offset: number, errors: DecodeError[]): void;

  /** Hook after the header is read (e.g. EVT 2.1 picks its word order). */
  protected onHeader(_info: RawHeaderInfo): void {}

  push(chunk: Uint8Array): DecodeResult {
    this.bytesIn += chunk.length;
    if (this.failed || this.ended) return NO_RESULT;
    const errors: DecodeError[] = [];
    let data = chunk;
    if (!this.headerReader.done) {
      const used = this.headerReader.feed(chunk);
      if (!this.headerReader.done || !this.startData(errors)) return this.result(errors);
      data = chunk.subarray(used);
      const replay = this.headerReader.replay;
      if (replay.length > 0) {
        const joined = new Uint8Array(replay.length + data.length);
        joined.set(replay, 0);
        joined.set(data, replay.length);
        data = joined;
      }
    }
    this.decodeData(data, errors);
    return this.result(errors);
  }

  end(): DecodeResult {
    if (this.failed || this.ended) return NO_RESULT;
    this.ended = true;
    const errors: DecodeError[] = [];
    if (!this.headerReader.done) {
      const lineStart = this.headerReader.length;
      const problem = this.headerReader.finish();
      if (problem) errors.push(new DecodeError(this.format, lineStart, problem));
      if (!this.startData(errors)) return this.result(errors);
      if (this.headerReader.replay.length > 0) this.decodeData(this.headerReader.replay, errors);
    }
    this.unknown.flush(errors);
    if (this.partialLength > 0) {
      errors.push(
        new DecodeError(
          this.format,
          this.dataStart + this.dataBytes - this.partialLength,
          `truncated ${this.wordBytes * 8}-bit word: the stream ends ${this.partialLength} byte(s) into it`,
        ),
      );
    }
    return this.result(errors);
  }

  private decodeData(data: Uint8Array, errors: DecodeError[]): void {
    const wb = this.wordBytes;
    const start = this.dataStart + this.dataBytes; // absolute offset of data[0]
    this.dataBytes += data.length;
    let from = 0;
    if (this.partialLength > 0) {
      // Complete the word the last chunk ended inside, and decode it alone.
      const had = this.partialLength;
      from = Math.min(wb - had, data.length);
      this.partial.set(data.subarray(0, from), had);
      this.partialLength += from;
      if (this.partialLength < wb) return;
      this.partialLength = 0;
      this.decodeWhole(this.partial, start - had, errors);
    }
    const rest = data.length - from;
    const whole = rest - (rest % wb);
    if (whole > 0) this.decodeWhole(data.subarray(from, from + whole), start + from, errors);
    if (whole < rest) {
      this.partial.set(data.subarray(from + whole));
      this.partialLength = rest - whole;
    }
    if (from + whole > 0) this.unknown.flushIfClosed(start + from + whole, errors);
  }

  /** Whole words at absolute `offset`, aligned for typed-array views unless the decoder accepts any alignment. */
  private decodeWhole(whole: Uint8Array, offset: number, errors: DecodeError[]): void {
    // Int32Array / Uint16Array views need 4- / 2-byte alignment (EVT 2.1's 64-bit words are read as u32 pairs).
    if (this.acceptsUnalignedWords || whole.byteOffset % Math.min(this.wordBytes, 4) === 0) {
      this.decodeWords(whole, offset, errors);
    } else {
      // Copy block by block into a reused, cache-resident buffer rather than allocating a copy of the whole chunk.
      for (let at = 0; at < whole.length; at += ALIGN_SCRATCH.length) {
        const piece = whole.subarray(at, at + ALIGN_SCRATCH.length);
        ALIGN_SCRATCH.set(piece);
        this.decodeWords(ALIGN_SCRATCH.subarray(0, piece.length), offset + at, errors);
      }
    }
  }

  /** Interpret the finished header; false (and `failed`) when the data cannot be decoded by this decoder. */
  private startData(errors: DecodeError[]): boolean {
    const reader = this.headerReader;
    this.header = reader.keys;
    this.dataStart = reader.length;
    if (reader.fault) return this.fail(errors, 0, reader.fault);
    const info = reader.info();
    for (const p of info.problems) errors.push(new DecodeError(this.format, 0, `header: ${p}`));
    if (info.formatName !== undefined && info.version !== this.version) {
      return this.fail(errors, 0, `the header declares event format ${info.formatName}, not EVT ${this.version}`);
    }
    this.geometry = info.geometry;
    this.builder.geometry = info.geometry;
    this.onHeader(info);
    return true;
  }

  private fail(errors: DecodeError[], offset: number, detail: string): false {
    errors.push(new DecodeError(this.format, offset, detail, true));
    this.failed = true;
    return false;
  }

  private result(errors: DecodeError[]): DecodeResult {
    const events = this.ended ? this.builder.finish() : this.builder.take();
    const side = this.side.take();
    if (events.length === 0 && side.length === 0 && errors.length === 0) return NO_RESULT;
    return { events, side, errors };
  }
}
