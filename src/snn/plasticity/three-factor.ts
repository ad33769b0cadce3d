/**
 * Three-factor learning (see spec.ts ThreeFactorSpec): additive STDP pairings, with the traces and
 * on_pre/on_post order of stdp.ts, accumulate into a per-synapse eligibility trace e instead of the
 * weight, and a neuromodulator M (reward, error) turns eligibility into weight change:
 *
 *   every step:                          e ← e·λ                          (λ = decay_eligibility)
 *   on arrival of a presynaptic spike:   e ← e + z_post
 *   on a postsynaptic spike:             z_post += a_post;  e ← e + x_pre(t − d)
 *   then, M = signals[signal] (0 when the step has none):
 *                                        w ← clip(w + learning_rate·M·e, w_min, w_max)
 *
 * Decay is lazy, so a step costs O(arriving + post-spike synapses) rather than O(synapses):
 * each synapse keeps e as of the step `eStep` it was last touched, and is brought to step t by one
 * multiplication with λ^(t − eStep) (a power table for short gaps, Math.pow beyond). This equals
 * the per-step product up to rounding (a few ulp), and is deterministic, so a run restored from a
 * checkpoint (e and eStep live in the arena) continues bit-identically. A step with M ≠ 0 visits
 * every synapse: every eligibility is non-zero in general, and every one moves its weight.
 *
 * A disabled rule keeps its traces and eligibility running and leaves the weights alone, so
 * switching it on later rewards recent pairings only, as the eligibility decay dictates.
 */
import type { ThreeFactorSpec } from '../spec.js';
import type { SpikeHistory } from '../spike-history.js';
import type { SynapseTable } from '../projections/synapse-table.js';
import type { BuildContext, RuleRuntime, StepSignals } from '../runtime-types.js';
import { PairTraces } from './pair-traces.js';
import { forEachArrivingGroup } from '../projections/deliver.js';

/** Gaps shorter than this use the table; λ^k for longer ones comes from Math.pow. */
const POW_TABLE = 1024;

/** Per-synapse eligibility with lazy decay; both arrays are in table order and tracked by the table. */
export class Eligibility {
  /** e as of step eStep[s]. */
  readonly e: Float64Array;
  /** Step each synapse's e was last brought up to date (f64: exact for any run length). */
  readonly eStep: Float64Array;
  /** λ^k for k < POW_TABLE. */
  readonly pow: Float64Array;

  constructor(
    ctx: BuildContext,
    name: string,
    table: SynapseTable,
    readonly decay: number,
  ) {
    this.e = ctx.arena.f64(`${name}.eligibility`, table.count);
    this.eStep = ctx.arena.f64(`${name}.eligibilityStep`, table.count);
    table.track(this.e);
    table.track(this.eStep);
    this.pow = new Float64Array(POW_TABLE);
    for (let k = 0; k < POW_TABLE; k++) this.pow[k] = Math.pow(decay, k);
  }

  /** λ^k. */
  factor(k: number): number {
    return k < POW_TABLE ? this.pow[k]! : Math.pow(this.decay, k);
  }

  /** e[s] at step t (decayed, not stored). */
  at(s: number, t: number): number {
    return this.e[s]! * this.factor(t - this.eStep[s]!);
  }

  /** e[s] ← e[s](t) + add, stored as of step t. */
  add(s: number, t: number, add: number): void {
    const k = t - this.eStep[s]!;
    this.e[s] = (k === 0 ? this.e[s]! : this.e[s]! * this.factor(k)) + add;
    this.eStep[s] = t;
  }
}

/** on_pre for every synapse arriving at step t: e ← e + z[post]. */
export function eligibilityOnPre(table: SynapseTable, pre: SpikeHistory, t: number, z: Float64Array, el: Eligibility): void {
  const { post } = table;
  forEachArrivingGroup(table, pre, t, (start, end) => {
    for (let s = start; s < end; s++) el.add(s, t, z[post[s]!]!);
  });
}

/** on_post for step t's postsynaptic spikes: z += a_post, then e ← e + x_pre(t − d). */
export function eligibilityOnPost(table: SynapseTable, postSpikes: SpikeHistory, t: number, traces: PairTraces, el: Eligibility): void {
  const { postStart, postSyn, pre, delay } = table;
  const lists = postSpikes.lists;
  const at = postSpikes.offset(t);
  const n = postSpikes.count(t);
  const x = traces.x;
  for (let k = 0; k < n; k++) {
    const j = lists[at + k]!;
    traces.addPost(j);
    const end = postStart[j + 1]!;
    for (let q = postStart[j]!; q < end; q++) {
      const s = postSyn[q]!;
      el.add(s, t, x[traces.xOffset(t - delay[s]!) + pre[s]!]!);
    }
  }
}

/** w ← clip(w + lr·M·e(t)) for every synapse; e is brought up to step t on the way. */
export function applyModulator(table: SynapseTable, t: number, m: number, el: Eligibility, p: ThreeFactorSpec): void {
  const { weight } = table;
  const { e, eStep, pow } = el;
  const scale = p.learning_rate * m;
  const lo = p.w_min;
  const hi = p.w_max;
  for (let s = 0; s < table.count; s++) {
    const k = t - eStep[s]!;
    const es = k === 0 ? e[s]! : e[s]! * (k < POW_TABLE ? pow[k]! : el.factor(k));
    e[s] = es;
    eStep[s] = t;
    if (es === 0) continue;
    const w = weight[s]! + scale * es;
    weight[s] = w < lo ? lo : w > hi ? hi : w;
  }
}

/** The modulator of a step: the named signal if it is a number, 0 if absent. */
export function modulatorOf(signals: StepSignals, spec: ThreeFactorSpec, t: number): number {
  const m = signals[spec.signal];
  if (m === undefined) return 0;
  if (typeof m !== 'number') throw new TypeError(`step ${t}: three-factor signal '${spec.signal}' must be one number, got an array`);
  if (!Number.isFinite(m)) throw new RangeError(`step ${t}: three-factor signal '${spec.signal}' is ${m}`);
  return m;
}

export function createThreeFactor(spec: ThreeFactorSpec, ctx: BuildContext): RuleRuntime {
  const proj = ctx.projections.get(spec.projection)!;
  const table = proj.table!;
  // Rule index in the name: two three-factor rules may share a projection.
  const name = `${spec.projection}.threeFactor[${ctx.spec.plasticity.indexOf(spec)}]`;
  const traces = new PairTraces(ctx.arena, name, proj.from.size, proj.to.size, table.delaySlots, spec);
  const el = new Eligibility(ctx, name, table, spec.decay_eligibility);
  return {
    spec,
    enabled: spec.enabled,
    groups(t) {
      traces.decay(t);
    },
    synapses(t, signals) {
      const m = modulatorOf(signals, spec, t);
      traces.addPre(t, proj.from.history);
      eligibilityOnPre(table, proj.from.history, t, traces.z, el);
      eligibilityOnPost(table, proj.to.history, t, traces, el);
      if (this.enabled && m !== 0) applyModulator(table, t, m, el, spec);
    },
  };
}
