/**
 * Motion direction × speed from a DVS, after Grimaldi & Perrinet 2023 ("Learning heterogeneous
 * delays in a layer of spiking neurons for fast motion detection", Biol. Cybern.):
 *
 *   emulator (MotionClouds-like textures, D directions × S speeds, seeded segments)
 *     → input [2, H, W] (ON/OFF spikes of each step, deduplicated)
 *     → conv kernel over polarity × delay × space (the heterogeneous-delay layer)
 *     → logistic units [classes, OH, OW], one map per class
 *     → readout rule (online BCE, Adam, optional magnitude pruning) against the segment's label
 *     → per segment: argmax over classes of Σ p over the triggered positions and steps.
 *
 * Labelling (spike-triggered): at each step after a segment's first `warmupSteps` (the delay line
 * still holds the previous segment's motion then), only the output positions whose central
 * stride × stride pixels spiked this step are labelled — 1 on the true class's map, 0 on the
 * others — and every other unit gets a NaN (unlabelled) target. Labelling every position at every
 * step cannot work: a logistic regression only matches the class-conditional mean of its inputs,
 * and a translating texture gives every direction the same mean patch (all positions and times
 * alike; cf. the time-reversal note in test/snn/readout.test.ts). Conditioned on a spike at the
 * centre now, the mean patch is the spike-triggered average — the trajectory the edge came along —
 * which differs by direction and speed, so the kernel learns oriented space × delay filters.
 * Decisions read the same triggered positions.
 *
 * Classes follow the emulator's random schedule: class = directionIndex · speeds + speedIndex.
 *
 * Pruning (measured with bench/motion.ts, 36 classes, 35,280 weights): one-shot magnitude pruning
 * of the trained kernel falls apart fast (1/30 of the weights: ~8 %), because the learnt kernel is
 * not sparse: each class's kernel is dominated by many small negative weights (per class Σ w<0 ≈
 * −110 … −190 against Σ w>0 ≈ 25 … 55 in four classes of one trained kernel), a dense "spikes anywhere in the patch lower p"
 * term that one-vs-all BCE needs for calibration, with the trajectory evidence on top. Gradual
 * magnitude pruning with fine-tuning (pruneMotionGradually: per class, cubic schedule, masked, at
 * a learning rate well below the dense one — 0.05 drifts to chance with few weights, 0.002-0.003
 * did best of 0.0005 / 0.002 / 0.01 — then averaged) holds much more but not 90 % of peak at 1/30.
 * Tried at 1/30 on a 16-seed model: pruning the whole kernel at once instead of per class (9 %
 * against 28 % at the dense rate), clamping weights to ≥ 0 during the fine-tune (49 % p-vote, 60 %
 * logit-vote with 970 weights: not clearly better than plain, 54-57 %, on 108 held-out segments),
 * one-shot pruning after subtracting each kernel entry's mean over the classes (a common term
 * that cannot change a logit vote's argmax: 11-13 %). With 4 fine-tuning seeds straight to 1/30
 * (held-out / 2 validation seeds): lr 0.003 58 / 65 %, 0.01 50 / 44 %, 0.001 37 / 54 %; 8 seeds
 * 64 / 64 %; L1 (proximal, 5e-4 per segment) through the dense training 63 / 64 % (dense 89.8 %),
 * 2e-3: dense 71 %, 1/30 35 %.
 *
 * The count term (countTerm, centreMotionKernel) gives the dense part its own weights: one per
 * class on the count of input spikes in the patch, so pruning cuts deviations from each class's
 * mean. One-shot at 1/30 (36 count weights + 31 per class): 74 % against 13 % without it, on a
 * 92.6 % model (held-out, 108 segments). Tried on top, none better: a mean per class × polarity
 * (76.9 %, emulated, 72 centres), per class × delay (59 %), a global cut (67 %); gradual pruning
 * with fine-tuning at 0.003 (36 %); refitting the count weights and biases with the kernel frozen
 * (lr 1e-4 … 1e-6: 22–73 %); retraining the masked kernel at 0.05 on 8 seeds (74 %) or 0.01 (66 %);
 * L1 toward the class mean during training (3e-4: 73 %, 1e-3: 59 %).
 *
 * All of the above is the 7×7 × 10-delay kernel of the main job. How much pruning can cut depends on
 * the kernel's size: with 11×11 × 12 delays (104,544 weights) and the count term, one-shot pruning to
 * 1/30 keeps 90.3 / 89.9 % and gradual pruning 93.4 / 93.4 % of a 95.5 % peak for kernel seeds 1 / 2
 * (288 held-out segments; bench/motion.ts's default). 11×11 × 10 delays: 81.6 % of 93.4 %; 9×9 × 12:
 * 84.4 % of 97.6 %; 13×13 × 12: 88.9 % of 95.5 % (one-shot).
 */
import { createEmulator, type EmulatorConfig } from '../emulator/index.js';
import { buildNetwork, type Network } from '../snn/network.js';
import { cpuBackend, type SnnBackend } from '../snn/backend.js';
import type { NetworkSpec, ReadoutSpec, Timescale } from '../snn/spec.js';
import type { LogisticPopulationRuntime } from '../snn/neurons/logistic.js';
import type { ConvProjectionRuntime } from '../snn/projections/conv.js';
import type { ReadoutRuntime } from '../snn/plasticity/readout.js';
import { pruneWeights } from '../snn/plasticity/readout.js';
import { convCentres } from '../snn/projections/conv-centres.js';

// ---------------------------------------------------------------- options

export interface MotionDirectionOptions {
  /** Sensor side in pixels (square). Default 32. */
  readonly size?: number;
  /** Number of directions, equally spaced from 0°. Default 12. */
  readonly directions?: number;
  /** Speeds in px/s. Default [100, 200, 400] (0.2, 0.4, 0.8 px per 2 ms step). */
  readonly speeds?: readonly number[];
  /** Emulator step = SNN step (µs). Default 2000. */
  readonly stepUs?: number;
  /** Steps per segment. Default 24. */
  readonly segmentSteps?: number;
  /** Steps at the start of each segment with neither label nor vote. Default `delays`. */
  readonly warmupSteps?: number;
  /** Kernel side (px). Default 7. */
  readonly kernelSize?: number;
  /** Delay taps 0 … delays − 1. Default 10. */
  readonly delays?: number;
  /** Kernel stride. Default 2. */
  readonly stride?: number;
  /**
   * Optimizer of the readout rule. Default 'sgd': Adam's per-weight normalisation makes the rare
   * positive steps of a class (1 segment in `classes`) as large as the common negative ones, so
   * the kernel drifts hard toward whichever class was shown last.
   */
  readonly optimizer?: 'adam' | 'sgd';
  /** Learning rate. Default 0.05 (SGD). */
  readonly learningRate?: number;
  /** Initial logistic bias (the prior log-odds of one class among many). Default −3. */
  readonly biasInit?: number;
  /** Readout loss: per-unit logistic (default) or softmax across the classes at each position. */
  readonly loss?: 'logistic' | 'softmax';
  /** Online magnitude pruning in the readout rule (kernel entries kept, period in steps). */
  readonly prune?: { readonly keep: number; readonly every_steps: number };
  /**
   * Homeostasis of the class maps' spikes: a 'threshold' controller holding every logistic unit's
   * spike rate near target_hz on the given timescales (the probabilities, and so the readout and
   * decisions from `evidence: state`, are untouched: it moves the spike threshold only).
   */
  readonly homeostasis?: { readonly target_hz: number; readonly timescales: readonly Timescale[] };
  /**
   * A per-class count term (a 'conv' projection with per_channel weights, 1 weight per class, not
   * trained): u_c += m_c × (input spikes in the receptive field over the delays). It starts at 0, so
   * the network is the plain one until centreMotionKernel moves each class kernel's mean into it,
   * after which magnitude pruning cuts the deviations from the mean rather than the weights.
   */
  readonly countTerm?: boolean;
  /** Seed of the kernel initialisation. Default 1. */
  readonly seed?: number;
  /** Texture and DVS settings of the emulator. */
  readonly contrast?: number;
  readonly dvsThreshold?: number;
  /** Background noise events per pixel per second. Default 0. */
  readonly noiseRateHz?: number;
}

export type ResolvedMotionOptions = Required<Omit<MotionDirectionOptions, 'prune' | 'homeostasis' | 'loss' | 'countTerm'>> & Pick<MotionDirectionOptions, 'prune' | 'homeostasis' | 'loss' | 'countTerm'>;

export function resolveMotionOptions(o: MotionDirectionOptions = {}): ResolvedMotionOptions {
  const delays = o.delays ?? 10;
  const r: ResolvedMotionOptions = {
    size: o.size ?? 32,
    directions: o.directions ?? 12,
    speeds: o.speeds ?? [100, 200, 400],
    stepUs: o.stepUs ?? 2000,
    segmentSteps: o.segmentSteps ?? 24,
    warmupSteps: o.warmupSteps ?? delays,
    kernelSize: o.kernelSize ?? 7,
    delays,
    stride: o.stride ?? 2,
    optimizer: o.optimizer ?? 'sgd',
    learningRate: o.learningRate ?? 0.05,
    biasInit: o.biasInit ?? -3,
    seed: o.seed ?? 1,
    contrast: o.contrast ?? 0.5,
    dvsThreshold: o.dvsThreshold ?? 0.3,
    noiseRateHz: o.noiseRateHz ?? 0,
    ...(o.prune ? { prune: o.prune } : {}),
    ...(o.homeostasis ? { homeostasis: o.homeostasis } : {}),
    ...(o.loss ? { loss: o.loss } : {}),
    ...(o.countTerm ? { countTerm: true } : {}),
  };
  if (r.warmupSteps >= r.segmentSteps) throw new RangeError(`motion-direction: warmupSteps (${r.warmupSteps}) must be below segmentSteps (${r.segmentSteps})`);
  if (r.kernelSize > r.size) throw new RangeError(`motion-direction: kernelSize ${r.kernelSize} exceeds the sensor (${r.size})`);
  return r;
}

// ---------------------------------------------------------------- classes

export interface MotionClass {
  readonly index: number;
  readonly direction_deg: number;
  readonly speed_px_s: number;
  readonly name: string;
}

/** The class table: index = directionIndex · speeds.length + speedIndex (the emulator's order). */
export interface MotionClasses {
  readonly count: number;
  readonly list: readonly MotionClass[];
  readonly names: readonly string[];
  /** Class of an emulator label; the direction is matched modulo 360° to the nearest grid direction. */
  indexOf(direction_deg: number, speed_px_s: number): number;
  of(index: number): MotionClass;
}

export function motionClasses(directions: number, speeds: readonly number[]): MotionClasses {
  if (!Number.isInteger(directions) || directions < 1) throw new RangeError(`motion classes: directions must be a positive integer, got ${directions}`);
  if (speeds.length === 0) throw new RangeError('motion classes: no speeds');
  const list: MotionClass[] = [];
  for (let d = 0; d < directions; d++) {
    const direction_deg = (360 * d) / directions;
    speeds.forEach((speed_px_s, s) => list.push({ index: d * speeds.length + s, direction_deg, speed_px_s, name: `${round(direction_deg)}deg@${speed_px_s}px/s` }));
  }
  const step = 360 / directions;
  return {
    count: list.length,
    list,
    names: list.map((c) => c.name),
    indexOf(direction_deg, speed_px_s) {
      const q = direction_deg / step;
      const d = Math.round(q);
      if (!Number.isFinite(q) || Math.abs(q - d) > 1e-6) throw new RangeError(`motion classes: direction ${direction_deg}° is not on the ${directions}-direction grid`);
      const s = speeds.indexOf(speed_px_s);
      if (s < 0) throw new RangeError(`motion classes: speed ${speed_px_s} px/s is not one of ${speeds.join(', ')}`);
      return (((d % directions) + directions) % directions) * speeds.length + s;
    },
    of(index) {
      const c = list[index];
      if (!c) throw new RangeError(`motion classes: class ${index} out of range [0, ${list.length})`);
      return c;
    },
  };
}

function round(x: number): string {
  return String(Math.round(x * 100) / 100);
}

// ---------------------------------------------------------------- network and emulator

export const INPUT = 'dvs';
export const OUTPUT = 'motion';
export const KERNEL = 'hd';
/** The per-class count term's projection (MotionDirectionOptions.countTerm). */
export const COUNT_TERM = 'hd-count';

/** Output map side: (size − K)/stride + 1, with the sensor cropped so the stride fits exactly. */
function outputSide(o: ResolvedMotionOptions): number {
  return Math.floor((o.size - o.kernelSize) / o.stride) + 1;
}

/** input [2, H, W] → conv (polarity × delay × K × K per class) → logistic [classes, OH, OW], readout with Adam. */
export function motionDirectionNetwork(options: MotionDirectionOptions = {}): NetworkSpec {
  const o = resolveMotionOptions(options);
  const classes = o.directions * o.speeds.length;
  const side = outputSide(o);
  const readout: ReadoutSpec = {
    rule: 'readout',
    projection: KERNEL,
    enabled: true,
    signal: 'label',
    optimizer: o.optimizer,
    learning_rate: o.learningRate,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    ...(o.prune ? { prune: o.prune } : {}),
    ...(o.loss ? { loss: o.loss } : {}),
  };
  return {
    version: 1,
    dt_ms: o.stepUs / 1000,
    seed: o.seed,
    populations: [
      { name: INPUT, model: 'input', size: 2 * o.size * o.size, shape: [2, o.size, o.size] },
      { name: OUTPUT, model: 'logistic', size: classes * side * side, shape: [classes, side, side], threshold: 0.5, bias_init: o.biasInit },
    ],
    projections: [
      { name: KERNEL, kind: 'conv', from: INPUT, to: OUTPUT, kernel_size: o.kernelSize, delays: o.delays, stride: o.stride, weight: { min: -0.01, max: 0.01 } },
      ...(o.countTerm ? [{ name: COUNT_TERM, kind: 'conv' as const, from: INPUT, to: OUTPUT, kernel_size: o.kernelSize, delays: o.delays, stride: o.stride, weight: 0, per_channel: true }] : []),
    ],
    plasticity: [readout],
    // Optional: the readout's bias already learns each class's base rate, so homeostasis here
    // regulates only the spike output (the class maps' detections), not the probabilities.
    homeostasis: o.homeostasis ? [{ controller: 'threshold', population: OUTPUT, target_hz: o.homeostasis.target_hz, timescales: [...o.homeostasis.timescales], enabled: true }] : [],
  };
}

/** The emulator for one seed: `segments` segments, every class once per round (balanced order). */
export function motionEmulatorConfig(options: MotionDirectionOptions, seed: number, segments: number): EmulatorConfig {
  const o = resolveMotionOptions(options);
  return {
    width: o.size,
    height: o.size,
    seed,
    stepUs: o.stepUs,
    dvs: { threshold: o.dvsThreshold, noiseRateHz: o.noiseRateHz },
    scene: { kind: 'texture', contrast: o.contrast },
    schedule: { kind: 'random', directions: o.directions, speeds: o.speeds, segmentUs: o.segmentSteps * o.stepUs, order: 'balanced', segments },
  };
}

// ---------------------------------------------------------------- driver

export interface MotionModel {
  readonly options: ResolvedMotionOptions;
  readonly backend: SnnBackend;
  readonly classes: MotionClasses;
  readonly net: Network;
  /** The shared kernel W[class][polarity][delay][ky][kx] (in the network's state). */
  readonly kernel: Float64Array;
  /** The count term's per-class weights m[class] (countTerm), else an empty array. */
  readonly count: Float64Array;
  readonly readout: ReadoutRuntime;
  readonly output: LogisticPopulationRuntime;
}

/** backend: the engine's (default the TypeScript reference; wasmBackend() gives the same numbers, faster). */
export function createMotionModel(options: MotionDirectionOptions = {}, backend: SnnBackend = cpuBackend): MotionModel {
  const o = resolveMotionOptions(options);
  const net = buildNetwork(motionDirectionNetwork(o), { backend });
  return {
    options: o,
    backend,
    classes: motionClasses(o.directions, o.speeds),
    net,
    kernel: (net.projection(KERNEL) as ConvProjectionRuntime).kernel.weight,
    count: o.countTerm ? (net.projection(COUNT_TERM) as ConvProjectionRuntime).kernel.weight : new Float64Array(0),
    readout: net.rules[0] as ReadoutRuntime,
    output: net.population(OUTPUT) as LogisticPopulationRuntime,
  };
}

export interface SegmentResult {
  readonly seed: number;
  readonly segment: number;
  readonly truth: number;
  readonly predicted: number;
}

export interface RunResult {
  readonly segments: readonly SegmentResult[];
  readonly correct: number;
  readonly accuracy: number;
  readonly steps: number;
  readonly inputSpikes: number;
  /** Labelled (position, step) pairs. */
  readonly labelled: number;
  readonly wallMs: number;
}

export interface RunOptions {
  /** Emulator seeds; each gives `rounds` × classes segments (a fresh texture and pixel mismatch per seed). */
  readonly seeds: readonly number[];
  /** Balanced rounds per seed (every class once per round). Default 1. */
  readonly rounds?: number;
  /** Train (labels given, readout on) or only score (learning off). */
  readonly learn: boolean;
  /** Label every n-th post-warm-up step only (neighbouring steps see nearly the same patches; saves the update's cost). Default 1. */
  readonly labelEvery?: number;
  /** Steps per segment for this run (default the model's). */
  readonly segmentSteps?: number;
  /** Segment vote over triggered positions and post-warm-up steps: Σ p ('p', default) or Σ log-odds ('logit'). */
  readonly vote?: 'p' | 'logit';
  /** Called after every segment. */
  readonly onSegment?: (r: SegmentResult, done: number, total: number) => void;
}

/**
 * Streams the seeds' emulators through the network one step per emulator step. Each segment is
 * scored (argmax over classes of Σ p over positions and post-warm-up steps) whether learning or not;
 * with `learn` the label is given to every post-warm-up step. Learning is switched to `learn`
 * for the run and left so.
 */
export function runMotion(model: MotionModel, run: RunOptions): RunResult {
  const { net, classes, output } = model;
  const o = run.segmentSteps === undefined ? model.options : resolveMotionOptions({ ...model.options, segmentSteps: run.segmentSteps });
  net.setLearning(run.learn);
  const nc = classes.count;
  const plane = output.size / nc;
  const side = o.size;
  // Trigger map: the stride × stride pixels at the centre of each output position's receptive
  // field (so every central pixel triggers exactly one position); the same map as triggeredLabels'.
  const positionAt = convCentres(side, side, o.kernelSize, o.stride).positionOf;
  // Targets: NaN (unlabelled) except at the positions triggered this step.
  const y = new Float64Array(output.size).fill(NaN);
  const triggered = new Int32Array(plane);
  const isTriggered = new Uint8Array(plane);
  const p = new Float64Array(output.size);
  const votes = new Float64Array(nc);
  const logit = run.vote === 'logit';
  const mark = new Uint8Array(2 * side * side);
  const spikes = new Int32Array(2 * side * side);
  const results: SegmentResult[] = [];
  const rounds = run.rounds ?? 1;
  const labelEvery = run.labelEvery ?? 1;
  const total = run.seeds.length * rounds * nc;
  let steps = 0;
  let inputSpikes = 0;
  let labelled = 0;
  const t0 = performance.now();
  for (const seed of run.seeds) {
    const emu = createEmulator(motionEmulatorConfig(o, seed, rounds * nc));
    let segStep = 0;
    for (let s = emu.step(); s; s = emu.step()) {
      if (s.startsSegment) {
        segStep = 0;
        votes.fill(0);
      }
      const pk = s.packet;
      let n = 0;
      let nt = 0;
      for (let k = 0; k < pk.length; k++) {
        const px = pk.y[k]! * side + pk.x[k]!;
        const i = pk.p[k]! * side * side + px;
        if (mark[i]) continue;
        mark[i] = 1;
        spikes[n++] = i;
        const q = positionAt[px]!;
        if (q >= 0 && !isTriggered[q]) {
          isTriggered[q] = 1;
          triggered[nt++] = q;
        }
      }
      for (let k = 0; k < n; k++) mark[spikes[k]!] = 0;
      inputSpikes += n;
      const truth = classes.indexOf(s.label.direction_deg, s.label.speed_px_s);
      const scored = segStep >= o.warmupSteps;
      const input = spikes.subarray(0, n);
      const learnNow = scored && run.learn && nt > 0 && (segStep - o.warmupSteps) % labelEvery === 0;
      if (learnNow) {
        for (let k = 0; k < nt; k++) for (let c = 0; c < nc; c++) y[c * plane + triggered[k]!] = c === truth ? 1 : 0;
        labelled += nt;
      }
      net.step(learnNow ? { spikes: { [INPUT]: input }, signals: { label: y } } : { spikes: { [INPUT]: input } });
      steps++;
      if (scored && nt > 0) {
        // The prediction for this step's arrivals at the triggered positions only.
        output.predict(p);
        for (let c = 0; c < nc; c++) {
          let sum = 0;
          for (let k = 0; k < nt; k++) {
            const j = c * plane + triggered[k]!;
            sum += logit ? Math.log(p[j]!) - Math.log1p(-p[j]!) : p[j]!;
          }
          votes[c] = votes[c]! + sum;
        }
      }
      for (let k = 0; k < nt; k++) {
        const q = triggered[k]!;
        isTriggered[q] = 0;
        if (learnNow) for (let c = 0; c < nc; c++) y[c * plane + q] = NaN;
      }
      segStep++;
      if (segStep === o.segmentSteps) {
        let best = 0;
        for (let c = 1; c < nc; c++) if (votes[c]! > votes[best]!) best = c;
        const r = { seed, segment: s.label.segment, truth, predicted: best };
        results.push(r);
        run.onSegment?.(r, results.length, total);
      }
    }
  }
  const correct = results.filter((r) => r.truth === r.predicted).length;
  return { segments: results, correct, accuracy: results.length ? correct / results.length : 0, steps, inputSpikes, labelled, wallMs: performance.now() - t0 };
}

/** Weights that are not zero: kernel entries (pruned ones are exactly zero) and count-term weights. */
export function nonZeroWeights(model: MotionModel): number {
  let n = 0;
  for (const w of model.kernel) if (w !== 0) n++;
  for (const w of model.count) if (w !== 0) n++;
  return n;
}

/**
 * Moves each class kernel's mean into the count term (countTerm): m_c += mean_c, W[c] −= mean_c. The
 * network computes the same activations (up to rounding), but the kernel now holds deviations from
 * the class mean, so magnitude pruning keeps the trajectory and leaves the dense part to m_c.
 * Refused once entries are pruned (a masked entry must stay zero).
 */
export function centreMotionKernel(model: MotionModel): void {
  if (!model.options.countTerm) throw new RangeError('centreMotionKernel: the model has no count term (countTerm option)');
  if (model.readout.mask.some((m) => m !== 0)) throw new RangeError('centreMotionKernel: the kernel is already pruned');
  const nc = model.classes.count;
  const block = model.kernel.length / nc;
  for (let c = 0; c < nc; c++) {
    const k = model.kernel.subarray(c * block, (c + 1) * block);
    let sum = 0;
    for (let i = 0; i < block; i++) sum += k[i]!;
    const mean = sum / block;
    for (let i = 0; i < block; i++) k[i] = k[i]! - mean;
    model.count[c] = model.count[c]! + mean;
  }
}

/**
 * Magnitude pruning after training: keeps the `keep` largest |w| of the kernel — over the whole
 * kernel, or (`perClass`) ⌊keep / classes⌋ in each class's own kernel, so no class loses its
 * filter outright — and masks the rest (zero for good, also under further learning).
 */
export function pruneMotionKernel(model: MotionModel, keep: number, perClass = false): void {
  if (!perClass) return pruneWeights(model.kernel, model.readout.mask, keep);
  const nc = model.classes.count;
  const block = model.kernel.length / nc;
  const each = Math.floor(keep / nc);
  for (let c = 0; c < nc; c++) pruneWeights(model.kernel.subarray(c * block, (c + 1) * block), model.readout.mask.subarray(c * block, (c + 1) * block), each);
}

/**
 * Polyak averaging of the trained parameters: `add()` after some training segments, `apply()` sets
 * the model to their mean. Online learning on segments of one label at a time drifts toward the
 * classes seen last; the mean over many segments cancels that drift.
 */
export function weightAverager(model: MotionModel): { add(): void; apply(): void; readonly count: number } {
  const w = new Float64Array(model.kernel.length);
  const b = new Float64Array(model.output.size);
  let count = 0;
  return {
    add() {
      for (let i = 0; i < w.length; i++) w[i] = w[i]! + model.kernel[i]!;
      const bias = model.output.state.bias;
      for (let i = 0; i < b.length; i++) b[i] = b[i]! + bias[i]!;
      count++;
    },
    apply() {
      if (count === 0) return;
      // Pruned entries stay exactly zero.
      for (let i = 0; i < w.length; i++) model.kernel[i] = model.readout.mask[i] ? 0 : w[i]! / count;
      const bias = model.output.state.bias;
      for (let i = 0; i < b.length; i++) bias[i] = b[i]! / count;
    },
    get count() {
      return count;
    },
  };
}

/** Saves / restores the trained parameters (kernel, biases, pruning mask) to try several prunings from one training. */
export function snapshotMotion(model: MotionModel): () => void {
  const w = model.kernel.slice();
  const b = model.output.state.bias.slice();
  const m = model.readout.mask.slice();
  const count = model.count.slice();
  return () => {
    model.kernel.set(w);
    model.output.state.bias.set(b);
    model.readout.mask.set(m);
    model.count.set(count);
  };
}

// ---------------------------------------------------------------- pipeline preset

const PRESET_PARAMS = ['size', 'directions', 'speeds', 'stepUs', 'kernelSize', 'delays', 'stride', 'optimizer', 'learningRate', 'biasInit', 'seed', 'prune', 'homeostasis', 'loss'] as const;

/**
 * The network as a pipeline preset (`network: { preset: 'motion-direction', params }`): params are
 * the MotionDirectionOptions that shape the network (checked here, unknown keys refused).
 * Input population 'dvs' ([2, size, size]), output 'motion' ([classes, OH, OW], class-major, so
 * decide's `classes` blocks are the class maps), readout signal 'label'.
 */
export function motionDirectionPreset(params: Readonly<Record<string, unknown>>): NetworkSpec {
  for (const k of Object.keys(params)) if (!(PRESET_PARAMS as readonly string[]).includes(k)) throw new RangeError(`${k}: unknown parameter (known: ${PRESET_PARAMS.join(', ')})`);
  const num = (k: string, integer: boolean): number | undefined => {
    const v = params[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && (!Number.isInteger(v) || v < 1))) throw new RangeError(`${k}: must be ${integer ? 'a positive integer' : 'a finite number'}, got ${JSON.stringify(v)}`);
    return v;
  };
  const speeds = params.speeds;
  if (speeds !== undefined && (!Array.isArray(speeds) || speeds.length === 0 || !speeds.every((v) => typeof v === 'number' && v >= 0))) throw new RangeError(`speeds: must be a non-empty array of px/s, got ${JSON.stringify(speeds)}`);
  const prune = params.prune as { keep?: unknown; every_steps?: unknown } | undefined;
  if (prune !== undefined && (typeof prune !== 'object' || prune === null || !Number.isInteger(prune.keep) || !Number.isInteger(prune.every_steps))) throw new RangeError(`prune: must be { keep, every_steps } (integers), got ${JSON.stringify(prune)}`);
  const o: Record<string, unknown> = {};
  for (const k of ['size', 'directions', 'stepUs', 'kernelSize', 'delays', 'stride', 'seed'] as const) o[k] = num(k, true);
  o.learningRate = num('learningRate', false);
  o.biasInit = num('biasInit', false);
  if (speeds !== undefined) o.speeds = speeds;
  if (params.optimizer !== undefined && params.optimizer !== 'sgd' && params.optimizer !== 'adam') throw new RangeError(`optimizer: must be 'sgd' or 'adam', got ${JSON.stringify(params.optimizer)}`);
  if (params.optimizer !== undefined) o.optimizer = params.optimizer;
  if (params.loss !== undefined && params.loss !== 'logistic' && params.loss !== 'softmax') throw new RangeError(`loss: must be 'logistic' or 'softmax', got ${JSON.stringify(params.loss)}`);
  if (params.loss !== undefined) o.loss = params.loss;
  if (prune !== undefined) o.prune = prune;
  // Checked field by field when the spec is validated (homeostasis[0].target_hz, .timescales).
  const h = params.homeostasis as { target_hz?: unknown; timescales?: unknown } | undefined;
  if (h !== undefined && (typeof h !== 'object' || h === null || !Array.isArray(h.timescales))) throw new RangeError(`homeostasis: must be { target_hz, timescales: [{ tau_ms, gain }, ...] }, got ${JSON.stringify(h)}`);
  if (h !== undefined) o.homeostasis = h;
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return motionDirectionNetwork(o as MotionDirectionOptions);
}

/**
 * Trains on the seeds one after another, then sets the model to the mean of its parameters after
 * each segment from the `averageFrom` fraction of the seeds on (Polyak averaging; 1 = no averaging).
 * Returns the per-seed runs.
 */
export function trainMotion(model: MotionModel, options: { readonly seeds: readonly number[]; readonly rounds?: number; readonly averageFrom?: number; readonly onSeed?: (seed: number, r: RunResult) => void }): RunResult[] {
  const avg = weightAverager(model);
  const from = Math.floor((options.averageFrom ?? 0.25) * options.seeds.length);
  const runs: RunResult[] = [];
  options.seeds.forEach((seed, k) => {
    const r = runMotion(model, { seeds: [seed], rounds: options.rounds ?? 1, learn: true, ...(k >= from ? { onSegment: () => avg.add() } : {}) });
    runs.push(r);
    options.onSeed?.(seed, r);
  });
  avg.apply();
  return runs;
}

// ---------------------------------------------------------------- gradual pruning

/** Copies the trained parameters (kernel, biases, pruning mask) of one model into another of the same shape. */
export function copyMotionParameters(from: MotionModel, to: MotionModel): void {
  if (from.kernel.length !== to.kernel.length || from.output.size !== to.output.size) throw new RangeError('motion-direction: models differ in shape');
  if (from.count.length !== to.count.length) throw new RangeError('motion-direction: one model has a count term, the other not');
  to.kernel.set(from.kernel);
  to.output.state.bias.set(from.output.state.bias);
  to.readout.mask.set(from.readout.mask);
  to.count.set(from.count);
}

/** Kernel entries kept after segment `done` of `total` in a gradual schedule from `from` down to `to` (cubic, Zhu & Gupta 2017). */
export function gradualKeep(from: number, to: number, done: number, total: number): number {
  const t = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  return Math.round(to + (from - to) * (1 - t) ** 3);
}

export interface GradualPruneOptions {
  /** Kernel entries kept at the end (⌊keep / classes⌋ per class with `perClass`). */
  readonly keep: number;
  /** Fine-tuning seeds (fresh ones: never the held-out seeds). */
  readonly seeds: readonly number[];
  /** Balanced rounds per seed. Default 2. */
  readonly rounds?: number;
  /** Fraction of the fine-tuning segments over which the kept count falls; the rest train at `keep`. Default 0.75. */
  readonly pruneFraction?: number;
  /** Prune each class's kernel to its own share (default true) or the whole kernel at once. */
  readonly perClass?: boolean;
  /** Learning rate of the fine-tune. Default 0.003 (the dense rate, 0.05, drifts too far with few weights). */
  readonly learningRate?: number;
  /** Polyak averaging over the segments at the final `keep` (default true). */
  readonly average?: boolean;
  readonly onSeed?: (seed: number, r: RunResult, kept: number) => void;
}

/**
 * Gradual magnitude pruning with fine-tuning (Zhu & Gupta 2017, "To prune, or not to prune"):
 * training goes on (with the mask, at a lower learning rate) on fresh seeds, and after each
 * segment the kernel is cut to its `gradualKeep` largest |w| (per class by default), from the
 * weights the kernel holds now down to `keep` over the first `pruneFraction` of the segments; the
 * remaining segments fine-tune the `keep` survivors, and the model is set to their mean (Polyak
 * averaging). Pruned weights stay masked (zero for good). The model is updated in place.
 */
export function pruneMotionGradually(model: MotionModel, options: GradualPruneOptions): RunResult[] {
  const lr = options.learningRate ?? 0.003;
  const perClass = options.perClass ?? true;
  const rounds = options.rounds ?? 2;
  const tuner = createMotionModel({ ...model.options, learningRate: lr }, model.backend);
  copyMotionParameters(model, tuner);
  const start = nonZeroWeights(tuner);
  const total = options.seeds.length * rounds * tuner.classes.count;
  const pruneEnd = Math.max(1, Math.floor(total * (options.pruneFraction ?? 0.75)));
  const avg = weightAverager(tuner);
  const average = options.average ?? true;
  let done = 0;
  const runs: RunResult[] = [];
  for (const seed of options.seeds) {
    const r = runMotion(tuner, {
      seeds: [seed],
      rounds,
      learn: true,
      onSegment: () => {
        done++;
        if (done <= pruneEnd) pruneMotionKernel(tuner, gradualKeep(start, options.keep, done, pruneEnd), perClass);
        else if (average) avg.add();
      },
    });
    runs.push(r);
    options.onSeed?.(seed, r, nonZeroWeights(tuner));
  }
  if (done <= pruneEnd) pruneMotionKernel(tuner, options.keep, perClass);
  avg.apply();
  copyMotionParameters(tuner, model);
  return runs;
}
