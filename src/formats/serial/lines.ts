/**
 * Incremental line splitter for text on a serial line: '\n' ends a line, a trailing '\r' is dropped,
 * lines arrive with the absolute offset of their first byte. A line longer than `maxLineBytes`
 * (binary noise without newlines) is reported once (framing) and dropped up to the next '\n'.
 */

import type { BadReport } from './aer-words.js';

const NL = 0x0a;
const CR = 0x0d;
const latin1 = new TextDecoder('latin1');

export class LineSplitter {
  private buf: Uint8Array;
  private len = 0;
  private start = 0;
  private pos = 0;
  private overflow = false;

  constructor(readonly maxLineBytes = 1024) {
    if (!(maxLineBytes > 0)) throw new RangeError(`LineSplitter: maxLineBytes must be > 0, got ${maxLineBytes}`);
    this.buf = new Uint8Array(Math.min(maxLineBytes, 256));
  }

  push(chunk: Uint8Array, onLine: (line: string, offset: number) => void, bad: BadReport): void {
    let i = 0;
    while (i < chunk.length) {
      let j = chunk.indexOf(NL, i);
      const hit = j >= 0;
      if (!hit) j = chunk.length;
      const n = j - i;
      if (this.overflow) {
        // dropping an over-long line
      } else if (this.len + n > this.maxLineBytes) {
        this.overflow = true;
        bad('framing', this.start, `line longer than ${this.maxLineBytes} bytes without a newline; dropped`);
      } else if (this.len === 0 && hit) {
        this.emit(chunk.subarray(i, j), onLine); // common case: the whole line inside one chunk, no copy
      } else {
        if (this.len + n > this.buf.length) {
          const g = new Uint8Array(Math.min(this.maxLineBytes, Math.max(this.buf.length * 2, this.len + n)));
          g.set(this.buf.subarray(0, this.len));
          this.buf = g;
        }
        this.buf.set(chunk.subarray(i, j), this.len);
        this.len += n;
        if (hit) this.emit(this.buf.subarray(0, this.len), onLine);
      }
      this.pos += n;
      if (hit) {
        this.pos++;
        this.len = 0;
        this.overflow = false;
        this.start = this.pos;
      }
      i = j + (hit ? 1 : 0);
    }
  }

  private emit(bytes: Uint8Array, onLine: (line: string, offset: number) => void): void {
    const n = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    onLine(latin1.decode(bytes.subarray(0, n)), this.start);
  }

  /** End of stream: a last line without '\n' is still a line. */
  end(onLine: (line: string, offset: number) => void): void {
    if (this.len > 0 && !this.overflow) this.emit(this.buf.subarray(0, this.len), onLine);
    this.reset();
  }

  /** Forget a partial line (after a reconnect). */
  reset(): void {
    this.len = 0;
    this.overflow = false;
    this.start = this.pos;
  }
}

/** Fields of a text line: separated by commas, semicolons or whitespace; '#' starts a comment. */
export function splitFields(line: string): string[] {
  const hash = line.indexOf('#');
  const body = (hash >= 0 ? line.slice(0, hash) : line).trim();
  return body === '' ? [] : body.split(/\s*[,;]\s*|\s+/);
}

/** A finite decimal number, or NaN (Number('') is 0, which must not pass as a value). */
export function parseNumber(s: string): number {
  if (s === '') return NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}
