/**
 * Prophesee .dat decoder: decoded CD (or trigger) events as fixed 8-byte records.
 *
 * Layout (docs.prophesee.ai file_formats/dat; OpenEB event2d.h / event_ext_trigger.h):
 *   - ASCII header lines `% <key> <value>\n` (e.g. `% Version 2`, `% Width 640`, `% Height 480`;
 *     N-CARS files: `% Data file containing N9Chronocam7Event2dE events.` and no geometry);
 *   - 2 bytes: event type (0 Event2d, 12 EventCD, 14 EventExtTrigger) and event size (8);
 *   - records, little-endian: u32 timestamp (µs), u32 data.
 *     CD: x = bits 13..0, y = bits 27..14, polarity = bits 31..28 (0 or 1).
 *     Trigger: value (edge) = bits 3..0, id = bits 31..26.
 * The 32-bit µs timestamp wraps after ~71.6 min with no high word: a drop of more than half the
 * range (2^31 µs) counts as one wrap (+2^32). Smaller drops are kept as they are: they are jitter or
 * corruption, and treating them as wraps would push all later events 71 minutes ahead.
 * Geometry comes from `% Width`/`% Height` (or `% geometry WxH`); without them it stays 0x0 and is
 * never guessed from the events, so it cannot change mid-stream.
 * A CD record whose polarity nibble is above 1 cannot come from a writer: it is reported (runs of
 * such records as one error) and skipped.
 */

import { PacketBuilder } from '../../events/builder.js';
import { UNKNOWN_GEOMETRY, type Geometry, type SourceInfo } from '../../events/packet.js';
import { SideCollector, type SideBatch } from '../../events/side.js';
import { ascii, u32View } from '../bytes.js';
import { decodeResult } from '../decode-result.js';
import { FaultRuns } from '../fault-runs.js';
import { HeaderLineScanner, headerEnd } from '../text-header.js';
import { DecodeError, NO_RESULT, type DecodeResult, type DecoderOptions, type FormatDescriptor, type StreamDecoder } from '../types.js';
import { unwrapBase } from '../wrap32.js';
import { chooseKernel, decodeDatRecordsWasm, type DatWrapState, type StagingKernel } from '../wasm-kernels.js';

const FORMAT = 'dat';
const RECORD_BYTES = 8;
const TYPE_EVENT2D = 0x00;
const TYPE_EVENT_CD = 0x0c;
const TYPE_EXT_TRIGGER = 0x0e;
const PERCENT = 0x25;
const NO_SIDE = Object.freeze([]) as unknown as SideBatch[];

function geometryFromHeader(h: Record<string, string>): Geometry {
  const w = Number(h['Width'] ?? h['width']);
  const hh = Number(h['Height'] ?? h['height']);
  if (Number.isInteger(w) && Number.isInteger(hh) && w > 0 && hh > 0) return { width: w, height: hh };
  const g = /^(\d+)x(\d+)$/.exec(h['geometry'] ?? '');
  if (g) return { width: Number(g[1]), height: Number(g[2]) };
  return UNKNOWN_GEOMETRY;
}

/**
 * `% key value` (a header line as HeaderLineScanner hands it over, line ending removed) → [key, value];
 * the N-CARS "Data file containing …" line keeps its long key. (Written without regular expressions,
 * for the fixed cost per stream: the same results as `line.replace(/^%\s?/, '')`, then
 * `/^(Data file containing)\s*(.*)$/` or a split at the first space with the value trimmed.)
 */
function parseHeaderLine(line: string): [string, string] {
  let from = line.charCodeAt(0) === PERCENT ? 1 : 0;
  if (from === 1 && line.length > 1 && isSpace(line.charCodeAt(1))) from = 2;
  const body = from === 0 ? line : line.slice(from);
  if (body.startsWith(DATA_FILE_CONTAINING)) return [DATA_FILE_CONTAINING, body.slice(DATA_FILE_CONTAINING.length).trimStart()];
  const sp = body.indexOf(' ');
  return sp < 0 ? [body, ''] : [body.slice(0, sp), body.slice(sp + 1).trim()];
}

const DATA_FILE_CONTAINING = 'Data file containing';

/** What `\s` matches (ECMAScript WhiteSpace and LineTerminator). */
function isSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** The header keys geometryFromHeader reads, as bytes. */
const GEOMETRY_KEYS = ['Width', 'width', 'Height', 'height', 'geometry'].map((k) => Uint8Array.from(k, (c) => c.charCodeAt(0)));

/**
 * Whether the header line in bytes [a, e) (line ending removed) has one of the keys geometryFromHeader
 * reads, by the rule of parseHeaderLine, without making strings: '%', one optional whitespace byte
 * (as `\s` sees the byte decoded: 0x09–0x0d, 0x20, 0xa0), then the key up to the first space.
 */
function isGeometryLine(b: Uint8Array, a: number, e: number): boolean {
  let k = a + 1;
  const c = b[k];
  if (k < e && (c === 0x20 || (c! >= 0x09 && c! <= 0x0d) || c === 0xa0)) k++;
  let sp = k;
  while (sp < e && b[sp] !== 0x20) sp++;
  for (const key of GEOMETRY_KEYS) {
    if (key.length !== sp - k) continue;
    let j = 0;
    while (j < key.length && b[k + j] === key[j]) j++;
    if (j === key.length) return true;
  }
  return false;
}

/**
 * The header at the start of a stream's first chunk when it lies there whole (the usual case): its end
 * (the first body byte), or -1 when the header may go on past the chunk (HeaderLineScanner reads it
 * then). Only the lines geometryFromHeader needs are made into strings now (given to `onLine` exactly
 * as HeaderLineScanner would give them, in order); the decoder keeps the header's bytes for the rest.
 */
function wholeHeader(chunk: Uint8Array, onLine: (line: string) => void): number {
  let i = 0;
  const n = chunk.length;
  while (i < n && chunk[i] === PERCENT) {
    const a = i;
    while (i < n && chunk[i] !== 0x0a) i++;
    if (i === n) return -1;
    const e = chunk[i - 1] === 0x0d ? i - 1 : i;
    if (isGeometryLine(chunk, a, e)) onLine(ascii(chunk.subarray(a, e)));
    i++;
  }
  return i === n ? -1 : i; // at the chunk's end, the next chunk may start with another header line
}

/** Header lines (bytes, each ending with LF) as a key → value record, as HeaderLineScanner and parseHeaderLine read them. */
function headerRecord(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  new HeaderLineScanner(PERCENT, (line) => {
    const [key, value] = parseHeaderLine(line);
    if (key) out[key] = value;
  }).scan(bytes);
  return out;
}

class DatDecoder implements StreamDecoder {
  readonly format = 'dat' as const;
  geometry: Geometry = UNKNOWN_GEOMETRY;
  /**
   * The header as key → value (plus `event_type` once read). A header that arrived whole in the first
   * chunk is kept as bytes and only made into strings when this is first read.
   */
  get header(): Record<string, string> {
    if (!this.fields) {
      this.fields = this.headerBytes ? headerRecord(Uint8Array.from(this.headerBytes)) : {};
      if (this.eventType >= 0) this.fields['event_type'] = String(this.eventType);
    }
    return this.fields;
  }
  private fields: Record<string, string> | undefined;
  private headerBytes: number[] | undefined;
  bytesIn = 0;
  failed = false;
  /** The event type byte once read (-1 before). */
  eventType = -1;

  private phase: 'header' | 'typeSize' | 'body' | 'done' = 'header';
  /**
   * Header lines start with '%'. Only '%' is tested (not '% '), which is safe here because the byte
   * after the header is the event type (0, 12 or 14), never 0x25.
   */
  private headerScanner: HeaderLineScanner | undefined;
  /** The event type and size bytes as read (-1 until read). */
  private typeByte = -1;
  private sizeByte = -1;
  private bodyStart = 0;
  /**
   * The first bytes of a record split across chunks (`partialLength` of them). It is completed from
   * the next chunk and decoded alone, so chunks are never joined (no copy of a whole chunk per push).
   */
  private partial: Uint8Array | undefined;
  private partialLength = 0;
  /** Body bytes (after the type/size pair) received so far. */
  private bodyBytes = 0;
  private readonly builder: PacketBuilder;
  /** Trigger records (EventExtTrigger files only: created with the first). */
  private sideData: SideCollector | undefined;
  private readonly bad = new FaultRuns(FORMAT, RECORD_BYTES);
  /** Multiple of 2^32 added to the raw timestamps (wraps so far). */
  private readonly wrap: DatWrapState = { base: 0, last: 0 };
  /** The WASM record loop, or null for the TypeScript loop (option `kernel`: 'auto' | 'wasm' | 'js'). */
  private readonly kernel: StagingKernel | null;

  constructor(options: DecoderOptions = {}) {
    const source: SourceInfo = { format: FORMAT, uri: options.uri };
    this.builder = new PacketBuilder(UNKNOWN_GEOMETRY, source, options.pool);
    this.kernel = chooseKernel('dat', options.kernel);
  }

  push(chunk: Uint8Array): DecodeResult {
    const start = this.bytesIn;
    this.bytesIn += chunk.length;
    if (this.failed || this.phase === 'done') return NO_RESULT;
    const errors: DecodeError[] = [];
    let k = 0;
    if (this.phase === 'header') k = this.readHeader(chunk, start);
    if (this.phase === 'typeSize') k = this.readTypeSize(chunk, k, errors);
    if (this.phase === 'body' && k < chunk.length) this.decodeBody(k === 0 ? chunk : chunk.subarray(k), errors);
    return this.result(errors);
  }

  end(): DecodeResult {
    if (this.phase === 'done') return NO_RESULT;
    const errors: DecodeError[] = [];
    if (!this.failed) {
      this.bad.flush(errors);
      if (this.phase === 'header' && this.bytesIn > 0) {
        errors.push(new DecodeError(FORMAT, this.bytesIn, 'stream ended inside the header'));
      } else if (this.phase === 'typeSize') {
        errors.push(new DecodeError(FORMAT, this.bytesIn, 'stream ended before the event type and size bytes'));
      } else if (this.partialLength > 0) {
        const at = this.bodyStart + this.bodyBytes - this.partialLength;
        errors.push(new DecodeError(FORMAT, at, `truncated record: ${this.partialLength} of ${RECORD_BYTES} bytes`));
      }
    }
    this.phase = 'done';
    return this.result(errors);
  }

  private result(errors: DecodeError[]): DecodeResult {
    return decodeResult(this.phase === 'done' ? this.builder.finish() : this.builder.take(), this.sideData ? this.sideData.take() : NO_SIDE, errors);
  }

  private readHeader(chunk: Uint8Array, chunkStart: number): number {
    if (chunkStart === 0) {
      const geometryLines: Record<string, string> = {};
      const body = wholeHeader(chunk, (line) => {
        const [key, value] = parseHeaderLine(line);
        geometryLines[key] = value;
      });
      if (body >= 0) {
        // A copy (the caller may reuse the chunk), in a plain array: a typed array of more than 64
        // bytes costs V8 an off-heap allocation of about a microsecond.
        const bytes = new Array<number>(body);
        for (let i = 0; i < body; i++) bytes[i] = chunk[i]!;
        this.headerBytes = bytes;
        this.finishHeader(body, geometryLines);
        return body;
      }
    }
    this.headerScanner ??= new HeaderLineScanner(PERCENT, (line) => {
      const [key, value] = parseHeaderLine(line);
      if (key) this.header[key] = value;
    });
    const body = this.headerScanner.scan(chunk);
    if (body < 0) return chunk.length;
    this.finishHeader(chunkStart + body, this.header);
    return body;
  }

  private finishHeader(offset: number, fields: Record<string, string>): void {
    this.geometry = geometryFromHeader(fields);
    this.builder.geometry = this.geometry;
    this.bodyStart = offset + 2;
    this.phase = 'typeSize';
  }

  private readTypeSize(chunk: Uint8Array, k: number, errors: DecodeError[]): number {
    if (this.typeByte < 0 && k < chunk.length) this.typeByte = chunk[k++]!;
    if (this.sizeByte < 0 && k < chunk.length) this.sizeByte = chunk[k++]!;
    if (this.sizeByte < 0) return k;
    const type = this.typeByte;
    const size = this.sizeByte;
    const at = this.bodyStart - 2;
    if (size !== RECORD_BYTES) {
      this.fail(errors, at + 1, `unsupported event size ${size} (expected ${RECORD_BYTES})`);
    } else if (type !== TYPE_EVENT2D && type !== TYPE_EVENT_CD && type !== TYPE_EXT_TRIGGER) {
      this.fail(errors, at, `unsupported event type ${type} (expected 0 Event2d, 12 EventCD or 14 EventExtTrigger)`);
    } else {
      this.eventType = type;
      if (this.fields) this.fields['event_type'] = String(type);
      this.phase = 'body';
    }
    return k;
  }

  private fail(errors: DecodeError[], offset: number, detail: string): void {
    errors.push(new DecodeError(FORMAT, offset, detail, true));
    this.failed = true;
  }

  /** Body bytes: whole records are decoded, a record cut by the chunk's end waits in `partial`. */
  private decodeBody(data: Uint8Array, errors: DecodeError[]): void {
    const start = this.bodyStart + this.bodyBytes; // absolute offset of data[0]
    this.bodyBytes += data.length;
    let from = 0;
    if (this.partialLength > 0) {
      const had = this.partialLength;
      from = Math.min(RECORD_BYTES - had, data.length);
      const partial = this.partial!;
      partial.set(data.subarray(0, from), had);
      this.partialLength += from;
      if (this.partialLength < RECORD_BYTES) return;
      this.partialLength = 0;
      this.decodeRecords(partial, start - had, errors);
    }
    const rest = data.length - from;
    const whole = rest - (rest % RECORD_BYTES);
    if (whole > 0) this.decodeRecords(data.subarray(from, from + whole), start + from, errors);
    if (whole < rest) {
      (this.partial ??= new Uint8Array(RECORD_BYTES)).set(data.subarray(from + whole));
      this.partialLength = rest - whole;
    }
    this.bad.settle(start + from + whole, errors);
  }

  /** Whole 8-byte records (any alignment) starting at absolute offset `at`. */
  private decodeRecords(bytes: Uint8Array, at: number, errors: DecodeError[]): void {
    const n = bytes.length >>> 3;
    if (n === 0) return;
    if (this.eventType === TYPE_EXT_TRIGGER) {
      this.decodeTriggers(u32View(bytes), n);
      return;
    }
    if (this.kernel) {
      // The kernel copies the records into its own memory, so they need no aligned view here.
      decodeDatRecordsWasm(this.kernel, bytes, this.builder, this.wrap, (r) =>
        this.bad.note(at + r * RECORD_BYTES, 'polarity field above 1 (not an event a writer can produce)', errors),
      );
      return;
    }
    const words = u32View(bytes);
    const b = this.builder;
    const capacity = b.capacity;
    let base = this.wrap.base;
    let last = this.wrap.last;
    let bad: number[] | undefined;
    let i = 0;
    while (i < n) {
      const blockEnd = Math.min(n, i + capacity);
      b.reserve(blockEnd - i);
      const X = b.x;
      const Y = b.y;
      const T = b.t;
      const P = b.p;
      let o = b.n;
      // Word index j walks [ts, data] pairs; the rare bad record is only remembered here.
      for (let j = 2 * i, je = 2 * blockEnd; j < je; j += 2) {
        const d = words[j + 1]!;
        if (d > 0x1fffffff) {
          (bad ??= []).push(j >>> 1);
          continue;
        }
        const ts = words[j]!;
        base = unwrapBase(base, last, ts);
        last = ts;
        X[o] = d & 0x3fff;
        Y[o] = (d >>> 14) & 0x3fff;
        T[o] = base + ts;
        P[o] = d >>> 28;
        o++;
      }
      b.n = o;
      i = blockEnd;
    }
    this.wrap.base = base;
    this.wrap.last = last;
    if (bad) for (const r of bad) this.bad.note(at + r * RECORD_BYTES, 'polarity field above 1 (not an event a writer can produce)', errors);
  }

  private decodeTriggers(words: Uint32Array, n: number): void {
    const side = (this.sideData ??= new SideCollector());
    let base = this.wrap.base;
    let last = this.wrap.last;
    for (let i = 0; i < n; i++) {
      const ts = words[2 * i]!;
      const d = words[2 * i + 1]!;
      base = unwrapBase(base, last, ts);
      last = ts;
      side.trigger(base + ts, d >>> 26, d & 0xf ? 1 : 0);
    }
    this.wrap.base = base;
    this.wrap.last = last;
  }
}

/** 1 for a header naming a data file; 0.5 for a bare '%' header followed by a valid type/size pair. */
function sniffDat(head: Uint8Array): number {
  if (head.length < 2 || head[0] !== PERCENT) return 0;
  let named = false;
  let rawHeader = false;
  const o = headerEnd(head, PERCENT, (line) => {
    const [key] = parseHeaderLine(line);
    if (key === 'evt' || key === 'format') rawHeader = true; // a RAW (EVT) header, not DAT
    if (key === 'Data file containing') named = true;
  });
  if (o < 0 || rawHeader) return 0;
  if (o + 2 > head.length) return named ? 1 : 0;
  const type = head[o]!;
  const size = head[o + 1]!;
  const validTypeSize = size === RECORD_BYTES && (type === TYPE_EVENT2D || type === TYPE_EVENT_CD || type === TYPE_EXT_TRIGGER);
  if (!validTypeSize) return 0;
  return named ? 1 : 0.5;
}

export const datFormat: FormatDescriptor = {
  name: 'dat',
  description: 'Prophesee DAT: % header, type/size bytes, 8-byte little-endian CD or trigger records',
  extensions: ['.dat'],
  sniff: sniffDat,
  createDecoder: (options?: DecoderOptions) => new DatDecoder(options),
};
