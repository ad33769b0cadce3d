/**
 * validateSpec: untrusted JSON → NetworkSpec, or a SpecError naming the field. Fills defaults and
 * turns time constants into per-step factors, so the rest of the engine sees one normal form.
 */
import {
  SPEC_VERSION,
  type ConvProjectionSpec,
  type HomeostasisSpec,
  type Init,
  type NetworkSpec,
  type PlasticitySpec,
  type PopulationSpec,
  type ProjectionSpec,
} from './spec.js';
import {
  SpecError,
  array,
  decayFactor,
  finiteNumber,
  nonNegativeInteger,
  noUnknownKeys,
  numberArray,
  oneOf,
  positiveInteger,
  positiveNumber,
  record,
  string,
} from './spec-error.js';

/** Largest delay in steps a synapse may have (ring buffers are sized from the actual maximum). */
export const MAX_DELAY_STEPS = 4096;

export function validateSpec(raw: unknown): NetworkSpec {
  const o = record(raw, 'spec');
  noUnknownKeys(o, ['version', 'dt_ms', 'seed', 'populations', 'projections', 'plasticity', 'homeostasis'], 'spec');
  if (o.version !== undefined && o.version !== SPEC_VERSION) throw new SpecError('version', `unsupported spec version ${String(o.version)} (this engine reads ${SPEC_VERSION})`);
  const dt = positiveNumber(o.dt_ms, 'dt_ms');
  const seed = o.seed === undefined ? 1 : nonNegativeInteger(o.seed, 'seed');
  const populations = array(o.populations, 'populations').map((p, i) => validatePopulation(p, `populations[${i}]`, dt));
  const byName = new Map<string, PopulationSpec>();
  populations.forEach((p, i) => {
    if (byName.has(p.name)) throw new SpecError(`populations[${i}].name`, `duplicate population name '${p.name}'`);
    byName.set(p.name, p);
  });
  const projections = array(o.projections ?? [], 'projections').map((p, i) => validateProjection(p, `projections[${i}]`, byName));
  const projByName = new Map<string, ProjectionSpec>();
  projections.forEach((p, i) => {
    if (projByName.has(p.name)) throw new SpecError(`projections[${i}].name`, `duplicate projection name '${p.name}'`);
    projByName.set(p.name, p);
  });
  const plasticity = array(o.plasticity ?? [], 'plasticity').map((r, i) => validateRule(r, `plasticity[${i}]`, dt, projByName, byName));
  const homeostasis = array(o.homeostasis ?? [], 'homeostasis').map((h, i) => validateHomeostasis(h, `homeostasis[${i}]`, byName));
  return { version: SPEC_VERSION, dt_ms: dt, seed, populations, projections, plasticity, homeostasis };
}

/** A per-step factor from `decay`, or from `tau_ms` as e^(−dt/τ); exactly one must be given. */
function decayOf(o: Record<string, unknown>, decayKey: string, tauKey: string, dt: number, field: string): number {
  if (o[decayKey] !== undefined && o[tauKey] !== undefined) throw new SpecError(`${field}.${decayKey}`, `give either ${decayKey} or ${tauKey}, not both`);
  if (o[decayKey] !== undefined) return decayFactor(o[decayKey], `${field}.${decayKey}`);
  if (o[tauKey] !== undefined) return Math.exp(-dt / positiveNumber(o[tauKey], `${field}.${tauKey}`));
  throw new SpecError(`${field}.${decayKey}`, `missing (give ${decayKey}, a per-step factor, or ${tauKey})`);
}

function validatePopulation(raw: unknown, f: string, dt: number): PopulationSpec {
  const o = record(raw, f);
  const name = string(o.name, `${f}.name`);
  const model = oneOf(o.model, ['input', 'lif', 'alif', 'logistic'] as const, `${f}.model`);
  let size: number;
  let shape: number[] | undefined;
  if (o.shape !== undefined) {
    shape = Array.from(numberArray(o.shape, `${f}.shape`, undefined, positiveInteger));
    if (shape.length === 0) throw new SpecError(`${f}.shape`, 'must have at least one dimension');
    size = shape.reduce((a, b) => a * b, 1);
    if (o.size !== undefined && positiveInteger(o.size, `${f}.size`) !== size) throw new SpecError(`${f}.size`, `is ${String(o.size)} but shape [${shape.join(', ')}] holds ${size}`);
  } else {
    size = positiveInteger(o.size, `${f}.size`);
  }
  const base = { name, size, ...(shape ? { shape } : {}) };
  if (model === 'input') {
    noUnknownKeys(o, ['name', 'model', 'size', 'shape'], f);
    return { ...base, model };
  }
  if (model === 'logistic') {
    noUnknownKeys(o, ['name', 'model', 'size', 'shape', 'threshold', 'bias_init'], f);
    const threshold = o.threshold === undefined ? 0.5 : finiteNumber(o.threshold, `${f}.threshold`);
    if (threshold <= 0 || threshold >= 1) throw new SpecError(`${f}.threshold`, `must lie in (0, 1), got ${threshold}`);
    return { ...base, model, threshold, bias_init: o.bias_init === undefined ? 0 : finiteNumber(o.bias_init, `${f}.bias_init`) };
  }
  noUnknownKeys(o, ['name', 'model', 'size', 'shape', 'decay', 'tau_ms', 'v_th', 'v_reset', 'v_init', 'reset', 'refractory_steps', 'adaptation'], f);
  const decay = decayOf(o, 'decay', 'tau_ms', dt, f);
  const v_th = finiteNumber(o.v_th, `${f}.v_th`);
  const v_reset = o.v_reset === undefined ? 0 : finiteNumber(o.v_reset, `${f}.v_reset`);
  const v_init = o.v_init === undefined ? v_reset : finiteNumber(o.v_init, `${f}.v_init`);
  const reset = o.reset === undefined ? 'value' : oneOf(o.reset, ['value', 'subtract'] as const, `${f}.reset`);
  const refractory_steps = o.refractory_steps === undefined ? 0 : nonNegativeInteger(o.refractory_steps, `${f}.refractory_steps`);
  let adaptation: { decay: number; plus: number } | undefined;
  if (model === 'alif') {
    const a = record(o.adaptation, `${f}.adaptation`);
    noUnknownKeys(a, ['decay', 'tau_ms', 'plus'], `${f}.adaptation`);
    adaptation = { decay: decayOf(a, 'decay', 'tau_ms', dt, `${f}.adaptation`), plus: finiteNumber(a.plus, `${f}.adaptation.plus`) };
  } else if (o.adaptation !== undefined) {
    throw new SpecError(`${f}.adaptation`, "only model 'alif' adapts its threshold");
  }
  return { ...base, model, decay, v_th, v_reset, v_init, reset, refractory_steps, ...(adaptation ? { adaptation } : {}) };
}

function validateInit(v: unknown, f: string, integer: boolean, min = -Infinity): Init {
  const check = (x: unknown, ff: string): number => {
    const n = integer ? nonNegativeInteger(x, ff) : finiteNumber(x, ff);
    if (n < min) throw new SpecError(ff, `must be >= ${min}, got ${n}`);
    return n;
  };
  if (typeof v === 'number') return check(v, f);
  const o = record(v, f);
  noUnknownKeys(o, ['min', 'max'], f);
  const lo = check(o.min, `${f}.min`);
  const hi = check(o.max, `${f}.max`);
  if (hi < lo) throw new SpecError(`${f}.max`, `must be >= min (${lo}), got ${hi}`);
  return { min: lo, max: hi };
}

function delayStep(v: unknown, f: string): number {
  const n = nonNegativeInteger(v, f);
  if (n > MAX_DELAY_STEPS) throw new SpecError(f, `delay ${n} exceeds the maximum of ${MAX_DELAY_STEPS} steps`);
  return n;
}

function indexArray(v: unknown, f: string, length: number | undefined, bound: number, what: string): number[] {
  return Array.from(
    numberArray(v, f, length, (x, ff) => {
      const n = nonNegativeInteger(x, ff);
      if (n >= bound) throw new SpecError(ff, `${what} index ${n} out of range (population has ${bound})`);
      return n;
    }),
  );
}

function validateProjection(raw: unknown, f: string, pops: Map<string, PopulationSpec>): ProjectionSpec {
  const o = record(raw, f);
  const kind = oneOf(o.kind, ['sparse', 'random', 'dense', 'conv'] as const, `${f}.kind`);
  const fromName = string(o.from, `${f}.from`);
  const toName = string(o.to, `${f}.to`);
  const from = pops.get(fromName);
  const to = pops.get(toName);
  if (!from) throw new SpecError(`${f}.from`, `no population named '${fromName}'`);
  if (!to) throw new SpecError(`${f}.to`, `no population named '${toName}'`);
  if (to.model === 'input') throw new SpecError(`${f}.to`, `population '${toName}' is an input and cannot receive synapses`);
  const name = o.name === undefined ? `${fromName}->${toName}` : string(o.name, `${f}.name`);
  const seed = o.seed === undefined ? undefined : nonNegativeInteger(o.seed, `${f}.seed`);
  const base = { name, from: fromName, to: toName, ...(seed !== undefined ? { seed } : {}) };
  switch (kind) {
    case 'sparse': {
      noUnknownKeys(o, ['name', 'kind', 'from', 'to', 'pre', 'post', 'weight', 'delay_steps'], f);
      const pre = indexArray(o.pre, `${f}.pre`, undefined, from.size, 'presynaptic');
      const post = indexArray(o.post, `${f}.post`, pre.length, to.size, 'postsynaptic');
      const weight = Array.from(numberArray(o.weight, `${f}.weight`, pre.length));
      const delay_steps = Array.from(numberArray(o.delay_steps, `${f}.delay_steps`, pre.length, delayStep));
      return { name, from: fromName, to: toName, kind, pre, post, weight, delay_steps };
    }
    case 'random': {
      noUnknownKeys(o, ['name', 'kind', 'from', 'to', 'p', 'weight', 'delay_steps', 'seed'], f);
      const p = finiteNumber(o.p, `${f}.p`);
      if (p < 0 || p > 1) throw new SpecError(`${f}.p`, `must be a probability in [0, 1], got ${p}`);
      const delay_steps = validateInit(o.delay_steps ?? 0, `${f}.delay_steps`, true);
      checkDelayInit(delay_steps, `${f}.delay_steps`);
      return { ...base, kind, p, weight: validateInit(o.weight, `${f}.weight`, false), delay_steps };
    }
    case 'dense': {
      noUnknownKeys(o, ['name', 'kind', 'from', 'to', 'weight', 'delay_steps', 'seed'], f);
      const n = from.size * to.size;
      const weight = Array.isArray(o.weight) ? Array.from(numberArray(o.weight, `${f}.weight`, n)) : validateInit(o.weight, `${f}.weight`, false);
      const delay_steps = Array.isArray(o.delay_steps)
        ? Array.from(numberArray(o.delay_steps, `${f}.delay_steps`, n, delayStep))
        : validateInit(o.delay_steps ?? 0, `${f}.delay_steps`, true);
      if (!Array.isArray(delay_steps)) checkDelayInit(delay_steps as Init, `${f}.delay_steps`);
      return { ...base, kind, weight, delay_steps };
    }
    case 'conv':
      return validateConv(o, f, base, from, to);
  }
}

function checkDelayInit(init: Init, f: string): void {
  const hi = typeof init === 'number' ? init : init.max;
  if (hi > MAX_DELAY_STEPS) throw new SpecError(f, `delay ${hi} exceeds the maximum of ${MAX_DELAY_STEPS} steps`);
}

function validateConv(
  o: Record<string, unknown>,
  f: string,
  base: { name: string; from: string; to: string; seed?: number },
  from: PopulationSpec,
  to: PopulationSpec,
): ConvProjectionSpec {
  noUnknownKeys(o, ['name', 'kind', 'from', 'to', 'kernel_size', 'delays', 'stride', 'weight', 'seed', 'per_channel'], f);
  const perChannel = o.per_channel === undefined ? false : o.per_channel === true ? true : o.per_channel === false ? false : bad(`${f}.per_channel`, 'must be true or false');
  const k = positiveInteger(o.kernel_size, `${f}.kernel_size`);
  const delays = positiveInteger(o.delays, `${f}.delays`);
  if (delays > MAX_DELAY_STEPS) throw new SpecError(`${f}.delays`, `exceeds the maximum of ${MAX_DELAY_STEPS} steps`);
  const stride = o.stride === undefined ? 1 : positiveInteger(o.stride, `${f}.stride`);
  if (from.shape?.length !== 3) throw new SpecError(`${f}.from`, `population '${from.name}' needs shape [channels, height, width] for a conv projection`);
  if (to.shape?.length !== 3) throw new SpecError(`${f}.to`, `population '${to.name}' needs shape [channels, height, width] for a conv projection`);
  const [cin, h, w] = from.shape as [number, number, number];
  const [cout, oh, ow] = to.shape as [number, number, number];
  if (h < k || w < k) throw new SpecError(`${f}.kernel_size`, `kernel ${k} is larger than the input plane ${h}×${w}`);
  const eh = Math.floor((h - k) / stride) + 1;
  const ew = Math.floor((w - k) / stride) + 1;
  if (oh !== eh || ow !== ew) throw new SpecError(`${f}.to`, `population '${to.name}' has shape [${cout}, ${oh}, ${ow}] but the convolution gives [${cout}, ${eh}, ${ew}]`);
  const n = perChannel ? cout : cout * cin * delays * k * k;
  const weight = Array.isArray(o.weight) ? Array.from(numberArray(o.weight, `${f}.weight`, n)) : validateInit(o.weight, `${f}.weight`, false);
  return { ...base, kind: 'conv', kernel_size: k, delays, stride, weight, ...(perChannel ? { per_channel: true } : {}) };
}

function validateRule(raw: unknown, f: string, dt: number, projections: Map<string, ProjectionSpec>, pops: Map<string, PopulationSpec>): PlasticitySpec {
  const o = record(raw, f);
  const rule = oneOf(o.rule, ['stdp', 'three_factor', 'readout', 'delay'] as const, `${f}.rule`);
  const projection = string(o.projection, `${f}.projection`);
  const proj = projections.get(projection);
  if (!proj) throw new SpecError(`${f}.projection`, `no projection named '${projection}'`);
  const enabled = o.enabled === undefined ? true : o.enabled === true ? true : o.enabled === false ? false : bad(`${f}.enabled`, 'must be true or false');
  const num = (k: string, dflt?: number): number => (o[k] === undefined && dflt !== undefined ? dflt : finiteNumber(o[k], `${f}.${k}`));
  const bounds = (): { w_min: number; w_max: number } => {
    const w_min = num('w_min');
    const w_max = num('w_max');
    if (w_max < w_min) throw new SpecError(`${f}.w_max`, `must be >= w_min (${w_min}), got ${w_max}`);
    return { w_min, w_max };
  };
  const traces = () => ({
    decay_pre: decayOf(o, 'decay_pre', 'tau_pre_ms', dt, f),
    decay_post: decayOf(o, 'decay_post', 'tau_post_ms', dt, f),
    a_pre: num('a_pre'),
    a_post: num('a_post'),
  });
  const needsSynapseList = () => {
    if (proj.kind === 'conv') throw new SpecError(`${f}.projection`, `rule '${rule}' needs a sparse, random or dense projection; '${projection}' is conv`);
  };
  switch (rule) {
    case 'stdp':
      noUnknownKeys(o, ['rule', 'projection', 'enabled', 'decay_pre', 'tau_pre_ms', 'decay_post', 'tau_post_ms', 'a_pre', 'a_post', 'w_min', 'w_max', 'mode', 'symmetric'], f);
      needsSynapseList();
      return {
        rule,
        projection,
        enabled,
        ...traces(),
        ...bounds(),
        mode: o.mode === undefined ? 'additive' : oneOf(o.mode, ['additive', 'multiplicative'] as const, `${f}.mode`),
        symmetric: o.symmetric === undefined ? false : o.symmetric === true ? true : o.symmetric === false ? false : bad(`${f}.symmetric`, 'must be true or false'),
      };
    case 'three_factor':
      noUnknownKeys(o, ['rule', 'projection', 'enabled', 'signal', 'decay_pre', 'tau_pre_ms', 'decay_post', 'tau_post_ms', 'a_pre', 'a_post', 'decay_eligibility', 'tau_eligibility_ms', 'learning_rate', 'w_min', 'w_max'], f);
      needsSynapseList();
      return {
        rule,
        projection,
        enabled,
        signal: string(o.signal, `${f}.signal`),
        ...traces(),
        decay_eligibility: decayOf(o, 'decay_eligibility', 'tau_eligibility_ms', dt, f),
        learning_rate: num('learning_rate'),
        ...bounds(),
      };
    case 'readout': {
      noUnknownKeys(o, ['rule', 'projection', 'enabled', 'signal', 'optimizer', 'learning_rate', 'beta1', 'beta2', 'epsilon', 'prune', 'loss'], f);
      const target = pops.get(proj.to)!;
      if (target.model !== 'logistic') throw new SpecError(`${f}.projection`, `the readout rule trains logistic units; '${projection}' ends in '${target.name}' (model '${target.model}')`);
      let prune: { keep: number; every_steps: number } | undefined;
      if (o.prune !== undefined) {
        const p = record(o.prune, `${f}.prune`);
        noUnknownKeys(p, ['keep', 'every_steps'], `${f}.prune`);
        prune = { keep: positiveInteger(p.keep, `${f}.prune.keep`), every_steps: positiveInteger(p.every_steps ?? 1, `${f}.prune.every_steps`) };
      }
      const lr = positiveNumber(o.learning_rate, `${f}.learning_rate`);
      return {
        rule,
        projection,
        enabled,
        signal: string(o.signal, `${f}.signal`),
        optimizer: o.optimizer === undefined ? 'adam' : oneOf(o.optimizer, ['sgd', 'adam'] as const, `${f}.optimizer`),
        learning_rate: lr,
        beta1: num('beta1', 0.9),
        beta2: num('beta2', 0.999),
        epsilon: num('epsilon', 1e-8),
        ...(prune ? { prune } : {}),
        ...(o.loss === undefined ? {} : { loss: softmaxTarget(oneOf(o.loss, ['logistic', 'softmax'] as const, `${f}.loss`), target, `${f}.loss`) }),
      };
    }
    case 'delay': {
      noUnknownKeys(o, ['rule', 'projection', 'enabled', 'learning_rate', 'd_min', 'd_max', 'window_steps'], f);
      needsSynapseList();
      const d_min = o.d_min === undefined ? 0 : delayStep(o.d_min, `${f}.d_min`);
      const d_max = delayStep(o.d_max, `${f}.d_max`);
      if (d_max < d_min) throw new SpecError(`${f}.d_max`, `must be >= d_min (${d_min}), got ${d_max}`);
      return { rule, projection, enabled, learning_rate: positiveNumber(o.learning_rate, `${f}.learning_rate`), d_min, d_max, window_steps: positiveInteger(o.window_steps ?? d_max + 1, `${f}.window_steps`) };
    }
  }
}

function validateHomeostasis(raw: unknown, f: string, pops: Map<string, PopulationSpec>): HomeostasisSpec {
  const o = record(raw, f);
  noUnknownKeys(o, ['controller', 'population', 'target_hz', 'timescales', 'enabled'], f);
  const controller = oneOf(o.controller, ['threshold', 'scaling'] as const, `${f}.controller`);
  const population = string(o.population, `${f}.population`);
  const pop = pops.get(population);
  if (!pop) throw new SpecError(`${f}.population`, `no population named '${population}'`);
  if (pop.model === 'logistic' && controller !== 'threshold') throw new SpecError(`${f}.controller`, `a logistic population ('${population}') takes only the 'threshold' controller: its weights belong to the readout`);
  if (pop.model !== 'lif' && pop.model !== 'alif' && pop.model !== 'logistic') throw new SpecError(`${f}.population`, `homeostasis needs a lif, alif or logistic population; '${population}' is '${pop.model}'`);
  const timescales = array(o.timescales, `${f}.timescales`).map((t, i) => {
    const tf = `${f}.timescales[${i}]`;
    const r = record(t, tf);
    noUnknownKeys(r, ['tau_ms', 'gain'], tf);
    return { tau_ms: positiveNumber(r.tau_ms, `${tf}.tau_ms`), gain: finiteNumber(r.gain, `${tf}.gain`) };
  });
  if (timescales.length === 0) throw new SpecError(`${f}.timescales`, 'needs at least one timescale');
  const enabled = o.enabled === undefined ? true : o.enabled === true ? true : o.enabled === false ? false : bad(`${f}.enabled`, 'must be true or false');
  return { controller, population, target_hz: positiveNumber(o.target_hz, `${f}.target_hz`), timescales, enabled };
}

/** A softmax readout needs its classes on the target's first shape axis. */
function softmaxTarget(loss: 'logistic' | 'softmax', target: PopulationSpec, f: string): 'logistic' | 'softmax' {
  if (loss === 'softmax' && !(target.shape && target.shape.length >= 1 && target.shape[0]! >= 2)) {
    throw new SpecError(f, `a softmax readout needs a target with a shape whose first axis (the classes) is at least 2; '${target.name}' has ${target.shape ? `shape [${target.shape.join(', ')}]` : 'no shape'}`);
  }
  return loss;
}

function bad(field: string, message: string): never {
  throw new SpecError(field, message);
}
