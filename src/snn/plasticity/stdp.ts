/**
 * Pair-based STDP with traces, as Brian2's on_pre / on_post pathways (see spec.ts StdpSpec):
 *
 *   on arrival of a presynaptic spike (after its delay):   w ← clip(w + Δ(z_post))
 *   on a postsynaptic spike:                                z_post += a_post;  w ← clip(w + Δ(x_pre(t − d)))
 *
 * with Δ(a) = a (additive), a·(w − w_min) for a < 0 and a·(w_max − w) for a > 0 (multiplicative),
 * and |a| in place of a when symmetric. Traces are PairTraces (per neuron, exact).
 * All arrivals' on_pre run before any on_post, as in Brian2 (pre pathway order −1, post +1).
 */
import type { StdpSpec } from '../spec.js';
import type { SpikeHistory } from '../spike-history.js';
import type { SynapseTable } from '../projections/synapse-table.js';
import type { BuildContext, RuleRuntime } from '../runtime-types.js';
import { PairTraces } from './pair-traces.js';
import { forEachArrivingGroup } from '../projections/deliver.js';

/** Weight change for trace value a at weight w, then clipped to [w_min, w_max]. */
export function stdpUpdate(w: number, a: number, p: StdpSpec): number {
  if (p.symmetric) a = Math.abs(a);
  const dw = p.mode === 'additive' ? a : a < 0 ? a * (w - p.w_min) : a * (p.w_max - w);
  return Math.min(Math.max(w + dw, p.w_min), p.w_max);
}

/** on_pre for every synapse arriving at step t: w ← clip(w + Δ(z[post])). */
export function stdpOnPre(table: SynapseTable, pre: SpikeHistory, t: number, z: Float64Array, p: StdpSpec): void {
  const { post, weight } = table;
  forEachArrivingGroup(table, pre, t, (start, end) => {
    for (let s = start; s < end; s++) weight[s] = stdpUpdate(weight[s]!, z[post[s]!]!, p);
  });
}

/** on_post for step t's postsynaptic spikes: z += a_post, then w ← clip(w + Δ(x_pre(t − d))). */
export function stdpOnPost(table: SynapseTable, postSpikes: SpikeHistory, t: number, traces: PairTraces, p: StdpSpec, learn: boolean): void {
  const { postStart, postSyn, pre, delay, weight } = table;
  const lists = postSpikes.lists;
  const at = postSpikes.offset(t);
  const n = postSpikes.count(t);
  const x = traces.x;
  for (let k = 0; k < n; k++) {
    const j = lists[at + k]!;
    traces.addPost(j);
    if (!learn) continue;
    const end = postStart[j + 1]!;
    for (let q = postStart[j]!; q < end; q++) {
      const s = postSyn[q]!;
      weight[s] = stdpUpdate(weight[s]!, x[traces.xOffset(t - delay[s]!) + pre[s]!]!, p);
    }
  }
}

export function createStdp(spec: StdpSpec, ctx: BuildContext): RuleRuntime {
  const proj = ctx.projections.get(spec.projection)!;
  const table = proj.table!;
  const traces = new PairTraces(ctx.arena, `${spec.projection}.stdp`, proj.from.size, proj.to.size, table.delaySlots, spec);
  const k = ctx.backend.kernels;
  const onPre = k.stdpOnPre ?? stdpOnPre;
  const onPost = k.stdpOnPost ?? stdpOnPost;
  return {
    spec,
    enabled: spec.enabled,
    groups(t) {
      traces.decay(t);
    },
    synapses(t) {
      traces.addPre(t, proj.from.history);
      if (this.enabled) onPre(table, proj.from.history, t, traces.z, spec);
      onPost(table, proj.to.history, t, traces, spec, this.enabled);
    },
  };
}
