/**
 * Supervised online readout (Grimaldi & Perrinet 2023): time-invariant logistic regression of the
 * label on the arrivals of each step, trained online. Runs in the `synapses` slot of step t, right
 * after every projection delivered, when the target population's accumulator holds exactly step t's
 * arrivals (see neurons/logistic.ts), and before any delay learning (`end` slot) could regroup the
 * table, so the gradient goes to exactly the synapses that delivered:
 *
 *   p_j = σ(a_j + b_j),   a_j = Σ_{synapses s onto j arriving at t} w_s
 *   L   = Σ_j −y_j·log p_j − (1 − y_j)·log(1 − p_j)                 (binary cross-entropy)
 *   e_j = ∂L/∂(a_j + b_j) = p_j − y_j
 *   (loss 'softmax': the C classes of each position q compete, p_c = softmax_c(a + b) over units
 *    c·P + q, L = −Σ_c y_c·log p_c, and again e = p − y; see softmaxErrors)
 *   g_s = e_post(s)·[s delivered at t]      (synapse-list projections)
 *   g_w = Σ_{(w, o) arriving at t} e_o       (conv: shared kernel entry w, summed over output
 *                                             positions and so learnt per delay tap)
 *   g_b,j = e_j
 *
 * SGD:  θ ← θ − lr·g.
 * Adam (bias-corrected, lazy): k ← k + 1 once per step with a label;  for every θ with a gradient
 * this step (arrived synapses / touched kernel entries, and the biases) only:
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   θ ← θ − lr·(m / (1 − β1^k)) / (√(v / (1 − β2^k)) + ε)
 * so a step costs O(arrivals), not O(synapses).
 *
 * Magnitude pruning (optional): every `every_steps` steps (after the update of each step t with
 * (t + 1) mod every_steps = 0, while learning is on) the `keep` largest |w| stay, the others are
 * set to zero and masked; masked weights are never updated again, so they stay zero.
 *
 * The label is the signal named `signal` given to the step: a class index (one-hot target over the
 * output units; with loss 'softmax', that class at every position) or one target per output unit.
 * A step without it updates nothing. A NaN target leaves that unit unlabelled this step: e = 0, so it adds nothing to any weight's gradient and its
 * bias is not stepped (e.g. to label only the positions where a trigger event arrived).
 *
 * The target's biases are trained by the first readout rule (in spec order) onto that population
 * only, so two readouts converging on one layer do not step its biases twice.
 *
 * State in the arena (prefix `<projection>.readout`): Adam moments of weights and biases, the step
 * count k, the pruning mask. Per-synapse arrays are registered with the synapse table so delay
 * learning's regrouping permutes them along with the weights.
 */
import type { ReadoutSpec } from '../spec.js';
import type { BuildContext, RuleRuntime, StepSignals } from '../runtime-types.js';
import type { LogisticPopulationRuntime } from '../neurons/logistic.js';
import { sigmoid } from '../neurons/logistic.js';
import type { ConvProjectionRuntime } from '../projections/conv.js';
import { convGradient } from '../projections/conv.js';
import { forEachArrivingGroup } from '../projections/deliver.js';

/** Moments and step count of one optimizer (Adam; SGD keeps none). */
export interface AdamState {
  readonly m: Float64Array;
  readonly v: Float64Array;
}

export interface ReadoutRuntime extends RuleRuntime {
  readonly spec: ReadoutSpec;
  /** Trainable weights: the synapse table's (table order) or the conv kernel's. */
  readonly weight: Float64Array;
  /** 1 where a weight was pruned (kept at zero); all 0 without pruning. */
  readonly mask: Uint8Array;
  /** Adam's bias-correction step count k (steps with a label while learning was on). */
  readonly steps: Float64Array;
}

/** Writes the per-unit targets y for a label (class index → one-hot, or an array); throws on a bad label. */
export function readoutTargets(label: number | ArrayLike<number>, y: Float64Array, what: string): void {
  if (typeof label === 'number') {
    if (!Number.isInteger(label) || label < 0 || label >= y.length) throw new RangeError(`${what}: class index ${label} out of range [0, ${y.length})`);
    y.fill(0);
    y[label] = 1;
    return;
  }
  if (label.length !== y.length) throw new RangeError(`${what}: ${label.length} targets for ${y.length} output units`);
  y.set(label);
}

/**
 * Logistic errors e_j = σ(a_j + b_j) − y_j, 0 where y_j is NaN (unlabelled); with `rows`, also
 * errorRows of them (rows.length positions of `classes` class maps).
 */
export function logisticErrors(a: Float64Array, bias: Float64Array, y: Float64Array, e: Float64Array, classes: number, rows?: Uint8Array): void {
  for (let j = 0; j < y.length; j++) e[j] = Number.isNaN(y[j]!) ? 0 : sigmoid(a[j]! + bias[j]!) - y[j]!;
  if (rows) errorRows(e, classes, rows);
}

/** The biases' SGD step: b_j ← b_j − lr·e_j for every labelled unit (y_j not NaN). */
export function sgdBiasStep(bias: Float64Array, y: Float64Array, e: Float64Array, learningRate: number): void {
  for (let j = 0; j < y.length; j++) if (!Number.isNaN(y[j]!)) bias[j] = bias[j]! - learningRate * e[j]!;
}

/** Targets for a class index under a softmax readout: that class at every position (units c·P + q). */
export function classAtEveryPosition(label: number, y: Float64Array, classes: number, what: string): void {
  if (!Number.isInteger(label) || label < 0 || label >= classes) throw new RangeError(`${what}: class index ${label} out of range [0, ${classes})`);
  const P = y.length / classes;
  y.fill(0);
  y.fill(1, label * P, (label + 1) * P);
}

/**
 * Multinomial errors: units j = c·P + q (C classes, P = n / C positions). At each position q whose
 * targets are given, e_c = softmax_c(a + b) − y_c (max-shifted); elsewhere e = 0.
 */
export function softmaxErrors(a: Float64Array, bias: Float64Array, y: Float64Array, e: Float64Array, classes: number): void {
  const P = a.length / classes;
  for (let q = 0; q < P; q++) {
    if (Number.isNaN(y[q]!)) {
      for (let c = 0; c < classes; c++) e[c * P + q] = 0;
      continue;
    }
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, a[c * P + q]! + bias[c * P + q]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const x = Math.exp(a[c * P + q]! + bias[c * P + q]! - m);
      e[c * P + q] = x;
      sum += x;
    }
    for (let c = 0; c < classes; c++) {
      const j = c * P + q;
      e[j] = e[j]! / sum - (Number.isNaN(y[j]!) ? 0 : y[j]!);
    }
  }
}

/** rows[o] = 1 where e (class-major, classes × rows.length) is non-zero in some class, else 0. */
export function errorRows(e: Float64Array, classes: number, rows: Uint8Array): void {
  const P = rows.length;
  rows.fill(0);
  for (let c = 0; c < classes; c++) {
    const o = c * P;
    for (let q = 0; q < P; q++) if (e[o + q] !== 0) rows[q] = 1;
  }
}

/** One Adam update of parameter i with gradient g; c1 = 1 − β1^k, c2 = 1 − β2^k. */
export function adamUpdate(theta: Float64Array, st: AdamState, i: number, g: number, spec: ReadoutSpec, c1: number, c2: number): void {
  const m = spec.beta1 * st.m[i]! + (1 - spec.beta1) * g;
  const v = spec.beta2 * st.v[i]! + (1 - spec.beta2) * g * g;
  st.m[i] = m;
  st.v[i] = v;
  theta[i] = theta[i]! - (spec.learning_rate * (m / c1)) / (Math.sqrt(v / c2) + spec.epsilon);
}

/**
 * Steps each of the nt kernel entries listed in touched by its summed gradient (Adam with moments,
 * else SGD), in list order, and clears grad and seen for the next step.
 */
export function stepTouchedReference(weight: Float64Array, moments: AdamState | undefined, grad: Float64Array, touched: Int32Array, seen: Uint8Array, nt: number, spec: ReadoutSpec, c1: number, c2: number): void {
  for (let q = 0; q < nt; q++) {
    const w = touched[q]!;
    if (moments) adamUpdate(weight, moments, w, grad[w]!, spec, c1, c2);
    else weight[w] = weight[w]! - spec.learning_rate * grad[w]!;
    grad[w] = 0;
    seen[w] = 0;
  }
}

/** Keeps the `keep` largest |w| (ties: lower index first); zeroes and masks the rest, and their moments. */
export function pruneWeights(weight: Float64Array, mask: Uint8Array, keep: number, moments?: AdamState): void {
  const n = weight.length;
  if (keep >= n) return;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => Math.abs(weight[b]!) - Math.abs(weight[a]!) || a - b);
  for (let r = keep; r < n; r++) {
    const i = order[r]!;
    mask[i] = 1;
    weight[i] = 0;
    if (moments) {
      moments.m[i] = 0;
      moments.v[i] = 0;
    }
  }
}

export function createReadout(spec: ReadoutSpec, ctx: BuildContext): ReadoutRuntime {
  const proj = ctx.projections.get(spec.projection)!;
  const to = proj.to as LogisticPopulationRuntime;
  const nOut = to.size;
  const conv = proj.spec.kind === 'conv' ? (proj as ConvProjectionRuntime).kernel : undefined;
  const table = proj.table;
  const weight = conv ? conv.weight : table!.weight;
  const nW = weight.length;

  // A unique arena prefix even if several readouts train one projection.
  const index = ctx.spec.plasticity.indexOf(spec);
  const twin = ctx.spec.plasticity.some((r, i) => i < index && r.rule === 'readout' && r.projection === spec.projection);
  const name = `${spec.projection}.readout${twin ? `#${index}` : ''}`;
  const targetOf = (projection: string) => ctx.spec.projections.find((p) => p.name === projection)?.to;
  const first = ctx.spec.plasticity.find((r) => r.rule === 'readout' && targetOf(r.projection) === to.spec.name);
  const ownsBias = index < 0 || first === spec; // a rule built outside its network spec trains the biases itself

  const adam = spec.optimizer === 'adam';
  const wMoments: AdamState | undefined = adam ? { m: ctx.arena.f64(`${name}.m`, nW), v: ctx.arena.f64(`${name}.v`, nW) } : undefined;
  const bMoments: AdamState | undefined = adam && ownsBias ? { m: ctx.arena.f64(`${name}.biasM`, nOut), v: ctx.arena.f64(`${name}.biasV`, nOut) } : undefined;
  const steps = ctx.arena.f64(`${name}.steps`, 1);
  // Without a prune spec the mask is not state (nothing here writes it; tools that prune from
  // outside may, e.g. pruneMotionKernel): a conv kernel's then lives in arena scratch, where a
  // backend's gradient kernel reaches it, and a restored checkpoint clears it with the rest.
  const mask = spec.prune ? ctx.arena.u8(`${name}.mask`, nW) : conv ? ctx.arena.scratch(`${name}.mask`, 'u8', nW) : new Uint8Array(nW);
  if (table) {
    if (wMoments) {
      table.track(wMoments.m);
      table.track(wMoments.v);
    }
    if (spec.prune) table.track(mask);
  }

  // Scratch, zero between steps. The conv gradient's arrays (and e, which it reads) are arena
  // scratch, so a backend's kernel can reach them.
  const y = ctx.arena.scratch(`${name}.y`, 'f64', nOut);
  const e = ctx.arena.scratch(`${name}.e`, 'f64', nOut);
  const errors = ctx.backend.kernels.logisticErrors ?? logisticErrors;
  const biasStep = ctx.backend.kernels.sgdBiasStep ?? sgdBiasStep;
  const gradient = ctx.backend.kernels.convGradient ?? convGradient;
  const stepTouched = ctx.backend.kernels.readoutStepTouched ?? stepTouchedReference;
  const grad = conv ? ctx.arena.scratch(`${name}.grad`, 'f64', nW) : undefined;
  const touched = conv ? ctx.arena.scratch(`${name}.touched`, 'i32', nW) : undefined;
  const seen = conv ? ctx.arena.scratch(`${name}.seen`, 'u8', nW) : undefined;
  // SGD only: the output positions with an error in some class, so the gradient skips the arrivals
  // whose every error is zero (most positions are unlabelled); exact, as a zero SGD step changes
  // nothing. Adam decays the moments of every entry that had an arrival, so it sums them all.
  const rows = conv && !adam ? ctx.arena.scratch(`${name}.rows`, 'u8', conv.oh * conv.ow) : undefined;
  const what = `readout '${spec.projection}'`;
  const bias = to.state.bias;
  const a = to.state.a;
  const softmaxClasses = spec.loss === 'softmax' ? to.spec.shape![0]! : 0;

  const update = (theta: Float64Array, st: AdamState | undefined, i: number, g: number, c1: number, c2: number): void => {
    if (st) adamUpdate(theta, st, i, g, spec, c1, c2);
    else theta[i] = theta[i]! - spec.learning_rate * g;
  };

  return {
    spec,
    enabled: spec.enabled,
    weight,
    mask,
    steps,
    synapses(t: number, signals: StepSignals) {
      if (!this.enabled) return;
      const label = signals[spec.signal];
      if (label !== undefined) {
        if (softmaxClasses && typeof label === 'number') classAtEveryPosition(label, y, softmaxClasses, what);
        else readoutTargets(label, y, what);
        if (softmaxClasses) {
          softmaxErrors(a, bias, y, e, softmaxClasses);
          if (rows) errorRows(e, conv!.cout, rows);
        } else {
          errors(a, bias, y, e, conv ? conv.cout : 1, rows);
        }
        let c1 = 1;
        let c2 = 1;
        if (adam) {
          const k = (steps[0] = steps[0]! + 1);
          c1 = 1 - Math.pow(spec.beta1, k);
          c2 = 1 - Math.pow(spec.beta2, k);
        }
        if (conv) {
          // Shared weights: sum the gradient per kernel entry first, then step each touched entry once.
          const nt = gradient(conv, proj.from.history, t, e, mask, grad!, touched!, seen!, rows);
          stepTouched(weight, wMoments, grad!, touched!, seen!, nt, spec, c1, c2);
        } else {
          const post = table!.post;
          forEachArrivingGroup(table!, proj.from.history, t, (start, end) => {
            for (let s = start; s < end; s++) if (!mask[s]) update(weight, wMoments, s, e[post[s]!]!, c1, c2);
          });
        }
        if (ownsBias && bMoments) {
          for (let j = 0; j < nOut; j++) if (!Number.isNaN(y[j]!)) adamUpdate(bias, bMoments, j, e[j]!, spec, c1, c2);
        } else if (ownsBias) {
          biasStep(bias, y, e, spec.learning_rate);
        }
      }
      if (spec.prune && (t + 1) % spec.prune.every_steps === 0) pruneWeights(weight, mask, spec.prune.keep, wMoments);
    },
  };
}
