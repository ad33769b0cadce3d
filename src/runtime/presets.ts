/**
 * Built-in network presets for `network: { preset, params }`. Other modules add theirs with
 * registerNetworkPreset (e.g. 'motion-direction'); this one is the small classifier the ready
 * pipelines use on spike inputs.
 */
import type { NetworkSpec } from '../snn/spec.js';
import { registerNetworkPreset } from './registry.js';
// Presets that live with their tasks register themselves on import.
import '../tasks/motion-direction-preset.js';

function numberParam(p: Readonly<Record<string, unknown>>, key: string, dflt: number | undefined, check: (n: number) => boolean, what: string): number {
  const v = p[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw new RangeError(`${key}: must be ${what}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return v;
}

const KNOWN = ['inputs', 'classes', 'perClass', 'p', 'weight', 'tauMs', 'vTh', 'stdp', 'seed', 'dtMs'];

/**
 * spike-classifier: `inputs` input neurons (shape [1, 1, inputs], i.e. binSteps layout 'y-x' with
 * width = inputs, height = 1) randomly connected to `classes × perClass` LIF neurons, with pair STDP on
 * the projection unless `stdp: false`. A decide node reads population 'out' with `classes`.
 */
export function spikeClassifier(p: Readonly<Record<string, unknown>>): NetworkSpec {
  for (const k of Object.keys(p)) if (!KNOWN.includes(k)) throw new RangeError(`${k}: unknown parameter (known: ${KNOWN.join(', ')})`);
  const isInt = (lo: number) => (n: number) => Number.isInteger(n) && n >= lo;
  const inputs = numberParam(p, 'inputs', undefined, isInt(1), 'an integer >= 1');
  const classes = numberParam(p, 'classes', 2, isInt(2), 'an integer >= 2');
  const perClass = numberParam(p, 'perClass', 4, isInt(1), 'an integer >= 1');
  const prob = numberParam(p, 'p', 0.5, (n) => n > 0 && n <= 1, 'in (0, 1]');
  const weight = numberParam(p, 'weight', 0.4, (n) => n > 0, '> 0');
  const tauMs = numberParam(p, 'tauMs', 20, (n) => n > 0, '> 0');
  const vTh = numberParam(p, 'vTh', 1, (n) => n > 0, '> 0');
  const seed = numberParam(p, 'seed', 1, isInt(0), 'an integer >= 0');
  const dtMs = numberParam(p, 'dtMs', 1, (n) => n > 0, '> 0');
  if (p.stdp !== undefined && typeof p.stdp !== 'boolean') throw new RangeError(`stdp: must be true or false`);
  const stdp = p.stdp !== false;
  return {
    version: 1,
    dt_ms: dtMs,
    seed,
    populations: [
      { name: 'in', model: 'input', size: inputs, shape: [1, 1, inputs] },
      { name: 'out', model: 'lif', size: classes * perClass, decay: Math.exp(-dtMs / tauMs), v_th: vTh, v_reset: 0, v_init: 0, reset: 'value', refractory_steps: 2 },
    ],
    projections: [{ name: 'w', kind: 'random', from: 'in', to: 'out', p: prob, weight: { min: 0, max: weight }, delay_steps: 0 }],
    plasticity: stdp
      ? [{ rule: 'stdp', projection: 'w', enabled: true, decay_pre: Math.exp(-dtMs / 20), decay_post: Math.exp(-dtMs / 20), a_pre: 0.01, a_post: -0.012, w_min: 0, w_max: 2 * weight, mode: 'additive', symmetric: false }]
      : [],
    homeostasis: [],
  };
}

registerNetworkPreset('spike-classifier', spikeClassifier, 'inputs → classes×perClass LIF with STDP (params: inputs, classes, perClass, p, weight, tauMs, vTh, stdp, seed, dtMs)');
