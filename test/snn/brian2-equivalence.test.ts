/**
 * Spike-for-spike equivalence with Brian2 (Debian python3-brian, run with /usr/bin/python3): seeded
 * random networks in the exchange format run in both simulators; output spike trains, final
 * weights after STDP and final adaptive thresholds must be identical to the last bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { jobFrom, runJob } from '../../src/snn/exchange.js';
import { main } from '../../src/cli/main.js';
import { exchangeCase, type ExchangeCase } from './exchange-nets.js';
import { REPO_ROOT } from '../helpers/shared-data.js';

const CASES: ExchangeCase[] = [
  exchangeCase('LIF, delays 0-15 ms, seed 1', { seed: 1 }),
  exchangeCase('LIF, delays 0-15 ms, seed 2, inhibitory synapses, v_reset -0.2', { seed: 2, inhibitory: 0.3, vReset: -0.2, inputHz: 40 }),
  exchangeCase('LIF, dt 0.1 ms, delays 0-150 steps', { seed: 3, dtMs: 0.1, steps: 3000, maxDelayMs: 15, inputHz: 30 }),
  exchangeCase('LIF + pair STDP, seed 4', { seed: 4, stdp: true, steps: 1500 }),
  exchangeCase('LIF + pair STDP, seed 5, inhibitory', { seed: 5, stdp: true, steps: 1500, inhibitory: 0.2, inputHz: 35 }),
  exchangeCase('adaptive threshold, seed 6', { seed: 6, adaptation: true, inputHz: 40 }),
  exchangeCase('adaptive threshold + STDP, dt 0.5 ms, seed 7', { seed: 7, adaptation: true, stdp: true, dtMs: 0.5, steps: 2000, inputHz: 40 }),
];

const dir = mkdtempSync(join(tmpdir(), 'spikeflow-brian2-'));
const SCRIPT = join(REPO_ROOT, 'test', 'snn', 'reference', 'brian2_exchange.py');

interface Out {
  spikes: [number, number][];
  weights: number[];
  theta: number[];
}

/** Runs every case through Brian2 in one Python process (its import takes seconds). */
function brian2All(cases: ExchangeCase[]): Out[] {
  const args: string[] = [];
  cases.forEach((c, k) => {
    writeFileSync(join(dir, `net${k}.json`), JSON.stringify(c.net));
    writeFileSync(join(dir, `spikes${k}.json`), JSON.stringify(c.spikes));
    args.push(join(dir, `net${k}.json`), join(dir, `spikes${k}.json`), join(dir, `brian2-${k}.json`));
  });
  const r = spawnSync('/usr/bin/python3', [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, BRIAN2_TARGET: 'numpy', PYTHONWARNINGS: 'ignore' } });
  assert.equal(r.status, 0, `Brian2 failed (is python3-brian installed?):\n${r.stderr}`);
  return cases.map((_, k) => JSON.parse(readFileSync(join(dir, `brian2-${k}.json`), 'utf8')) as Out);
}

const reference = brian2All(CASES);

CASES.forEach((c, k) => {
  test(`Brian2 equivalence: ${c.name}`, () => {
    const ours = runJob(jobFrom(c.net, c.spikes)).out as unknown as Out;
    const theirs = reference[k]!;
    // The comparison means something only if the network is active.
    assert.ok(theirs.spikes.length >= 40, `only ${theirs.spikes.length} output spikes; the case is too quiet to compare`);
    const firstDiff = theirs.spikes.findIndex((s, i) => ours.spikes[i]?.[0] !== s[0] || ours.spikes[i]?.[1] !== s[1]);
    assert.equal(firstDiff === -1 ? ours.spikes.length : firstDiff, theirs.spikes.length, `spike trains differ from entry ${firstDiff}: Brian2 ${JSON.stringify(theirs.spikes[firstDiff])}, ours ${JSON.stringify(ours.spikes[firstDiff])}`);
    assert.equal(ours.spikes.length, theirs.spikes.length);
    assert.deepEqual(ours.weights, theirs.weights, 'final weights differ');
    assert.deepEqual(ours.theta, theirs.theta, 'final thresholds differ');
    const initial = (c.net.synapses as { weight: number[] }).weight;
    if ((c.net.synapses as { stdp?: unknown }).stdp) {
      const changed = ours.weights.filter((w, s) => w !== initial[s]).length;
      assert.ok(changed > ours.weights.length / 2, `STDP changed only ${changed} of ${ours.weights.length} weights`);
    } else {
      assert.deepEqual(ours.weights, initial);
    }
    if ((c.net.neurons as { threshold_adaptation?: unknown }).threshold_adaptation) assert.ok(ours.theta.some((x) => x > 0));
  });
});

test('spikeflow simulate (CLI) writes the same OUT.json as Brian2', async () => {
  const k = 3;
  const out = join(dir, 'cli-out.json');
  const printed: string[] = [];
  const code = await main(['simulate', '--net', join(dir, `net${k}.json`), '--input', join(dir, `spikes${k}.json`), '--out', out], (s) => printed.push(s));
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), reference[k]);
  const summary = JSON.parse(printed.at(-1)!);
  assert.equal(summary.steps, (CASES[k]!.net as { steps: number }).steps);
  assert.equal(summary.synapses, 450);
});
