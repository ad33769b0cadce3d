/**
 * Analog sample lines from a serial line — `t,v0,v1,…` (or `v0,v1,…` with `time: 'arrival'`) —
 * turned into spikes by an analog encoder (src/encoders). A line with the wrong number of values, a
 * non-numeric field or a time before the previous one is one bad frame (parse); the encoder state
 * is untouched by it. Empty lines and '#' comments are skipped.
 */

import { createEncoder, type EncoderSpec } from '../../encoders/create.js';
import type { AnalogEncoder } from '../../encoders/types.js';
import type { BadReport, EventOut } from './aer-words.js';
import { parseNumber, splitFields } from './lines.js';
import type { TextTimeUnit } from './text-events.js';

const SCALE: Record<TextTimeUnit, number> = { us: 1, ms: 1e3, s: 1e6 };

export interface AnalogLineOptions {
  readonly encoder: EncoderSpec | AnalogEncoder;
  /** 'column' (default): the first field is the sample time; 'arrival': every field is a value, stamped on arrival. */
  readonly time?: 'column' | 'arrival';
  readonly timeUnit?: TextTimeUnit;
  readonly timeBase?: number;
}

export class AnalogLineParser {
  readonly encoder: AnalogEncoder;
  private readonly timeColumn: boolean;
  private readonly scale: number;
  private readonly timeBase: number;
  private readonly values: Float64Array;
  private lastT = -Infinity;

  constructor(o: AnalogLineOptions) {
    this.encoder = 'encode' in o.encoder ? o.encoder : createEncoder(o.encoder);
    this.timeColumn = (o.time ?? 'column') === 'column';
    const s = SCALE[o.timeUnit ?? 'us'];
    if (s === undefined) throw new RangeError(`analog lines: timeUnit must be us, ms or s, got ${String(o.timeUnit)}`);
    this.scale = s;
    this.timeBase = o.timeBase ?? 0;
    this.values = new Float64Array(this.encoder.channels);
  }

  line(line: string, offset: number, arrivalUs: number, out: EventOut, bad: BadReport): number {
    const f = splitFields(line);
    if (f.length === 0) return 0;
    const first = this.timeColumn ? 1 : 0;
    const n = this.encoder.channels;
    if (f.length !== n + first) {
      bad('parse', offset, `analog line has ${f.length} fields (want ${this.timeColumn ? 'a time and ' : ''}${n} values): '${line.slice(0, 60)}'`);
      return 0;
    }
    let t = arrivalUs;
    if (this.timeColumn) {
      const v = parseNumber(f[0]!);
      if (Number.isNaN(v)) {
        bad('parse', offset, `analog line: time '${f[0]!.slice(0, 20)}' is not a number`);
        return 0;
      }
      t = this.timeBase + v * this.scale;
    }
    if (t < this.lastT) {
      bad('parse', offset, `analog line: time ${t} µs is before the previous sample (${this.lastT} µs)`);
      return 0;
    }
    for (let c = 0; c < n; c++) {
      const v = parseNumber(f[c + first]!);
      if (Number.isNaN(v)) {
        bad('parse', offset, `analog line: value ${c} '${f[c + first]!.slice(0, 20)}' is not a number`);
        return 0;
      }
      this.values[c] = v;
    }
    this.lastT = t;
    return this.encoder.encode(t, this.values, out);
  }

  flush(out: EventOut): number {
    return this.encoder.flush(out);
  }
}
