// warmUp runs a network on synthetic input and restores it exactly: afterwards it is the network
// it was (every arena byte, the step counter), and it goes on exactly as a cold one would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNetwork, type Network } from '../../src/snn/network.js';
import { cpuBackend } from '../../src/snn/backend.js';
import { wasmBackend } from '../../src/snn/backends/wasm.js';
import { INPUT, OUTPUT, motionDirectionNetwork } from '../../src/tasks/motion-direction.js';
import { warmUp } from '../../src/snn/warmup.js';
import { Rng } from '../../src/emulator/rng.js';

const spec = motionDirectionNetwork({ size: 16, directions: 4, speeds: [100, 200], delays: 6, kernelSize: 5, stride: 2, homeostasis: { target_hz: 1, timescales: [{ tau_ms: 100, gain: 0.5 }, { tau_ms: 1000, gain: 0.05 }] } });

const bytes = (net: Network) => net.arena.layout.map((s) => Array.from(new Uint8Array(net.arena.get(s.name).buffer, net.arena.get(s.name).byteOffset, net.arena.get(s.name).byteLength)));

for (const [name, backend] of [['cpu', cpuBackend], ['wasm', wasmBackend()]] as const) {
  test(`warmUp (${name}): the network is restored exactly and then runs as a cold one`, () => {
    const cold = buildNetwork(spec, { backend });
    const warm = buildNetwork(spec, { backend });
    const r = warmUp(warm, { steps: 120, maxMs: 60_000 });
    assert.equal(r.steps, 120);
    assert.equal(warm.t, 0);
    assert.deepEqual(bytes(warm), bytes(cold), 'state after warm-up');
    const input = cold.population(INPUT);
    const out = cold.population(OUTPUT);
    const rng = new Rng(5, 9);
    for (let t = 0; t < 80; t++) {
      const spikes: number[] = [];
      for (let i = 0; i < input.size; i++) if (rng.uniform() < 0.04) spikes.push(i);
      const label = Array.from({ length: out.size }, () => (rng.uniform() < 0.1 ? (rng.uniform() < 0.25 ? 1 : 0) : Number.NaN));
      const step = { spikes: { [INPUT]: spikes }, signals: { label } };
      cold.step(step);
      warm.step(step);
      assert.deepEqual(Array.from(warm.spikes(OUTPUT)), Array.from(cold.spikes(OUTPUT)), `spikes at step ${t}`);
    }
    assert.deepEqual(bytes(warm), bytes(cold), 'state after 80 live steps');
  });
}

test('warmUp stops at its time budget', () => {
  const net = buildNetwork(spec, { backend: cpuBackend });
  const r = warmUp(net, { steps: 1e9, maxMs: 50 });
  assert.ok(r.steps > 0 && r.steps < 1e9, `${r.steps} steps`);
  assert.ok(r.ms < 5000, `${r.ms} ms`);
  assert.equal(net.t, 0);
});
