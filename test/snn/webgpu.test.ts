/**
 * The WebGPU backend against the CPU reference, on a software Vulkan adapter (Mesa 25 lavapipe, put
 * in .vulkan/ by scripts/setup-lavapipe.sh, which the test command runs). Each case runs in a child
 * process: the adapter's library path must be set when a process starts, and a few hundred
 * dispatches per process stay clear of lavapipe's long-run instability.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpuChild } from '../helpers/lavapipe.js';
import { buildNetwork } from '../../src/snn/network.js';
import { planGpu, GpuUnsupportedError } from '../../src/snn/backends/webgpu/gpu-plan.js';
import { jobFrom, runJob } from '../../src/snn/exchange.js';
import { exchangeCase } from './exchange-nets.js';

test('webgpu, exact arithmetic: two layers, ALIF + refractory + subtract reset, 4 batched instances, chunks in flight: every spike identical', () => {
  const r = gpuChild('parity-cases.ts', ['exact-two-layers']);
  assert.match(r.adapter, /llvmpipe|lavapipe/);
  assert.ok(r.cpuSpikes >= 200, `only ${r.cpuSpikes} spikes: too quiet to compare`);
  assert.equal(r.firstDiff, '');
  assert.equal(r.identicalSteps, r.comparedSteps);
  assert.equal(r.maxWeightDiff, 0);
  assert.ok(r.maxVDiff < 1e-5, `membranes differ by ${r.maxVDiff}`);
});

test('webgpu, STDP per instance, learning switched off between chunks: identical spikes, weights within f32 trace rounding', () => {
  const r = gpuChild('parity-cases.ts', ['stdp']);
  assert.ok(r.cpuSpikes >= 200);
  assert.equal(r.firstDiff, '');
  assert.equal(r.identicalSteps, r.comparedSteps);
  assert.ok(r.weightsChangedOnCpu > 450, 'STDP changed the weights');
  assert.ok(r.maxWeightDiff < 1e-6, `weights differ by ${r.maxWeightDiff}`);
});

test('webgpu, realistic constants (f32 vs f64): spikes agree, weights within 1e-5', () => {
  const r = gpuChild('parity-cases.ts', ['float']);
  assert.ok(r.cpuSpikes >= 200);
  // f32 rounding may flip a spike that lands within ~1e-7 of threshold; none did on this case, allow 2 %.
  assert.ok(r.identicalSteps >= 0.98 * r.comparedSteps, `${r.identicalSteps}/${r.comparedSteps} steps identical (first: ${r.firstDiff})`);
  assert.ok(Math.abs(r.backendSpikes - r.cpuSpikes) <= 0.02 * r.cpuSpikes);
  assert.ok(r.maxWeightDiff < 1e-5, `weights differ by ${r.maxWeightDiff}`);
});

test('spikeflow simulate --backend webgpu gives the CPU backend\'s spikes on an exchange case with STDP and adaptation', () => {
  const r = gpuChild('cli-case.ts', ['webgpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(JSON.parse(r.summary).backend, /^webgpu \(/);
  const c = exchangeCase('gpu', { seed: 7, adaptation: true, stdp: true, steps: 400, inputHz: 40 });
  const cpu = runJob(jobFrom(c.net, c.spikes)).out as { spikes: number[][]; weights: number[]; theta: number[] };
  assert.ok(cpu.spikes.length > 100);
  assert.deepEqual(r.out.spikes, cpu.spikes);
  r.out.weights.forEach((w: number, s: number) => assert.ok(Math.abs(w - cpu.weights[s]!) < 1e-5, `weight ${s}`));
  r.out.theta.forEach((x: number, j: number) => assert.ok(Math.abs(x - cpu.theta[j]!) < 1e-5, `theta ${j}`));
});

test('no adapter: --backend webgpu exits 1 saying why; --backend auto falls back to the CPU and says so', () => {
  const none = { VK_DRIVER_FILES: '/nonexistent/icd.json' };
  const demanded = gpuChild('cli-case.ts', ['webgpu'], none);
  assert.equal(demanded.code, 1);
  assert.match(demanded.stderr, /webgpu backend was asked for but cannot run this network: no usable WebGPU adapter/);
  assert.equal(demanded.out, null, 'no output file');
  const auto = gpuChild('cli-case.ts', ['auto'], none);
  assert.equal(auto.code, 0);
  assert.match(auto.stderr, /webgpu unavailable .*running on the cpu backend/);
  assert.equal(JSON.parse(auto.summary).backend, 'cpu');
  const c = exchangeCase('gpu', { seed: 7, adaptation: true, stdp: true, steps: 400, inputHz: 40 });
  assert.deepEqual(auto.out, runJob(jobFrom(c.net, c.spikes)).out);
});

test('features the GPU does not run yet are refused by name, not approximated', () => {
  const base = {
    dt_ms: 1,
    populations: [
      { name: 'in', model: 'input', size: 4 },
      { name: 'out', model: 'lif', size: 2, tau_ms: 20, v_th: 1 },
    ],
    projections: [{ name: 'p', kind: 'random', from: 'in', to: 'out', p: 0.5, weight: 0.3 }],
  };
  const refused = (extra: object, re: RegExp) => assert.throws(() => planGpu(buildNetwork({ ...base, ...extra })), (e: unknown) => e instanceof GpuUnsupportedError && re.test(e.message));
  refused({ plasticity: [{ rule: 'three_factor', projection: 'p', signal: 'r', tau_pre_ms: 20, tau_post_ms: 20, a_pre: 0.1, a_post: -0.1, tau_eligibility_ms: 100, learning_rate: 0.1, w_min: 0, w_max: 1 }] }, /learning rule 'three_factor'/);
  refused({ plasticity: [{ rule: 'delay', projection: 'p', learning_rate: 0.1, d_min: 0, d_max: 4, window_steps: 5 }] }, /learning rule 'delay'/);
  // Homeostasis (both controllers), logistic units and the readout now run on the GPU…
  const readoutNet = (rules: object[]) => ({
    ...base,
    populations: [base.populations[0], { name: 'ro', model: 'logistic', size: 2, threshold: 0.5 }, base.populations[1]],
    projections: [...base.projections, { name: 'q', kind: 'dense', from: 'in', to: 'ro', weight: 0, delay_steps: 0 }, { name: 'q2', kind: 'dense', from: 'out', to: 'ro', weight: 0, delay_steps: 0 }],
    plasticity: rules,
  });
  const ro = (projection: string, extra: object = {}) => ({ rule: 'readout', projection, signal: 'y', optimizer: 'adam', learning_rate: 0.01, ...extra });
  const plan = planGpu(
    buildNetwork({
      ...readoutNet([ro('q')]),
      homeostasis: [
        { controller: 'threshold', population: 'out', target_hz: 5, timescales: [{ tau_ms: 100, gain: 0.1 }] },
        { controller: 'scaling', population: 'out', target_hz: 5, timescales: [{ tau_ms: 100, gain: 0.1 }, { tau_ms: 1000, gain: 0.01 }] },
      ],
    }),
  );
  assert.equal(plan.homeo.length, 2);
  assert.ok(plan.projs.find((q) => q.name === 'p')!.weightPerInstance, 'scaled weights are per instance');
  assert.ok(plan.projs.find((q) => q.name === 'q')!.readout);
  assert.ok(planGpu(buildNetwork(readoutNet([ro('q', { prune: { keep: 2, every_steps: 10 } })]))).projs.find((q) => q.name === 'q')!.readout!.mask >= 0, 'pruning runs on the GPU');
  // …but two readouts training one population's biases are refused.
  refused(readoutNet([ro('q'), ro('q2')]), /more than one readout rule trains population 'ro'/);
  // The softmax loss and homeostasis on logistic units are refused too.
  const shaped = readoutNet([ro('q', { loss: 'softmax' })]) as { populations: object[] };
  shaped.populations[1] = { name: 'ro', model: 'logistic', size: 2, threshold: 0.5, shape: [2, 1, 1] };
  refused(shaped, /softmax readout loss \(on 'q'\)/);
  refused({ ...readoutNet([]), homeostasis: [{ controller: 'threshold', population: 'ro', target_hz: 5, timescales: [{ tau_ms: 100, gain: 0.1 }] }] }, /homeostasis on logistic population 'ro'/);
  assert.throws(() => planGpu(buildNetwork(base), { instances: 70000 }), /instances must be an integer in \[1, 65535\]/);
});
