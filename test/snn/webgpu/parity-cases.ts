/**
 * Runs one WebGPU parity case in this process and prints one JSON line: the GPU (B batched
 * instances, several chunks in flight) against the CPU reference, one CPU network per instance.
 * Run by test/snn/webgpu.test.ts in a child process that has the software Vulkan adapter's
 * environment (LD_LIBRARY_PATH must be set before the process starts). Usage: parity-cases.ts NAME
 */
import { buildNetwork } from '../../../src/snn/network.js';
import { GpuNetwork } from '../../../src/snn/backends/webgpu/gpu-network.js';
import { Rng } from '../../../src/emulator/rng.js';
import { caseInputs, compareWithCpu, randomSparse, type BatchedCase } from '../batched-parity.js';

function makeCase(name: string): BatchedCase {
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
const gpu = await GpuNetwork.create(buildNetwork(c.spec), { instances: c.instances, chunkSteps: c.chunk });
const report = await compareWithCpu(c, gpu, caseInputs(c, name.length));
gpu.destroy();
console.log(JSON.stringify({ name, adapter: gpu.gpu.adapter, steps: c.steps, instances: c.instances, ...report }));
