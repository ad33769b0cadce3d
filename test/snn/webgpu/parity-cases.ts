/**
 * Runs one WebGPU parity case in this process and prints one JSON line: the GPU (B batched
 * instances, several chunks in flight) against the CPU reference, one CPU network per instance.
 * Run by test/snn/webgpu.test.ts in a child process that has the software Vulkan adapter's
 * environment (LD_LIBRARY_PATH must be set before the process starts). Usage: parity-cases.ts NAME
 */
import { buildNetwork } from '../../../src/snn/network.js';
import { GpuNetwork, type InstanceInput } from '../../../src/snn/backends/webgpu/gpu-network.js';
import type { LifPopulationRuntime } from '../../../src/snn/neurons/populations.js';
import { Rng } from '../../../src/emulator/rng.js';

interface Case {
  spec: Record<string, unknown>;
  instances: number;
  steps: number;
  chunk: number;
  inputRate: number;
  /** After this step, learning is switched off on both sides. */
  learningOffAt?: number;
}

function randomSparse(rng: Rng, name: string, from: string, to: string, nPre: number, nPost: number, count: number, maxDelay: number, weight: () => number) {
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

function makeCase(name: string): Case {
  const rng = new Rng(11, name.length);
  // Dyadic weights (multiples of 1/256) and power-of-two decays: exact in f32, f64 and fixed point alike.
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
      // Realistic constants: f32 on the GPU against f64 on the CPU, within rounding.
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

const name = process.argv[2]!;
const c = makeCase(name);
const rng = new Rng(99, name.length);
const input = (c.spec.populations as { name: string; model: string; size: number }[]).find((p) => p.model === 'input')!;
const inputs: InstanceInput[][] = Array.from({ length: c.steps }, () =>
  Array.from({ length: c.instances }, () => ({ [input.name]: Array.from({ length: input.size }, (_, i) => i).filter(() => rng.uniform() < c.inputRate) })),
);
const gpu = await GpuNetwork.create(buildNetwork(c.spec), { instances: c.instances, chunkSteps: c.chunk });
const outputs = (c.spec.populations as { name: string; model: string }[]).filter((p) => p.model !== 'input').map((p) => p.name);
const gpuSpikes = new Map<string, Int32Array[][]>(outputs.map((o) => [o, []]));
// Submit every chunk before awaiting any, so two are in flight and readback overlaps the GPU.
const chunks: Promise<void>[] = [];
for (let start = 0; start < c.steps; ) {
  // Chunks end early at learningOffAt, where learning is switched off between two submissions.
  const end = Math.min(c.steps, start + c.chunk, c.learningOffAt !== undefined && start < c.learningOffAt ? c.learningOffAt : Infinity);
  if (start === c.learningOffAt) gpu.setLearning(false);
  const t0 = start;
  chunks.push(gpu.runChunk(inputs.slice(t0, end)).then((got) => void outputs.forEach((o) => got.get(o)!.forEach((row, k) => (gpuSpikes.get(o)![t0 + k] = row)))));
  start = end;
}
await Promise.all(chunks);

const report = { name, adapter: gpu.gpu.adapter, steps: c.steps, instances: c.instances, identicalSteps: 0, comparedSteps: 0, cpuSpikes: 0, gpuSpikes: 0, maxWeightDiff: 0, maxVDiff: 0, weightsChangedOnCpu: 0, firstDiff: '' };
for (let b = 0; b < c.instances; b++) {
  const cpu = buildNetwork(c.spec);
  let weightsAtOff: Float64Array | undefined;
  for (let t = 0; t < c.steps; t++) {
    if (t === c.learningOffAt) {
      cpu.setLearning(false);
      weightsAtOff = cpu.projection('p').table!.weightsInUserOrder();
    }
    cpu.step({ spikes: inputs[t]![b]! });
    for (const o of outputs) {
      const a = [...cpu.spikes(o)].join(',');
      const g = [...gpuSpikes.get(o)![t]![b]!].join(',');
      report.comparedSteps++;
      report.cpuSpikes += cpu.spikes(o).length;
      report.gpuSpikes += gpuSpikes.get(o)![t]![b]!.length;
      if (a === g) report.identicalSteps++;
      else if (!report.firstDiff) report.firstDiff = `instance ${b}, step ${t}, ${o}: cpu [${a}] gpu [${g}]`;
    }
  }
  for (const [pname, p] of cpu.projections) {
    const w = p.table!.weightsInUserOrder();
    const gw = await gpu.weights(pname, b);
    w.forEach((x, s) => (report.maxWeightDiff = Math.max(report.maxWeightDiff, Math.abs(x - gw[s]!))));
    const initial = buildNetwork(c.spec).projection(pname).table!.weightsInUserOrder();
    report.weightsChangedOnCpu += w.filter((x, s) => x !== initial[s]).length;
    // Learning was off after learningOffAt: the GPU weights must equal the CPU weights at that point up to rounding, and the CPU's did not move.
    if (weightsAtOff) w.forEach((x, s) => { if (x !== weightsAtOff![s]) throw new Error('CPU weights moved after learning was switched off'); });
  }
  for (const o of outputs) {
    const v = (cpu.population(o) as LifPopulationRuntime).state.v;
    const gv = await gpu.populationState(o, 'v', b);
    v.forEach((x, j) => (report.maxVDiff = Math.max(report.maxVDiff, Math.abs(x - gv[j]!))));
  }
}
gpu.destroy();
console.log(JSON.stringify(report));
