/**
 * FaultRuns: groups consecutive bad fixed-size records into one DecodeError at the run's first
 * record, for decoders that skip records they cannot believe (DAT, AEDAT 2.0, AEDAT 3.1 polarity
 * events, N-MNIST, cochlea).
 *
 * A run is records at adjacent offsets (`recordSize` apart) with the same reason. Because a run may
 * go on in the next chunk, a decoder calls `settle(frontier)` after each chunk (the run is reported
 * only once a good record or another fault has ended it) and `flush` at end of stream (or before
 * reporting any other error, to keep errors in offset order). So the errors are the same whatever
 * the chunking.
 */

import { DecodeError } from './types.js';

/** The error text for a run of `count` records skipped for `why`. */
export type RunDescription = (count: number, why: string) => string;

const recordsSkipped: RunDescription = (count, why) => `${count} record(s) skipped: ${why}`;

export class FaultRuns {
  private start = 0;
  private count = 0;
  private next = -1;
  private why = '';

  constructor(
    private readonly format: string,
    private readonly recordSize: number,
    private readonly describe: RunDescription = recordsSkipped,
  ) {}

  /** A bad record at absolute byte `offset`: extends the open run or starts a new one. */
  note(offset: number, why: string, out: DecodeError[]): void {
    if (this.count > 0 && offset === this.next && why === this.why) {
      this.count++;
      this.next += this.recordSize;
      return;
    }
    this.flush(out);
    this.start = offset;
    this.count = 1;
    this.next = offset + this.recordSize;
    this.why = why;
  }

  /** Report the pending run unless it may still continue at `frontier` (the next byte to decode). */
  settle(frontier: number, out: DecodeError[]): void {
    if (this.count > 0 && this.next !== frontier) this.flush(out);
  }

  /** Report the pending run, if any. */
  flush(out: DecodeError[]): void {
    if (this.count === 0) return;
    out.push(new DecodeError(this.format, this.start, this.describe(this.count, this.why)));
    this.count = 0;
  }
}
