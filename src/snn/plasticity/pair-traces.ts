/**
 * Pair traces for trace-based plasticity on a synapse table, kept per neuron rather than per
 * synapse, at no loss of exactness:
 *
 *   x_i(t) = x_i(t−1)·decay_pre + a_pre·[i spiked at t]       (presynaptic, one ring slot per step)
 *   z_j(t) = z_j(t−1)·decay_post + a_post·[j spiked at t]     (postsynaptic)
 *
 * Brian2's per-synapse trace of a synapse with delay d, incremented when the spike arrives, obeys
 * the same recurrence shifted by d steps, so it equals x_i(t − d) bit for bit; its per-synapse post
 * trace equals z_j. A ring of D steps of x therefore replaces one trace per synapse, and the cost
 * per step is O(neurons), not O(synapses).
 */
import type { StateArena } from '../arena.js';
import type { SpikeHistory } from '../spike-history.js';

export interface TraceParams {
  readonly decay_pre: number;
  readonly decay_post: number;
  readonly a_pre: number;
  readonly a_post: number;
}

export class PairTraces {
  /** slots × preSize; slot t mod slots holds x(t). */
  readonly x: Float64Array;
  readonly z: Float64Array;
  readonly slots: number;

  constructor(
    arena: StateArena,
    name: string,
    readonly preSize: number,
    postSize: number,
    delaySlots: number,
    readonly p: TraceParams,
  ) {
    this.slots = delaySlots;
    this.x = arena.f64(`${name}.xPre`, delaySlots * preSize);
    this.z = arena.f64(`${name}.zPost`, postSize);
  }

  /** Offset of x(t) in `x`. */
  xOffset(t: number): number {
    return (((t % this.slots) + this.slots) % this.slots) * this.preSize;
  }

  /** groups slot: x(t) ← x(t−1)·decay_pre, z ← z·decay_post. */
  decay(t: number): void {
    const { x, z, preSize } = this;
    const dst = this.xOffset(t);
    const src = this.xOffset(t - 1);
    const dp = this.p.decay_pre;
    for (let i = 0; i < preSize; i++) x[dst + i] = x[src + i]! * dp;
    const dq = this.p.decay_post;
    for (let j = 0; j < z.length; j++) z[j] = z[j]! * dq;
  }

  /** x(t) += a_pre for the presynaptic spikes of step t. */
  addPre(t: number, pre: SpikeHistory): void {
    const o = this.xOffset(t);
    const list = pre.lists;
    const at = pre.offset(t);
    const n = pre.count(t);
    const a = this.p.a_pre;
    for (let k = 0; k < n; k++) {
      const i = list[at + k]!;
      this.x[o + i] = this.x[o + i]! + a;
    }
  }

  /** z += a_post for one postsynaptic spike. */
  addPost(j: number): void {
    this.z[j] = this.z[j]! + this.p.a_post;
  }
}
