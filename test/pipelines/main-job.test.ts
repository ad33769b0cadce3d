import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { loadCheckpoint } from '../../src/snn/checkpoint.js';
import type { HomeostasisRuntime } from '../../src/snn/homeostasis/controllers.js';
import type { LogisticPopulationRuntime } from '../../src/snn/neurons/logistic.js';
import { openRaw, type RawClient } from '../helpers/ws.js';
import { sharedPath } from '../helpers/shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeflow-main-job-'));
const checkpoint = join(dir, 'motion.ckpt');

const isDecision = (m: string | Buffer) => typeof m === 'string' && m.includes('"decision"');

test('the main job (spikeflow demo): emulator → motion-direction layer learning online → decisions reach a WebSocket client, better than chance', async () => {
  const out: string[] = [];
  let client: Promise<RawClient> | undefined;
  // 8 s of emulated time = 166 segments of 48 ms, as fast as the network keeps up (the emulator is
  // paused while the pipeline catches up: nothing is dropped).
  const code = await main(['demo', '--port', '0', '--quiet', '--fast', '--seconds', '8', '--checkpoint', checkpoint], (s) => {
    out.push(s);
    const m = /^spikeflow: decisions at (ws:\/\/\S+)$/.exec(s);
    if (m) client = openRaw(m[1]!);
  });
  assert.equal(code, 0, out.join('\n'));
  assert.ok(client, `no decisions address announced: ${out.join('\n')}`);
  const c = await client;
  const summary = JSON.parse(out[out.length - 1]!);
  assert.equal(summary.result, 'completed');
  assert.equal(summary.dropped, 0);
  assert.equal(summary.steps, 4000);
  // One decision per 24-step window, each judged against the emulator's label.
  assert.ok(summary.decisions >= 160 && summary.judged >= 160, JSON.stringify(summary));
  // 36 classes: chance is 2.8 %. The readout learns from the first segments on (about 35 % after
  // 250 segments in our runs); a third of that over the whole run shows it is learning.
  assert.ok(summary.accuracy > 0.1, `accuracy ${summary.accuracy} over ${summary.judged} decisions`);
  const got = c.got.filter(isDecision).map((m) => JSON.parse(m as string).decision);
  assert.ok(got.length >= 100, `client got ${got.length} decisions`);
  for (const d of got) {
    assert.ok(Number.isInteger(d.classIndex) && d.classIndex >= 0 && d.classIndex < 36, JSON.stringify(d));
    assert.equal(d.pipeline, 'motion-direction');
    assert.equal(d.latencySteps, 24);
  }
  // Sequence numbers let a client count losses: none here.
  const seqs = got.map((d) => d.sequence);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1);
  c.close();
  // The learned state is saved at the end: 4000 steps of 2 ms.
  assert.equal(summary.checkpoint, checkpoint);
  const saved = loadCheckpoint(checkpoint);
  assert.equal(saved.t, 4000);
  // Homeostasis held the class maps' spike rate near its 1 Hz target (the seconds estimate; the
  // minutes one has barely left the target it starts at) by moving their thresholds both ways.
  const h = saved.controllers[0] as HomeostasisRuntime;
  assert.equal(h.spec.population, 'motion');
  assert.ok(h.estimator.mean(0) > 0.4 && h.estimator.mean(0) < 2.5, `class-map rate ${h.estimator.mean(0)} Hz, target 1 Hz`);
  const offset = (saved.population('motion') as LogisticPopulationRuntime).state.offset!;
  assert.ok(Math.min(...offset) < -0.5 && Math.max(...offset) > 0.5, `thresholds moved both ways: ${Math.min(...offset)} … ${Math.max(...offset)}`);
});

test('the main job on a recording (--input): downsampled to the 32×32 input, from the trained checkpoint, decisions without labels', async (t) => {
  if (!existsSync(checkpoint)) return t.skip('needs the checkpoint of the test above');
  const out: string[] = [];
  const code = await main(['demo', '--port', '0', '--quiet', '--fast', '--input', sharedPath('evt3_pedestrians_small.raw'), '--resume', checkpoint, '--checkpoint', join(dir, 'after.ckpt')], (s) => out.push(s));
  assert.equal(code, 0, out.join('\n'));
  const summary = JSON.parse(out[out.length - 1]!);
  assert.equal(summary.result, 'completed');
  assert.equal(summary.events, 5000, 'every event of the recording reached the pipeline');
  assert.ok(summary.decisions >= 1, JSON.stringify(summary));
  assert.equal(summary.accuracy, undefined, 'no ground truth, no accuracy');
  // Resumed from step 4000, then the recording's steps.
  assert.equal(loadCheckpoint(join(dir, 'after.ckpt')).t, 4000 + summary.steps);
});
