// The WASM backend against the TypeScript reference: on seeded random networks (several
// projections, delays, refractory LIF, ALIF, reset by subtraction, STDP additive, multiplicative and
// symmetric, learning switched off and on), every step's spikes and, at the end, every byte of the
// state arena must be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import { cpuBackend } from '../../src/snn/backend.js';
import { ARENA_BASE, wasmBackend, wasmKernelCalls } from '../../src/snn/backends/wasm.js';
import { backendByName, BACKEND_NAMES } from '../../src/snn/backends/select.js';
import { Rng } from '../../src/emulator/rng.js';
import { StateArena } from '../../src/snn/arena.js';
import { SynapseTable } from '../../src/snn/projections/synapse-table.js';
import { encodeCheckpoint, restoreCheckpoint } from '../../src/snn/checkpoint.js';

const wasm = wasmBackend();

type Mode = 'additive' | 'multiplicative';

/**
 * A random network: 2 inputs → LIF (refractory) → ALIF (subtract) → small LIF, plus recurrence.
 * `wide` adds a large sparse projection onto a big population, where on_post takes the
 * postsynaptic index (few spiking neurons for many synapses) rather than a scan of the table.
 */
function randomSpec(seed: number, stdp: boolean, wide = false): unknown {
  const r = new Rng(seed, 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r.uniform() * xs.length)]!;
  const stdpRule = (projection: string, mode: Mode, symmetric: boolean, w_min: number, w_max: number) => ({
    rule: 'stdp',
    projection,
    decay_pre: 0.9 + 0.09 * r.uniform(),
    decay_post: 0.9 + 0.09 * r.uniform(),
    a_pre: 0.01 + 0.02 * r.uniform(),
    a_post: -(0.01 + 0.02 * r.uniform()),
    w_min,
    w_max,
    mode,
    symmetric,
  });
  const nB = 20 + Math.floor(r.uniform() * 10);
  const sparseN = 400;
  return {
    dt_ms: 1,
    seed,
    populations: [
      { name: 'inA', model: 'input', size: 40 + Math.floor(r.uniform() * 20) },
      { name: 'inB', model: 'input', size: nB },
      { name: 'lif', model: 'lif', size: 33, decay: 0.9 + 0.05 * r.uniform(), v_th: 1, v_reset: pick([0, -0.2]), refractory_steps: 1 + Math.floor(r.uniform() * 3) },
      { name: 'alif', model: 'alif', size: 21, decay: 0.95, v_th: 0.8, reset: 'subtract', adaptation: { decay: 0.97, plus: 0.05 + 0.1 * r.uniform() } },
      // Odd size: the SIMD loops' scalar tail runs; refractory 0 takes the SIMD decay.
      { name: 'out', model: 'lif', size: 7, decay: 0.85, v_th: 0.5, reset: pick(['value', 'subtract']) },
      ...(wide ? [{ name: 'big', model: 'lif', size: 400, decay: 0.9, v_th: 1, refractory_steps: 2 }] : []),
    ],
    projections: [
      { name: 'a', kind: 'random', from: 'inA', to: 'lif', p: 0.3, weight: { min: 0, max: 0.4 }, delay_steps: { min: 0, max: 5 } },
      {
        // Duplicate (pre, post) pairs and negative weights.
        name: 'b',
        kind: 'sparse',
        from: 'inB',
        to: 'lif',
        pre: Array.from({ length: sparseN }, () => Math.floor(r.uniform() * nB)),
        post: Array.from({ length: sparseN }, () => Math.floor(r.uniform() * 33)),
        weight: Array.from({ length: sparseN }, () => r.uniform() * 0.5 - 0.1),
        delay_steps: Array.from({ length: sparseN }, () => Math.floor(r.uniform() * 9)),
      },
      { name: 'c', kind: 'dense', from: 'inA', to: 'alif', weight: { min: -0.05, max: 0.15 }, delay_steps: { min: 0, max: 3 } },
      { name: 'd', kind: 'random', from: 'lif', to: 'alif', p: 0.4, weight: { min: 0, max: 0.5 }, delay_steps: { min: 1, max: 4 } },
      { name: 'e', kind: 'random', from: 'alif', to: 'out', p: 0.6, weight: { min: 0, max: 0.6 }, delay_steps: 2 },
      { name: 'f', kind: 'random', from: 'lif', to: 'lif', p: 0.1, weight: { min: -0.3, max: 0.3 }, delay_steps: { min: 1, max: 12 } },
      ...(wide ? [{ name: 'g', kind: 'random', from: 'inA', to: 'big', p: 0.5, weight: { min: 0, max: 0.2 }, delay_steps: { min: 0, max: 7 } }] : []),
    ],
    plasticity: stdp
      ? [
          stdpRule('a', 'additive', false, 0, 0.5),
          stdpRule('b', 'multiplicative', false, -0.1, 0.6),
          stdpRule('c', 'additive', true, -0.1, 0.2),
          stdpRule('d', 'multiplicative', true, 0, 0.6),
          stdpRule('f', pick(['additive', 'multiplicative'] as const), false, -0.3, 0.3),
          ...(wide ? [stdpRule('g', pick(['additive', 'multiplicative'] as const), r.uniform() < 0.5, 0, 0.2)] : []),
        ]
      : [],
    homeostasis: [],
  };
}

/** Input spikes per step, drawn once and given to both networks (duplicates and disorder included). */
function inputs(seed: number, steps: number, net: Network): Record<string, number[]>[] {
  const r = new Rng(seed, 99);
  const sizes = { inA: net.population('inA').size, inB: net.population('inB').size };
  return Array.from({ length: steps }, () => {
    const rec: Record<string, number[]> = {};
    for (const [name, size] of Object.entries(sizes)) {
      const list: number[] = [];
      for (let i = size - 1; i >= 0; i--) if (r.uniform() < 0.12) list.push(i);
      if (list.length && r.uniform() < 0.2) list.push(list[0]!);
      rec[name] = list;
    }
    return rec;
  });
}

const OUTPUTS = ['lif', 'alif', 'out'];

/** Runs both backends side by side; asserts identical spikes per step and identical arenas at the end. Returns spikes per population. */
function runBoth(seed: number, stdp: boolean, steps: number, during?: (t: number, nets: Network[]) => void, wide = false): Record<string, number> {
  const spec = randomSpec(seed, stdp, wide);
  const ref = buildNetwork(spec, { backend: cpuBackend });
  const fast = buildNetwork(spec, { backend: wasm });
  assert.equal(fast.arena.base, ARENA_BASE);
  assert.equal(fast.arena.byteLength, ref.arena.byteLength);
  const before = { ...wasmKernelCalls };
  const given = inputs(seed, steps, ref);
  const outputs = wide ? [...OUTPUTS, 'big'] : OUTPUTS;
  const counts: Record<string, number> = Object.fromEntries(outputs.map((n) => [n, 0]));
  for (let t = 0; t < steps; t++) {
    during?.(t, [ref, fast]);
    ref.step({ spikes: given[t] });
    fast.step({ spikes: given[t] });
    for (const name of outputs) {
      const a = ref.spikes(name);
      assert.deepEqual(Array.from(fast.spikes(name)), Array.from(a), `seed ${seed}: '${name}' spikes differ at step ${t}`);
      counts[name]! += a.length;
    }
  }
  // Every kernel call went to WASM: 2 populations' integrate + threshold… at least one call per step and kernel.
  assert.equal(wasmKernelCalls.reference, before.reference, 'no call fell back to the reference');
  assert.ok(wasmKernelCalls.wasm - before.wasm >= steps * (3 * 2 + 6), `WASM kernels ran (${wasmKernelCalls.wasm - before.wasm} calls)`);
  // The whole state — v, θ, refractory, spike rings, weights, traces — byte for byte.
  const len = ref.arena.byteLength;
  const a = new Uint8Array(ref.arena.buffer!, ref.arena.base, len);
  const b = new Uint8Array(fast.arena.buffer!, fast.arena.base, len);
  if (Buffer.compare(a, b) !== 0) {
    for (const slot of ref.arena.layout) {
      const x = ref.arena.get(slot.name);
      const y = fast.arena.get(slot.name);
      assert.deepEqual(Array.from(y), Array.from(x), `seed ${seed}: arena array '${slot.name}' differs`);
    }
    assert.fail(`seed ${seed}: arenas differ outside any array`);
  }
  return counts;
}

test('the wasm backend is selectable by name and its arena is the instance memory', async () => {
  assert.ok(BACKEND_NAMES.includes('wasm'));
  const b = await backendByName('wasm');
  assert.equal(b.name, 'wasm');
  const net = buildNetwork(randomSpec(1, true), { backend: b });
  // The arena sits above the module's statics, in a memory that cannot grow (so views never detach).
  assert.equal(net.arena.base, ARENA_BASE);
  assert.equal(net.arena.buffer!.byteLength % 65536, 0);
  assert.ok(net.arena.buffer!.byteLength >= ARENA_BASE + net.arena.byteLength);
  assert.ok(net.arena.buffer!.byteLength < ARENA_BASE + net.arena.byteLength + 65536 + 16, 'memory sized to the network');
});

for (const seed of [1, 2, 3]) {
  test(`seed ${seed}: plain LIF/ALIF network, wasm = reference bit for bit`, () => {
    const before = wasmKernelCalls.deliverCompact;
    const beforeQueued = wasmKernelCalls.deliverQueued;
    const counts = runBoth(seed, false, 300);
    // The comparison means something only if every population fires.
    for (const name of OUTPUTS) assert.ok(counts[name]! > 20, `'${name}' fired ${counts[name]} times`);
    // Drawn weights are float32, so the frozen random and dense projections delivered from their
    // compact copy (5 of 6 projections; 'b' has float64 weights and takes the full arrays).
    assert.ok(wasmKernelCalls.deliverCompact - before >= 300 * 5, `compact deliveries: ${wasmKernelCalls.deliverCompact - before}`);
    // All five have two or more delay slots, so they delivered through the arrival queues.
    assert.ok(wasmKernelCalls.deliverQueued - beforeQueued >= 300 * 5, `queued deliveries: ${wasmKernelCalls.deliverQueued - beforeQueued}`);
  });
  test(`seed ${seed}: with STDP (additive, multiplicative, symmetric), wasm = reference bit for bit`, () => {
    const counts = runBoth(seed, true, 300, (t, nets) => {
      // Learning off for a while (on_post then only updates traces), then on again.
      if (t === 100) for (const n of nets) n.setLearning(false);
      if (t === 150) for (const n of nets) n.setLearning(true, 'a');
      if (t === 200) for (const n of nets) n.setLearning(true);
    });
    for (const name of OUTPUTS) assert.ok(counts[name]! > 20, `'${name}' fired ${counts[name]} times`);
  });
}

test('wide network: on_post through the postsynaptic index and by scan, wasm = reference bit for bit', () => {
  const before = { ...wasmKernelCalls };
  for (const seed of [7, 8]) {
    const counts = runBoth(seed, true, 250, undefined, true);
    for (const name of [...OUTPUTS, 'big']) assert.ok(counts[name]! > 20, `'${name}' fired ${counts[name]} times`);
  }
  // Both ways of visiting the weights ran (the small projections scan, the wide one takes the index).
  assert.ok(wasmKernelCalls.onPostIndexed - before.onPostIndexed > 100, `indexed on_post calls: ${wasmKernelCalls.onPostIndexed - before.onPostIndexed}`);
  assert.ok(wasmKernelCalls.onPostScan - before.onPostScan > 100, `scan on_post calls: ${wasmKernelCalls.onPostScan - before.onPostScan}`);
});

test('STDP moved weights (so the weight comparison is not trivially of initial values)', () => {
  const spec = randomSpec(4, true);
  const net = buildNetwork(spec, { backend: wasm });
  const w0 = net.projection('a').table!.weight.slice();
  const given = inputs(4, 200, net);
  for (let t = 0; t < 200; t++) net.step({ spikes: given[t] });
  const w1 = net.projection('a').table!.weight;
  let changed = 0;
  for (let s = 0; s < w0.length; s++) if (w0[s] !== w1[s]) changed++;
  assert.ok(changed > w0.length / 2, `${changed} of ${w0.length} weights changed`);
});

test('two networks on one wasm backend keep separate memories', () => {
  const a = buildNetwork(randomSpec(5, true), { backend: wasm });
  const b = buildNetwork(randomSpec(6, false), { backend: wasm });
  assert.notEqual(a.arena.buffer, b.arena.buffer);
  // Interleaved stepping gives the same as each alone (compared in runBoth's arena check, here by spikes).
  const ga = inputs(5, 120, a);
  const gb = inputs(6, 120, b);
  const alone = buildNetwork(randomSpec(5, true), { backend: cpuBackend });
  for (let t = 0; t < 120; t++) {
    a.step({ spikes: ga[t] });
    b.step({ spikes: gb[t] });
    alone.step({ spikes: ga[t] });
    for (const name of OUTPUTS) assert.deepEqual(Array.from(a.spikes(name)), Array.from(alone.spikes(name)), `step ${t} '${name}'`);
  }
});

/** One input onto LIF through a frozen random projection with delays 0–9 (compact, so queued). */
function burstSpec(p: number, wMax: number): unknown {
  return {
    dt_ms: 1,
    seed: 21,
    populations: [
      { name: 'in', model: 'input', size: 60 },
      { name: 'out', model: 'lif', size: 80, decay: 0.9, v_th: 1, v_reset: 0 },
    ],
    projections: [{ name: 'p', kind: 'random', from: 'in', to: 'out', p, weight: { min: -0.02, max: wMax }, delay_steps: { min: 0, max: 9 } }],
    plasticity: [],
    homeostasis: [],
  };
}

/** Steps both networks and asserts the same output spikes at every step. */
function stepBoth(nets: Network[], given: number[][], from: number, to: number, what: string): number {
  let spikes = 0;
  for (let t = from; t < to; t++) {
    for (const n of nets) n.step({ spikes: { in: given[t]! } });
    const a = Array.from(nets[0]!.spikes('out'));
    for (const n of nets.slice(1)) assert.deepEqual(Array.from(n.spikes('out')), a, `${what}: spikes differ at step ${t}`);
    spikes += a.length;
  }
  return spikes;
}

test('arrival queues: steps busier than a queue holds are delivered by the staged path, the same as the reference', () => {
  // A queue slot holds count/D + 64 records; a step where every input fires delivers all ~2,400
  // synapses' worth of arrivals into the next steps, far more, so those steps overflow.
  const spec = burstSpec(0.5, 0.05);
  const ref = buildNetwork(spec, { backend: cpuBackend });
  const fast = buildNetwork(spec, { backend: wasm });
  assert.ok(fast.projection('p').table!.arrivals, 'the frozen compact table keeps arrival queues');
  const r = new Rng(5, 1);
  const all = Array.from({ length: 60 }, (_, i) => i);
  const given = Array.from({ length: 400 }, (_, t) => (t % 50 < 5 ? all : all.filter(() => r.uniform() < 0.05)));
  const before = { ...wasmKernelCalls };
  const spikes = stepBoth([ref, fast], given, 0, 400, 'bursts');
  assert.ok(spikes > 100, `the output fired ${spikes} times`);
  const overflows = wasmKernelCalls.queueOverflows - before.queueOverflows;
  const queued = wasmKernelCalls.deliverQueued - before.deliverQueued;
  assert.ok(overflows >= 8 * 10, `overflowed steps: ${overflows}`);
  assert.ok(overflows < queued / 2, `most steps still came from the queues (${overflows} of ${queued} overflowed)`);
  assert.deepEqual(Array.from(fast.population('out').input), Array.from(ref.population('out').input), 'membranes equal');
});

test('arrival queues are rebuilt from history after a checkpoint is restored, even at the same step', () => {
  const spec = burstSpec(0.3, 0.1);
  const r = new Rng(6, 1);
  const draw = () => Array.from({ length: 300 }, () => Array.from({ length: 60 }, (_, i) => i).filter(() => r.uniform() < 0.15));
  const given = draw();
  const other = draw();
  const ref = buildNetwork(spec, { backend: cpuBackend });
  const fast = buildNetwork(spec, { backend: wasm });
  stepBoth([ref, fast], given, 0, 150, 'before the checkpoint');
  const saved = encodeCheckpoint(ref);
  // A wasm network that ran to the same step on other input: its queues hold other arrivals.
  const stray = buildNetwork(spec, { backend: wasm });
  for (let t = 0; t < 150; t++) stray.step({ spikes: { in: other[t]! } });
  const before = wasmKernelCalls.queueRebuilds;
  restoreCheckpoint(stray, saved);
  // And the first wasm network, moved back 40 steps.
  const back = encodeCheckpoint(fast);
  stepBoth([fast], given, 150, 190, 'running on');
  restoreCheckpoint(fast, back);
  const spikes = stepBoth([ref, fast, stray], given, 150, 300, 'after restoring');
  assert.ok(spikes > 50, `the output fired ${spikes} times`);
  assert.equal(wasmKernelCalls.queueRebuilds - before, 2, 'each restored network rebuilt its queues once');
});

/** The compact copy's records (u16 post, f32 weight) equal post and weight. */
function assertCompact(t: SynapseTable): void {
  const c = t.compact!;
  assert.ok(c, `'${t.name}' keeps a compact copy`);
  assert.equal(c.length, 6 * t.count);
  const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
  for (let s = 0; s < t.count; s++) {
    assert.equal(view.getUint16(6 * s, true), t.post[s]);
    assert.equal(view.getFloat32(6 * s + 2, true), t.weight[s]);
  }
}

test('compact copy: only for frozen, float32-exact weights onto ≤ 65,536 neurons', () => {
  const plain = buildNetwork(randomSpec(1, false), { backend: wasm });
  for (const name of ['a', 'c', 'd', 'e', 'f']) assertCompact(plain.projection(name).table!);
  // Sparse weights given as float64: no copy.
  assert.equal(plain.projection('b').table!.compact, undefined);
  // Learning rules and synaptic scaling change weights: no copy on their projections.
  const stdp = buildNetwork(randomSpec(1, true), { backend: wasm });
  for (const name of ['a', 'b', 'c', 'd', 'f']) assert.equal(stdp.projection(name).table!.compact, undefined, `'${name}' is plastic`);
  assert.ok(stdp.projection('e').table!.compact, "'e' has no rule");
  const spec = randomSpec(1, false) as { homeostasis: unknown[] };
  spec.homeostasis = [
    { controller: 'threshold', population: 'lif', target_hz: 5, timescales: [{ tau_ms: 100, gain: 0.01 }], enabled: true },
    { controller: 'scaling', population: 'alif', target_hz: 5, timescales: [{ tau_ms: 100, gain: 0.01 }], enabled: true },
  ];
  const scaled = buildNetwork(spec, { backend: wasm });
  assert.equal(scaled.projection('c').table!.compact, undefined, "'c' feeds a scaled population");
  assert.equal(scaled.projection('d').table!.compact, undefined, "'d' feeds a scaled population");
  assert.ok(scaled.projection('a').table!.compact, "'a' feeds a population with threshold homeostasis only");
});

test('SynapseTable: postKey and the compact copy follow regroup()', () => {
  const r = new Rng(12, 1);
  const n = 500;
  const P = 37;
  const list = {
    pre: Int32Array.from({ length: n }, () => Math.floor(r.uniform() * P)),
    post: Int32Array.from({ length: n }, () => Math.floor(r.uniform() * 50)),
    weight: Float64Array.from({ length: n }, () => Math.fround(r.uniform())),
    delay: Int32Array.from({ length: n }, () => Math.floor(r.uniform() * 6)),
  };
  const table = new SynapseTable(new StateArena(), 'p', P, 50, list, 9, true);
  const check = () => {
    for (let q = 0; q < n; q++) {
      const s = table.postSyn[q]!;
      assert.equal(table.postKey[q], table.delay[s]! * P - table.pre[s]!);
    }
    assertCompact(table);
  };
  check();
  for (let s = 0; s < n; s++) if (r.uniform() < 0.3) table.delay[s] = Math.floor(r.uniform() * 10);
  table.regroup();
  check();
  // Not frozen, or a weight that is not a float32, or too many targets: no copy (postKey always).
  assert.equal(new SynapseTable(new StateArena(), 'q', P, 50, list, 9, false).compact, undefined);
  assert.equal(new SynapseTable(new StateArena(), 'r', P, 50, { ...list, weight: list.weight.map((w, s) => (s === 7 ? w + 1e-12 : w)) }, 9, true).compact, undefined);
  assert.equal(new SynapseTable(new StateArena(), 's', P, 70_000, list, 9, true).compact, undefined);
});

test('arena scratch: placed after the state, outside the checkpoint layout, zeroed by clearScratch', () => {
  const spec = burstSpec(0.3, 0.1);
  const net = buildNetwork(spec, { backend: wasm });
  const view = net.projection('p').table!.arrivals!;
  assert.equal(view.buffer, net.arena.buffer, 'in the same memory as the state');
  assert.ok(view.byteOffset >= net.arena.base + net.arena.byteLength, 'after every state array');
  assert.ok(!net.arena.layout.some((s) => s.name.endsWith('.arrivals')), 'not a state array');
  for (let t = 0; t < 20; t++) net.step({ spikes: { in: [1, 5, 9] } });
  assert.ok(view.some((b) => b !== 0), 'the queues were written');
  net.arena.clearScratch();
  assert.ok(view.every((b) => b === 0));
  // The reference backend asks for none.
  assert.equal(buildNetwork(spec, { backend: cpuBackend }).projection('p').table!.arrivals, undefined);
});
