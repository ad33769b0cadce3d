import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { main } from '../../src/cli/main.js';
import { loadPipelineFile, startPipeline } from '../../src/runtime/index.js';
import { loadCheckpoint } from '../../src/snn/checkpoint.js';
import { openMqttSink } from '../../adapters/mqtt-sink.js';
import { fromMqtt, type MqttMessage } from '../../adapters/mqtt-source.js';
import { REPO_ROOT } from '../helpers/shared-data.js';
import { PtyPair } from '../helpers/socat.js';
import { openRaw, until, type RawClient } from '../helpers/ws.js';

const PIPELINES = join(REPO_ROOT, 'pipelines');
const dir = mkdtempSync(join(tmpdir(), 'spikeflow-ready-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const isDecision = (m: string | Buffer) => typeof m === 'string' && m.includes('"decision"');

test('every ready pipeline validates', async () => {
  const files = readdirSync(PIPELINES).filter((f) => /\.(ya?ml|json)$/.test(f));
  for (const want of ['replay-to-websocket.yaml', 'serial-spikes-to-decisions.yaml', 'mqtt-spikes-to-decisions.yaml']) assert.ok(files.includes(want), want);
  for (const f of files) {
    const out: string[] = [];
    assert.equal(await main(['validate', join(PIPELINES, f)], (s) => out.push(s)), 0, out.join('\n'));
    assert.match(out[0]!, /: ok \(/);
  }
});

test('replay-to-websocket: a recording at real time, filtered, reaches a WebSocket client as packets and frames', async () => {
  const out: string[] = [];
  let events: RawClient | undefined;
  let frames: RawClient | undefined;
  const opening: Promise<void>[] = [];
  const code = await main(['run', join(PIPELINES, 'replay-to-websocket.yaml'), '--port', '0', '--quiet', '--set', 'cam.passes=30'], (s) => {
    out.push(s);
    const m = /^spikeflow: (events|frames) at (ws:\/\/\S+)$/.exec(s);
    if (m) opening.push(openRaw(m[2]!).then((c) => void (m[1] === 'events' ? (events = c) : (frames = c))));
  });
  await Promise.all(opening);
  assert.equal(code, 0, out.join('\n'));
  const summary = JSON.parse(out[out.length - 1]!);
  assert.equal(summary.result, 'completed');
  assert.equal(summary.events, 30 * 5000);
  // Paced at real time: never ahead of the wall clock (behind it only by load: the clients decode
  // JSON packets in this same process).
  assert.ok(summary.real_time_factor > 0.2 && summary.real_time_factor < 1.2, `real-time factor ${summary.real_time_factor}`);
  assert.ok(events!.got.filter((m) => typeof m === 'string' && m.includes('"events"')).length > 5, `events messages: ${events!.got.length}`);
  assert.ok(frames!.got.length > 5, `frames messages: ${frames!.got.length}`);
  events!.close();
  frames!.close();
  // The same pipeline as fast as possible: far ahead of real time.
  const fast: string[] = [];
  assert.equal(await main(['run', join(PIPELINES, 'replay-to-websocket.yaml'), '--port', '0', '--quiet', '--set', 'cam.passes=30', '--set', 'cam.pace=fast'], (s) => fast.push(s)), 0);
  const f = JSON.parse(fast[fast.length - 1]!);
  assert.equal(f.events, 30 * 5000);
  assert.ok(f.real_time_factor > 3 * summary.real_time_factor, `fast ${f.real_time_factor} vs paced ${summary.real_time_factor}`);
});

test('serial-spikes-to-decisions: spike lines over a real pty → SNN → decisions on WebSocket; stop checkpoints', async () => {
  const pair = new PtyPair();
  await pair.start();
  const ckpt = join(dir, 'serial.ckpt');
  const { spec, baseDir } = loadPipelineFile(join(PIPELINES, 'serial-spikes-to-decisions.yaml'), [`spikes.path=${pair.a}`, 'ws.port=0', `checkpoint.path=${ckpt}`]);
  const announced: string[] = [];
  const run = await startPipeline(spec, { baseDir, announce: (l) => announced.push(l), print: () => undefined });
  const device = new SerialPort({ path: pair.b, baudRate: 115200 });
  try {
    const url = /^spikeflow: decisions at (\S+)$/.exec(announced.find((l) => l.includes('decisions at'))!)![1]!;
    const client = await openRaw(url);
    await new Promise<void>((r, j) => (device.isOpen ? r() : device.once('open', () => r()).once('error', j)));
    // 400 ms of event time: class k's block of 4 neurons fires every step for 100 ms at a time.
    let t = 0;
    for (let burst = 0; burst < 8; burst++) {
      let text = '';
      for (let k = 0; k < 50; k++, t += 1000) for (let n = 0; n < 4; n++) text += `${t},${((burst % 4) * 4 + n) % 16}\n`;
      await new Promise<void>((r, j) => device.write(text, (e) => (e ? j(e) : device.drain(() => r()))));
      await sleep(20);
    }
    await client.next(isDecision, 15000);
    await until(() => run.metrics().steps >= 300, 15000, '300 steps');
    const r = await run.stop();
    assert.equal(r.reason, 'stopped');
    assert.ok(r.metrics.events >= 300 * 4 && r.metrics.decisions >= 5, JSON.stringify({ events: r.metrics.events, decisions: r.metrics.decisions }));
    assert.equal(r.metrics.dropped, 0, 'a serial source is paused, never dropped');
    const got = client.got.filter(isDecision).map((m) => JSON.parse(m as string).decision);
    assert.ok(got.length >= 1);
    for (const d of got) assert.ok(d.classIndex >= 0 && d.classIndex < 4 && d.region === 'serial0' && d.pipeline === 'serial-spikes-to-decisions');
    assert.equal(loadCheckpoint(ckpt).t, run.networks.get('net')!.t);
    client.close();
  } finally {
    await run.stop();
    if (device.isOpen) await new Promise((r) => device.close(r));
    await pair.dispose();
  }
});

test('mqtt-spikes-to-decisions: spike batches published on the embedded broker → decisions on MQTT and WebSocket', async () => {
  const port = await freePort();
  const { spec, baseDir } = loadPipelineFile(join(PIPELINES, 'mqtt-spikes-to-decisions.yaml'), [`in.brokerPort=${port}`, `out.brokerPort=${port}`, 'ws.port=0']);
  const announced: string[] = [];
  const run = await startPipeline(spec, { baseDir, announce: (l) => announced.push(l), print: () => undefined });
  assert.ok(announced.includes(`spikeflow: out publishes on the embedded MQTT broker at mqtt://127.0.0.1:${port}`), announced.join('\n'));
  const url = /^spikeflow: decisions at (\S+)$/.exec(announced.find((l) => l.includes('decisions at'))!)![1]!;
  const client = await openRaw(url);
  const got: MqttMessage[] = [];
  const watcher = fromMqtt({ url: `mqtt://127.0.0.1:${port}`, protocolVersion: 4, topics: 'spikeflow/decisions', payload: 'json' }).subscribe((m) => got.push(m));
  const device = await openMqttSink({ url: `mqtt://127.0.0.1:${port}`, protocolVersion: 4, topic: 'spikeflow/spikes/dev1' });
  try {
    await device.ready;
    await until(() => (run.metrics().sources.in!.subscribed ?? 0) > 0, 10000, 'source subscribed');
    await sleep(300);
    // 20 batches of 20 steps: each step the neurons of one class block spike.
    for (let b = 0; b < 20; b++) {
      const neuron: number[] = [];
      const stepOffset: number[] = [];
      for (let s = 0; s < 20; s++) for (let n = 0; n < 4; n++) {
        neuron.push(((b % 4) * 4 + n) % 16);
        stepOffset.push(s);
      }
      device.publish({ kind: 'spikes', source: 'dev1', layer: 'in', stepStart: b * 20, timeStartUs: b * 20_000, dtUs: 1000, neuron: Uint32Array.from(neuron), stepOffset: Uint32Array.from(stepOffset) });
      await sleep(5);
    }
    await client.next(isDecision, 15000);
    await until(() => got.length >= 3, 15000, 'decisions on MQTT');
    const d = got[0]!.message;
    assert.equal(d.kind, 'decision');
    if (d.kind === 'decision') {
      assert.equal(d.region, 'mqtt0');
      assert.ok(d.classIndex >= 0 && d.classIndex < 4);
    }
    const m = run.metrics();
    assert.equal(m.sources.in!.spikes, m.events, 'every event came from a spike batch');
    assert.ok(m.events >= 20 * 20 * 4 * 0.9, `events ${m.events}`);
  } finally {
    client.close();
    watcher.unsubscribe();
    await device.close();
    const r = await run.stop();
    assert.equal(r.reason, 'stopped');
  }
});
