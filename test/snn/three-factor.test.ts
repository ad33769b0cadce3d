import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import type { ThreeFactorSpec } from '../../src/snn/spec.js';
import { Rng } from '../../src/emulator/rng.js';

const A_PRE = 0.01;
const A_POST = -0.012;
const DECAY_PRE = Math.exp(-1 / 20);
const DECAY_POST = Math.exp(-1 / 20);
const DECAY_E = Math.exp(-1 / 100);
const LR = 0.5;

function rule(over: Partial<ThreeFactorSpec> = {}): ThreeFactorSpec {
  return {
    rule: 'three_factor',
    projection: 'plastic',
    enabled: true,
    signal: 'reward',
    decay_pre: DECAY_PRE,
    decay_post: DECAY_POST,
    a_pre: A_PRE,
    a_post: A_POST,
    decay_eligibility: DECAY_E,
    learning_rate: LR,
    w_min: 0,
    w_max: 1,
    ...over,
  };
}

/**
 * One plastic synapse in → out (weight 0.5, delay 1) and a strong teacher synapse that makes `out`
 * fire one step after the teacher input spikes.
 */
function pairNet(over: Partial<ThreeFactorSpec> = {}): Network {
  return buildNetwork({
    version: 1,
    dt_ms: 1,
    seed: 1,
    populations: [
      { name: 'in', model: 'input', size: 2 },
      { name: 'out', model: 'lif', size: 1, decay: 0.9, v_th: 1, v_reset: 0, v_init: 0, reset: 'value', refractory_steps: 0 },
    ],
    projections: [
      { name: 'plastic', from: 'in', to: 'out', kind: 'sparse', pre: [0], post: [0], weight: [0.5], delay_steps: [1] },
      { name: 'teacher', from: 'in', to: 'out', kind: 'sparse', pre: [1], post: [0], weight: [2], delay_steps: [0] },
    ],
    plasticity: [rule(over)],
    homeostasis: [],
  });
}

const PRE_STEP = 10; // pre spike; arrives at 11
const TEACH_STEP = 12; // teacher input; out spikes at 13
const POST_STEP = 13;

/**
 * Pre spike at 10 (arrival 11), post spike at 13 (pre before post), or with `reversed` the post at
 * 13 and the pre arriving at 16 (post before pre); then `reward` at step `rewardStep`, run to 400.
 */
function runPairing(reward: number, rewardStep: number, reversed = false, over: Partial<ThreeFactorSpec> = {}): { w: number; net: Network } {
  const net = pairNet(over);
  const preStep = reversed ? 15 : PRE_STEP;
  let posts = 0;
  for (let t = 0; t < 400; t++) {
    const spikes = t === preStep ? [0] : t === TEACH_STEP ? [1] : [];
    net.step({ spikes: { in: spikes }, signals: t === rewardStep ? { reward } : {} });
    if (net.spikes('out').length) {
      posts++;
      assert.equal(net.t - 1, POST_STEP, 'the only post spike is the taught one');
    }
  }
  assert.equal(posts, 1);
  return { w: net.projection('plastic').table!.weight[0]!, net };
}

test('pre-before-post then positive reward potentiates, by lr·M·a_pre·decay_pre²·λ^k', () => {
  const k = 5;
  const { w } = runPairing(1, POST_STEP + k);
  // On the post spike at 13, the synapse (delay 1) reads x_pre(12) = a_pre·decay_pre².
  const expected = 0.5 + LR * 1 * A_PRE * DECAY_PRE ** 2 * DECAY_E ** k;
  assert.ok(w > 0.5, `potentiated: ${w}`);
  assert.ok(Math.abs(w - expected) < 1e-12, `${w} vs ${expected}`);
});

test('pre-before-post then negative reward depresses', () => {
  const { w } = runPairing(-1, POST_STEP + 5);
  assert.ok(w < 0.5, `depressed: ${w}`);
  assert.ok(Math.abs(w - (0.5 - LR * A_PRE * DECAY_PRE ** 2 * DECAY_E ** 5)) < 1e-12);
});

test('post-before-pre then positive reward depresses (a_post < 0)', () => {
  // Post at 13, pre arrives at 16: on_pre reads z_post(16) = a_post·decay_post³.
  const { w } = runPairing(1, 20, true);
  const expected = 0.5 + LR * A_POST * DECAY_POST ** 3 * DECAY_E ** 4;
  assert.ok(w < 0.5, `depressed: ${w}`);
  assert.ok(Math.abs(w - expected) < 1e-12, `${w} vs ${expected}`);
});

test('no reward: pairings leave the weight exactly unchanged (eligibility is not weight)', () => {
  const { w, net } = runPairing(0, POST_STEP + 5);
  assert.equal(w, 0.5);
  const none = runPairing(1, -1).w; // reward never given
  assert.equal(none, 0.5);
  // …but the pairing did leave an eligibility trace.
  const e = net.arena.get('plastic.threeFactor[0].eligibility');
  assert.ok(e[0] !== 0, 'eligibility recorded');
});

test('eligibility decays: a reward long after the pairing has less effect, by λ^Δk', () => {
  const soon = runPairing(1, POST_STEP + 2).w - 0.5;
  const late = runPairing(1, POST_STEP + 202).w - 0.5;
  const later = runPairing(1, 399).w - 0.5;
  assert.ok(soon > late && late > later && later > 0, `${soon} > ${late} > ${later}`);
  assert.ok(Math.abs(late / soon - DECAY_E ** 200) < 1e-9, `ratio ${late / soon} vs λ^200 = ${DECAY_E ** 200}`);
  console.log(`three-factor: Δw for reward 2 steps after pairing ${soon.toExponential(3)}, 202 steps after ${late.toExponential(3)} (λ^200 = ${(DECAY_E ** 200).toFixed(4)})`);
});

test('disabled rule: reward leaves the weight alone; weights are clipped to [w_min, w_max]', () => {
  assert.equal(runPairing(1, POST_STEP + 2, false, { enabled: false }).w, 0.5);
  assert.equal(runPairing(1000, POST_STEP + 2).w, 1, 'clipped at w_max');
  assert.equal(runPairing(-1000, POST_STEP + 2).w, 0, 'clipped at w_min');
});

test('a signal given as an array is refused with the signal name', () => {
  const net = pairNet();
  assert.throws(() => net.step({ signals: { reward: [1, 2] } }), /three-factor signal 'reward'/);
});

/**
 * Whole-rule check on a random network with delays: weights equal a per-step, per-synapse
 * reference (Brian2-style traces on every synapse, eligibility decayed every step) computed from
 * the recorded spikes, with random rewards.
 */
test('matches a per-step per-synapse reference on a random network with delays (lazy decay is exact to rounding)', () => {
  const NI = 30;
  const NO = 12;
  const D = 4;
  const spec = {
    version: 1 as const,
    dt_ms: 1,
    seed: 5,
    populations: [
      { name: 'in', model: 'input' as const, size: NI },
      { name: 'out', model: 'lif' as const, size: NO, decay: Math.exp(-1 / 10), v_th: 1, v_reset: 0, v_init: 0, reset: 'value' as const, refractory_steps: 1 },
    ],
    projections: [{ name: 'plastic', from: 'in', to: 'out', kind: 'random' as const, p: 0.5, weight: { min: 0.1, max: 0.4 }, delay_steps: { min: 0, max: D } }],
    plasticity: [rule({ w_min: 0, w_max: 0.5, decay_eligibility: Math.exp(-1 / 30), learning_rate: 2 })],
    homeostasis: [],
  };
  const net = buildNetwork(spec);
  const table = net.projection('plastic').table!;
  const S = table.count;
  // Reference state in user order.
  const w0 = table.weightsInUserOrder();
  const pre = new Int32Array(S);
  const post = new Int32Array(S);
  const delay = new Int32Array(S);
  for (let s = 0; s < S; s++) {
    pre[table.id[s]!] = table.pre[s]!;
    post[table.id[s]!] = table.post[s]!;
    delay[table.id[s]!] = table.delay[s]!;
  }
  const w = Float64Array.from(w0);
  const apre = new Float64Array(S); // Brian2's per-synapse traces
  const apost = new Float64Array(S);
  const e = new Float64Array(S);
  const lam = Math.exp(-1 / 30);
  const preSpikes: number[][] = [];
  const rng = new Rng(11);
  let rewards = 0;
  let postSpikes = 0;
  for (let t = 0; t < 1500; t++) {
    const sp: number[] = [];
    for (let i = 0; i < NI; i++) if (rng.uniform() < 0.06) sp.push(i);
    const m = t % 7 === 3 ? rng.uniform() * 2 - 1 : 0;
    if (m !== 0) rewards++;
    net.step({ spikes: { in: sp }, signals: m !== 0 ? { reward: m } : {} });
    preSpikes.push(sp);
    const posts = new Set(net.spikes('out'));
    postSpikes += posts.size;
    // Reference step: decay, on_pre for arrivals, on_post for post spikes, then the modulator.
    for (let s = 0; s < S; s++) {
      apre[s] = apre[s]! * DECAY_PRE;
      apost[s] = apost[s]! * DECAY_POST;
      e[s] = e[s]! * lam;
    }
    for (let s = 0; s < S; s++) {
      const ts = t - delay[s]!;
      if (ts >= 0 && preSpikes[ts]!.includes(pre[s]!)) {
        apre[s] = apre[s]! + A_PRE;
        e[s] = e[s]! + apost[s]!;
      }
    }
    for (let s = 0; s < S; s++) {
      if (!posts.has(post[s]!)) continue;
      apost[s] = apost[s]! + A_POST;
      e[s] = e[s]! + apre[s]!;
    }
    if (m !== 0) for (let s = 0; s < S; s++) w[s] = Math.min(Math.max(w[s]! + 2 * m * e[s]!, 0), 0.5);
  }
  const got = table.weightsInUserOrder();
  let maxErr = 0;
  let moved = 0;
  for (let s = 0; s < S; s++) {
    maxErr = Math.max(maxErr, Math.abs(got[s]! - w[s]!));
    if (Math.abs(got[s]! - w0[s]!) > 1e-6) moved++;
  }
  assert.ok(postSpikes > 50, `post neurons fired (${postSpikes})`);
  assert.ok(moved > S / 2, `most weights moved (${moved}/${S}, ${rewards} rewards)`);
  assert.ok(maxErr < 1e-12, `max |w − reference| = ${maxErr}`);
});
