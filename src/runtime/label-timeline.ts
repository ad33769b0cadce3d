/**
 * Ground truth over event time: the class in force at a time, from labels that each start a
 * segment. Labels travel ahead of their segment's events, and a step or a decision is only known
 * once a later event closes it — by then the next label may already be in force, so "the latest
 * label" would judge the last step of every segment against the next one. Looking up the label in
 * force at the item's own time does not. Bounded: the oldest labels are forgotten.
 */
export interface TruthLabel {
  readonly classIndex: number;
  /** Event time (µs) from which this class holds. */
  readonly tStartUs: number;
}

export class LabelTimeline {
  private readonly starts: number[] = [];
  private readonly classes: number[] = [];

  constructor(private readonly keep = 256) {}

  push(label: TruthLabel): void {
    this.starts.push(label.tStartUs);
    this.classes.push(label.classIndex);
    if (this.starts.length > this.keep) {
      this.starts.shift();
      this.classes.shift();
    }
  }

  /** The label in force at `tUs` (the latest starting at or before it), or undefined. */
  at(tUs: number): TruthLabel | undefined {
    for (let i = this.starts.length - 1; i >= 0; i--) if (this.starts[i]! <= tUs) return { classIndex: this.classes[i]!, tStartUs: this.starts[i]! };
    return undefined;
  }
}
