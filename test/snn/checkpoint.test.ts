import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import {
  CHECKPOINT_FORMAT_VERSION,
  CheckpointError,
  crc32,
  encodeCheckpoint,
  loadCheckpoint,
  parseCheckpoint,
  readCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  type CheckpointErrorReason,
} from '../../src/snn/checkpoint.js';
import type { LifPopulationRuntime } from '../../src/snn/neurons/populations.js';
import type { NetworkSpec } from '../../src/snn/spec.js';
import { Rng } from '../../src/emulator/rng.js';

/** STDP + ALIF + threshold and scaling homeostasis (several timescales) + three-factor, with delays. */
function fullSpec(vth = 1): NetworkSpec {
  return {
    version: 1,
    dt_ms: 1,
    seed: 21,
    populations: [
      { name: 'in', model: 'input', size: 80 },
      { name: 'exc', model: 'alif', size: 30, decay: Math.exp(-1 / 20), v_th: vth, v_reset: 0, v_init: 0, reset: 'subtract', refractory_steps: 2, adaptation: { decay: Math.exp(-1 / 200), plus: 0.05 } },
      { name: 'out', model: 'lif', size: 6, decay: Math.exp(-1 / 10), v_th: 1, v_reset: 0, v_init: 0.2, reset: 'value', refractory_steps: 1 },
    ],
    projections: [
      { name: 'ff', from: 'in', to: 'exc', kind: 'random', p: 0.25, weight: { min: 0.05, max: 0.2 }, delay_steps: { min: 0, max: 5 } },
      { name: 'ro', from: 'exc', to: 'out', kind: 'dense', weight: { min: 0.1, max: 0.4 }, delay_steps: { min: 1, max: 3 } },
    ],
    plasticity: [
      { rule: 'stdp', projection: 'ff', enabled: true, decay_pre: Math.exp(-1 / 20), decay_post: Math.exp(-1 / 20), a_pre: 0.005, a_post: -0.006, w_min: 0, w_max: 0.3, mode: 'additive', symmetric: false },
      { rule: 'three_factor', projection: 'ro', enabled: true, signal: 'reward', decay_pre: Math.exp(-1 / 20), decay_post: Math.exp(-1 / 20), a_pre: 0.01, a_post: -0.01, decay_eligibility: Math.exp(-1 / 300), learning_rate: 0.5, w_min: 0, w_max: 0.6 },
    ],
    homeostasis: [
      { controller: 'threshold', population: 'exc', target_hz: 15, enabled: true, timescales: [{ tau_ms: 50, gain: 0.02 }, { tau_ms: 2000, gain: 0.02 }, { tau_ms: 3_600_000, gain: 0.001 }] },
      { controller: 'scaling', population: 'out', target_hz: 10, enabled: true, timescales: [{ tau_ms: 100, gain: 0.01 }, { tau_ms: 60_000, gain: 0.001 }] },
    ],
  };
}

interface Drive {
  readonly spikes: number[][];
  readonly reward: (number | undefined)[];
}

function makeDrive(steps: number): Drive {
  const rng = new Rng(77);
  const spikes: number[][] = [];
  const reward: (number | undefined)[] = [];
  for (let t = 0; t < steps; t++) {
    const hz = t < 400 ? 30 : 90;
    const sp: number[] = [];
    for (let i = 0; i < 80; i++) if (rng.uniform() < hz / 1000) sp.push(i);
    spikes.push(sp);
    reward.push(t % 25 === 24 ? rng.uniform() * 2 - 1 : undefined);
  }
  return { spikes, reward };
}

/** Runs steps [from, to) of the drive; returns every step's spikes of exc and out. */
function run(net: Network, d: Drive, from: number, to: number): string[] {
  const rec: string[] = [];
  for (let t = from; t < to; t++) {
    assert.equal(net.t, t);
    const r = d.reward[t];
    net.step({ spikes: { in: d.spikes[t]! }, signals: r === undefined ? {} : { reward: r } });
    rec.push(`${Array.from(net.spikes('exc')).join(',')}|${Array.from(net.spikes('out')).join(',')}`);
  }
  return rec;
}

const SPLIT = 700;
const END = 1200;
let dir: string;
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spikeflow-ckpt-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function refusal(reason: CheckpointErrorReason, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `a CheckpointError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

/** A saved mid-run checkpoint and the bytes of its file. */
function savedAtSplit(): { net: Network; path: string; bytes: Uint8Array; drive: Drive } {
  const drive = makeDrive(END);
  const net = buildNetwork(fullSpec());
  run(net, drive, 0, 300);
  net.setHomeostasis(false, 'out'); // flags must travel too
  run(net, drive, 300, SPLIT);
  const path = join(dir, `split-${Math.random().toString(36).slice(2)}.ckpt`);
  saveCheckpoint(net, path);
  return { net, path, bytes: readFileSync(path), drive };
}

test('round trip: a restored run continues bit-identically to one never stopped (STDP + ALIF + homeostasis + three-factor)', () => {
  const { net, path, drive } = savedAtSplit();
  const w0 = buildNetwork(fullSpec());
  // Everything is actually moving by the split, so the comparison means something.
  assert.notDeepEqual(net.projection('ff').table!.weight, w0.projection('ff').table!.weight, 'STDP changed weights');
  assert.notDeepEqual(net.projection('ro').table!.weight, w0.projection('ro').table!.weight, 'three-factor/scaling changed weights');
  const exc = net.population('exc') as LifPopulationRuntime;
  assert.ok(exc.state.offset.some((o) => o !== 0), 'threshold homeostasis moved offsets');
  assert.ok(exc.state.theta.some((o) => o !== 0), 'ALIF adaptation is non-zero');

  const straight = run(net, drive, SPLIT, END);
  const restored = loadCheckpoint(path);
  assert.equal(restored.t, SPLIT);
  assert.deepEqual(restored.controllers.map((c) => c.enabled), [true, false]);
  assert.deepEqual(restored.rules.map((r) => r.enabled), [true, true]);
  const resumed = run(restored, drive, SPLIT, END);
  assert.deepEqual(resumed, straight, 'identical spikes every step after the restore');
  assert.ok(straight.join('').length > 1000, 'and there were spikes to compare');
  assert.ok(Buffer.from(encodeCheckpoint(restored)).equals(Buffer.from(encodeCheckpoint(net))), 'identical state bytes at the end');

  // restoreCheckpoint into a freshly built network does the same; a fresh network without it diverges.
  const fresh = buildNetwork(fullSpec());
  restoreCheckpoint(fresh, path);
  assert.deepEqual(run(fresh, drive, SPLIT, END), straight);
  const unrestored = buildNetwork(fullSpec());
  unrestored.t = SPLIT;
  assert.notDeepEqual(run(unrestored, drive, SPLIT, END), straight);
});

test('saving is deterministic; the file follows the documented layout', () => {
  const { net, bytes } = savedAtSplit();
  assert.ok(Buffer.from(encodeCheckpoint(net)).equals(Buffer.from(bytes)), 'same state, same bytes');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(Buffer.from(bytes.subarray(0, 8)).toString('latin1'), 'SPKFCKPT');
  assert.equal(dv.getUint32(8, true), CHECKPOINT_FORMAT_VERSION);
  const H = dv.getUint32(12, true);
  const B = Number(dv.getBigUint64(16, true));
  assert.equal(bytes.length, 24 + H + B + 4);
  assert.equal(dv.getUint32(bytes.length - 4, true), crc32(bytes.subarray(0, bytes.length - 4)));
  if (typeof (zlib as { crc32?: unknown }).crc32 === 'function') {
    assert.equal((zlib as unknown as { crc32(b: Uint8Array): number }).crc32(bytes.subarray(0, bytes.length - 4)), crc32(bytes.subarray(0, bytes.length - 4)), 'CRC-32 as zlib');
  }
  const header = JSON.parse(Buffer.from(bytes.subarray(24, 24 + H)).toString('utf8'));
  assert.equal(header.t, SPLIT);
  assert.deepEqual(header.controllersEnabled, [true, false]);
  assert.deepEqual(header.spec, JSON.parse(JSON.stringify(net.spec)));
  assert.equal(header.layout.length, net.arena.layout.length);
  const parsed = readCheckpoint(join(dir, readdirSync(dir).find((f) => f.endsWith('.ckpt'))!));
  assert.equal(parsed.formatVersion, CHECKPOINT_FORMAT_VERSION);
});

/** Asserts `net`'s state and step are exactly as before `f` ran. */
function untouched(net: Network, f: () => void): void {
  const before = encodeCheckpoint(net);
  f();
  assert.ok(Buffer.from(encodeCheckpoint(net)).equals(Buffer.from(before)), 'a refused checkpoint leaves the network untouched');
}

test('a corrupt byte anywhere is refused by the checksum, before anything is written', () => {
  const { bytes } = savedAtSplit();
  const target = buildNetwork(fullSpec());
  const H = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  for (const at of [30, 24 + H + 5, Math.floor(bytes.length / 2), bytes.length - 5, bytes.length - 1]) {
    const bad = Uint8Array.from(bytes);
    bad[at] = bad[at]! ^ 0x10;
    untouched(target, () => assert.throws(() => restoreCheckpoint(target, bad), refusal('corrupt', /checksum mismatch/)));
  }
  const path = join(dir, 'corrupt.ckpt');
  const bad = Uint8Array.from(bytes);
  bad[bytes.length - 100] = bad[bytes.length - 100]! ^ 1;
  writeFileSync(path, bad);
  assert.throws(() => loadCheckpoint(path), refusal('corrupt', /corrupt\.ckpt: checksum mismatch/));
  const longer = new Uint8Array(bytes.length + 3);
  longer.set(bytes);
  assert.throws(() => parseCheckpoint(longer), refusal('corrupt', /3 trailing bytes/));
});

test('a truncated checkpoint is refused', () => {
  const { bytes } = savedAtSplit();
  const target = buildNetwork(fullSpec());
  for (const n of [bytes.length - 1, bytes.length - 1000, 100, 24, 10, 3, 0]) {
    untouched(target, () => assert.throws(() => restoreCheckpoint(target, bytes.subarray(0, n)), refusal('truncated', /truncated/), `cut to ${n} bytes`));
  }
  assert.throws(() => parseCheckpoint(bytes.subarray(0, bytes.length - 7)), /truncated: \d+ bytes, its header declares \d+/);
});

test('another format version is refused, even with a valid checksum', () => {
  const { bytes } = savedAtSplit();
  const bad = Uint8Array.from(bytes);
  new DataView(bad.buffer).setUint32(8, CHECKPOINT_FORMAT_VERSION + 1, true);
  assert.throws(() => parseCheckpoint(bad), refusal('version', /format version 2; this build reads version 1/));
  new DataView(bad.buffer).setUint32(bad.length - 4, crc32(bad.subarray(0, bad.length - 4)), true);
  const target = buildNetwork(fullSpec());
  untouched(target, () => assert.throws(() => restoreCheckpoint(target, bad), refusal('version', /format version 2/)));
});

test('a checkpoint of a different spec is refused, naming the difference', () => {
  const { path } = savedAtSplit();
  const other = buildNetwork(fullSpec(0.9));
  untouched(other, () => assert.throws(() => restoreCheckpoint(other, path), refusal('spec', /spec\.populations\[1\]\.v_th is 1 in the checkpoint, 0\.9 here/)));
  const smaller = buildNetwork({ ...fullSpec(), homeostasis: [] });
  assert.throws(() => restoreCheckpoint(smaller, path), refusal('spec', /spec\.homeostasis\[0\]/));
});

/** Re-encodes a checkpoint with an edited header, with valid lengths and CRC (written from the format doc). */
function reencode(bytes: Uint8Array, edit: (h: Record<string, unknown>) => void): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const H = dv.getUint32(12, true);
  const header = JSON.parse(Buffer.from(bytes.subarray(24, 24 + H)).toString('utf8'));
  edit(header);
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const state = bytes.subarray(24 + H, bytes.length - 4);
  const out = new Uint8Array(24 + json.length + state.length + 4);
  out.set(bytes.subarray(0, 24));
  const o = new DataView(out.buffer);
  o.setUint32(12, json.length, true);
  out.set(json, 24);
  out.set(state, 24 + json.length);
  o.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

test('layout mismatches, bad headers and non-checkpoints are refused', () => {
  const { bytes } = savedAtSplit();
  const target = buildNetwork(fullSpec());
  // An unchanged re-encode restores fine (the helper is faithful)…
  restoreCheckpoint(buildNetwork(fullSpec()), reencode(bytes, () => {}));
  // …a renamed array does not.
  const renamed = reencode(bytes, (h) => ((h.layout as [string, string, number][])[3]![0] = 'exc.somethingElse'));
  untouched(target, () => assert.throws(() => restoreCheckpoint(target, renamed), refusal('layout', /state array 3 is exc\.somethingElse/)));
  const lengths = reencode(bytes, (h) => {
    const l = h.layout as [string, string, number][];
    l[0]![2] += 1;
    l[1]![2] -= 1;
  });
  assert.throws(() => restoreCheckpoint(target, lengths), refusal('layout', /state array 0/));
  assert.throws(() => parseCheckpoint(reencode(bytes, (h) => (h.t = -1))), refusal('corrupt', /step counter/));
  assert.throws(() => parseCheckpoint(reencode(bytes, (h) => ((h.spec as { seed: number }).seed = 5))), refusal('corrupt', /spec hash/));
  assert.throws(() => parseCheckpoint(new TextEncoder().encode('{"not": "a checkpoint"} and more text')), refusal('not_checkpoint', /not a spikeflow checkpoint/));
  assert.throws(() => loadCheckpoint(join(dir, 'missing.ckpt')), refusal('io', /missing\.ckpt/));
});

test('atomic save: a failed write leaves the previous checkpoint intact and no partial file', () => {
  const { net, path, bytes } = savedAtSplit();
  run(net, makeDrive(END), SPLIT, SPLIT + 50);
  const realWrite = fs.writeSync;
  let calls = 0;
  // Disk full after the first part (fs named imports follow the module object after syncBuiltinESMExports).
  (fs as { writeSync: unknown }).writeSync = (...args: unknown[]) => {
    if (++calls > 1) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return (realWrite as (...a: unknown[]) => number)(...args);
  };
  syncBuiltinESMExports();
  try {
    assert.throws(() => saveCheckpoint(net, path), /ENOSPC/);
  } finally {
    (fs as { writeSync: unknown }).writeSync = realWrite;
    syncBuiltinESMExports();
  }
  assert.ok(calls > 1, 'the failure happened mid-write');
  assert.ok(Buffer.from(readFileSync(path)).equals(Buffer.from(bytes)), 'the previous checkpoint is untouched');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary file left behind');
  assert.equal(loadCheckpoint(path).t, SPLIT);
  // A target directory that does not exist: nothing is created anywhere.
  assert.throws(() => saveCheckpoint(net, join(dir, 'no-such-dir', 'x.ckpt')), /ENOENT/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
  // And a successful save replaces the file whole.
  saveCheckpoint(net, path);
  assert.equal(loadCheckpoint(path).t, SPLIT + 50);
});
