/**
 * The simulator exchange format: one input group → one LIF group, so any simulator (Brian2 in our
 * tests) can be compared with ours on the same files. See README "Comparing with other simulators".
 *
 *   NET.json    {"dt_ms", "steps", "inputs", "neurons": {"count", "decay", "v_th", "v_reset",
 *                "threshold_adaptation"?: {"decay", "plus"}}, "synapses": {"pre", "post", "weight",
 *                "delay_steps", "stdp"?: {"decay_pre", "decay_post", "a_pre", "a_post", "w_min", "w_max"}}}
 *   SPIKES.json {"spikes": [[step, input_index], ...]}
 *   OUT.json    {"spikes": [[step, neuron], ...], "weights": [... in synapse order], "theta": [... per neuron]}
 *
 * Membranes and thresholds θ start at 0, as Brian2 state variables do.
 *
 * A full network spec (with "populations") is accepted too; then SPIKES.json maps input population
 * names to [[step, index], ...] (a bare list goes to the only input population), and OUT.json holds
 * spikes per population and weights per projection.
 */
import type { NetworkSpec } from './spec.js';
import { SpecError, array, decayFactor, finiteNumber, nonNegativeInteger, noUnknownKeys, positiveInteger, positiveNumber, record } from './spec-error.js';
import { validateSpec } from './validate.js';
import { buildNetwork, type BuildOptions, type Network } from './network.js';
import type { LifPopulationRuntime } from './neurons/populations.js';

export const EXCHANGE_INPUT = 'input';
export const EXCHANGE_NEURONS = 'neurons';
export const EXCHANGE_SYNAPSES = 'synapses';

export interface SimulationJob {
  readonly spec: NetworkSpec;
  readonly steps: number;
  /** Input spikes per step index, per input population. */
  readonly input: Map<number, Record<string, number[]>>;
  readonly exchange: boolean;
}

/** NET.json of the exchange format → a network spec. */
export function specFromExchange(raw: unknown): { spec: NetworkSpec; steps: number } {
  const o = record(raw, 'net');
  noUnknownKeys(o, ['dt_ms', 'steps', 'inputs', 'neurons', 'synapses'], 'net');
  const steps = nonNegativeInteger(o.steps, 'steps');
  const inputs = positiveInteger(o.inputs, 'inputs');
  const n = record(o.neurons, 'neurons');
  noUnknownKeys(n, ['count', 'decay', 'v_th', 'v_reset', 'threshold_adaptation'], 'neurons');
  const s = record(o.synapses, 'synapses');
  noUnknownKeys(s, ['pre', 'post', 'weight', 'delay_steps', 'stdp'], 'synapses');
  const adapt = n.threshold_adaptation === undefined ? undefined : record(n.threshold_adaptation, 'neurons.threshold_adaptation');
  if (adapt) noUnknownKeys(adapt, ['decay', 'plus'], 'neurons.threshold_adaptation');
  const stdp = s.stdp === undefined ? undefined : record(s.stdp, 'synapses.stdp');
  if (stdp) noUnknownKeys(stdp, ['decay_pre', 'decay_post', 'a_pre', 'a_post', 'w_min', 'w_max'], 'synapses.stdp');
  const spec = {
    dt_ms: positiveNumber(o.dt_ms, 'dt_ms'),
    populations: [
      { name: EXCHANGE_INPUT, model: 'input', size: inputs },
      {
        name: EXCHANGE_NEURONS,
        model: adapt ? 'alif' : 'lif',
        size: positiveInteger(n.count, 'neurons.count'),
        decay: decayFactor(n.decay, 'neurons.decay'),
        v_th: finiteNumber(n.v_th, 'neurons.v_th'),
        v_reset: finiteNumber(n.v_reset, 'neurons.v_reset'),
        v_init: 0, // Brian2's initial value for a state variable
        ...(adapt ? { adaptation: { decay: decayFactor(adapt.decay, 'neurons.threshold_adaptation.decay'), plus: finiteNumber(adapt.plus, 'neurons.threshold_adaptation.plus') } } : {}),
      },
    ],
    projections: [{ name: EXCHANGE_SYNAPSES, kind: 'sparse', from: EXCHANGE_INPUT, to: EXCHANGE_NEURONS, pre: s.pre, post: s.post, weight: s.weight, delay_steps: s.delay_steps }],
    plasticity: stdp ? [{ rule: 'stdp', projection: EXCHANGE_SYNAPSES, ...stdp }] : [],
  };
  try {
    return { spec: validateSpec(spec), steps };
  } catch (e) {
    throw e instanceof SpecError ? new SpecError(exchangeField(e.field), e.message.slice(e.field.length + 2)) : e;
  }
}

/** Maps a field of the generated spec back to the exchange file's own field name. */
function exchangeField(f: string): string {
  return f
    .replace(/^populations\[0\]\./, '')
    .replace(/^populations\[1\]\.adaptation\./, 'neurons.threshold_adaptation.')
    .replace(/^populations\[1\]\./, 'neurons.')
    .replace(/^projections\[0\]\./, 'synapses.')
    .replace(/^plasticity\[0\]\./, 'synapses.stdp.');
}

/** SPIKES.json → spikes by step; `where` names the file in errors. */
export function parseSpikes(raw: unknown, spec: NetworkSpec, steps: number): Map<number, Record<string, number[]>> {
  const o = record(raw, 'spikes file');
  const inputs = spec.populations.filter((p) => p.model === 'input');
  const lists: [string, unknown][] = Array.isArray(o.spikes)
    ? inputs.length === 1
      ? [[inputs[0]!.name, o.spikes]]
      : bad('spikes', `a bare list needs exactly one input population; this network has ${inputs.length}`)
    : Object.entries(record(o.spikes, 'spikes'));
  const byStep = new Map<number, Record<string, number[]>>();
  for (const [name, list] of lists) {
    const pop = inputs.find((p) => p.name === name) ?? bad(`spikes.${name}`, `no input population named '${name}'`);
    const field = Array.isArray(o.spikes) ? 'spikes' : `spikes.${name}`;
    array(list, field).forEach((pair, k) => {
      const pf = `${field}[${k}]`;
      const pr = array(pair, pf);
      if (pr.length !== 2) throw new SpecError(pf, `must be [step, index], got ${pr.length} entries`);
      const step = nonNegativeInteger(pr[0], `${pf}[0]`);
      const idx = nonNegativeInteger(pr[1], `${pf}[1]`);
      if (step >= steps) throw new SpecError(`${pf}[0]`, `step ${step} is not below steps (${steps})`);
      if (idx >= pop.size) throw new SpecError(`${pf}[1]`, `index ${idx} out of range (input '${name}' has ${pop.size})`);
      let rec = byStep.get(step);
      if (!rec) byStep.set(step, (rec = {}));
      (rec[name] ??= []).push(idx);
    });
  }
  return byStep;
}

export function jobFrom(netRaw: unknown, spikesRaw: unknown, stepsOverride?: number): SimulationJob {
  const r = record(netRaw, 'net');
  let spec: NetworkSpec;
  let steps: number;
  const exchange = r.populations === undefined;
  if (exchange) {
    ({ spec, steps } = specFromExchange(r));
    if (stepsOverride !== undefined) steps = stepsOverride;
  } else {
    spec = validateSpec(r);
    if (stepsOverride === undefined) throw new SpecError('steps', 'a full network spec needs --steps N');
    steps = stepsOverride;
  }
  return { spec, steps, input: parseSpikes(spikesRaw, spec, steps), exchange };
}

/** Runs a job; returns OUT.json's object. `onProgress` is called now and then with steps done. */
export function runJob(job: SimulationJob, options: BuildOptions = {}, onProgress?: (done: number, total: number) => void): { network: Network; out: Record<string, unknown> } {
  const network = buildNetwork(job.spec, options);
  const outputs = job.spec.populations.filter((p) => p.model !== 'input').map((p) => p.name);
  const spikes = new Map<string, number[][]>(outputs.map((n) => [n, []]));
  for (let t = 0; t < job.steps; t++) {
    network.step({ spikes: job.input.get(t) ?? {} });
    for (const name of outputs) {
      const list = spikes.get(name)!;
      for (const j of network.spikes(name, t)) list.push([t, j]);
    }
    if (onProgress && (t & 1023) === 1023) onProgress(t + 1, job.steps);
  }
  if (job.exchange) {
    const neurons = network.population(EXCHANGE_NEURONS) as LifPopulationRuntime;
    return {
      network,
      out: {
        spikes: spikes.get(EXCHANGE_NEURONS),
        weights: Array.from(network.projection(EXCHANGE_SYNAPSES).table!.weightsInUserOrder()),
        theta: Array.from(neurons.state.theta),
      },
    };
  }
  const weights: Record<string, number[]> = {};
  for (const [name, p] of network.projections) if (p.table) weights[name] = Array.from(p.table.weightsInUserOrder());
  return { network, out: { spikes: Object.fromEntries(spikes), weights } };
}

function bad(field: string, message: string): never {
  throw new SpecError(field, message);
}
