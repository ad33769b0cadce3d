/**
 * Neuromorphic cochlea (NAS / USBAERmini2, pyNAVIS "AEDAT") decoder: big-endian [address, timestamp]
 * records, AEDAT 1.0 style, usually without a header.
 *
 * Layout (pyNAVIS loaders.py loadAEDAT): optional ASCII header of lines starting with '#' (jAER style,
 * the NAS writer ends it with `#End Of ASCII Header\r\n`), then records of an unsigned big-endian
 * address of `addressBytes` (2 or 4; default 2) and an unsigned big-endian 32-bit timestamp in ticks.
 * The tick is `tickUs` µs: 0.2 for USBAERmini2 (default), 1 for jAER, 0.08 for zynqGrabber.
 *
 * Address → event (our choice, following pyNAVIS): address = (ear · channels + channel) · 2 + half,
 * where half 0 is the positive (ON) half-wave and 1 the negative (OFF) one — pyNAVIS' glossary lists
 * each channel's two streams as "positive (ON) and negative (OFF)" and its phase-lock treats
 * address%2 0→1 as the ON→OFF change. So x = channel (frequency band), y = ear (0 left / mono,
 * 1 right), p = 1 − (address & 1). Geometry = channels × ears (default 32 × 1: 64 addresses; options
 * `channels`/`ears`, or `geometry` as width × height).
 * With `onOff: false` (one stream per channel) address = ear · channels + channel and p = 1.
 * Addresses beyond the geometry (e.g. pyNAVIS localization events with bit 15 set) are reported,
 * one error per run of records, and skipped.
 *
 * Time: t = ticks × tickUs computed as ticks × num / den with tickUs = num/den reduced from its decimal
 * form, so that t is the correctly rounded µs value (0.2 µs ticks: t = ticks / 5, no 0.2-product error).
 * The 32-bit tick counter wraps (859 s at 0.2 µs): a drop by more than half its range counts as a wrap.
 */

import { PacketBuilder } from '../events/builder.js';
import type { Geometry, SourceInfo } from '../events/packet.js';
import { RecordCarry } from './bytes.js';
import { decodeResult } from './decode-result.js';
import { FaultRuns } from './fault-runs.js';
import { recordsToSniff } from './record-sniff.js';
import { HeaderLineScanner, headerEnd } from './text-header.js';
import { DecodeError, NO_RESULT, type DecodeResult, type DecoderOptions, type FormatDescriptor, type StreamDecoder } from './types.js';
import { unwrapBase } from './wrap32.js';

const FORMAT = 'cochlea';
const HASH = 0x23;
/** Header lines are kept up to this length (only short `# key: value` lines matter). */
const MAX_HEADER_LINE_BYTES = 1024;

export interface CochleaOptions extends DecoderOptions {
  /** 2 (default) or 4. */
  readonly addressBytes?: number;
  /** Timestamp tick in µs; default 0.2 (USBAERmini2). */
  readonly tickUs?: number;
  /** Frequency channels per ear; default 32. */
  readonly channels?: number;
  /** 1 mono (default) or 2 stereo. */
  readonly ears?: number;
  /** Alternative to channels/ears: width = channels, height = ears. */
  readonly geometry?: Geometry;
  /** Two addresses (ON/OFF half-waves) per channel; default true. */
  readonly onOff?: boolean;
}

/** tickUs as a reduced fraction num/den with den a divisor of a power of ten (exact for decimal ticks). */
export function tickFraction(tickUs: number): { num: number; den: number } {
  if (!(tickUs > 0) || !Number.isFinite(tickUs)) throw new RangeError(`cochlea: tickUs must be a positive number, got ${tickUs}`);
  let den = 1;
  while (den < 1e9 && Math.abs(Math.round(tickUs * den) - tickUs * den) > 1e-9 * tickUs * den) den *= 10;
  let num = Math.round(tickUs * den);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(num, den);
  num /= g;
  den /= g;
  return { num, den };
}

class CochleaDecoder implements StreamDecoder {
  readonly format = 'cochlea' as const;
  readonly geometry: Geometry;
  readonly header: Record<string, string> = {};
  bytesIn = 0;
  readonly failed = false;

  private readonly addressBytes: number;
  private readonly recordBytes: number;
  private readonly num: number;
  private readonly den: number;
  private readonly channels: number;
  private readonly onOff: boolean;
  private readonly addressCount: number;
  private readonly carry: RecordCarry;
  private readonly builder: PacketBuilder;
  private readonly bad: FaultRuns;
  private inHeader = true;
  /** Header: lines starting with '#'; the body starts at the first line start that is not '#'. */
  private readonly headerScanner = new HeaderLineScanner(HASH, (line) => this.headerLine(line), MAX_HEADER_LINE_BYTES);
  private bodyStart = 0;
  private wrapTicks = 0;
  private lastTicks = 0;
  private ended = false;

  constructor(options: CochleaOptions = {}) {
    this.addressBytes = options.addressBytes ?? 2;
    if (this.addressBytes !== 2 && this.addressBytes !== 4) throw new RangeError(`cochlea: addressBytes must be 2 or 4, got ${this.addressBytes}`);
    this.recordBytes = this.addressBytes + 4;
    ({ num: this.num, den: this.den } = tickFraction(options.tickUs ?? 0.2));
    // `geometry` (the CLI's --width/--height) reads as channels x ears.
    this.channels = options.channels ?? (options.geometry?.width || 32);
    const ears = options.ears ?? (options.geometry?.height || 1);
    if (!Number.isInteger(this.channels) || this.channels < 1 || !Number.isInteger(ears) || ears < 1) {
      throw new RangeError(`cochlea: channels and ears must be positive integers, got ${this.channels} and ${ears}`);
    }
    this.onOff = options.onOff ?? true;
    this.addressCount = this.channels * ears * (this.onOff ? 2 : 1);
    this.geometry = { width: this.channels, height: ears };
    this.carry = new RecordCarry(this.recordBytes);
    this.bad = new FaultRuns(FORMAT, this.recordBytes);
    const source: SourceInfo = { format: FORMAT, uri: options.uri };
    this.builder = new PacketBuilder(this.geometry, source, options.pool);
  }

  push(chunk: Uint8Array): DecodeResult {
    const start = this.bytesIn;
    this.bytesIn += chunk.length;
    if (this.ended) return NO_RESULT;
    let k = 0;
    if (this.inHeader) {
      k = this.skipHeader(chunk, start);
      if (this.inHeader) return NO_RESULT;
    }
    const records = this.carry.join(k === 0 ? chunk : chunk.subarray(k));
    if (records.length === 0) return NO_RESULT;
    const errors: DecodeError[] = [];
    const at = this.bodyStart + this.carry.offset;
    this.decodeRecords(records, at, errors);
    this.bad.settle(at + records.length, errors);
    return this.result(errors);
  }

  end(): DecodeResult {
    if (this.ended) return NO_RESULT;
    this.ended = true;
    const errors: DecodeError[] = [];
    this.bad.flush(errors);
    if (this.inHeader && this.bytesIn > 0) {
      errors.push(new DecodeError(FORMAT, this.bytesIn, 'stream ended inside the # header'));
    } else if (this.carry.pending > 0) {
      errors.push(new DecodeError(FORMAT, this.bodyStart + this.carry.pendingOffset, `truncated record: ${this.carry.pending} of ${this.recordBytes} bytes`));
    }
    return this.result(errors);
  }

  private result(errors: DecodeError[]): DecodeResult {
    return decodeResult((this.ended ? this.builder.finish() : this.builder.take()), [], errors);
  }

  private skipHeader(chunk: Uint8Array, chunkStart: number): number {
    const body = this.headerScanner.scan(chunk);
    if (body < 0) return chunk.length;
    this.inHeader = false;
    this.bodyStart = chunkStart + body;
    this.header['header_lines'] = String(this.headerScanner.lines);
    return body;
  }

  private headerLine(line: string): void {
    const kv = /^([A-Za-z][\w-]*)\s*[:=]\s*(.*)$/.exec(line.replace(/^#\s*/, ''));
    if (kv) this.header[kv[1]!] = kv[2]!;
  }

  private decodeRecords(bytes: Uint8Array, at: number, errors: DecodeError[]): void {
    const b = this.builder;
    const size = this.recordBytes;
    const wide = this.addressBytes === 4;
    const num = this.num;
    const den = this.den;
    const channels = this.channels;
    const onOff = this.onOff;
    const addressCount = this.addressCount;
    const n = bytes.length / size;
    let wrap = this.wrapTicks;
    let last = this.lastTicks;
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
      // Big-endian reads written out: u32be/u16be helper calls here measured 2-3x slower (tsx, Node 20).
      for (let r = i * size, re = blockEnd * size; r < re; r += size) {
        let a: number;
        let q: number;
        if (wide) {
          a = ((bytes[r]! << 24) | (bytes[r + 1]! << 16) | (bytes[r + 2]! << 8) | bytes[r + 3]!) >>> 0;
          q = r + 4;
        } else {
          a = (bytes[r]! << 8) | bytes[r + 1]!;
          q = r + 2;
        }
        if (a >= addressCount) {
          (bad ??= []).push(r);
          continue;
        }
        const ticks = ((bytes[q]! << 24) | (bytes[q + 1]! << 16) | (bytes[q + 2]! << 8) | bytes[q + 3]!) >>> 0;
        wrap = unwrapBase(wrap, last, ticks);
        last = ticks;
        const stream = onOff ? a >>> 1 : a;
        X[o] = stream % channels;
        Y[o] = (stream / channels) | 0;
        P[o] = onOff ? (a & 1) ^ 1 : 1;
        T[o] = ((wrap + ticks) * num) / den;
        o++;
      }
      b.n = o;
      i = blockEnd;
    }
    this.wrapTicks = wrap;
    this.lastTicks = last;
    if (bad) {
      const why = `address beyond the ${addressCount} addresses of ${channels} channel(s) x ${this.geometry.height} ear(s)${onOff ? ' x ON/OFF' : ''}`;
      for (const r of bad) this.bad.note(at + r, why, errors);
    }
  }
}

/**
 * Headerless, so at most 0.5: after any '#' lines, 6-byte records (2-byte addresses) with small
 * addresses and non-decreasing timestamps over the first records.
 */
function sniffCochlea(head: Uint8Array): number {
  const o = headerEnd(head, HASH);
  if (o < 0) return 0;
  const body = head.subarray(o);
  const size = 6;
  const n = recordsToSniff(head, body, size);
  if (n === 0) return 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    const r = i * size;
    const a = (body[r]! << 8) | body[r + 1]!;
    const t = ((body[r + 2]! << 24) | (body[r + 3]! << 16) | (body[r + 4]! << 8) | body[r + 5]!) >>> 0;
    if (a >= 1024 || t < last) return 0;
    last = t;
  }
  return 0.4;
}

export const cochleaFormat: FormatDescriptor = {
  name: 'cochlea',
  description: 'Neuromorphic cochlea AEDAT (NAS/pyNAVIS): big-endian [address, timestamp] records, 0.2 µs ticks by default',
  extensions: ['.aedat'],
  sniff: sniffCochlea,
  createDecoder: (options?: DecoderOptions) => new CochleaDecoder(options as CochleaOptions),
};
