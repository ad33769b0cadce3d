// Packet recycling: a file source's decoded buffers go back to its pool once delivered, when every
// node its packets reach releases its input; the results are exactly those of a run without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map } from 'rxjs/operators';
import { defineOp, pipeline, startPipeline, packetsRecyclable } from '../../src/runtime/index.js';
import type { EventPacket } from '../../src/events/packet.js';
import { kernelArena } from '../../src/formats/wasm-kernels.js';
import { sharedPath } from '../helpers/shared-data.js';

// A checksum of every event the node sees, taken during the call (releasesInput), and one that keeps
// the packets it is given (does not release them): its presence must switch recycling off.
const sums: Record<string, number> = {};
// How many packets the checksum node saw in the WASM kernels' memory (decoded in place) and elsewhere.
const where = { arena: 0, other: 0 };
defineOp({ name: 'test-checksum', doc: 'checksums events (tests)', params: {}, accepts: ['events'], produces: 'events', releasesInput: true }, (_p, ctx) => ({
  operator: map((x: unknown) => {
    const pk = x as EventPacket;
    if (pk.x.buffer === kernelArena()?.buffer) where.arena++;
    else where.other++;
    let s = sums[ctx.id] ?? 0;
    for (let i = 0; i < pk.length; i++) s = (s * 31 + pk.x[i]! * 7 + pk.y[i]! * 3 + pk.p[i]! + pk.t[i]!) % 1e9;
    sums[ctx.id] = s;
    return x;
  }),
}));
// The distinct buffers behind the packets a node receives: few when they are recycled.
const buffers = new Set<ArrayBufferLike>();
defineOp({ name: 'test-buffers', doc: 'counts buffers (tests)', params: {}, accepts: ['events'], produces: 'events', releasesInput: true }, () => ({
  operator: map((x: unknown) => {
    buffers.add((x as EventPacket).x.buffer);
    return x;
  }),
}));
const kept: EventPacket[] = [];
defineOp({ name: 'test-keeper', doc: 'keeps packets (tests)', params: {}, accepts: ['events'], produces: 'events' }, () => ({
  operator: map((x: unknown) => {
    kept.push(x as EventPacket);
    return x;
  }),
}));

const spec = (id: string, keeper: boolean) => {
  const b = pipeline(id).source('cam', 'file', { path: sharedPath('evt2_sparklers.raw'), pace: 'fast', passes: 3, maxEvents: 1000 });
  b.op('sum', 'test-checksum', 'cam', {});
  b.op('clean', 'denoise', keeper ? 'keep' : 'sum', { windowUs: 10000 });
  if (keeper) b.op('keep', 'test-keeper', 'sum', {});
  return b
    .op('seen', 'test-buffers', 'clean', {})
    .op('bins', 'binSteps', 'seen', { dtUs: 1000, width: 640, height: 480 })
    .op('net', 'snn', 'bins', { network: { preset: 'spike-classifier', params: { inputs: 2 * 640 * 480, classes: 4, perClass: 2, p: 0.0005, weight: 0.5 } } })
    .op('dec', 'decide', 'net', { population: 'out', classes: 4, mode: 'window', windowSteps: 10 })
    .sink('out', 'log', 'dec', {})
    .build();
};

const checksum = (packets: readonly EventPacket[]): number => {
  let s = 0;
  for (const pk of packets) for (let i = 0; i < pk.length; i++) s = (s * 31 + pk.x[i]! * 7 + pk.y[i]! * 3 + pk.p[i]! + pk.t[i]!) % 1e9;
  return s;
};

const run = async (s: ReturnType<typeof spec>, recyclePackets: boolean) => {
  sums.sum = 0;
  buffers.clear();
  where.arena = where.other = 0;
  const lines: string[] = [];
  const r = await (await startPipeline(s, { recyclePackets, print: (l) => lines.push(l), announce: () => undefined })).done;
  return { lines, recycled: r.metrics.sources.cam!.recycled!, events: r.metrics.events, buffers: buffers.size, packets: r.metrics.sources.cam!.packets!, where: { ...where } };
};

test('recycled file packets: the same events downstream and the same decisions as without recycling, and the buffers come back', async () => {
  const on = await run(spec('recycle-on', false), true);
  const sumOn = sums.sum;
  const off = await run(spec('recycle-off', false), false);
  assert.equal(sums.sum, sumOn, 'checksum of every event seen downstream');
  assert.ok(on.lines.length > 10, `${on.lines.length} decisions`);
  assert.deepEqual(on.lines.map((l) => JSON.parse(l).decision.classIndex), off.lines.map((l) => JSON.parse(l).decision.classIndex));
  assert.equal(on.events, off.events);
  assert.ok(on.recycled > 0, `${on.recycled} decoded packets recycled`);
  assert.equal(off.recycled, 0);
  // Recycled, the source decodes into the kernels' memory (no copy out of the staging area); else
  // into ordinary buffers, which a packet never given back does not keep taken.
  assert.ok(on.where.arena > 0 && on.where.other === 0, `recycled: ${JSON.stringify(on.where)}`);
  assert.ok(off.where.arena === 0 && off.where.other > 0, `not recycled: ${JSON.stringify(off.where)}`);
  // denoise's output packets: from a few pooled buffers, instead of one new buffer per packet.
  assert.ok(on.buffers <= 4, `${on.buffers} buffers behind denoise's ${on.packets} packets`);
  assert.ok(off.buffers > 100, `${off.buffers} buffers without recycling`);
});

test('a node that keeps its input switches recycling off for the source', async () => {
  assert.equal(packetsRecyclable(spec('a', false), 'cam'), true);
  assert.equal(packetsRecyclable(spec('b', true), 'cam'), false);
  const r = await run(spec('recycle-keeper', true), true);
  assert.equal(r.recycled, 0);
  assert.equal(r.where.arena, 0, 'kept packets are not in the kernels\' memory');
  // What it kept is intact at the end of the run: the same events the checksum node saw as they passed.
  assert.ok(kept.length > 100, `${kept.length} packets kept`);
  assert.equal(checksum(kept), sums.sum);
});
