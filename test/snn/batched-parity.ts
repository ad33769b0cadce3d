/**
 * Parity of a batched backend (WebGPU, tfjs) with the CPU reference: the same seeded cases, run
 * as B instances in chunks on the backend and one CPU network per instance, compared step by step
 * (spikes) and at the end (weights, membranes). Shared by test/snn/webgpu/parity-cases.ts and
 * test/snn/tfjs.test.ts.
 */
import { buildNetwork } from '../../src/snn/network.js';
import type { LifPopulationRuntime } from '../../src/snn/neurons/populations.js';
import type { ChunkSpikes, InstanceInput } from '../../src/snn/backends/batch-types.js';
import { Rng } from '../../src/emulator/rng.js';

export interface BatchedCase {
  readonly spec: Record<string, unknown>;
  readonly instances: number;
  readonly steps: number;
  readonly chunk: number;
  readonly inputRate: number;
  /** At this step learning is switched off on both sides, between two chunks. */
  readonly learningOffAt?: number;
}

/** What both batched backends offer. */
export interface BatchedRunner {
  runChunk(inputs: readonly (readonly InstanceInput[])[]): Promise<ChunkSpikes>;
  setLearning(enabled: boolean): void;
  weights(projection: string, instance: number): Promise<Float64Array>;
  populationState(population: string, field: 'v', instance: number): Promise<Float64Array>;
}

export interface ParityReport {
  identicalSteps: number;
  comparedSteps: number;
  cpuSpikes: number;
  backendSpikes: number;
  maxWeightDiff: number;
  maxVDiff: number;
  weightsChangedOnCpu: number;
  firstDiff: string;
}

export function randomSparse(rng: Rng, name: string, from: string, to: string, nPre: number, nPost: number, count: number, maxDelay: number, weight: () => number) {
  const pre: number[] = [];
  const post: number[] = [];
  const w: number[] = [];
  const d: number[] = [];
  for (let s = 0; s < count; s++) {
    pre.push(rng.int(nPre));
    post.push(rng.int(nPost));
    w.push(weight());
    d.push(rng.int(maxDelay + 1));
  }
  return { name, kind: 'sparse', from, to, pre, post, weight: w, delay_steps: d };
}

/**
 * The shared parity cases: 'exact-two-layers' (dyadic weights, decay 0.5: every sum exact in f32,
 * f64 and fixed point), 'stdp' (learning switched off between chunks) and 'float' (realistic
 * constants). A backend's test may extend a case's spec.
 */
export function parityCase(name: string): BatchedCase {
  const rng = new Rng(11, name.length);
  const dyadic = () => (rng.int(112) - 16) / 256;
  switch (name) {
    case 'exact-two-layers':
      return {
        instances: 4,
        steps: 60,
        chunk: 16,
        inputRate: 0.25,
        spec: {
          dt_ms: 1,
          populations: [
            { name: 'in', model: 'input', size: 48 },
            { name: 'hidden', model: 'alif', size: 24, decay: 0.5, v_th: 1, refractory_steps: 2, adaptation: { decay: 0.5, plus: 0.25 } },
            { name: 'out', model: 'lif', size: 8, decay: 0.5, v_th: 1, reset: 'subtract' },
          ],
          projections: [randomSparse(rng, 'in->hidden', 'in', 'hidden', 48, 24, 500, 5, dyadic), randomSparse(rng, 'hidden->out', 'hidden', 'out', 24, 8, 120, 3, () => (rng.int(160) + 32) / 256)],
        },
      };
    case 'stdp':
      return {
        instances: 3,
        steps: 70,
        chunk: 20,
        inputRate: 0.3,
        learningOffAt: 50,
        spec: {
          dt_ms: 1,
          populations: [
            { name: 'in', model: 'input', size: 40 },
            { name: 'out', model: 'lif', size: 12, decay: 0.5, v_th: 1 },
          ],
          projections: [randomSparse(rng, 'p', 'in', 'out', 40, 12, 300, 6, () => rng.int(96) / 256)],
          plasticity: [{ rule: 'stdp', projection: 'p', decay_pre: 0.5, decay_post: 0.5, a_pre: 1 / 64, a_post: -1 / 64, w_min: 0, w_max: 0.5 }],
        },
      };
    case 'float':
      // Realistic constants: the backend's f32 against the CPU's f64, within rounding.
      return {
        instances: 2,
        steps: 80,
        chunk: 40,
        inputRate: 0.2,
        spec: {
          dt_ms: 1,
          populations: [
            { name: 'in', model: 'input', size: 60 },
            { name: 'out', model: 'alif', size: 16, tau_ms: 20, v_th: 1, adaptation: { tau_ms: 80, plus: 0.1 } },
          ],
          projections: [randomSparse(rng, 'p', 'in', 'out', 60, 16, 500, 10, () => 0.05 + rng.uniform() * 0.3)],
          plasticity: [{ rule: 'stdp', projection: 'p', tau_pre_ms: 20, tau_post_ms: 20, a_pre: 0.01, a_post: -0.0105, w_min: 0, w_max: 0.4, mode: 'multiplicative' }],
        },
      };
    default:
      throw new Error(`unknown case '${name}'`);
  }
}

/** Seeded input spikes for every step and instance of a case. */
export function caseInputs(c: BatchedCase, seed: number): InstanceInput[][] {
  const rng = new Rng(99, seed);
  const input = (c.spec.populations as { name: string; model: string; size: number }[]).find((p) => p.model === 'input')!;
  return Array.from({ length: c.steps }, () =>
    Array.from({ length: c.instances }, () => ({ [input.name]: Array.from({ length: input.size }, (_, i) => i).filter(() => rng.uniform() < c.inputRate) })),
  );
}

/** Runs the case on the backend (every chunk submitted before any is awaited) and on the CPU, and compares. */
export async function compareWithCpu(c: BatchedCase, runner: BatchedRunner, inputs: InstanceInput[][]): Promise<ParityReport> {
  const outputs = (c.spec.populations as { name: string; model: string }[]).filter((p) => p.model !== 'input').map((p) => p.name);
  const got = new Map<string, Int32Array[][]>(outputs.map((o) => [o, []]));
  const chunks: Promise<void>[] = [];
  for (let start = 0; start < c.steps; ) {
    const end = Math.min(c.steps, start + c.chunk, c.learningOffAt !== undefined && start < c.learningOffAt ? c.learningOffAt : Infinity);
    if (start === c.learningOffAt) runner.setLearning(false);
    const t0 = start;
    chunks.push(runner.runChunk(inputs.slice(t0, end)).then((r) => void outputs.forEach((o) => r.get(o)!.forEach((row, k) => (got.get(o)![t0 + k] = row)))));
    start = end;
  }
  await Promise.all(chunks);
  const report: ParityReport = { identicalSteps: 0, comparedSteps: 0, cpuSpikes: 0, backendSpikes: 0, maxWeightDiff: 0, maxVDiff: 0, weightsChangedOnCpu: 0, firstDiff: '' };
  for (let b = 0; b < c.instances; b++) {
    const cpu = buildNetwork(c.spec);
    let weightsAtOff: Float64Array[] | undefined;
    for (let t = 0; t < c.steps; t++) {
      if (t === c.learningOffAt) {
        cpu.setLearning(false);
        weightsAtOff = [...cpu.projections.values()].map((p) => p.table!.weightsInUserOrder());
      }
      cpu.step({ spikes: inputs[t]![b]! });
      for (const o of outputs) {
        const a = [...cpu.spikes(o)].join(',');
        const g = [...got.get(o)![t]![b]!].join(',');
        report.comparedSteps++;
        report.cpuSpikes += cpu.spikes(o).length;
        report.backendSpikes += got.get(o)![t]![b]!.length;
        if (a === g) report.identicalSteps++;
        else if (!report.firstDiff) report.firstDiff = `instance ${b}, step ${t}, ${o}: cpu [${a}] backend [${g}]`;
      }
    }
    let k = 0;
    for (const [pname, p] of cpu.projections) {
      const w = p.table!.weightsInUserOrder();
      const gw = await runner.weights(pname, b);
      w.forEach((x, s) => (report.maxWeightDiff = Math.max(report.maxWeightDiff, Math.abs(x - gw[s]!))));
      const initial = buildNetwork(c.spec).projection(pname).table!.weightsInUserOrder();
      report.weightsChangedOnCpu += w.filter((x, s) => x !== initial[s]).length;
      // With learning off, the CPU's own weights must not move either.
      if (weightsAtOff) w.forEach((x, s) => { if (x !== weightsAtOff![k]![s]) throw new Error('CPU weights moved after learning was switched off'); });
      k++;
    }
    for (const o of outputs) {
      const v = (cpu.population(o) as LifPopulationRuntime).state.v;
      const gv = await runner.populationState(o, 'v', b);
      v.forEach((x, j) => (report.maxVDiff = Math.max(report.maxVDiff, Math.abs(x - gv[j]!))));
    }
  }
  return report;
}
