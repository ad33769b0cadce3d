/**
 * Runs one WebGPU parity case in this process and prints one JSON line: the GPU (B batched
 * instances, several chunks in flight) against the CPU reference, one CPU network per instance.
 * Run by test/snn/webgpu.test.ts in a child process that has the software Vulkan adapter's
 * environment (LD_LIBRARY_PATH must be set before the process starts). Usage: parity-cases.ts NAME
 */
import { buildNetwork } from '../../../src/snn/network.js';
import { GpuNetwork } from '../../../src/snn/backends/webgpu/gpu-network.js';
import { caseInputs, compareWithCpu, parityCase } from '../batched-parity.js';

const name = process.argv[2]!;
const c = parityCase(name);
const gpu = await GpuNetwork.create(buildNetwork(c.spec), { instances: c.instances, chunkSteps: c.chunk });
const report = await compareWithCpu(c, gpu, caseInputs(c, name.length));
gpu.destroy();
console.log(JSON.stringify({ name, adapter: gpu.gpu.adapter, steps: c.steps, instances: c.instances, ...report }));
