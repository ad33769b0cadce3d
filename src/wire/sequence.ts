/**
 * Loss accounting from sequence numbers: each stream numbers its messages +1 each; a consumer
 * counts a forward jump as lost messages and a step back (a sender restart, or reordering) as a
 * restart, never as a negative loss.
 */
export class SequenceTracker {
  private last: number | undefined;
  received = 0;
  lost = 0;
  restarts = 0;

  /** Records one sequence number; returns how many messages were lost just before it. */
  observe(sequence: number): number {
    this.received++;
    const prev = this.last;
    this.last = sequence;
    if (prev === undefined) return 0;
    if (sequence > prev + 1) {
      const gap = sequence - prev - 1;
      this.lost += gap;
      return gap;
    }
    if (sequence <= prev) this.restarts++;
    return 0;
  }
}
