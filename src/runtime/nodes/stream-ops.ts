/** The built-in operators past events: binning into steps, spike-triggered labels, the SNN, decisions. */
import { readFileSync } from 'node:fs';
import { map, type OperatorFunction } from 'rxjs';
import { binSteps } from '../../../operators/bin-steps.js';
import { decide } from '../../../operators/decide.js';
import { snn } from '../../../operators/snn.js';
import { triggeredLabels } from '../../../operators/triggered-labels.js';
import { backendByName } from '../../snn/backends/select.js';
import { buildNetwork } from '../../snn/network.js';
import { warmUp } from '../../snn/warmup.js';
import type { NetworkSpec } from '../../snn/spec.js';
import { SpecError } from '../../snn/spec-error.js';
import { validateSpec } from '../../snn/validate.js';
import { registerNodeCheck } from '../pipeline.js';
import { networkPreset } from '../registry.js';
import { bool, field, int, json, num, str, type Issue, type ParamSchema } from '../schema.js';
import { type Params, pathIn, geometryParams, geometryOf, defineOp } from '../node-types.js';

defineOp(
  {
    name: 'binSteps',
    doc: 'Cuts events into simulation steps of dtUs of event time (active input indices).',
    accepts: ['events'],
    produces: 'steps',
    releasesInput: true, // copies the events into its own step arrays
    params: {
      dtUs: field(num({ gt: 0 }), 'step length (µs of event time)', true),
      layout: field(str(['p-y-x', 'y-x-p', 'y-x']), "input index layout (default 'p-y-x')"),
      originUs: field(num(), 'time of step 0 (default: first event, rounded down)'),
      ...geometryParams,
    },
  },
  (p) => ({
    operator: binSteps({ dtUs: p.dtUs as number, layout: p.layout as 'y-x' | undefined, originUs: p.originUs as number | undefined, geometry: geometryOf(p) }) as OperatorFunction<unknown, unknown>,
  }),
);

defineOp(
  {
    name: 'triggeredLabels',
    doc: "Labels a conv readout's class maps at the positions whose centre spiked (spike-triggered targets).",
    accepts: ['steps'],
    produces: 'steps',
    params: {
      truth: field(str(), 'id of a labelled source (the class in force at each step)', true),
      classes: field(int({ ge: 1 }), 'class maps of the readout population', true),
      kernelSize: field(int({ ge: 1 }), 'conv kernel side', true),
      stride: field(int({ ge: 1 }), 'conv stride', true),
      warmupSteps: field(int({ ge: 0 }), 'steps after each label left unlabelled (default 0)'),
      every: field(int({ ge: 1 }), 'label every n-th eligible step (default 1)'),
      signal: field(str(), "readout signal name (default 'label')"),
    },
  },
  (p, ctx) => ({
    operator: triggeredLabels({
      labels: ctx.labelsOf(p.truth as string),
      classes: p.classes as number,
      kernelSize: p.kernelSize as number,
      stride: p.stride as number,
      warmupSteps: p.warmupSteps as number | undefined,
      every: p.every as number | undefined,
      signal: p.signal as string | undefined,
    }) as OperatorFunction<unknown, unknown>,
  }),
);

const networkSchema: ParamSchema = {
  type: 'object',
  fields: {
    preset: field(str(), 'a registered preset name (spikeflow list)'),
    params: field(json, "the preset's parameters"),
    path: field(str(), 'a network spec JSON file (relative to the pipeline file)'),
    spec: field(json, 'the network spec inline'),
  },
};

defineOp(
  {
    name: 'snn',
    doc: 'Runs a spiking network, one step per step batch, learning online.',
    accepts: ['steps'],
    produces: 'snn',
    params: {
      network: field(networkSchema, 'exactly one of preset (+ params), path, spec', true),
      input: field(str(), 'input population (default: the first input population)'),
      outputs: field({ type: 'array', items: str() }, 'populations whose spikes are emitted (default: all non-input)'),
      backend: field(str(['cpu', 'wasm']), "engine backend (default 'cpu')"),
      learning: field(bool, 'learning on (default true)'),
      snapshot: field({ type: 'array', items: str() }, 'populations whose state goes with each step (LIF membranes, logistic probabilities)'),
      warmup: field(bool, 'before the first step, run the network briefly on synthetic input and restore it exactly, so the first live steps do not wait on compilation (default true)'),
    },
  },
  async (p, ctx) => {
    const spec = resolveNetwork(p.network as Params, ctx.baseDir);
    const network = buildNetwork(spec, { backend: await backendByName((p.backend as string | undefined) ?? 'cpu') });
    if (p.learning === false) network.setLearning(false);
    if (p.warmup !== false) warmUp(network);
    const input = (p.input as string | undefined) ?? spec.populations.find((q) => q.model === 'input')!.name;
    return { operator: snn({ network, input, outputs: p.outputs as string[] | undefined, snapshot: p.snapshot as string[] | undefined, reuseState: ctx.outputReleased === true }) as OperatorFunction<unknown, unknown>, network };
  },
);

/** The validated network spec a `network:` param names; throws SpecError (field relative to the network param). */
export function resolveNetwork(n: Params, baseDir: string): NetworkSpec {
  const given = ['preset', 'path', 'spec'].filter((k) => n[k] !== undefined);
  if (given.length !== 1) throw new SpecError('', given.length ? `give only one of preset, path, spec (got ${given.join(', ')})` : 'give one of preset, path, spec');
  if (n.params !== undefined && n.preset === undefined) throw new SpecError('params', 'only a preset takes params');
  if (n.preset !== undefined) {
    const pr = networkPreset(n.preset as string);
    if (!pr) throw new SpecError('preset', `unknown network preset '${String(n.preset)}' (see 'spikeflow list')`);
    try {
      return validateSpec(pr.build((n.params as Params | undefined) ?? {}));
    } catch (e) {
      if (e instanceof SpecError) throw e;
      throw new SpecError('params', (e as Error).message);
    }
  }
  if (n.path !== undefined) {
    const file = pathIn({ baseDir }, n.path as string);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new SpecError('path', `cannot read network spec ${file}: ${(e as Error).message}`);
    }
    try {
      return validateSpec(raw);
    } catch (e) {
      if (e instanceof SpecError) throw new SpecError('path', `${file}: ${e.message}`);
      throw e;
    }
  }
  try {
    return validateSpec(n.spec);
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(e.field ? `spec.${e.field}` : 'spec', e.message.slice(e.field.length + 2) || e.message);
    throw e;
  }
}

registerNodeCheck('op', 'snn', (p, path, ctx): Issue[] => {
  const np = `${path}.network`;
  let spec: NetworkSpec;
  try {
    spec = resolveNetwork(p.network as Params, ctx.baseDir);
  } catch (e) {
    if (e instanceof SpecError) return [{ path: e.field ? `${np}.${e.field}` : np, message: e.field ? e.message.slice(e.field.length + 2) : e.message }];
    return [{ path: np, message: (e as Error).message }];
  }
  const out: Issue[] = [];
  const inputs = spec.populations.filter((q) => q.model === 'input').map((q) => q.name);
  if (p.input !== undefined && !inputs.includes(p.input as string)) out.push({ path: `${path}.input`, message: `'${String(p.input)}' is not an input population of the network (inputs: ${inputs.join(', ') || 'none'})` });
  if (p.input === undefined && inputs.length === 0) out.push({ path: np, message: 'the network has no input population' });
  const names = spec.populations.map((q) => q.name);
  ((p.outputs as string[] | undefined) ?? []).forEach((o, i) => {
    if (!names.includes(o)) out.push({ path: `${path}.outputs[${i}]`, message: `no population '${o}' in the network` });
  });
  return out;
});

defineOp(
  {
    name: 'decide',
    doc: 'Turns output spikes into decisions (Dynamic Confidence, window or count).',
    accepts: ['snn'],
    produces: 'decisions',
    releasesInput: true, // sums the step's spikes or state into its own counts
    params: {
      population: field(str(), 'the readout population', true),
      classes: field({ type: 'oneOf', options: [int({ ge: 1 }), { type: 'array', items: int({ ge: 0 }), minItems: 1 }], describe: 'a class count or a class per neuron' }, 'classes', true),
      labels: field({ type: 'array', items: str() }, 'class names'),
      mode: field(str(['confidence', 'window', 'count']), "default 'confidence'"),
      confidence: field(num({ gt: 0, lt: 1 }), 'confidence threshold (default 0.9)'),
      beta: field(num({ gt: 0 }), 'softmax inverse temperature (default 1)'),
      windowSteps: field(int({ ge: 1 }), "mode 'window': steps per decision"),
      evidence: field(str(['spikes', 'state']), "what is summed per class: spikes (default) or the snapshot state (the snn node's snapshot)"),
      settleSteps: field(int({ ge: 0 }), "mode 'window': first steps of each window not counted (default 0)"),
      aligned: field(bool, "mode 'window': windows on the step clock's periods (default false: from the first active step)"),
      minSpikes: field(int({ ge: 1 }), "mode 'count': spikes for a decision"),
      maxSteps: field(int({ ge: 1 }), 'give up after this many steps without a decision'),
      region: field(str(), 'region / sensor name on the decisions (default: the node id)'),
      truth: field(str(), 'id of a labelled source: accuracy, and threshold calibration with targetAccuracy'),
      targetAccuracy: field(num({ gt: 0, le: 1 }), 'calibrate the confidence threshold to this accuracy (needs truth)'),
    },
  },
  (p, ctx) => {
    const truth = p.truth as string | undefined;
    return {
      operator: decide({
        population: p.population as string,
        classes: p.classes as number,
        labels: p.labels as string[] | undefined,
        mode: p.mode as 'confidence' | undefined,
        confidence: p.confidence as number | undefined,
        beta: p.beta as number | undefined,
        windowSteps: p.windowSteps as number | undefined,
        aligned: p.aligned as boolean | undefined,
        evidence: p.evidence as 'state' | undefined,
        settleSteps: p.settleSteps as number | undefined,
        minSpikes: p.minSpikes as number | undefined,
        maxSteps: p.maxSteps as number | undefined,
        region: (p.region as string | undefined) ?? ctx.id,
        pipeline: ctx.pipelineName,
        ...(truth && p.targetAccuracy !== undefined ? { calibrate: { labels: ctx.labelsOf(truth).pipe(map((l) => l.classIndex)), targetAccuracy: p.targetAccuracy as number } } : {}),
      }) as OperatorFunction<unknown, unknown>,
    };
  },
);
