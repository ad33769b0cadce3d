/** `spikeflow simulate --backend webgpu`: a simulation job (exchange format or full spec) on the GPU, one instance. */
import { buildNetwork } from '../../network.js';
import { EXCHANGE_NEURONS, EXCHANGE_SYNAPSES, type SimulationJob } from '../../exchange.js';
import { GpuNetwork, type InstanceInput } from './gpu-network.js';

export async function runJobOnGpu(job: SimulationJob, chunkSteps = 64, onProgress?: (done: number, total: number) => void): Promise<{ out: Record<string, unknown>; adapter: string; synapses: number }> {
  const net = buildNetwork(job.spec);
  const gpu = await GpuNetwork.create(net, { instances: 1, chunkSteps });
  try {
    const outputs = job.spec.populations.filter((p) => p.model !== 'input').map((p) => p.name);
    const spikes = new Map<string, number[][]>(outputs.map((n) => [n, []]));
    const chunks: Promise<void>[] = [];
    for (let t0 = 0; t0 < job.steps; t0 += chunkSteps) {
      const n = Math.min(chunkSteps, job.steps - t0);
      const inputs: InstanceInput[][] = Array.from({ length: n }, (_, k) => [job.input.get(t0 + k) ?? {}]);
      // Two chunks in flight: the GPU runs one while the last one's spikes are read back.
      if (chunks.length >= 2) await chunks[chunks.length - 2];
      chunks.push(
        gpu.runChunk(inputs).then((got) => {
          for (const name of outputs) for (let k = 0; k < n; k++) for (const j of got.get(name)![k]![0]!) spikes.get(name)!.push([t0 + k, j]);
          onProgress?.(t0 + n, job.steps);
        }),
      );
    }
    await Promise.all(chunks);
    for (const list of spikes.values()) list.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    if (job.exchange) {
      const theta = await gpu.populationState(EXCHANGE_NEURONS, 'theta');
      return {
        adapter: gpu.gpu.adapter,
        synapses: net.synapseCount,
        out: { spikes: spikes.get(EXCHANGE_NEURONS), weights: Array.from(await gpu.weights(EXCHANGE_SYNAPSES)), theta: Array.from(theta) },
      };
    }
    const weights: Record<string, number[]> = {};
    for (const [name, p] of net.projections) if (p.table) weights[name] = Array.from(await gpu.weights(name));
    return { adapter: gpu.gpu.adapter, synapses: net.synapseCount, out: { spikes: Object.fromEntries(spikes), weights } };
  } finally {
    gpu.destroy();
  }
}
