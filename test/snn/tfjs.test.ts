/**
 * The tfjs backend (dense formulation through TensorFlow.js ops) against the CPU reference, on the
 * pure-JavaScript tfjs backend ('cpu', f32), which CI has: @tensorflow/tfjs is a dev dependency.
 * tfjs-node / tfjs-node-gpu run the same ops through libtensorflow; the parity cases here are the
 * check to rerun where they are installed (SPIKEFLOW_TFJS=@tensorflow/tfjs-node-gpu).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildNetwork } from '../../src/snn/network.js';
import { TfjsNetwork, type InstanceInput } from '../../src/snn/backends/tfjs/tfjs-network.js';
import { planTfjs, TfjsUnsupportedError } from '../../src/snn/backends/tfjs/tfjs-plan.js';
import { loadTfjs, TfjsUnavailableError, type TfjsContext } from '../../src/snn/backends/tfjs/load.js';
import { jobFrom, runJob } from '../../src/snn/exchange.js';
import { main } from '../../src/cli/main.js';
import { Rng } from '../../src/emulator/rng.js';
import { caseInputs, compareWithCpu, parityCase, type BatchedCase } from './batched-parity.js';
import { exchangeCase } from './exchange-nets.js';

let ctxPromise: Promise<TfjsContext> | undefined;
/** The pure-JavaScript tfjs, forced to its 'cpu' backend whatever else is installed. */
const ctx = () => (ctxPromise ??= loadTfjs({ packages: ['@tensorflow/tfjs'], backend: 'cpu' }));

/**
 * The shared parity cases, extended where the dense formulation has more to show: a dense
 * projection in the exact case; refractoriness, a random projection and a longer run in the
 * realistic one.
 */
function makeCase(name: string): BatchedCase {
  const c = parityCase(name);
  const spec = c.spec as { populations: Record<string, unknown>[]; projections: Record<string, unknown>[] };
  switch (name) {
    case 'exact-two-layers':
      return { ...c, spec: { ...spec, projections: [...spec.projections, { name: 'in->out', kind: 'dense', from: 'in', to: 'out', weight: { min: -0.03125, max: 0.03125 }, delay_steps: 1, seed: 3 }] } };
    case 'float':
      return {
        ...c,
        steps: 100,
        chunk: 64,
        spec: {
          ...spec,
          populations: spec.populations.map((p) => (p.name === 'out' ? { ...p, refractory_steps: 2 } : p)),
          projections: [...spec.projections, { name: 'r', kind: 'random', from: 'in', to: 'out', p: 0.1, weight: { min: -0.1, max: 0.1 }, delay_steps: { min: 0, max: 4 }, seed: 5 }],
        },
      };
    default:
      return c;
  }
}

async function parity(name: string) {
  const c = makeCase(name);
  const tfn = await TfjsNetwork.create(buildNetwork(c.spec), { instances: c.instances, context: await ctx() });
  const report = await compareWithCpu(c, tfn, caseInputs(c, name.length));
  tfn.destroy();
  if (process.env.TFJS_PARITY_REPORT) console.log(name, JSON.stringify(report));
  return report;
}

test('tfjs loads the pure-JavaScript package and says which backend it got', async () => {
  const c = await ctx();
  assert.equal(c.package, '@tensorflow/tfjs');
  assert.equal(c.backend, 'cpu');
  assert.equal(c.description, '@tensorflow/tfjs, backend cpu');
});

test('tfjs, exact arithmetic: two layers, ALIF + refractory + subtract reset + a dense projection, 4 batched instances: every spike identical', async () => {
  const r = await parity('exact-two-layers');
  assert.ok(r.cpuSpikes >= 200, `only ${r.cpuSpikes} spikes: too quiet to compare`);
  assert.equal(r.firstDiff, '');
  assert.equal(r.identicalSteps, r.comparedSteps);
  assert.equal(r.maxWeightDiff, 0);
  assert.ok(r.maxVDiff < 1e-5, `membranes differ by ${r.maxVDiff}`);
});

test('tfjs, STDP per instance (repeated synapses kept apart), learning switched off between chunks: identical spikes, weights within f32 trace rounding', async () => {
  assert.ok(planTfjs(buildNetwork(makeCase('stdp').spec)).projs[0]!.layers >= 2, 'the case repeats a (pre, post, delay) triple');
  const r = await parity('stdp');
  assert.ok(r.cpuSpikes >= 200);
  assert.equal(r.firstDiff, '');
  assert.equal(r.identicalSteps, r.comparedSteps);
  assert.ok(r.weightsChangedOnCpu > 450, 'STDP changed the weights');
  assert.ok(r.maxWeightDiff < 1e-6, `weights differ by ${r.maxWeightDiff}`);
});

test('tfjs, realistic constants (f32 vs f64), multiplicative STDP + a random projection: spikes agree, weights within 1e-5', async () => {
  const r = await parity('float');
  assert.ok(r.cpuSpikes >= 200, `only ${r.cpuSpikes} spikes`);
  // f32 rounding may flip a spike that lands within ~1e-7 of threshold; allow 2 % of steps.
  assert.ok(r.identicalSteps >= 0.98 * r.comparedSteps, `${r.identicalSteps}/${r.comparedSteps} steps identical (first: ${r.firstDiff})`);
  assert.ok(Math.abs(r.backendSpikes - r.cpuSpikes) <= 0.02 * r.cpuSpikes);
  assert.ok(r.maxWeightDiff < 1e-5, `weights differ by ${r.maxWeightDiff}`);
});

test('tfjs: batched instances are independent (instance b of a batch = the same input run alone)', async () => {
  const c = makeCase('stdp');
  const rng = new Rng(5, 5);
  const steps = 30;
  const inputs: InstanceInput[][] = Array.from({ length: steps }, () => Array.from({ length: 3 }, () => ({ in: Array.from({ length: 40 }, (_, i) => i).filter(() => rng.uniform() < 0.3) })));
  const batch = await TfjsNetwork.create(buildNetwork(c.spec), { instances: 3, context: await ctx() });
  const all = await batch.runChunk(inputs);
  for (let b = 0; b < 3; b++) {
    const one = await TfjsNetwork.create(buildNetwork(c.spec), { instances: 1, context: await ctx() });
    const alone = await one.runChunk(inputs.map((row) => [row[b]!]));
    assert.deepEqual(alone.get('out')!.map((row) => [...row[0]!]), all.get('out')!.map((row) => [...row[b]!]));
    assert.deepEqual(await one.weights('p'), await batch.weights('p', b));
    one.destroy();
  }
  batch.destroy();
});

test('tfjs: a long run keeps the number of live tensors flat, and destroy() frees them all', async () => {
  const { tf } = await ctx();
  const before = tf.memory().numTensors;
  const c = makeCase('stdp');
  const tfn = await TfjsNetwork.create(buildNetwork(c.spec), { instances: 2, context: await ctx() });
  const rng = new Rng(1, 2);
  const chunk = () => Array.from({ length: 10 }, () => Array.from({ length: 2 }, () => ({ in: Array.from({ length: 40 }, (_, i) => i).filter(() => rng.uniform() < 0.3) })));
  await tfn.runChunk(chunk());
  await tfn.weights('p', 1);
  await tfn.populationState('out', 'theta', 1);
  const live = tf.memory().numTensors;
  for (let k = 0; k < 20; k++) {
    if (k === 10) tfn.setLearning(false);
    await tfn.runChunk(chunk());
  }
  await tfn.weights('p', 1);
  await tfn.populationState('out', 'v', 0);
  assert.equal(tf.memory().numTensors, live, 'no tensor left behind by 200 more steps');
  tfn.destroy();
  assert.equal(tf.memory().numTensors, before);
});

test('tfjs: what the dense backend does not run is refused by name, before tfjs loads', async () => {
  const base = {
    dt_ms: 1,
    populations: [
      { name: 'in', model: 'input', size: 4 },
      { name: 'out', model: 'lif', size: 2, tau_ms: 20, v_th: 1 },
    ],
    projections: [{ name: 'p', kind: 'random', from: 'in', to: 'out', p: 0.5, weight: 0.3 }],
  };
  const refused = (spec: object, re: RegExp, o = {}) => assert.throws(() => planTfjs(buildNetwork(spec), o), (e: unknown) => e instanceof TfjsUnsupportedError && re.test(e.message));
  refused({ ...base, homeostasis: [{ controller: 'threshold', population: 'out', target_hz: 5, timescales: [{ tau_ms: 100, gain: 0.1 }] }] }, /tfjs backend: homeostasis \('threshold' on 'out'\)/);
  refused({ ...base, plasticity: [{ rule: 'three_factor', projection: 'p', signal: 'r', tau_pre_ms: 20, tau_post_ms: 20, a_pre: 0.1, a_post: -0.1, tau_eligibility_ms: 100, learning_rate: 0.1, w_min: 0, w_max: 1 }] }, /learning rule 'three_factor' \(on 'p'\)/);
  refused({ ...base, plasticity: [{ rule: 'delay', projection: 'p', learning_rate: 0.1, d_min: 0, d_max: 4, window_steps: 5 }] }, /learning rule 'delay' \(on 'p'\)/);
  refused(
    { ...base, populations: [base.populations[0], { name: 'out', model: 'logistic', size: 2, threshold: 0.5, bias_init: 0 }], plasticity: [{ rule: 'readout', projection: 'p', signal: 'y', optimizer: 'sgd', learning_rate: 0.1 }] },
    /learning rule 'readout'/,
  );
  refused({ ...base, populations: [base.populations[0], { name: 'out', model: 'logistic', size: 2, threshold: 0.5, bias_init: 0 }] }, /population 'out' has model 'logistic'/);
  refused(
    {
      dt_ms: 1,
      populations: [
        { name: 'in', model: 'input', size: 2 * 5 * 5, shape: [2, 5, 5] },
        { name: 'out', model: 'lif', size: 3 * 3 * 3, shape: [3, 3, 3], tau_ms: 20, v_th: 1 },
      ],
      projections: [{ name: 'c', kind: 'conv', from: 'in', to: 'out', kernel_size: 3, delays: 2, stride: 1, weight: 0.1 }],
    },
    /projection 'c' of kind 'conv'/,
  );
  // Too large to lay out densely: named, with the sizes and where to go instead.
  refused(
    { ...base, populations: [{ name: 'in', model: 'input', size: 4000 }, { name: 'out', model: 'lif', size: 3000, tau_ms: 20, v_th: 1 }], projections: [{ name: 'big', kind: 'random', from: 'in', to: 'out', p: 0.0001, weight: 0.3, delay_steps: { min: 0, max: 7 } }] },
    /projection 'big' needs a dense weight tensor of 8 delays × 4000 pre × 3000 post = 96000000 entries, more than the limit of 33554432 \(maxDenseWeights\); \d+ synapses this sparse belong on the cpu, wasm or webgpu backend/,
  );
  refused(base, /projection 'p' needs a dense weight tensor of 1 delays × 4 pre × 2 post = 8 entries, more than the limit of 7/, { instances: 3, maxDenseWeights: 7 });
  // Plastic projections hold one weight copy per instance.
  const stdp = { rule: 'stdp', projection: 'p', decay_pre: 0.5, decay_post: 0.5, a_pre: 0.01, a_post: -0.01, w_min: 0, w_max: 1 };
  refused({ ...base, plasticity: [stdp] }, /3 instances × 1 delays × 4 pre × 2 post = 24 entries, more than the limit of 20/, { instances: 3, maxDenseWeights: 20 });
  assert.equal(planTfjs(buildNetwork({ ...base, plasticity: [stdp] }), { instances: 2, maxDenseWeights: 20 }).projs[0]!.perInstance, true);
  assert.throws(() => planTfjs(buildNetwork(base), { instances: 0 }), /instances must be an integer in \[1, 65535\]/);
});

test('tfjs: no TensorFlow.js package installed gives a clear error naming what was tried', async () => {
  await assert.rejects(
    loadTfjs({ packages: ['@tensorflow/tfjs-node-gpu-not-here', '@tensorflow/tfjs-node-not-here'] }),
    (e: unknown) =>
      e instanceof TfjsUnavailableError &&
      /no TensorFlow\.js package loads here \(tried @tensorflow\/tfjs-node-gpu-not-here, @tensorflow\/tfjs-node-not-here\); not installed: .*; install the optional peer dependency with `npm install @tensorflow\/tfjs`/.test(e.message),
  );
});

async function cli(backend: string, env: Record<string, string | undefined> = {}) {
  const c = exchangeCase('tfjs', { seed: 7, adaptation: true, stdp: true, steps: 250, inputHz: 40 });
  const dir = mkdtempSync(join(tmpdir(), 'spikeflow-tfjs-cli-'));
  writeFileSync(join(dir, 'net.json'), JSON.stringify(c.net));
  writeFileSync(join(dir, 'spikes.json'), JSON.stringify(c.spikes));
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const errors: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(' '));
  const printed: string[] = [];
  let code: number;
  try {
    for (const [k, v] of Object.entries(env)) v === undefined ? delete process.env[k] : (process.env[k] = v);
    code = await main(['simulate', '--net', join(dir, 'net.json'), '--input', join(dir, 'spikes.json'), '--out', join(dir, 'out.json'), '--backend', backend], (s) => printed.push(s));
  } finally {
    console.error = error;
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  }
  const outFile = join(dir, 'out.json');
  return { code, out: existsSync(outFile) ? JSON.parse(readFileSync(outFile, 'utf8')) : null, summary: printed.at(-1) ?? null, stderr: errors.join('\n'), case: c };
}

test("spikeflow simulate --backend tfjs gives the CPU backend's spikes on an exchange case with STDP and adaptation", async () => {
  // SPIKEFLOW_TFJS pins the pure-JavaScript package, so a machine with tfjs-node installed runs the same check.
  const r = await cli('tfjs', { SPIKEFLOW_TFJS: '@tensorflow/tfjs' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.summary!).backend, 'tfjs (@tensorflow/tfjs, backend cpu)');
  const cpu = runJob(jobFrom(r.case.net, r.case.spikes)).out as { spikes: number[][]; weights: number[]; theta: number[] };
  assert.ok(cpu.spikes.length > 100);
  assert.deepEqual(r.out.spikes, cpu.spikes);
  r.out.weights.forEach((w: number, s: number) => assert.ok(Math.abs(w - cpu.weights[s]!) < 1e-5, `weight ${s}`));
  r.out.theta.forEach((x: number, j: number) => assert.ok(Math.abs(x - cpu.theta[j]!) < 1e-5, `theta ${j}`));
});

test('spikeflow simulate --backend tfjs with no TensorFlow.js exits 1 saying why, writing nothing', async () => {
  const r = await cli('tfjs', { SPIKEFLOW_TFJS: '@tensorflow/tfjs-not-installed' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the tfjs backend was asked for but cannot run this network: no TensorFlow\.js package loads here \(tried @tensorflow\/tfjs-not-installed\)/);
  assert.equal(r.out, null);
});
