// A source with `thread`: it and the event operators it alone feeds run in a worker thread. What the
// main thread gets is exactly what it gets without the worker; errors name their node; the worker
// pauses when the pipeline is behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map } from 'rxjs/operators';
import { defineOp, loadPipelineFile, pipeline, startPipeline, type PipelineSpec } from '../../src/runtime/index.js';
import { threadChain } from '../../src/runtime/thread-source.js';
import { mainPipelinePath } from '../../src/cli/commands/demo.js';
import { THREAD_BATCHES_IN_FLIGHT } from '../../src/runtime/runtime.js';
import type { EventPacket } from '../../src/events/packet.js';
import { sharedPath } from '../helpers/shared-data.js';

// Checksum and count of the events a node sees (not threadable: it stays on the main thread).
const seen: Record<string, { sum: number; events: number; packets: number }> = {};
defineOp({ name: 'test-thread-checksum', doc: 'checksums events (tests)', params: {}, accepts: ['events'], produces: 'events', releasesInput: true }, (_p, ctx) => ({
  operator: map((x: unknown) => {
    const pk = x as EventPacket;
    const s = (seen[ctx.id] ??= { sum: 0, events: 0, packets: 0 });
    for (let i = 0; i < pk.length; i++) s.sum = (s.sum * 31 + pk.x[i]! * 7 + pk.y[i]! * 3 + pk.p[i]! + pk.t[i]!) % 1e9;
    s.events += pk.length;
    if (pk.length) s.packets++;
    return x;
  }),
}));

const quiet = { print: () => undefined, announce: () => undefined };

function filtered(id: string, thread: boolean | number | undefined, file = 'evt2_sparklers.raw'): PipelineSpec {
  return pipeline(id)
    .source('cam', 'file', { path: sharedPath(file), pace: 'fast', passes: 2, ...(thread !== undefined ? { thread } : {}) })
    .op('hot', 'refractory', 'cam', { refractoryUs: 1000 })
    .op('clean', 'denoise', 'hot', { windowUs: 10_000 })
    .op('sum', 'test-thread-checksum', 'clean', {})
    .sink('out', 'log', 'sum', { every: 1e9 })
    .build();
}

test('threadChain: the threadable ops a source alone feeds, in order, up to the limit', () => {
  const spec = filtered('chain', true);
  assert.deepEqual(threadChain(spec, 'cam').map((n) => n.id), ['hot', 'clean'], 'stops before the op that is not threadable');
  assert.deepEqual(threadChain(spec, 'cam', 1).map((n) => n.id), ['hot']);
  assert.deepEqual(threadChain(spec, 'cam', 0), []);
  // A second consumer of the source: nothing goes along.
  const forked = pipeline('fork').source('cam', 'file', { path: sharedPath('evt2_sparklers.raw') }).op('hot', 'refractory', 'cam', { refractoryUs: 1000 }).sink('ws', 'websocket', ['cam', 'hot'], { port: 0 }).build();
  assert.deepEqual(threadChain(forked, 'cam'), []);
});

test('a threaded file source and its filters give the main thread exactly the events of an unthreaded run', async () => {
  const runs: Record<string, { sum: number; events: number; packets: number; sources: Record<string, number> }> = {};
  for (const thread of [undefined, true, 1, 0]) {
    const id = `thread-${String(thread)}`;
    const r = await (await startPipeline(filtered(id, thread), quiet)).done;
    assert.equal(r.error, undefined, id);
    assert.equal(r.metrics.events, 2 * 521_252, `${id}: the run counts the events its source read`);
    runs[id] = { ...seen.sum!, sources: r.metrics.sources.cam! };
    delete seen.sum;
  }
  const base = runs['thread-undefined']!;
  assert.ok(base.events > 100_000 && base.events < 2 * 521_252, `the filters drop some (${base.events})`);
  for (const id of ['thread-true', 'thread-1', 'thread-0']) {
    const r = runs[id]!;
    assert.equal(r.events, base.events, id);
    assert.equal(r.sum, base.sum, id);
    assert.equal(r.packets, base.packets, `${id}: the same non-empty packets`);
    assert.equal(r.sources.events, 2 * 521_252, `${id}: the worker's source stats come through`);
    assert.ok(r.sources.threadBatches! > 0, id);
    // Every packet was recycled downstream, so the batches went back to the worker to be filled again
    // (the checksums above show no packet was overwritten while in use).
    assert.ok(r.sources.threadBuffersReturned! > 0, `${id}: buffers given back`);
  }
  assert.equal(base.sources.threadBatches, undefined);
  // Without recycling, no buffer goes back, and the events are the same.
  const kept = await (await startPipeline(filtered('thread-kept', true), { ...quiet, recyclePackets: false })).done;
  assert.equal(kept.error, undefined);
  assert.equal(kept.metrics.sources.cam!.threadBuffersReturned, 0);
  assert.equal(seen.sum!.sum, base.sum);
  delete seen.sum;
});

test('the main job with its emulator threaded: the same decisions, judged against the same labels', async () => {
  const results = [];
  for (const thread of [false, true]) {
    const { spec, baseDir } = loadPipelineFile(mainPipelinePath(), ['ws.port=0', 'emu.params.realtime=false', 'emu.params.durationUs=2000000', `emu.params.thread=${thread}`, 'net.params.warmup=false']);
    const r = await (await startPipeline({ ...spec, checkpoint: undefined }, { ...quiet, baseDir })).done;
    assert.equal(r.error, undefined);
    results.push({ decisions: r.metrics.decisions, judged: r.metrics.judged, correct: r.metrics.correct, steps: r.metrics.steps });
  }
  assert.ok(results[0]!.judged > 30, JSON.stringify(results[0]));
  assert.deepEqual(results[1], results[0]);
});

test('an error in a threaded operator names that operator, once', async () => {
  // N-CARS DAT has no geometry: refractory, running in the worker, cannot size its state.
  const spec = pipeline('ncars').source('cam', 'file', { path: sharedPath('dat_ncars_obj_004397_td.dat'), thread: true }).op('hot', 'refractory', 'cam', { refractoryUs: 1000 }).sink('out', 'log', 'hot', {}).build();
  const r = await (await startPipeline(spec, quiet)).done;
  assert.equal(r.reason, 'error');
  assert.match(r.error!.message, /^node 'hot' \(op refractory\): refractory: the sensor geometry is unknown/);
});

test('a threaded source pauses while the pipeline is behind: bounded queue, nothing lost', async () => {
  // 1 µs steps: binning the replay is far slower than decoding it in the worker.
  const spec = pipeline('slow')
    .source('cam', 'file', { path: sharedPath('evt2_sparklers.raw'), pace: 'fast', thread: true, maxEvents: 1000 }, { capacity: 2 })
    .op('bins', 'binSteps', 'cam', { dtUs: 1, width: 640, height: 480 })
    .sink('out', 'log', 'bins', { every: 1e9 })
    .build();
  const r = await (await startPipeline(spec, quiet)).done;
  assert.equal(r.error, undefined);
  const q = r.metrics.queues.cam!;
  assert.equal(r.metrics.events, 521_252, 'every event delivered');
  assert.equal(q.dropped, 0);
  assert.ok(q.pauses > 0 && r.metrics.sources.cam!.pauses! > 0, `the worker's source was paused (${JSON.stringify(q)})`);
  // Beyond capacity: only what was in flight when the pause came (at most THREAD_BATCHES_IN_FLIGHT batches of 64 k events).
  assert.ok(q.highWater <= 2 + THREAD_BATCHES_IN_FLIGHT * 66, `high water ${q.highWater}`);
});

test('a threaded source stopped mid-run ends its worker and the run', async () => {
  const spec = pipeline('stop').source('cam', 'file', { path: sharedPath('evt2_sparklers.raw'), pace: 1, passes: 100, thread: true }).sink('out', 'log', 'cam', { every: 1e9 }).build();
  const run = await startPipeline(spec, quiet);
  await new Promise((r) => setTimeout(r, 300));
  const r = await run.stop();
  assert.equal(r.reason, 'stopped');
  assert.ok(r.metrics.events > 0 && r.metrics.events < 100 * 521_252);
});

test('thread is validated: true, false or a count of operators', () => {
  const bad = () => pipeline('bad').source('cam', 'file', { path: sharedPath('evt2_sparklers.raw'), thread: 'yes' }).sink('out', 'log', 'cam', {}).build();
  assert.throws(bad, /nodes\[0\]\.params\.thread: .*true, false or a number ≥ 0/);
  const negative = () => pipeline('bad').source('cam', 'emulator', { thread: -1 }).sink('out', 'log', 'cam', {}).build();
  assert.throws(negative, /nodes\[0\]\.params\.thread/);
});
