/**
 * SpikeHistory: the spike lists of one population for its last `slots` steps, in a ring.
 * Delivery with delays reads the list of step t − d instead of queueing one entry per synapse,
 * so a spike costs one write however many synapses and delays it fans out to.
 * Lists are ascending neuron indices (Brian2 delivers in that order too).
 */
import type { StateArena } from './arena.js';

export class SpikeHistory {
  /** slots × size neuron indices; slot k holds the spikes of the steps t with t mod slots = k. */
  readonly lists: Int32Array;
  readonly counts: Int32Array;

  constructor(
    arena: StateArena,
    name: string,
    readonly size: number,
    readonly slots: number,
  ) {
    this.lists = arena.i32(`${name}.spikes`, size * slots);
    this.counts = arena.i32(`${name}.spikeCounts`, slots);
  }

  /** Offset into `lists` of step t's list (t may be negative: those steps had no spikes). */
  offset(t: number): number {
    return slotOf(t, this.slots) * this.size;
  }

  count(t: number): number {
    return t < 0 ? 0 : this.counts[slotOf(t, this.slots)]!;
  }

  /** Step t's spikes as a view (valid until step t + slots overwrites it). */
  spikes(t: number): Int32Array {
    const o = this.offset(t);
    return this.lists.subarray(o, o + this.count(t));
  }

  /** Starts step t's list: clears the slot and returns its offset for the caller to fill. */
  begin(t: number): number {
    this.counts[slotOf(t, this.slots)] = 0;
    return this.offset(t);
  }

  setCount(t: number, n: number): void {
    this.counts[slotOf(t, this.slots)] = n;
  }
}

function slotOf(t: number, slots: number): number {
  return ((t % slots) + slots) % slots;
}
