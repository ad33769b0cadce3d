/**
 * SynapseTable: the synapses of one projection in flat arrays, ordered for event-driven delivery.
 *
 * Synapses are grouped by (presynaptic neuron, delay): group g = pre·D + d holds, in ascending
 * synapse id, the synapses of `pre` with delay d, at positions [groupStart[g], groupStart[g+1]).
 * Every per-synapse array (post, weight, delay, pre, id, and any a learning rule registers) is in
 * this "table order", so delivery reads memory sequentially. `id` maps back to the order the user
 * gave. `postStart`/`postSyn` index the same synapses by postsynaptic neuron, for rules that act on
 * a postsynaptic spike; `postKey` holds, in that postsynaptic order, delay·preSize − pre of each
 * synapse, so a rule can find a synapse's presynaptic trace slot without reading the table at a
 * random place (see postKey).
 *
 * Compact copy (fast backends): when the weights can never change (`frozenWeights`: no rule or
 * controller acts on the projection), each is exactly a float32 and the target has at most 65,536
 * neurons, `compact` holds each synapse's target and weight in one 6-byte record (half the bytes,
 * and a group's records are contiguous). A float32 widens to the same float64, so delivery from it
 * adds exactly the same numbers.
 */
import type { StateArena, StateArray } from '../arena.js';

export interface SynapseList {
  readonly pre: Int32Array;
  readonly post: Int32Array;
  readonly weight: Float64Array;
  readonly delay: Int32Array;
}

/** Largest groupStart table (pre × delay slots) we accept before asking for a smaller delay range. */
const MAX_GROUPS = 1 << 27;

export class SynapseTable {
  readonly count: number;
  /** D: delays lie in [0, D). */
  readonly delaySlots: number;
  readonly groupStart: Int32Array;
  readonly post: Int32Array;
  readonly weight: Float64Array;
  readonly delay: Int32Array;
  readonly pre: Int32Array;
  readonly id: Int32Array;
  readonly postStart: Int32Array;
  readonly postSyn: Int32Array;
  /**
   * In postsynaptic order (postKey[q] for synapse postSyn[q]): delay·preSize − pre. The presynaptic
   * trace of step t − delay in a ring of delaySlots × preSize (slot (t mod D)·preSize) is at
   * (t mod D)·preSize − key, plus D·preSize when that is negative.
   */
  readonly postKey: Int32Array;
  /**
   * When the weights are frozen and all float32 and the target has ≤ 65,536 neurons: per synapse in
   * table order, 6 bytes at 6·s: post as u16, then weight as f32 (little-endian, exact); else undefined.
   */
  readonly compact: Uint8Array | undefined;
  /** The backend's queues of arriving synapses (derived, not state: see SnnBackend.arrivalQueueBytes), if it keeps them. */
  arrivals: Uint8Array | undefined;
  /** Per-synapse arrays owned by rules; `regroup` permutes them with the table's own. */
  private readonly extra: StateArray[] = [];

  constructor(
    arena: StateArena,
    readonly name: string,
    readonly preSize: number,
    readonly postSize: number,
    list: SynapseList,
    /** Reserve room for delays up to this (delay learning), even if none is that long yet. */
    maxDelay = 0,
    /** No rule or controller ever changes these weights: a compact copy may be kept (see compact). */
    frozenWeights = false,
  ) {
    const n = list.pre.length;
    this.count = n;
    let dmax = maxDelay;
    for (let s = 0; s < n; s++) if (list.delay[s]! > dmax) dmax = list.delay[s]!;
    this.delaySlots = dmax + 1;
    if (preSize * this.delaySlots > MAX_GROUPS) {
      throw new RangeError(`projection '${name}': ${preSize} presynaptic neurons × ${this.delaySlots} delay slots is too many groups; shorten the delays`);
    }
    this.groupStart = arena.i32(`${name}.groupStart`, preSize * this.delaySlots + 1);
    this.post = arena.i32(`${name}.post`, n);
    this.weight = arena.f64(`${name}.weight`, n);
    this.delay = arena.i32(`${name}.delay`, n);
    this.pre = arena.i32(`${name}.pre`, n);
    this.id = arena.i32(`${name}.id`, n);
    this.postStart = arena.i32(`${name}.postStart`, postSize + 1);
    this.postSyn = arena.i32(`${name}.postSyn`, n);
    this.postKey = arena.i32(`${name}.postKey`, n);
    let compact = frozenWeights && postSize <= 65536;
    for (let s = 0; compact && s < n; s++) compact = Math.fround(list.weight[s]!) === list.weight[s]!;
    if (compact) this.compact = arena.u8(`${name}.compact`, 6 * n);
    // Place in user order first, then group.
    for (let s = 0; s < n; s++) {
      this.pre[s] = list.pre[s]!;
      this.post[s] = list.post[s]!;
      this.weight[s] = list.weight[s]!;
      this.delay[s] = list.delay[s]!;
      this.id[s] = s;
    }
    this.regroup();
  }

  /** Registers a rule's per-synapse array (length `count`, in table order) to be permuted by `regroup`. */
  track(array: StateArray): void {
    if (array.length !== this.count) throw new RangeError(`projection '${this.name}': tracked array has ${array.length} entries, expected ${this.count}`);
    this.extra.push(array);
  }

  /** Re-sorts by (pre, delay, id) after delays changed, and rebuilds the postsynaptic index. */
  regroup(): void {
    const n = this.count;
    const D = this.delaySlots;
    const gs = this.groupStart;
    gs.fill(0);
    // Visit synapses in id order so each group stays in ascending id (Brian2's delivery order).
    const byId = new Int32Array(n);
    for (let s = 0; s < n; s++) byId[this.id[s]!] = s;
    for (let s = 0; s < n; s++) gs[this.pre[s]! * D + this.delay[s]! + 1]!++;
    for (let g = 1; g < gs.length; g++) gs[g]! += gs[g - 1]!;
    const cursor = gs.slice(0, gs.length - 1);
    const dest = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = byId[i]!;
      dest[s] = cursor[this.pre[s]! * D + this.delay[s]!]!++;
    }
    for (const a of [this.post, this.weight, this.delay, this.pre, this.id, ...this.extra]) permute(a, dest);
    const ps = this.postStart;
    ps.fill(0);
    for (let s = 0; s < n; s++) ps[this.post[s]! + 1]!++;
    for (let j = 1; j < ps.length; j++) ps[j]! += ps[j - 1]!;
    const pc = ps.slice(0, ps.length - 1);
    for (let s = 0; s < n; s++) this.postSyn[pc[this.post[s]!]!++] = s;
    const P = this.preSize;
    for (let q = 0; q < n; q++) {
      const s = this.postSyn[q]!;
      this.postKey[q] = this.delay[s]! * P - this.pre[s]!;
    }
    const c = this.compact;
    if (c) {
      const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
      for (let s = 0; s < n; s++) {
        view.setUint16(6 * s, this.post[s]!, true);
        view.setFloat32(6 * s + 2, this.weight[s]!, true);
      }
    }
  }

  /** Weights in the user's synapse order. */
  weightsInUserOrder(): Float64Array {
    const out = new Float64Array(this.count);
    for (let s = 0; s < this.count; s++) out[this.id[s]!] = this.weight[s]!;
    return out;
  }

  /** Delays in the user's synapse order. */
  delaysInUserOrder(): Int32Array {
    const out = new Int32Array(this.count);
    for (let s = 0; s < this.count; s++) out[this.id[s]!] = this.delay[s]!;
    return out;
  }
}

/** a[dest[s]] = a[s] for all s, through one temporary copy. */
function permute(a: StateArray, dest: Int32Array): void {
  const copy = a.slice();
  for (let s = 0; s < dest.length; s++) a[dest[s]!] = copy[s]!;
}
