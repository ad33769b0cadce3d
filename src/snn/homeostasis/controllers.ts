/**
 * Homeostasis controllers (see spec.ts HomeostasisSpec): keep a LIF/ALIF (or, 'threshold' only, a
 * logistic) population's firing rate near `target_hz` with per-neuron rate estimates on several
 * timescales (RateEstimator) and
 *
 *   u_j = Σ_k gain_k·(r_kj − target)·dt                       (dt in seconds)
 *
 *   'threshold' (intrinsic plasticity):  offset_j ← offset_j + u_j
 *       on the LifState threshold offset, so a neuron firing too much needs more depolarisation
 *       (on a logistic unit, more activation: it spikes when a + b > logit(threshold) + offset);
 *   'scaling' (multiplicative synaptic scaling):  w ← w·max(1 − u_j, MIN_SCALE)
 *       for every incoming synapse of neuron j, in every sparse/random/dense projection into the
 *       population (conv projections share weights across neurons and are left alone). The clamp
 *       keeps the factor positive, so no weight changes sign.
 *
 * Estimates start at the target: with no evidence yet a neuron counts as on target, so a slow
 * (hours) timescale does not push every threshold down for hours while its average fills up.
 * Runs in the end slot after resets, on step t's spikes. Estimates always run; a disabled
 * controller applies nothing, so it resumes from current estimates when switched on again.
 * Cost per step: O(K·N) for the estimates, plus O(incoming synapses) for scaling.
 */
import type { HomeostasisSpec } from '../spec.js';
import type { LifPopulationRuntime } from '../neurons/populations.js';
import type { LogisticPopulationRuntime } from '../neurons/logistic.js';
import type { SynapseTable } from '../projections/synapse-table.js';
import type { BuildContext, ControllerRuntime } from '../runtime-types.js';
import { RateEstimator } from './rate-estimator.js';
import type { SpikeHistory } from '../spike-history.js';

/** Smallest per-step scaling factor: one step can shrink weights at most this much. */
export const MIN_SCALE = 1e-3;

export interface HomeostasisRuntime extends ControllerRuntime {
  readonly estimator: RateEstimator;
}

/** u_j = Σ_k gain_k·(r_kj − target)·dt for every neuron, into `out`. */
export function controlSignal(est: RateEstimator, spec: HomeostasisSpec, dtS: number, out: Float64Array): void {
  const N = est.size;
  const r = est.r;
  const target = spec.target_hz;
  for (let j = 0; j < N; j++) {
    let u = 0;
    for (let k = 0; k < spec.timescales.length; k++) u += spec.timescales[k]!.gain * (r[k * N + j]! - target);
    out[j] = u * dtS;
  }
}

/**
 * The 'threshold' controller's step in one pass over the neurons: the estimates' update
 * (RateEstimator.update), u_j (controlSignal) and offset_j += u_j, with the same expressions in the
 * same order, so the same numbers. `gains`: the timescales' gains, in spec order. Needs step t's
 * spike list ascending without repeats (what a threshold step lists); returns false, doing nothing,
 * when it is not. Two timescales (the usual case) run unrolled: 2–3× faster than the loop over k.
 */
export function thresholdStep(est: RateEstimator, history: SpikeHistory, t: number, target: number, gains: Float64Array, dtS: number, offset: Float64Array): boolean {
  if (!spikesAscending(history, t)) return false;
  const lists = history.lists;
  const at = history.offset(t);
  const n = history.count(t);
  const N = est.size;
  const r = est.r;
  const K = gains.length;
  const end = at + n;
  let q = at;
  let next = q < end ? lists[q]! : -1;
  if (K === 2) {
    const a0 = est.alpha[0]!;
    const a1 = est.alpha[1]!;
    const k0 = est.kick[0]!;
    const k1 = est.kick[1]!;
    const g0 = gains[0]!;
    const g1 = gains[1]!;
    for (let j = 0; j < N; j++) {
      let r0 = r[j]! * a0;
      let r1 = r[N + j]! * a1;
      if (j === next) {
        r0 = r0 + k0;
        r1 = r1 + k1;
        next = ++q < end ? lists[q]! : -1;
      }
      r[j] = r0;
      r[N + j] = r1;
      let u = 0;
      u += g0 * (r0 - target);
      u += g1 * (r1 - target);
      offset[j] = offset[j]! + u * dtS;
    }
    return true;
  }
  for (let j = 0; j < N; j++) {
    const spiked = j === next;
    if (spiked) next = ++q < end ? lists[q]! : -1;
    let u = 0;
    for (let k = 0; k < K; k++) {
      let rk = r[k * N + j]! * est.alpha[k]!;
      if (spiked) rk = rk + est.kick[k]!;
      r[k * N + j] = rk;
      u += gains[k]! * (rk - target);
    }
    offset[j] = offset[j]! + u * dtS;
  }
  return true;
}

/** Whether step t's spike list is ascending without repeats (what a threshold step lists). */
export function spikesAscending(history: SpikeHistory, t: number): boolean {
  const lists = history.lists;
  const at = history.offset(t);
  const end = at + history.count(t);
  for (let q = at + 1; q < end; q++) if (!(lists[q]! > lists[q - 1]!)) return false;
  return true;
}

export function createController(spec: HomeostasisSpec, ctx: BuildContext): HomeostasisRuntime {
  const pop = ctx.populations.get(spec.population) as LifPopulationRuntime | LogisticPopulationRuntime | undefined;
  if (!pop || !('state' in pop) || !pop.state.offset) throw new RangeError(`homeostasis: '${spec.population}' is not a LIF/ALIF population or a logistic population with a threshold offset`);
  const N = pop.size;
  const dtS = ctx.spec.dt_ms / 1000;
  // Controller index in the name: several controllers may watch one population.
  const name = `${spec.population}.homeostasis[${ctx.spec.homeostasis.indexOf(spec)}]`;
  const estimator = new RateEstimator(ctx.arena, name, N, spec.timescales.map((s) => s.tau_ms), ctx.spec.dt_ms, spec.target_hz);
  const u = new Float64Array(N); // scratch, recomputed each step
  const gains = Float64Array.from(spec.timescales, (s) => s.gain);
  const offset = pop.state.offset;
  const step = ctx.backend.kernels.homeostasisThresholdStep ?? thresholdStep;
  const tables: SynapseTable[] = [];
  for (const pr of ctx.projections.values()) if (pr.to === pop && pr.table) tables.push(pr.table);
  return {
    spec,
    enabled: spec.enabled,
    estimator,
    end(t) {
      if (spec.controller === 'threshold' && this.enabled && step(estimator, pop.history, t, spec.target_hz, gains, dtS, offset)) return;
      estimator.update(pop.history, t);
      if (!this.enabled) return;
      controlSignal(estimator, spec, dtS, u);
      if (spec.controller === 'threshold') {
        for (let j = 0; j < N; j++) offset[j] = offset[j]! + u[j]!;
        return;
      }
      for (let j = 0; j < N; j++) {
        const f = 1 - u[j]!;
        u[j] = f > MIN_SCALE ? f : MIN_SCALE;
      }
      for (const table of tables) {
        const { post, weight } = table;
        for (let s = 0; s < table.count; s++) weight[s] = weight[s]! * u[post[s]!]!;
      }
    },
  };
}
