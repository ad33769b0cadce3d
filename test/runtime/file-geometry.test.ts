// A recording whose header gives no sensor size (N-CARS DAT) needs one for the per-pixel filters: the
// file source's width/height give it; without them the filter's error names the node and the cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline, startPipeline } from '../../src/runtime/index.js';
import { sharedPath } from '../helpers/shared-data.js';

const FILE = 'dat_ncars_obj_004397_td.dat'; // 4,407 events, x < 54, y < 61, no geometry in the header

async function run(geometry: Record<string, number>) {
  const spec = pipeline('ncars')
    .source('cam', 'file', { path: sharedPath(FILE), passes: 2, ...geometry })
    .op('hot', 'refractory', 'cam', { refractoryUs: 1000 })
    .sink('out', 'log', 'hot', { every: 1 })
    .build();
  const printed: { events: number }[] = [];
  const r = await (await startPipeline(spec, { print: (l) => printed.push(JSON.parse(l) as { events: number }), announce: () => undefined })).done;
  return { r, kept: printed.reduce((n, l) => n + l.events, 0) };
}

test('file source: width/height give packets without a geometry one, so per-pixel filters run on them', async () => {
  const { r, kept } = await run({ width: 120, height: 100 });
  assert.equal(r.error, undefined);
  assert.equal(r.metrics.events, 2 * 4407);
  assert.ok(kept > 0.5 * 2 * 4407 && kept < 2 * 4407, `refractory kept ${kept}`);
});

test('file source without width/height on a file that has no geometry: the filter names the node and the cause', async () => {
  const { r } = await run({});
  assert.match(r.error?.message ?? '', /node 'hot' \(op refractory\): refractory: the sensor geometry is unknown \(packet says 0x0\); pass options\.geometry \(in a pipeline, give the source its width and height\)/);
});

test('file source width/height smaller than the events: the filter names the event and the geometry', async () => {
  const { r } = await run({ width: 40, height: 100 });
  assert.match(r.error?.message ?? '', /node 'hot' \(op refractory\): refractory: event \d+ at \(\d+, \d+\) lies outside the 40x100 geometry/);
});
