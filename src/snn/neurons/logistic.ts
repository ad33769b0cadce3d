/**
 * Logistic units (the readout layer of Grimaldi & Perrinet 2023), as pure steps over flat arrays:
 *
 *   (synapses at step t−1: a += w for every arrival, delivered by the projections)
 *   threshold (step t):   p ← σ(a + b) = 1 / (1 + e^−(a + b));   spike ⇔ p > threshold (strict), or,
 *                         with a homeostatic offset, a + b > logit(threshold) + offset;
 *                         a ← 0
 *   (synapses at step t: a += w ...)
 *
 * The accumulator is read and cleared in the threshold slot rather than in `integrate`: in Brian2's
 * order (integrate → thresholds → synapses) input delivered at step t is first seen by the
 * threshold of step t + 1, so clearing it in `integrate` would throw every arrival away unread.
 * Between the synapses slot and the next threshold `a` holds exactly the arrivals of one step, which
 * is what the readout rule fits: p(t) = σ(Σ_{arrivals at t} w + b), a time-invariant logistic
 * regression. There is no membrane and no reset: the unit has no memory beyond its delays.
 */
import type { LogisticPopulationSpec } from '../spec.js';
import type { BuildContext, PopulationRuntime } from '../runtime-types.js';
import { SpikeHistory } from '../spike-history.js';

export interface LogisticState {
  /** Activation accumulator: weighted input delivered since the last threshold. */
  readonly a: Float64Array;
  /** Per-unit bias b (trained by the readout rule). */
  readonly bias: Float64Array;
  /** Probabilities computed by the last threshold step (from the arrivals of the step before). */
  readonly p: Float64Array;
  /**
   * Per-unit shift of the spike threshold on the activation scale (a + b > logit(threshold) + offset)
   * that a 'threshold' homeostasis controller moves; present only when one watches the population.
   */
  readonly offset?: Float64Array;
}

/** The logistic function, written so large |x| neither overflows nor loses the small tail. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(p / (1 − p)): the activation at which σ reaches p. */
export function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/**
 * σ(a + b) already computed for some (a, b) (by a prediction after the last step): unit j's value is
 * taken from p when a and b are still exactly a[j] and b[j], which is the same number computed again.
 */
export interface SigmoidMemo {
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly p: Float64Array;
}

/** p ← σ(a + b), spikes where p > threshold into out[at…] (ascending), then a ← 0; returns the count. */
export function logisticThreshold(s: LogisticState, spec: LogisticPopulationSpec, out: Int32Array, at: number, memo?: SigmoidMemo): number {
  const { a, bias, p, offset } = s;
  const th = spec.threshold;
  // With an offset the test is on the activation, where the offset acts linearly as on a membrane.
  const logitTh = logit(th);
  let k = 0;
  for (let j = 0; j < a.length; j++) {
    const x = a[j]! + bias[j]!;
    const q = memo && a[j] === memo.a[j] && bias[j] === memo.b[j] ? memo.p[j]! : sigmoid(x);
    p[j] = q;
    a[j] = 0;
    if (offset ? x > logitTh + offset[j]! : q > th) out[at + k++] = j;
  }
  return k;
}

/**
 * σ(a + b) for the input accumulated so far (this step's arrivals, after the synapses slot) into
 * memo.p, with the a and b it was computed from into memo.a and memo.b.
 */
export function logisticPredict(s: LogisticState, memo: SigmoidMemo): void {
  const { a, bias } = s;
  for (let j = 0; j < a.length; j++) memo.p[j] = sigmoid(a[j]! + bias[j]!);
  memo.a.set(a);
  memo.b.set(bias);
}

export interface LogisticPopulationRuntime extends PopulationRuntime {
  readonly spec: LogisticPopulationSpec;
  readonly state: LogisticState;
  /** Probabilities of the last step's threshold (the decision the spikes were taken from). */
  readonly p: Float64Array;
  /**
   * σ(a + b) for the input that arrived in the last step run, i.e. what the next step's threshold
   * will compute (before that step's bias change, if any); `out` defaults to a new array.
   */
  predict(out?: Float64Array): Float64Array;
}

export function createLogisticPopulation(spec: LogisticPopulationSpec, ctx: BuildContext, historySlots: number): LogisticPopulationRuntime {
  const { arena } = ctx;
  const n = spec.size;
  const regulated = ctx.spec.homeostasis.some((h) => h.population === spec.name);
  const state: LogisticState = {
    a: arena.f64(`${spec.name}.a`, n),
    bias: arena.f64(`${spec.name}.bias`, n),
    p: arena.f64(`${spec.name}.p`, n),
    ...(regulated ? { offset: arena.f64(`${spec.name}.thresholdOffset`, n) } : {}),
  };
  state.bias.fill(spec.bias_init);
  state.p.fill(sigmoid(spec.bias_init));
  const history = new SpikeHistory(arena, spec.name, n, historySlots);
  const thresholdKernel = ctx.backend.kernels.logisticThreshold ?? logisticThreshold;
  const predictKernel = ctx.backend.kernels.logisticPredict ?? logisticPredict;
  // The last prediction's inputs and values (the next threshold usually computes the same σ again:
  // nothing changes a or b in between), in arena scratch so that a restore forgets them. `fresh[0]`
  // says whether a prediction was made since the last threshold.
  const memo: SigmoidMemo = { a: arena.scratch(`${spec.name}.memoA`, 'f64', n), b: arena.scratch(`${spec.name}.memoB`, 'f64', n), p: arena.scratch(`${spec.name}.memoP`, 'f64', n) };
  const fresh = arena.scratch(`${spec.name}.memoFresh`, 'u8', 1);
  return {
    spec,
    size: n,
    state,
    p: state.p,
    history,
    input: state.a,
    integrate() {},
    threshold(t) {
      const at = history.begin(t);
      const count = thresholdKernel(state, spec, history.lists, at, fresh[0] ? memo : undefined);
      fresh[0] = 0;
      history.setCount(t, count);
      return count;
    },
    reset() {},
    predict(out = new Float64Array(n)) {
      predictKernel(state, memo);
      out.set(memo.p);
      fresh[0] = 1;
      return out;
    },
  };
}
