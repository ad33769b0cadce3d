import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline, startPipeline } from '../../src/runtime/index.js';
import { encodeCheckpoint, loadCheckpoint } from '../../src/snn/checkpoint.js';
import { REPO_ROOT } from '../helpers/shared-data.js';
import { openRaw, until } from '../helpers/ws.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeflow-shutdown-'));

/** Emulator → steps → spike-classifier (STDP) → window decisions, judged against the emulator's labels. */
function learning(ckpt: string, sink: { type: string; params?: Record<string, unknown> }, realtime = false) {
  return pipeline('learn')
    .source('cam', 'emulator', { width: 16, height: 16, seed: 3, durationUs: 60e6, ...(realtime ? { realtime: true } : {}) })
    .op('bins', 'binSteps', 'cam', { dtUs: 1000, originUs: 0 })
    .op('net', 'snn', 'bins', { network: { preset: 'spike-classifier', params: { inputs: 512, classes: 4, perClass: 2, p: 0.3, weight: 0.2 } } })
    .op('dec', 'decide', 'net', { population: 'out', classes: 4, mode: 'window', windowSteps: 20, truth: 'cam' })
    .sink('out', sink.type, 'dec', sink.params)
    .checkpoint(ckpt)
    .build();
}

test('stop(): sources stop, the queue drains, the learned state is checkpointed; a resumed run continues from it', async () => {
  const ckpt = join(dir, 'state.ckpt');
  const spec = learning(ckpt, { type: 'log' });
  const run = await startPipeline(spec, { print: () => undefined, announce: () => undefined });
  await until(() => run.metrics().steps >= 300, 20000, '300 steps');
  const r = await run.stop();
  assert.equal(r.reason, 'stopped');
  assert.equal(r.checkpoint, ckpt);
  const net = run.networks.get('net')!;
  assert.equal(r.metrics.queues.cam!.length, 0, 'drained');
  assert.ok(net.t >= 300);
  assert.equal(r.metrics.steps, net.t, 'every step that left binSteps ran on the network');
  assert.ok(r.metrics.decisions > 0 && r.metrics.judged > 0, 'decisions judged against the labels');
  assert.equal(r.metrics.accuracy, r.metrics.correct / r.metrics.judged);
  const saved = readFileSync(ckpt);
  assert.deepEqual(new Uint8Array(saved), encodeCheckpoint(net), 'the file is the final state');
  assert.equal(loadCheckpoint(ckpt).t, net.t);
  // STDP changed the weights while running: the checkpoint is not the initial network.
  const fresh = await startPipeline(learning(join(dir, 'fresh.ckpt'), { type: 'log' }), { print: () => undefined, announce: () => undefined });
  assert.notDeepEqual(encodeCheckpoint(fresh.networks.get('net')!), new Uint8Array(saved));
  await fresh.stop();

  const resumed = await startPipeline(spec, { print: () => undefined, announce: () => undefined, resume: ckpt });
  const rn = resumed.networks.get('net')!;
  assert.equal(rn.t, net.t, 'resumed at the saved step');
  assert.deepEqual(encodeCheckpoint(rn), new Uint8Array(saved), 'resumed with the saved state, bit for bit');
  await until(() => resumed.metrics().steps >= 50, 20000, '50 more steps');
  const r2 = await resumed.stop();
  assert.ok(loadCheckpoint(ckpt).t >= net.t + 50, 'the second stop saved the continued state');
  assert.equal(r2.reason, 'stopped');
});

test('spikeflow run: prints the ws line, a client gets decisions, SIGTERM stops gracefully with a checkpoint, --resume continues', async () => {
  const ckpt = join(dir, 'cli.ckpt');
  const spec = learning('cli.ckpt', { type: 'websocket' }, true);
  const file = join(dir, 'learn.json');
  writeFileSync(file, JSON.stringify(spec, null, 2));
  const script = "import('./src/cli/main.ts').then((m) => m.main(process.argv.slice(1))).then((c) => process.exit(c))";
  const start = (...args: string[]) => spawn(process.execPath, ['--import', 'tsx', '-e', script, 'run', file, '--port', '0', '--quiet', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const child = start();
  const lines: string[] = [];
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await until(() => lines.some((l) => l.startsWith('spikeflow: decisions at ws://')), 30000, 'the ws line');
  const url = lines.find((l) => l.startsWith('spikeflow: decisions at '))!.slice('spikeflow: decisions at '.length);
  assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/decisions$/);
  const client = await openRaw(url);
  const first = await client.next((m) => typeof m === 'string' && m.includes('"classIndex"'), 20000);
  const d = JSON.parse(first as string);
  const decision = d.decision;
  assert.equal(decision.pipeline, 'learn');
  assert.equal(decision.region, 'dec');
  assert.ok(Number.isInteger(decision.classIndex) && decision.classIndex >= 0 && decision.classIndex < 4, first as string);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, err);
  client.close();
  const summary = JSON.parse(lines[lines.length - 1]!);
  assert.equal(summary.result, 'stopped');
  assert.equal(summary.checkpoint, ckpt);
  assert.ok(summary.decisions >= 1 && summary.judged >= 1 && typeof summary.accuracy === 'number', lines.join('\n'));
  assert.match(err, /SIGTERM, stopping/);
  const savedT = loadCheckpoint(ckpt).t;
  assert.ok(savedT > 0);

  const again = start('--resume', ckpt, '--duration', '1');
  let out2 = '';
  again.stdout.on('data', (x) => (out2 += x));
  const code2 = await new Promise<number | null>((r) => again.on('exit', (c) => r(c)));
  assert.equal(code2, 0);
  const s2 = JSON.parse(out2.trim().split('\n').pop()!);
  assert.equal(s2.result, 'stopped');
  assert.ok(loadCheckpoint(ckpt).t > savedT, 'resumed run continued from the saved step');
  assert.ok(existsSync(ckpt));
});
