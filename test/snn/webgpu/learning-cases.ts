/**
 * Homeostasis and supervised-readout cases of the WebGPU backend against the CPU reference; prints
 * one JSON line. Run by test/snn/webgpu-learning.test.ts in a child process with the software Vulkan
 * adapter's environment. Each case stays under ~600 dispatches (lavapipe's long-run instability).
 * Usage: learning-cases.ts homeo-threshold | homeo-scaling | readout-adam | readout-sgd | readout-prune
 */
import { buildNetwork, type Network } from '../../../src/snn/network.js';
import { GpuNetwork, type InstanceInput, type StepSignals } from '../../../src/snn/backends/webgpu/gpu-network.js';
import type { LifPopulationRuntime } from '../../../src/snn/neurons/populations.js';
import type { LogisticPopulationRuntime } from '../../../src/snn/neurons/logistic.js';
import type { HomeostasisRuntime } from '../../../src/snn/homeostasis/controllers.js';
import { Rng } from '../../../src/emulator/rng.js';
import { randomSparse } from '../batched-parity.js';

interface Case {
  spec: Record<string, unknown>;
  instances: number;
  steps: number;
  chunk: number;
  inputs: InstanceInput[][];
  signals?: StepSignals[][];
  /** From this step on learning is off on both sides (switched between two chunks). */
  learningOffAt?: number;
  /** From this step on homeostasis is off on both sides. */
  homeoOffAt?: number;
  maxDelay?: number;
}

const name = process.argv[2]!;

function homeoCase(controller: 'threshold' | 'scaling'): Case {
  const rng = new Rng(5, 1);
  const instances = 2;
  const steps = 80;
  const ir = new Rng(9, 2);
  // Driven at ~70 Hz against a 20 Hz target, with dt = 5 ms so the rate moves within 80 steps.
  const inputs = Array.from({ length: steps }, () => Array.from({ length: instances }, () => ({ in: Array.from({ length: 40 }, (_, i) => i).filter(() => ir.uniform() < 0.3) })));
  return {
    instances,
    steps,
    chunk: 20,
    inputs,
    ...(controller === 'scaling' ? { homeoOffAt: 60 } : {}),
    spec: {
      dt_ms: 5,
      populations: [
        { name: 'in', model: 'input', size: 40 },
        { name: 'out', model: 'lif', size: 16, tau_ms: 20, v_th: 1 },
      ],
      projections: [randomSparse(rng, 'p', 'in', 'out', 40, 16, 400, 3, () => 0.1 + rng.uniform() * 0.25)],
      homeostasis: [{ controller, population: 'out', target_hz: 20, timescales: [{ tau_ms: 50, gain: 0.4 }, { tau_ms: 250, gain: 0.2 }] }],
    },
  };
}

/**
 * A separable toy task: each step of each instance has a class c ∈ {0, 1}; input neurons of block c
 * fire with p = 0.5, the others with p = 0.05. A logistic readout (2 units, dense, delay 0) learns
 * the class from the arrivals; every 4th step unit 0's target is NaN (unlabelled). Learning stops
 * for the last 20 steps, which are scored. With maxDelay > 0 synapses get delays 0…maxDelay and the
 * class holds for blocks of 8 steps; only steps whose arrivals all come from one class are scored.
 */
function readoutCase(optimizer: 'adam' | 'sgd', maxDelay: number, prune?: { keep: number; every_steps: number }): Case {
  const instances = 2;
  const steps = 80;
  const N = 20;
  const rng = new Rng(21, optimizer.length);
  const block = maxDelay > 0 ? 8 : 1;
  const blocks = Array.from({ length: steps / block }, () => Array.from({ length: instances }, () => rng.int(2)));
  const classes = Array.from({ length: steps }, (_, t) => blocks[Math.floor(t / block)]!);
  const inputs = classes.map((row) => row.map((c) => ({ in: Array.from({ length: N }, (_, i) => i).filter((i) => rng.uniform() < (Math.floor(i / (N / 2)) === c ? 0.5 : 0.05)) })));
  const signals = classes.map((row, t) => row.map((c): StepSignals => ({ label: t % 4 === 3 ? [Number.NaN, c === 1 ? 1 : 0] : c })));
  const wr = new Rng(3, 4);
  return {
    instances,
    steps,
    chunk: 20,
    inputs,
    signals,
    learningOffAt: maxDelay > 0 ? 48 : 60,
    maxDelay,
    spec: {
      dt_ms: 1,
      populations: [
        { name: 'in', model: 'input', size: N },
        { name: 'out', model: 'logistic', size: 2, threshold: 0.5, bias_init: 0.1 },
      ],
      projections: [{ name: 'ro', kind: 'dense', from: 'in', to: 'out', weight: Array.from({ length: 2 * N }, () => (wr.uniform() - 0.5) * 0.1), delay_steps: Array.from({ length: 2 * N }, () => wr.int(maxDelay + 1)) }],
      plasticity: [{ rule: 'readout', projection: 'ro', signal: 'label', optimizer, learning_rate: optimizer === 'adam' ? 0.05 : 0.1, ...(prune ? { prune } : {}) }],
    },
  };
}

const c: Case = name === 'homeo-threshold' ? homeoCase('threshold') : name === 'homeo-scaling' ? homeoCase('scaling') : name === 'readout-adam' ? readoutCase('adam', 0) : name === 'readout-sgd' ? readoutCase('sgd', 2) : name === 'readout-prune' ? readoutCase('adam', 0, { keep: 16, every_steps: 20 }) : (() => { throw new Error(`unknown case '${name}'`); })();
const outPop = (c.spec.populations as { name: string; model: string }[]).find((p) => p.model !== 'input')!.name;
const proj = (c.spec.projections as { name: string }[])[0]!.name;

// GPU: every chunk submitted before any is awaited (two in flight at a time inside the runner).
const gpu = await GpuNetwork.create(buildNetwork(c.spec), { instances: c.instances, chunkSteps: c.chunk });
const got: Int32Array[][] = [];
const pending: Promise<void>[] = [];
for (let start = 0; start < c.steps; ) {
  const end = Math.min(c.steps, start + c.chunk, c.learningOffAt !== undefined && start < c.learningOffAt ? c.learningOffAt : Infinity, c.homeoOffAt !== undefined && start < c.homeoOffAt ? c.homeoOffAt : Infinity);
  if (start === c.learningOffAt) gpu.setLearning(false);
  if (start === c.homeoOffAt) gpu.setHomeostasis(false);
  const t0 = start;
  pending.push(gpu.runChunk(c.inputs.slice(t0, end), c.signals?.slice(t0, end)).then((r) => void r.get(outPop)!.forEach((row, k) => (got[t0 + k] = row))));
  start = end;
}
await Promise.all(pending);

const report = {
  name,
  adapter: gpu.gpu.adapter,
  identicalSteps: 0,
  comparedSteps: 0,
  cpuSpikes: 0,
  gpuSpikes: 0,
  firstDiff: '',
  maxWeightDiff: 0,
  weightsChangedOnCpu: 0,
  maxOffsetDiff: 0,
  maxOffset: 0,
  maxRateDiff: 0,
  maxBiasDiff: 0,
  /** Population rate (Hz) over the first and the last 20 steps, per side (instances pooled). */
  rateFirst: { cpu: 0, gpu: 0 },
  rateLast: { cpu: 0, gpu: 0 },
  /** Readout: fraction of scored steps (learning off) whose class the readout got right, per side. */
  accuracy: { cpu: 0, gpu: 0 },
  /** The same over the first 20 steps (before it learnt). */
  accuracyFirst: { cpu: 0, gpu: 0 },
  /** Homeostasis switched off: CPU weights that still moved afterwards. */
  movedAfterHomeoOff: 0,
  badLabel: '',
  /** Weights at exactly zero at the end (pruned), per side, and synapses zero on one side only. */
  zeroWeights: { cpu: 0, gpu: 0, differ: 0 },
};
const nOut = (c.spec.populations as { name: string; size: number }[]).find((p) => p.name === outPop)!.size;
const dtS = (c.spec.dt_ms as number) / 1000;
const window = (sp: (t: number) => Int32Array, a: number, b: number) => {
  let n = 0;
  for (let t = a; t < b; t++) n += sp(t).length;
  return n;
};
/** Step t's arrivals decide step t + 1's spikes: right when exactly unit c spikes. */
const correct = (sp: (t: number) => Int32Array, t: number, cls: number) => {
  const s = sp(t + 1);
  return s.length === 1 && s[0] === cls ? 1 : 0;
};
let scored = 0;
let scoredFirst = 0;
/** Every arrival of step t comes from inputs of step t's class. */
const pure = (b: number, t: number) => {
  for (let d = 1; d <= (c.maxDelay ?? 0); d++) if (t - d < 0 || c.signals![t - d]![b]!.label !== c.signals![t]![b]!.label) return false;
  return true;
};
const classOf = (b: number, t: number) => {
  const cls = c.signals![t]![b]!.label!;
  return typeof cls === 'number' ? cls : cls[1]!;
};
for (let b = 0; b < c.instances; b++) {
  const cpu: Network = buildNetwork(c.spec);
  const initial = cpu.projection(proj).table!.weightsInUserOrder();
  const cpuSpikes: Int32Array[] = [];
  let atHomeoOff: Float64Array | undefined;
  for (let t = 0; t < c.steps; t++) {
    if (t === c.learningOffAt) cpu.setLearning(false);
    if (t === c.homeoOffAt) {
      cpu.setHomeostasis(false);
      atHomeoOff = cpu.projection(proj).table!.weightsInUserOrder();
    }
    cpu.step({ spikes: c.inputs[t]![b]!, ...(c.signals ? { signals: c.signals[t]![b]! } : {}) });
    cpuSpikes.push(cpu.spikes(outPop).slice());
    const a = [...cpuSpikes[t]!].join(',');
    const g = [...got[t]![b]!].join(',');
    report.comparedSteps++;
    report.cpuSpikes += cpuSpikes[t]!.length;
    report.gpuSpikes += got[t]![b]!.length;
    if (a === g) report.identicalSteps++;
    else if (!report.firstDiff) report.firstDiff = `instance ${b}, step ${t}: cpu [${a}] gpu [${g}]`;
  }
  const w = cpu.projection(proj).table!.weightsInUserOrder();
  const gw = await gpu.weights(proj, b);
  w.forEach((x, s) => {
    if (x === 0) report.zeroWeights.cpu++;
    if (gw[s] === 0) report.zeroWeights.gpu++;
    if ((x === 0) !== (gw[s] === 0)) report.zeroWeights.differ++;
    if (atHomeoOff && x !== atHomeoOff[s]) report.movedAfterHomeoOff++;
    report.maxWeightDiff = Math.max(report.maxWeightDiff, Math.abs(x - gw[s]!));
    if (x !== initial[s]) report.weightsChangedOnCpu++;
  });
  const cs = (t: number) => cpuSpikes[t]!;
  const gs = (t: number) => got[t]![b]!;
  for (const [side, sp] of [['cpu', cs], ['gpu', gs]] as const) {
    report.rateFirst[side] += window(sp, 0, 20) / (20 * nOut * dtS * c.instances);
    report.rateLast[side] += window(sp, c.steps - 20, c.steps) / (20 * nOut * dtS * c.instances);
  }
  const pop = cpu.population(outPop);
  if ('state' in pop && 'offset' in (pop as LifPopulationRuntime).state) {
    const off = (pop as LifPopulationRuntime).state.offset;
    const goff = await gpu.populationState(outPop, 'offset', b);
    off.forEach((x, j) => {
      report.maxOffsetDiff = Math.max(report.maxOffsetDiff, Math.abs(x - goff[j]!));
      report.maxOffset = Math.max(report.maxOffset, Math.abs(x));
    });
    const est = (cpu.controllers[0] as HomeostasisRuntime).estimator;
    for (let k = 0; k < est.timescales; k++) {
      const gr = await gpu.homeostasisRates(0, k, b);
      gr.forEach((x, j) => (report.maxRateDiff = Math.max(report.maxRateDiff, Math.abs(x - est.rate(k, j)))));
    }
  }
  if (c.signals) {
    const bias = (pop as LogisticPopulationRuntime).state.bias;
    const gb = await gpu.populationState(outPop, 'bias', b);
    bias.forEach((x, j) => (report.maxBiasDiff = Math.max(report.maxBiasDiff, Math.abs(x - gb[j]!))));
    for (let t = c.learningOffAt!; t < c.steps - 1; t++) {
      if (!pure(b, t)) continue;
      report.accuracy.cpu += correct(cs, t, classOf(b, t));
      report.accuracy.gpu += correct(gs, t, classOf(b, t));
      scored++;
    }
    for (let t = 0; t < c.steps - c.learningOffAt! - 1; t++) {
      if (!pure(b, t)) continue;
      report.accuracyFirst.cpu += correct(cs, t, classOf(b, t));
      report.accuracyFirst.gpu += correct(gs, t, classOf(b, t));
      scoredFirst++;
    }
  }
}
if (scored) {
  report.accuracy.cpu /= scored;
  report.accuracy.gpu /= scored;
  report.accuracyFirst.cpu /= scoredFirst;
  report.accuracyFirst.gpu /= scoredFirst;
}
if (c.signals) {
  // A bad label is refused when the chunk is asked for, before anything is queued: the step count stays.
  const at = gpu.t;
  try {
    void gpu.runChunk([c.inputs[0]!], [Array.from({ length: c.instances }, () => ({ label: 7 }))]);
    report.badLabel = 'accepted';
  } catch (e) {
    report.badLabel = `${(e as Error).message} (t ${at} → ${gpu.t})`;
  }
}
gpu.destroy();
console.log(JSON.stringify(report));
