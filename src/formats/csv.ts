/**
 * CSV / text events: a reader for one-event-per-line text files and the CSV writer.
 *
 * Reading: each line holds the columns t, x, y, p in the order given by option `columns` (default
 * 't,x,y,p'), or by a header line naming them (first non-comment line; names t/ts/time/timestamp,
 * x, y, p/pol/polarity/on; other names are read past; a comment line made only of such names, as
 * numpy.savetxt writes, counts too). Separators: comma, semicolon or whitespace.
 * '#' starts a comment (whole line or trailing). Polarity: 1/0, 1/-1, true/false, on/off.
 * Time unit option `timeUnit`: 'us' (default), 'ms', 's' or 'ns'; scaling is done on the decimal text
 * (1.234567 s → "1.234567e6"), so a decimal time converts to the correctly rounded µs value.
 * Geometry: option `geometry`, else a `# geometry WxH` comment before the first event (the writer puts
 * one there), else 0x0. A malformed line gives a DecodeError naming its line number and byte offset;
 * the line is skipped and reading goes on.
 *
 * Writing: a comment header, the optional geometry comment, the line `t,x,y,p`, then one line per
 * event. Numbers are written with JavaScript's shortest round-trip form: integers up to 2^53 print as
 * plain digits (no exponent) and fractional µs (e.g. 0.2 µs cochlea ticks) read back bit-exact.
 */

import type { EventPacket, Geometry, SourceInfo } from '../events/packet.js';
import { UNKNOWN_GEOMETRY } from '../events/packet.js';
import { PacketBuilder } from '../events/builder.js';
import { sideCount, type SideBatch } from '../events/side.js';
import { ascii } from './bytes.js';
import { decodeResult } from './decode-result.js';
import {
  DecodeError,
  NO_RESULT,
  type DecodeResult,
  type DecoderOptions,
  type EncoderOptions,
  type FormatDescriptor,
  type StreamDecoder,
  type StreamEncoder,
} from './types.js';

const FORMAT = 'csv';
const WRITER_SIGNATURE = '# spikeflow events';
const NEWLINE = 0x0a;

export type TimeUnit = 'us' | 'ms' | 's' | 'ns';

export interface CsvDecoderOptions extends DecoderOptions {
  /** Column order when the file has no header line, e.g. 'x,y,t,p'; '_' skips a column. */
  readonly columns?: string;
  readonly timeUnit?: TimeUnit;
  readonly geometry?: Geometry;
}

const TIME_SHIFT: Record<TimeUnit, number> = { us: 0, ms: 3, s: 6, ns: -3 };

const COLUMN_NAMES: Record<string, 't' | 'x' | 'y' | 'p'> = {
  t: 't',
  ts: 't',
  time: 't',
  timestamp: 't',
  t_us: 't',
  time_us: 't',
  timestamp_us: 't',
  x: 'x',
  y: 'y',
  p: 'p',
  pol: 'p',
  polarity: 'p',
  on: 'p',
};

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SEPARATORS = /[\s,;]+/;

interface ColumnMap {
  t: number;
  x: number;
  y: number;
  p: number;
  /** Columns a line must have. */
  count: number;
}

/** Map column names (in order) to positions; throws with a message when t, x, y or p is missing. */
function columnMap(names: readonly string[], strict: boolean): ColumnMap {
  const at: Partial<Record<'t' | 'x' | 'y' | 'p', number>> = {};
  names.forEach((raw, i) => {
    const key = COLUMN_NAMES[raw.trim().toLowerCase()];
    if (key && at[key] === undefined) at[key] = i;
    else if (strict && raw !== '_') throw new Error(`unknown column '${raw}' (use t, x, y, p or _)`);
  });
  const missing = (['t', 'x', 'y', 'p'] as const).filter((k) => at[k] === undefined);
  if (missing.length) throw new Error(`no column for ${missing.join(', ')} in '${names.join(',')}'`);
  return { t: at.t!, x: at.x!, y: at.y!, p: at.p!, count: names.length };
}

/** Decimal text scaled by 10^shift, correctly rounded (the shift is applied to the exponent). */
function scaledDecimal(text: string, shift: number): number {
  if (shift === 0) return Number(text);
  const e = text.search(/[eE]/);
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exponent = (e < 0 ? 0 : Number(text.slice(e + 1))) + shift;
  return Number(`${mantissa}e${exponent}`);
}

function parsePolarity(token: string): number {
  switch (token.toLowerCase()) {
    case '1':
    case '+1':
    case 'true':
    case 'on':
      return 1;
    case '0':
    case '-1':
    case 'false':
    case 'off':
      return 0;
    default:
      return -1;
  }
}

class CsvDecoder implements StreamDecoder {
  readonly format = 'csv' as const;
  geometry: Geometry;
  readonly header: Record<string, string> = {};
  bytesIn = 0;
  readonly failed = false;

  private columns: ColumnMap;
  private readonly timeShift: number;
  private readonly builder: PacketBuilder;
  private readonly geometryFixed: boolean;
  /** Text of the incomplete last line (latin1: one char per byte, so char offsets are byte offsets). */
  private pending = '';
  private pendingOffset = 0;
  private lineNo = 0;
  private seenData = false;
  private ended = false;

  constructor(options: CsvDecoderOptions = {}) {
    this.columns = columnMap((options.columns ?? 't,x,y,p').split(','), true);
    const unit = options.timeUnit ?? 'us';
    if (!(unit in TIME_SHIFT)) throw new RangeError(`csv: timeUnit must be one of us, ms, s, ns; got '${unit}'`);
    this.timeShift = TIME_SHIFT[unit];
    this.geometry = options.geometry ?? UNKNOWN_GEOMETRY;
    this.geometryFixed = options.geometry !== undefined;
    const source: SourceInfo = { format: FORMAT, uri: options.uri };
    this.builder = new PacketBuilder(this.geometry, source, options.pool);
  }

  push(chunk: Uint8Array): DecodeResult {
    this.bytesIn += chunk.length;
    if (this.ended || chunk.length === 0) return NO_RESULT;
    const lastNl = chunk.lastIndexOf(NEWLINE);
    if (lastNl < 0) {
      this.pending += ascii(chunk);
      return NO_RESULT;
    }
    const text = this.pending + ascii(chunk.subarray(0, lastNl + 1));
    const textOffset = this.pendingOffset;
    this.pending = ascii(chunk.subarray(lastNl + 1));
    this.pendingOffset = this.bytesIn - this.pending.length;
    const errors: DecodeError[] = [];
    this.parseLines(text, textOffset, errors);
    return this.result(errors);
  }

  end(): DecodeResult {
    if (this.ended) return NO_RESULT;
    this.ended = true;
    const errors: DecodeError[] = [];
    // A last line without a newline is still a line; a cut-off one fails its own checks.
    if (this.pending.length > 0) this.parseLine(this.pending, this.pendingOffset, errors);
    this.pending = '';
    return this.result(errors);
  }

  private result(errors: DecodeError[]): DecodeResult {
    return decodeResult((this.ended ? this.builder.finish() : this.builder.take()), [], errors);
  }

  private parseLines(text: string, offset: number, errors: DecodeError[]): void {
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      const end = nl < 0 ? text.length : nl;
      this.parseLine(text.slice(start, end), offset + start, errors);
      start = end + 1;
    }
  }

  private parseLine(raw: string, offset: number, errors: DecodeError[]): void {
    this.lineNo++;
    const hash = raw.indexOf('#');
    if (hash >= 0) {
      if (!this.seenData && raw.slice(0, hash).trim() === '') this.readComment(raw.slice(hash + 1), offset, errors);
      raw = raw.slice(0, hash);
    }
    const line = raw.trim();
    if (line === '') return;
    const tokens = line.split(SEPARATORS);
    if (!this.seenData && !NUMBER.test(tokens[0]!) && tokens.some((tok) => COLUMN_NAMES[tok.toLowerCase()] !== undefined)) {
      this.seenData = true; // only the first non-comment line may name columns
      this.readHeaderLine(tokens, offset, errors);
      return;
    }
    this.seenData = true;
    const why = this.parseEvent(tokens);
    if (why) errors.push(new DecodeError(FORMAT, offset, `line ${this.lineNo}: ${why}: '${line.length > 80 ? line.slice(0, 80) + '…' : line}'`));
  }

  private readComment(text: string, offset: number, errors: DecodeError[]): void {
    // A commented column line (numpy.savetxt writes its header as '# t,x,y,p') names the columns too.
    const tokens = text.trim().split(SEPARATORS);
    if (tokens.length >= 4 && tokens.every((tok) => COLUMN_NAMES[tok.toLowerCase()] !== undefined)) {
      this.readHeaderLine(tokens, offset, errors);
      return;
    }
    const m = /^\s*([A-Za-z][\w-]*)\s*[:=]?\s*(.*?)\s*$/.exec(text);
    if (!m) return;
    const key = m[1]!.toLowerCase();
    this.header[key] = m[2]!;
    if (key === 'geometry' && !this.geometryFixed) {
      const g = /^(\d+)\s*x\s*(\d+)$/.exec(m[2]!);
      if (g) {
        this.geometry = { width: Number(g[1]), height: Number(g[2]) };
        this.builder.geometry = this.geometry;
      }
    }
  }

  private readHeaderLine(tokens: string[], offset: number, errors: DecodeError[]): void {
    try {
      this.columns = columnMap(tokens, false);
      this.header['columns'] = tokens.join(',');
    } catch (e) {
      errors.push(new DecodeError(FORMAT, offset, `line ${this.lineNo}: header line ignored, ${(e as Error).message}`));
    }
  }

  /** Append the event of one data line; returns why it is malformed, or '' when it was appended. */
  private parseEvent(tokens: string[]): string {
    const c = this.columns;
    if (tokens.length !== c.count) return `expected ${c.count} columns, found ${tokens.length}`;
    const tText = tokens[c.t]!;
    if (!NUMBER.test(tText)) return `time '${tText}' is not a number`;
    const t = scaledDecimal(tText, this.timeShift);
    if (!Number.isFinite(t)) return `time '${tText}' is out of range`;
    const x = Number(tokens[c.x]);
    const y = Number(tokens[c.y]);
    if (!Number.isInteger(x) || x < 0 || x > 65535 || !NUMBER.test(tokens[c.x]!)) return `x '${tokens[c.x]}' is not an integer in 0..65535`;
    if (!Number.isInteger(y) || y < 0 || y > 65535 || !NUMBER.test(tokens[c.y]!)) return `y '${tokens[c.y]}' is not an integer in 0..65535`;
    const p = parsePolarity(tokens[c.p]!);
    if (p < 0) return `polarity '${tokens[c.p]}' is not one of 1/0, 1/-1, true/false, on/off`;
    this.builder.push(x, y, t, p);
    return '';
  }
}

class CsvEncoder implements StreamEncoder {
  readonly format = 'csv' as const;
  droppedSide = 0;
  private started = false;
  private readonly text = new TextEncoder();

  constructor(private readonly geometry?: Geometry) {}

  private headerText(geometry: Geometry | undefined): string {
    this.started = true;
    let s = `${WRITER_SIGNATURE}: t in microseconds, x, y, p (1 = ON, 0 = OFF)\n`;
    if (geometry && geometry.width > 0 && geometry.height > 0) s += `# geometry ${geometry.width}x${geometry.height}\n`;
    return s + 't,x,y,p\n';
  }

  encode(packet: EventPacket): Uint8Array {
    let s = this.started ? '' : this.headerText(this.geometry ?? packet.geometry);
    const { x, y, t, p } = packet;
    const lines: string[] = new Array(packet.length);
    for (let i = 0; i < packet.length; i++) lines[i] = `${t[i]},${x[i]},${y[i]},${p[i] ? 1 : 0}\n`;
    s += lines.join('');
    return this.text.encode(s);
  }

  encodeSide(batch: SideBatch): Uint8Array {
    this.droppedSide += sideCount(batch);
    return new Uint8Array(0);
  }

  end(): Uint8Array {
    return this.started ? new Uint8Array(0) : this.text.encode(this.headerText(this.geometry));
  }
}

/** 1 for the writer's own signature; otherwise ≤ 0.45 when the first lines look like event rows. */
function sniffCsv(head: Uint8Array): number {
  const text = ascii(head.subarray(0, 8192));
  if (text.startsWith(WRITER_SIGNATURE)) return 1;
  if (/[\x00-\x08\x0e-\x1f\x7f]/.test(text)) return 0;
  const lines = text.split('\n').slice(0, -1).map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
  if (lines.length === 0) return 0;
  let named = false;
  let rows = lines;
  const first = lines[0]!.split(SEPARATORS);
  if (!NUMBER.test(first[0]!)) {
    if (!first.some((tok) => COLUMN_NAMES[tok.toLowerCase()] !== undefined)) return 0;
    named = true;
    rows = lines.slice(1);
  }
  const sample = rows.slice(0, 20);
  if (sample.length === 0) return named ? 0.3 : 0;
  const width = sample[0]!.split(SEPARATORS).length;
  if (width < 3 || width > 8) return 0;
  for (const row of sample) {
    const tokens = row.split(SEPARATORS);
    if (tokens.length !== width) return 0;
    if (!tokens.every((tok) => NUMBER.test(tok) || parsePolarity(tok) >= 0)) return 0;
  }
  return named ? 0.45 : 0.35;
}

export const csvFormat: FormatDescriptor = {
  name: 'csv',
  description: 'Text events, one per line (t,x,y,p by default; header line or `columns` option for other orders)',
  extensions: ['.csv', '.txt'],
  sniff: sniffCsv,
  createDecoder: (options?: DecoderOptions) => new CsvDecoder(options as CsvDecoderOptions),
  createEncoder: (options?: EncoderOptions) => new CsvEncoder(options?.geometry),
};
