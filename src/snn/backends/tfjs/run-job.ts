/** `spikeflow simulate --backend tfjs`: a simulation job (exchange format or full spec) through TensorFlow.js, one instance. */
import { buildNetwork } from '../../network.js';
import { EXCHANGE_NEURONS, EXCHANGE_SYNAPSES, type SimulationJob } from '../../exchange.js';
import { TfjsNetwork, type InstanceInput, type TfjsNetworkOptions } from './tfjs-network.js';

export async function runJobOnTfjs(
  job: SimulationJob,
  chunkSteps = 256,
  onProgress?: (done: number, total: number) => void,
  options: TfjsNetworkOptions = {},
): Promise<{ out: Record<string, unknown>; backend: string; skipped: readonly string[]; synapses: number }> {
  const net = buildNetwork(job.spec);
  const tfn = await TfjsNetwork.create(net, { ...options, instances: 1 });
  try {
    const outputs = job.spec.populations.filter((p) => p.model !== 'input').map((p) => p.name);
    const spikes = new Map<string, number[][]>(outputs.map((n) => [n, []]));
    for (let t0 = 0; t0 < job.steps; t0 += chunkSteps) {
      const n = Math.min(chunkSteps, job.steps - t0);
      const inputs: InstanceInput[][] = Array.from({ length: n }, (_, k) => [job.input.get(t0 + k) ?? {}]);
      const got = await tfn.runChunk(inputs);
      for (const name of outputs) for (let k = 0; k < n; k++) for (const j of got.get(name)![k]![0]!) spikes.get(name)!.push([t0 + k, j]);
      onProgress?.(t0 + n, job.steps);
    }
    const info = { backend: tfn.context.description, skipped: tfn.context.skipped, synapses: net.synapseCount };
    if (job.exchange) {
      const theta = await tfn.populationState(EXCHANGE_NEURONS, 'theta');
      return { ...info, out: { spikes: spikes.get(EXCHANGE_NEURONS), weights: Array.from(await tfn.weights(EXCHANGE_SYNAPSES)), theta: Array.from(theta) } };
    }
    const weights: Record<string, number[]> = {};
    for (const [name, p] of net.projections) if (p.table) weights[name] = Array.from(await tfn.weights(name));
    return { ...info, out: { spikes: Object.fromEntries(spikes), weights } };
  } finally {
    tfn.destroy();
  }
}
