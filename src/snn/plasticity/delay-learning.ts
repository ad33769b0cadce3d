/**
 * Online delay learning on a synapse table (see spec.ts DelayLearningSpec). Runs in the `end` slot
 * of step t:
 *
 *   t_pre(i) ← t                                      for every presynaptic spike i of step t
 *   for every postsynaptic spike j of step t (t_post = t), every synapse s = (i → j, delay d) with
 *   0 ≤ t_post − t_pre(i) ≤ window_steps:
 *       r_s ← r_s + learning_rate·(t_post − t_pre(i) − d)          (fractional accumulator)
 *       n = trunc(r_s);  r_s ← r_s − n;  d ← clip(d + n, d_min, d_max)
 *
 * so each delay moves in whole steps toward the lag t_post − t_pre, i.e. toward making the spike of
 * i arrive in the step j fires. Presynaptic spikes of step t itself count (lag 0), which is why the
 * last-spike times are recorded before the postsynaptic pass. Whole steps beyond a bound are
 * dropped, not kept in r_s, so a delay pinned at d_min or d_max leaves again at once when the lag
 * says so. After any move the table is regrouped once (at most once per step); spikes already in
 * flight then follow their synapse's new delay.
 *
 * Last-spike times are kept per presynaptic neuron (not per synapse) in the arena, and the
 * accumulator per synapse, registered with the table so regrouping permutes it.
 * With learning off the last-spike times are still recorded and nothing else changes.
 */
import type { DelayLearningSpec } from '../spec.js';
import type { BuildContext, RuleRuntime } from '../runtime-types.js';
import type { SynapseTable } from '../projections/synapse-table.js';
import type { SpikeHistory } from '../spike-history.js';

/** "Never spiked": far enough back that no window reaches it. */
export const NEVER = -2147483648;

export interface DelayLearningState {
  /** Step of each presynaptic neuron's last spike (NEVER if none yet). */
  readonly lastPre: Int32Array;
  /** Per-synapse fractional delay accumulator r_s, in table order. */
  readonly acc: Float64Array;
}

/** t_pre(i) ← t for step t's presynaptic spikes. */
export function recordPreSpikes(st: DelayLearningState, pre: SpikeHistory, t: number): void {
  const at = pre.offset(t);
  const n = pre.count(t);
  for (let k = 0; k < n; k++) st.lastPre[pre.lists[at + k]!] = t;
}

/** The postsynaptic pass of step t; returns whether any delay changed (the caller then regroups). */
export function delayOnPost(table: SynapseTable, st: DelayLearningState, post: SpikeHistory, t: number, p: DelayLearningSpec): boolean {
  const { postStart, postSyn, pre, delay } = table;
  const { lastPre, acc } = st;
  const at = post.offset(t);
  const n = post.count(t);
  let moved = false;
  for (let k = 0; k < n; k++) {
    const j = post.lists[at + k]!;
    const end = postStart[j + 1]!;
    for (let q = postStart[j]!; q < end; q++) {
      const s = postSyn[q]!;
      const tp = lastPre[pre[s]!]!;
      if (tp === NEVER) continue;
      const lag = t - tp;
      if (lag > p.window_steps) continue;
      const d = delay[s]!;
      const r = acc[s]! + p.learning_rate * (lag - d);
      const whole = Math.trunc(r);
      acc[s] = r - whole;
      if (whole === 0) continue;
      const nd = Math.min(Math.max(d + whole, p.d_min), p.d_max);
      if (nd !== d) {
        delay[s] = nd;
        moved = true;
      }
    }
  }
  return moved;
}

export interface DelayLearningRuntime extends RuleRuntime {
  readonly spec: DelayLearningSpec;
  readonly state: DelayLearningState;
}

export function createDelayLearning(spec: DelayLearningSpec, ctx: BuildContext): DelayLearningRuntime {
  const proj = ctx.projections.get(spec.projection)!;
  const table = proj.table!;
  if (table.delaySlots <= spec.d_max) throw new RangeError(`delay learning on '${spec.projection}': the table holds delays < ${table.delaySlots}, d_max is ${spec.d_max}`);
  const index = ctx.spec.plasticity.indexOf(spec);
  const twin = ctx.spec.plasticity.some((r, i) => i < index && r.rule === 'delay' && r.projection === spec.projection);
  const name = `${spec.projection}.delayLearning${twin ? `#${index}` : ''}`;
  const state: DelayLearningState = { lastPre: ctx.arena.i32(`${name}.lastPre`, proj.from.size), acc: ctx.arena.f64(`${name}.acc`, table.count) };
  state.lastPre.fill(NEVER);
  table.track(state.acc);
  return {
    spec,
    state,
    enabled: spec.enabled,
    end(t) {
      recordPreSpikes(state, proj.from.history, t);
      if (!this.enabled) return;
      if (delayOnPost(table, state, proj.to.history, t, spec)) table.regroup();
    },
  };
}
