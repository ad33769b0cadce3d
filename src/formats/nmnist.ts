/**
 * N-MNIST / N-Caltech101 `.bin` decoder (Orchard et al. ATIS saccade datasets): headerless 40-bit events.
 *
 * Record (5 bytes): b0 = x, b1 = y, b2 bit 7 = polarity (1 ON), timestamp µs (23 bits, big-endian
 * across bytes) = (b2 & 0x7F) << 16 | b3 << 8 | b4  (tonic io.py read_mnist_file, after event-Python).
 *
 * Overflow marker: a record with y == 240 is not an event; every later timestamp is shifted by a fixed
 * increment. tonic uses 2^13 µs, although a 23-bit counter overflows at 2^23 µs, which is what the
 * marker logically stands for. It never matters for N-MNIST (samples last ~300 ms < 2^23 µs) and we
 * follow tonic by default so that results match it; `overflowIncrementUs: 8388608` gives the 2^23
 * reading.
 *
 * Geometry: option `geometry` (default 34x34, N-MNIST; N-Caltech101 needs e.g. 240x180). Events outside
 * it cannot come from the sensor: they are reported (one error per run of such records) and skipped.
 */

import { PacketBuilder } from '../events/builder.js';
import type { Geometry, SourceInfo } from '../events/packet.js';
import { RecordCarry } from './bytes.js';
import { decodeResult } from './decode-result.js';
import { FaultRuns } from './fault-runs.js';
import { recordsToSniff } from './record-sniff.js';
import { DecodeError, NO_RESULT, type DecodeResult, type DecoderOptions, type FormatDescriptor, type StreamDecoder } from './types.js';

const FORMAT = 'nmnist';
const RECORD_BYTES = 5;
const OVERFLOW_MARKER_Y = 240;
/** tonic's time_increment. */
export const TONIC_OVERFLOW_INCREMENT_US = 8192;
export const NMNIST_GEOMETRY: Geometry = Object.freeze({ width: 34, height: 34 });

export interface NmnistOptions extends DecoderOptions {
  /** Sensor size; events outside are reported and dropped. Default 34x34. */
  readonly geometry?: Geometry;
  /** Added to later timestamps at each overflow marker. Default 2^13 (tonic); 2^23 is the counter range. */
  readonly overflowIncrementUs?: number;
}

class NmnistDecoder implements StreamDecoder {
  readonly format = 'nmnist' as const;
  readonly geometry: Geometry;
  readonly header: Readonly<Record<string, string>> = {};
  bytesIn = 0;
  readonly failed = false;
  /** Overflow markers seen so far. */
  overflowMarkers = 0;

  private readonly carry = new RecordCarry(RECORD_BYTES);
  private readonly builder: PacketBuilder;
  private readonly bad = new FaultRuns(FORMAT, RECORD_BYTES);
  private readonly increment: number;
  private timeOffset = 0;
  private ended = false;

  constructor(options: NmnistOptions = {}) {
    this.geometry = options.geometry ?? NMNIST_GEOMETRY;
    this.increment = options.overflowIncrementUs ?? TONIC_OVERFLOW_INCREMENT_US;
    const source: SourceInfo = { format: FORMAT, uri: options.uri };
    this.builder = new PacketBuilder(this.geometry, source, options.pool);
  }

  push(chunk: Uint8Array): DecodeResult {
    this.bytesIn += chunk.length;
    if (this.ended) return NO_RESULT;
    const records = this.carry.join(chunk);
    if (records.length === 0) return NO_RESULT;
    const errors: DecodeError[] = [];
    const at = this.carry.offset;
    this.decodeRecords(records, at, errors);
    this.bad.settle(at + records.length, errors);
    return this.result(errors);
  }

  end(): DecodeResult {
    if (this.ended) return NO_RESULT;
    this.ended = true;
    const errors: DecodeError[] = [];
    this.bad.flush(errors);
    if (this.carry.pending > 0) {
      errors.push(new DecodeError(FORMAT, this.carry.pendingOffset, `truncated record: ${this.carry.pending} of ${RECORD_BYTES} bytes`));
    }
    return this.result(errors);
  }

  private result(errors: DecodeError[]): DecodeResult {
    return decodeResult((this.ended ? this.builder.finish() : this.builder.take()), [], errors);
  }

  private decodeRecords(bytes: Uint8Array, at: number, errors: DecodeError[]): void {
    const b = this.builder;
    const width = this.geometry.width;
    const height = this.geometry.height;
    const n = bytes.length / RECORD_BYTES;
    let offset = this.timeOffset;
    let bad: number[] | undefined;
    let i = 0;
    while (i < n) {
      const blockEnd = Math.min(n, i + b.capacity);
      b.reserve(blockEnd - i);
      const X = b.x;
      const Y = b.y;
      const T = b.t;
      const P = b.p;
      let o = b.n;
      for (let r = i * RECORD_BYTES, re = blockEnd * RECORD_BYTES; r < re; r += RECORD_BYTES) {
        const x = bytes[r]!;
        const y = bytes[r + 1]!;
        if (y === OVERFLOW_MARKER_Y) {
          offset += this.increment;
          this.overflowMarkers++;
          continue;
        }
        if (x >= width || y >= height) {
          (bad ??= []).push(r);
          continue;
        }
        const b2 = bytes[r + 2]!;
        X[o] = x;
        Y[o] = y;
        P[o] = b2 >>> 7;
        T[o] = offset + (((b2 & 0x7f) << 16) | (bytes[r + 3]! << 8) | bytes[r + 4]!);
        o++;
      }
      b.n = o;
      i = blockEnd;
    }
    this.timeOffset = offset;
    if (bad) {
      const why = `x/y outside the ${width}x${height} geometry (pass the sensor geometry as an option)`;
      for (const r of bad) this.bad.note(at + r, why, errors);
    }
  }
}

/**
 * Headerless, so at most 0.5. Plausible bytes are whole 5-byte records (when the head is the whole
 * file) whose first records (up to 2000) have y below 240 besides overflow markers (y == 240),
 * timestamps that never decrease and do advance, and both polarities: a saccade recording has ON and
 * OFF events spread over time, while constant junk (a run of one byte value) repeats one timestamp
 * and one polarity.
 */
function sniffNmnist(head: Uint8Array): number {
  const n = recordsToSniff(head, head, RECORD_BYTES);
  if (n === 0) return 0;
  let first = -1;
  let last = -1;
  let offset = 0;
  let maxX = 0;
  let maxY = 0;
  let events = 0;
  let on = 0;
  for (let i = 0; i < n; i++) {
    const r = i * RECORD_BYTES;
    const y = head[r + 1]!;
    if (y === OVERFLOW_MARKER_Y) {
      offset += TONIC_OVERFLOW_INCREMENT_US;
      continue;
    }
    if (y > OVERFLOW_MARKER_Y) return 0;
    const b2 = head[r + 2]!;
    const t = offset + (((b2 & 0x7f) << 16) | (head[r + 3]! << 8) | head[r + 4]!);
    if (t < last) return 0;
    if (first < 0) first = t;
    last = t;
    events++;
    on += b2 >>> 7;
    if (head[r]! > maxX) maxX = head[r]!;
    if (y > maxY) maxY = y;
  }
  if (last <= first || on === 0 || on === events) return 0;
  // Small sensors (N-MNIST 34x34) make the guess stronger than a full ATIS frame would.
  return maxX < 64 && maxY < 64 ? 0.45 : 0.35;
}

export const nmnistFormat: FormatDescriptor = {
  name: 'nmnist',
  description: 'N-MNIST / N-Caltech101 .bin: headerless 5-byte events (x, y, polarity + 23-bit µs time)',
  extensions: ['.bin'],
  sniff: sniffNmnist,
  createDecoder: (options?: DecoderOptions) => new NmnistDecoder(options as NmnistOptions),
};
