/**
 * Text event lines from a serial line: `t,address[,polarity]` or `t,x,y,p`, one event per line.
 *
 * Columns: option `columns` ('t,address,p', 't,x,y,p', any order; '_' skips a field), or 'auto'
 * (default): 2 fields = t,address; 3 = t,address,p; 4 = t,x,y,p. Times are numbers in `timeUnit`
 * (default µs) plus `timeBase`; without a t column events get the arrival time. Addresses map to x/y
 * as in aer-layout.ts (`addressWidth`). Polarity: 1/0 or 1/-1; without one p = 1. Empty lines and '#'
 * comments are skipped; a malformed line is one bad frame (parse) at its byte offset.
 */

import { addressToXY } from './aer-layout.js';
import type { BadReport, EventOut } from './aer-words.js';
import { parseNumber, splitFields } from './lines.js';

export type TextTimeUnit = 'us' | 'ms' | 's';
const SCALE: Record<TextTimeUnit, number> = { us: 1, ms: 1e3, s: 1e6 };

export interface TextEventOptions {
  readonly columns?: 'auto' | string;
  readonly timeUnit?: TextTimeUnit;
  readonly timeBase?: number;
  readonly addressWidth?: number;
}

type Column = 't' | 'x' | 'y' | 'p' | 'address' | '_';
const NAMES: Record<string, Column> = { t: 't', ts: 't', time: 't', x: 'x', y: 'y', p: 'p', pol: 'p', polarity: 'p', a: 'address', addr: 'address', address: 'address', _: '_' };

function parseColumns(spec: string): Column[] {
  const cols = spec.split(',').map((s) => {
    const c = NAMES[s.trim().toLowerCase()];
    if (!c) throw new RangeError(`text events: unknown column '${s}' (use t, x, y, p, address, _)`);
    return c;
  });
  const has = (c: Column) => cols.includes(c);
  if (has('address') === (has('x') || has('y'))) throw new RangeError(`text events: columns '${spec}' need either address or x,y`);
  return cols;
}

const AUTO: Record<number, Column[]> = { 2: ['t', 'address'], 3: ['t', 'address', 'p'], 4: ['t', 'x', 'y', 'p'] };

export class TextEventParser {
  private readonly fixed: Column[] | undefined;
  private readonly scale: number;
  private readonly timeBase: number;

  constructor(private readonly o: TextEventOptions = {}) {
    this.fixed = o.columns === undefined || o.columns === 'auto' ? undefined : parseColumns(o.columns);
    this.scale = SCALE[o.timeUnit ?? 'us'];
    if (this.scale === undefined) throw new RangeError(`text events: timeUnit must be us, ms or s, got ${String(o.timeUnit)}`);
    this.timeBase = o.timeBase ?? 0;
  }

  /** One line; returns 1 when it gave an event. */
  line(line: string, offset: number, arrivalUs: number, out: EventOut, bad: BadReport): number {
    const f = splitFields(line);
    if (f.length === 0) return 0;
    const cols = this.fixed ?? AUTO[f.length];
    if (!cols || f.length !== cols.length) {
      bad('parse', offset, `text event line has ${f.length} fields (want ${cols ? cols.length : '2, 3 or 4'}): '${line.slice(0, 60)}'`);
      return 0;
    }
    let t = arrivalUs;
    let x = 0;
    let y = 0;
    let p = 1;
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k]!;
      if (c === '_') continue;
      const v = parseNumber(f[k]!);
      if (Number.isNaN(v)) {
        bad('parse', offset, `text event line: ${c} '${f[k]!.slice(0, 20)}' is not a number`);
        return 0;
      }
      if (c === 't') t = this.timeBase + v * this.scale;
      else if (c === 'p') {
        if (v !== 0 && v !== 1 && v !== -1) {
          bad('parse', offset, `text event line: polarity ${v} (want 1, 0 or -1)`);
          return 0;
        }
        p = v === 1 ? 1 : 0;
      } else {
        if (!Number.isInteger(v) || v < 0) {
          bad('parse', offset, `text event line: ${c} ${v} is not a non-negative integer`);
          return 0;
        }
        if (c === 'address') [x, y] = addressToXY(v, this.o.addressWidth);
        else if (c === 'x') x = v;
        else y = v;
      }
    }
    if (x > 0xffff || y > 0xffff) {
      bad('parse', offset, `text event line: x ${x} / y ${y} beyond 65535`);
      return 0;
    }
    out.push(x, y, t, p);
    return 1;
  }
}
