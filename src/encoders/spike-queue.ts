/**
 * Collects the spikes one encoder step produces for several channels and writes them in time order
 * (ties: lower address first), so packets stay time-sorted when channels interleave within a sample
 * interval. Reused between steps: no allocation once warm.
 */

import type { SpikeOut } from './types.js';

export class SpikeQueue {
  private t: number[] = [];
  private x: number[] = [];
  private p: number[] = [];
  private order: number[] = [];

  get length(): number {
    return this.t.length;
  }

  add(t: number, x: number, p: number): void {
    this.t.push(t);
    this.x.push(x);
    this.p.push(p);
  }

  /** Writes every queued spike with time ≤ `until` in order and keeps the rest; returns the count written. */
  drain(out: SpikeOut, until = Infinity): number {
    const n = this.t.length;
    if (n === 0) return 0;
    const o = this.order;
    o.length = 0;
    for (let i = 0; i < n; i++) o.push(i);
    const t = this.t;
    const x = this.x;
    o.sort((a, b) => t[a]! - t[b]! || x[a]! - x[b]!);
    let k = 0;
    while (k < n && t[o[k]!]! <= until) {
      const i = o[k++]!;
      out.push(x[i]!, 0, t[i]!, this.p[i]!);
    }
    if (k === n) this.clear();
    else {
      const rest = o.slice(k);
      this.t = rest.map((i) => t[i]!);
      this.x = rest.map((i) => x[i]!);
      this.p = rest.map((i) => this.p[i]!);
    }
    return k;
  }

  clear(): void {
    this.t.length = 0;
    this.x.length = 0;
    this.p.length = 0;
  }
}
