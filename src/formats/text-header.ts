/**
 * Text headers made of lines that start with one marker byte: '#' for AEDAT 2.0 / 3.x and cochlea
 * files, '%' for Prophesee DAT. The header ends at the first line start whose byte is not the marker
 * (that byte is the first body byte), or after a line the caller says ends it (AEDAT 3.1's
 * `#!END-HEADER`).
 *
 * HeaderLineScanner reads such a header incrementally: chunks may split it anywhere, even inside a
 * line or a CRLF. Each complete line goes to the line handler as latin1 text, marker included, LF
 * and one trailing CR removed; a line longer than `maxLineBytes` is cut to its first bytes (binary
 * junk after a marker byte then costs bounded memory).
 *
 * (Prophesee RAW headers are not of this kind: their lines start with the two bytes '% ' and end at
 * `% end`; see prophesee/raw-header.ts.)
 */

import { ascii } from './bytes.js';

const LF = 0x0a;

/** Gets one header line; returns true when that line ends the header. */
export type HeaderLineHandler = (line: string) => boolean | void;

export class HeaderLineScanner {
  /** Complete header lines read so far (counted before the handler sees each line). */
  lines = 0;
  private atLineStart = true;
  /** The line being read (latin1: one char per byte), cut at maxLineBytes. */
  private line = '';

  constructor(
    readonly marker: number,
    private readonly onLine: HeaderLineHandler,
    readonly maxLineBytes = Infinity,
  ) {}

  /** True when the bytes scanned so far end inside a header line. */
  get insideLine(): boolean {
    return !this.atLineStart;
  }

  /**
   * Scans `chunk` from index `from`. Returns the index of the first body byte in `chunk`, or -1 when
   * everything up to the chunk's end belongs to the header.
   */
  scan(chunk: Uint8Array, from = 0): number {
    let i = from;
    while (i < chunk.length) {
      if (this.atLineStart) {
        if (chunk[i] !== this.marker) return i;
        this.atLineStart = false;
      }
      const lf = chunk.indexOf(LF, i);
      const stop = lf < 0 ? chunk.length : lf;
      const room = this.maxLineBytes - this.line.length;
      if (room > 0) this.line += ascii(chunk.subarray(i, stop - i > room ? i + room : stop));
      if (lf < 0) return -1;
      i = lf + 1;
      this.atLineStart = true;
      const text = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      this.lines++;
      if (this.onLine(text) === true) return i;
    }
    return -1;
  }
}

/**
 * For sniffers, which see the head of a file at once: the offset where the body starts after the
 * marker lines at the start of `head` (0 without such lines; head.length when `head` ends right after
 * a complete line), or -1 when `head` ends inside a header line. Lines go to `onLine` if given.
 */
export function headerEnd(head: Uint8Array, marker: number, onLine: HeaderLineHandler = () => {}): number {
  const scanner = new HeaderLineScanner(marker, onLine);
  const body = scanner.scan(head);
  if (body >= 0) return body;
  return scanner.insideLine ? -1 : head.length;
}
