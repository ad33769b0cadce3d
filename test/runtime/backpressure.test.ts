import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { Observable } from 'rxjs';
import { map } from 'rxjs/operators';
import { EdgeQueue, defineOp, defineSource, pipeline, startPipeline } from '../../src/runtime/index.js';
import { packetOf, type EventPacket } from '../../src/events/packet.js';
import { field, num } from '../../src/runtime/schema.js';
import { sharedPath } from '../helpers/shared-data.js';
import { RECORDINGS } from '../helpers/recordings.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

// A deliberately slow operator: the pipeline is slower than its source.
defineOp({ name: 'test-slow', doc: 'busy-waits per packet (tests)', params: { ms: field(num({ gt: 0 }), 'ms per packet') }, accepts: ['events'], produces: 'events' }, (p) => ({
  operator: map((x: unknown) => {
    spin((p.ms as number | undefined) ?? 1);
    return x;
  }),
}));

// A live source far faster than any pipeline: bursts of 200 packets of 1000 events per macrotask, forever.
const flood = { emitted: 0, bytes: 0 };
defineSource({ name: 'test-flood', doc: 'flood (tests)', params: {}, produces: 'events' }, () => ({
  stream: new Observable<EventPacket>((sub) => {
    let alive = true;
    const tick = () => {
      if (!alive) return;
      for (let i = 0; i < 200; i++) {
        const n = 1000;
        const seq = flood.emitted++;
        const t = new Float64Array(n).fill(seq);
        sub.next(packetOf(new Uint16Array(n), new Uint16Array(n), t, new Uint8Array(n), { width: 1, height: 1 }, { format: 'flood' }));
        flood.bytes += n * 13;
      }
      setImmediate(tick);
    };
    setImmediate(tick);
    return () => void (alive = false);
  }),
  stats: () => ({ emitted: flood.emitted }),
}));

test('EdgeQueue: drop-oldest keeps the newest, drop-newest the oldest, both count drops and stay bounded', async () => {
  for (const policy of ['drop-oldest', 'drop-newest'] as const) {
    const got: number[] = [];
    const q = new EdgeQueue<number>({ capacity: 4, policy, deliver: (x) => got.push(x) });
    for (let i = 0; i < 10; i++) q.push(i);
    assert.equal(q.length, 4);
    await q.idle();
    assert.deepEqual(got, policy === 'drop-oldest' ? [6, 7, 8, 9] : [0, 1, 2, 3]);
    assert.deepEqual({ ...q.stats }, { enqueued: policy === 'drop-oldest' ? 10 : 4, delivered: 4, dropped: 6, highWater: 4, pauses: 0, length: 0 });
  }
});

test('EdgeQueue: every item not delivered (dropped either way, or queued at close) goes to discard, once', async () => {
  for (const policy of ['drop-oldest', 'drop-newest'] as const) {
    const discarded: number[] = [];
    const q = new EdgeQueue<number>({ capacity: 4, policy, deliver: () => undefined, discard: (x) => discarded.push(x) });
    for (let i = 0; i < 10; i++) q.push(i);
    assert.deepEqual(discarded, policy === 'drop-oldest' ? [0, 1, 2, 3, 4, 5] : [4, 5, 6, 7, 8, 9]);
    q.close();
    assert.deepEqual(discarded.slice(6), policy === 'drop-oldest' ? [6, 7, 8, 9] : [0, 1, 2, 3], 'queued at close');
    q.push(10);
    assert.equal(discarded.length, 10, 'nothing after close');
  }
});

test("EdgeQueue: 'pause' pauses the source at capacity, resumes it at half, loses nothing", async () => {
  const log: string[] = [];
  const got: number[] = [];
  const q = new EdgeQueue<number>({ capacity: 4, policy: 'pause', pause: () => log.push('pause'), resume: () => log.push('resume'), deliver: (x) => got.push(x), sliceMs: 0 });
  for (let i = 0; i < 4; i++) q.push(i);
  assert.deepEqual(log, ['pause']);
  q.push(4); // already read when the pause came: kept, not dropped
  await q.idle();
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  assert.deepEqual(log, ['pause', 'resume']);
  assert.equal(q.stats.dropped, 0);
  assert.throws(() => new EdgeQueue<number>({ capacity: 4, policy: 'pause', deliver: () => undefined }), /needs a source that can pause/);
});

test('a file source faster than the pipeline is paused: every event arrives, nothing dropped, queue bounded', async () => {
  const rec = RECORDINGS.find((r) => r.file === 'evt2_sparklers.raw')!;
  const spec = pipeline('paused')
    .source('cam', 'file', { path: sharedPath(rec.file), chunkSize: 65536, maxEvents: 1000 }, { capacity: 4, policy: 'pause' })
    .op('slow', 'test-slow', 'cam', { ms: 3 })
    .sink('out', 'log', 'slow', { every: 1_000_000 })
    .build();
  const run = await startPipeline(spec, { print: () => undefined, announce: () => undefined });
  const r = await run.done;
  assert.equal(r.reason, 'completed');
  assert.equal(r.metrics.events, rec.events);
  const q = r.metrics.queues.cam!;
  assert.equal(q.dropped, 0);
  assert.ok(q.pauses >= 3, `paused ${q.pauses} times`);
  assert.ok(q.highWater <= 4, `high water ${q.highWater}`);
  assert.ok((r.metrics.sources.cam!.pauses ?? 0) >= 3);
});

test('a live source far faster than the pipeline: bounded queue drops the oldest, counts it, memory stays flat', async () => {
  // 2 ms per packet: the queue drains in 20 ms slices, so the pipeline takes ~10 packets per flood
  // burst of 200 (at 1 ms it took ~20, right at the 10× asserted below).
  flood.emitted = 0;
  flood.bytes = 0;
  const spec = pipeline('flood').source('f', 'test-flood', {}, { capacity: 64, policy: 'drop-oldest' }).op('slow', 'test-slow', 'f', { ms: 2 }).sink('out', 'log', 'slow', { every: 1_000_000 }).build();
  // Retained memory (after a full GC) while the flood goes on: what the pipeline holds, not garbage.
  const retained = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = retained();
  const run = await startPipeline(spec, { print: () => undefined, announce: () => undefined });
  const samples: number[] = [];
  const t0 = Date.now();
  while (Date.now() - t0 < 1600) {
    await new Promise((r) => setTimeout(r, 200));
    samples.push(retained() - base);
  }
  const r = await run.stop();
  assert.equal(r.reason, 'stopped');
  const s = r.metrics.queues.f!;
  assert.ok(s.dropped > 0, 'drops counted');
  assert.ok(s.highWater <= 64, `high water ${s.highWater}`);
  assert.equal(s.length, 0, 'stop drained the queue');
  assert.equal(s.enqueued, s.delivered + s.dropped, 'every accepted item was delivered or made room for a newer one');
  assert.ok(s.enqueued <= flood.emitted);
  assert.ok(flood.emitted > 10 * s.delivered, `source ${flood.emitted} packets, pipeline took ${s.delivered}`);
  // The queue holds at most 64 packets of 13 kB (0.8 MiB); one burst in flight is 2.6 MiB.
  const growth = Math.max(...samples);
  assert.ok(growth < 16 << 20, `retained memory grew ${(growth / 2 ** 20).toFixed(1)} MiB (samples ${samples.map((x) => (x / 2 ** 20).toFixed(1)).join(', ')} MiB)`);
  assert.ok(flood.bytes > 4 * (16 << 20), `the flood emitted ${(flood.bytes / 2 ** 20).toFixed(0)} MiB`);
});

// A live source whose packets the runtime may recycle: it counts what comes back.
const recycledBack = { emitted: 0, recycled: 0 };
defineSource({ name: 'test-recycling-burst', doc: 'a burst of packets, recycled back (tests)', params: {}, produces: 'events' }, () => ({
  stream: new Observable<EventPacket>((sub) => {
    for (let i = 0; i < 2000; i++) {
      recycledBack.emitted++;
      sub.next(packetOf(new Uint16Array(10), new Uint16Array(10), new Float64Array(10).fill(i), new Uint8Array(10), { width: 1, height: 1 }, { format: 'burst' }));
    }
    sub.complete();
  }),
  recycle: () => void recycledBack.recycled++,
  stats: () => ({ ...recycledBack }),
}));
defineOp({ name: 'test-slow-releasing', doc: 'busy-waits per packet and keeps nothing (tests)', params: {}, accepts: ['events'], produces: 'events', releasesInput: true }, () => ({
  operator: map((x: unknown) => {
    spin(0.05);
    return x;
  }),
}));

test('a packet the queue drops comes back to its source like a delivered one (recycle), so its buffers are reused', async () => {
  recycledBack.emitted = recycledBack.recycled = 0;
  const spec = pipeline('recycle-drops')
    .source('burst', 'test-recycling-burst', {}, { capacity: 16, policy: 'drop-oldest' })
    .op('slow', 'test-slow-releasing', 'burst', {})
    .sink('out', 'log', 'slow', { every: 1e9 })
    .build();
  const r = await (await startPipeline(spec, { print: () => undefined, announce: () => undefined })).done;
  assert.equal(r.error, undefined);
  const q = r.metrics.queues.burst!;
  assert.ok(q.dropped > 1000, `dropped ${q.dropped}`);
  assert.equal(recycledBack.emitted, 2000);
  assert.equal(recycledBack.recycled, 2000, 'every packet, delivered or dropped, recycled once');
});
