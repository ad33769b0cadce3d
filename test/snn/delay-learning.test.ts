/**
 * Online delay learning: a neuron made to fire by a teacher a fixed time after each input pattern
 * ends with every synapse's delay equal to t_post − t_pre, so the pattern's spikes all arrive
 * together and the neuron then detects the pattern on its own (it never fires on it before); delays
 * never leave [d_min, d_max], even when the lags lie outside; the table stays consistently grouped
 * (and tracked per-synapse arrays aligned) through every regroup; learning off leaves every delay
 * alone, and switching it on and off while running takes effect at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import { Rng } from '../../src/emulator/rng.js';
import type { SynapseTable } from '../../src/snn/projections/synapse-table.js';
import type { DelayLearningRuntime } from '../../src/snn/plasticity/delay-learning.js';

const N = 6;
const PERIOD = 24; // steps per episode; longer than the window, so episodes never pair across

interface Options {
  offsets: number[];
  /** Initial delays (user order, synapse i: pre i → post 0). */
  delays: number[];
  d_min: number;
  d_max: number;
  learning_rate?: number;
  enabled?: boolean;
  window_steps?: number;
  /** pre → post weight (default 1). */
  weight?: number;
}

/**
 * pre (input, N) → post (LIF) with weight 1 and the given delays, under delay learning; a teacher
 * input drives post strongly with delay 0, so a teacher spike at step s makes post fire at s + 1.
 * Membrane: decay 0.2, threshold 1, so only ≥ 6 pre arrivals in one step (0.2·6 = 1.2) fire it.
 */
function delayNet(o: Options): Network {
  return buildNetwork({
    dt_ms: 1,
    seed: 1,
    populations: [
      { name: 'pre', model: 'input', size: N },
      { name: 'teacher', model: 'input', size: 1 },
      { name: 'post', model: 'lif', size: 1, decay: 0.2, v_th: 1, v_reset: 0 },
    ],
    projections: [
      { name: 'syn', kind: 'sparse', from: 'pre', to: 'post', pre: [...Array(N).keys()], post: Array(N).fill(0), weight: Array(N).fill(o.weight ?? 1), delay_steps: o.delays },
      { name: 'teach', kind: 'sparse', from: 'teacher', to: 'post', pre: [0], post: [0], weight: [20], delay_steps: [0] },
    ],
    plasticity: [{ rule: 'delay', projection: 'syn', learning_rate: o.learning_rate ?? 0.4, d_min: o.d_min, d_max: o.d_max, enabled: o.enabled ?? true, ...(o.window_steps ? { window_steps: o.window_steps } : {}) }],
  });
}

/**
 * One episode: pre neuron i spikes at t0 + offsets[i]; the teacher (if `lag`) at t0 + lag − 1, so post
 * fires at t0 + lag. Returns the steps (relative to t0) at which post fired; calls `each` after every step.
 */
function episode(net: Network, offsets: number[], lag: number | undefined, each?: () => void): number[] {
  const fired: number[] = [];
  for (let k = 0; k < PERIOD; k++) {
    const pre = offsets.flatMap((o, i) => (o === k ? [i] : []));
    net.step({ spikes: { pre, teacher: lag !== undefined && k === lag - 1 ? [0] : [] } });
    if (net.spikes('post').length > 0) fired.push(k);
    each?.();
  }
  return fired;
}

/** Every synapse sits in the group of its (pre, delay), and the post index lists each synapse once. */
function assertGrouped(table: SynapseTable): void {
  const D = table.delaySlots;
  for (let s = 0; s < table.count; s++) {
    const g = table.pre[s]! * D + table.delay[s]!;
    assert.ok(s >= table.groupStart[g]! && s < table.groupStart[g + 1]!, `synapse ${s} outside its group`);
  }
  assert.deepEqual([...table.postSyn].sort((a, b) => a - b), [...Array(table.count).keys()]);
}

test('delays converge to t_post − t_pre; the neuron then fires on the pattern alone, as it never did before', () => {
  const offsets = [0, 5, 2, 4, 1, 3];
  const LAG = 9;
  const rng = new Rng(3);
  const initial = offsets.map(() => Math.floor(rng.uniform() * 13)); // 0 … 12
  const net = delayNet({ offsets, delays: initial, d_min: 0, d_max: 12 });
  const table = net.projection('syn').table!;
  // Before learning, without the teacher: the arrivals are spread out and the neuron stays silent.
  net.setLearning(false);
  for (let e = 0; e < 3; e++) assert.deepEqual(episode(net, offsets, undefined), []);
  net.setLearning(true);
  const history: number[][] = [];
  for (let e = 0; e < 30; e++) {
    const fired = episode(net, offsets, LAG);
    assert.deepEqual(fired, [LAG], 'the teacher alone sets the post spike during training');
    history.push(Array.from(table.delaysInUserOrder()));
  }
  const target = offsets.map((o) => LAG - o);
  assert.deepEqual(history.at(-1), target);
  // The distance to the target shrinks monotonically, synapse by synapse.
  for (let i = 0; i < N; i++) {
    let prev = Math.abs(initial[i]! - target[i]!);
    for (const h of history) {
      const dist = Math.abs(h[i]! - target[i]!);
      assert.ok(dist <= prev, `synapse ${i} moved away from its target`);
      prev = dist;
    }
  }
  assertGrouped(table);
  // Now the pattern's spikes arrive together at t0 + LAG and fire the neuron one step later, teacher or not.
  net.setLearning(false);
  for (let e = 0; e < 3; e++) assert.deepEqual(episode(net, offsets, undefined), [LAG + 1]);
  console.log(`# delays ${initial.join(',')} → ${history.at(-1)!.join(',')} (target ${target.join(',')}); after ${history.findIndex((h) => h.join() === target.join()) + 1} episodes`);
});

test('the learning rate sets the speed: the accumulated fraction moves a delay by whole steps', () => {
  const offsets = [0, 0, 0, 0, 0, 0];
  // Weight 0: only the teacher makes post fire (six coincident arrivals would fire it too).
  const net = delayNet({ offsets, delays: [0, 0, 0, 0, 0, 0], d_min: 0, d_max: 10, learning_rate: 0.25, weight: 0 });
  const table = net.projection('syn').table!;
  const rule = net.rules[0] as DelayLearningRuntime;
  // Lag 8, delay 0: r += 0.25·8 = 2 → delay 2; then 0.25·6 = 1.5 → 3, r = 0.5; then 0.5 + 1.25 = 1.75 → 4, r = 0.75;
  // 0.75 + 1 → 5, r = 0.75; 0.75 + 0.75 → 6, r = 0.5; 0.5 + 0.5 → 7, r = 0; then 0.25, 0.5: stays at 7.
  const expected = [2, 3, 4, 5, 6, 7, 7, 7];
  const seen: number[] = [];
  for (const _ of expected) {
    episode(net, offsets, 8);
    seen.push(table.delaysInUserOrder()[0]!);
  }
  assert.deepEqual(seen, expected);
  for (let e = 0; e < 20; e++) episode(net, offsets, 8);
  assert.deepEqual(Array.from(table.delaysInUserOrder()), Array(N).fill(8));
  assert.ok(rule.state.acc.every((r) => Math.abs(r) < 1));
});

test('delays never leave [d_min, d_max], even when the lags lie outside; regrouping keeps the table consistent', () => {
  // Targets LAG − offset = 10 … 0; the bounds [3, 6] cut both ends. (The default window, d_max + 1,
  // would not even see lags 8 and 10.)
  const offsets = [0, 2, 4, 6, 8, 10];
  const LAG = 10;
  const net = delayNet({ offsets, delays: [3, 4, 5, 6, 6, 3], d_min: 3, d_max: 6, learning_rate: 0.2, window_steps: 12 });
  const table = net.projection('syn').table!;
  const rule = net.rules[0] as DelayLearningRuntime;
  let regroupsSeen = 0;
  let last = table.delaysInUserOrder().join();
  for (let e = 0; e < 25; e++) {
    episode(net, offsets, LAG, () => {
      for (const d of table.delay) assert.ok(d >= 3 && d <= 6, `delay ${d} outside [3, 6]`);
      const now = table.delaysInUserOrder().join();
      if (now !== last) regroupsSeen++;
      last = now;
    });
  }
  assert.deepEqual(Array.from(table.delaysInUserOrder()), [6, 6, 6, 4, 3, 3]);
  assert.ok(regroupsSeen >= 5, `delays changed in ${regroupsSeen} steps`);
  assertGrouped(table);
  // The tracked accumulator moved with its synapse: pinned synapses hold no wound-up whole steps.
  assert.ok(rule.state.acc.every((r) => Math.abs(r) < 1));
  // The regrouped table delivers with the new delays: a lone spike of pre 3 arrives 4 steps later,
  // one of pre 0 six steps later.
  net.setLearning(false);
  const v = net.population('post').input;
  for (const [i, d] of [
    [3, 4],
    [0, 6],
  ] as const) {
    const arrivals: number[] = [];
    for (let k = 0; k < PERIOD; k++) {
      net.step({ spikes: { pre: k === 0 ? [i] : [] } });
      if (v[0]! > 0.5) arrivals.push(k);
    }
    assert.deepEqual(arrivals, [d]);
  }
});

test('learning off leaves delays unchanged; setLearning switches delay learning while running', () => {
  const offsets = [0, 1, 2, 3, 4, 5];
  const delays = [1, 1, 1, 1, 1, 1];
  const net = delayNet({ offsets, delays, d_min: 0, d_max: 10, enabled: false });
  const table = net.projection('syn').table!;
  const rule = net.rules[0] as DelayLearningRuntime;
  for (let e = 0; e < 5; e++) episode(net, offsets, 8);
  assert.deepEqual(Array.from(table.delaysInUserOrder()), delays);
  assert.ok(rule.state.acc.every((r) => r === 0));
  // Last-spike times are still kept while off, so switching on mid-stream pairs correctly at once.
  assert.ok(rule.state.lastPre.every((t) => t >= 0));
  net.setLearning(true, 'syn');
  episode(net, offsets, 8);
  const moved = Array.from(table.delaysInUserOrder());
  assert.notDeepEqual(moved, delays);
  net.setLearning(false);
  for (let e = 0; e < 5; e++) episode(net, offsets, 8);
  assert.deepEqual(Array.from(table.delaysInUserOrder()), moved);
  net.setLearning(true);
  for (let e = 0; e < 30; e++) episode(net, offsets, 8);
  assert.deepEqual(Array.from(table.delaysInUserOrder()), offsets.map((o) => 8 - o));
});
