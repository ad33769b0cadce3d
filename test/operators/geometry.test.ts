/** Geometry operators: roi, downsample, polarity, flip, rotate, transpose — coordinates and geometry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map } from 'rxjs';
import { concatPackets } from '../../src/events/packet.js';
import { roi } from '../../operators/roi.js';
import { downsample } from '../../operators/downsample.js';
import { polarity } from '../../operators/polarity.js';
import { flip } from '../../operators/flip.js';
import { rotate } from '../../operators/rotate.js';
import { transpose } from '../../operators/transpose.js';
import { marbles, pk, recordingEvents, show, through, tuples } from './support.js';

const g = { width: 6, height: 4 };
const events = pk(
  [
    [0, 0, 1, 1],
    [5, 0, 2, 0],
    [0, 3, 3, 1],
    [5, 3, 4, 0],
    [2, 1, 5, 1],
  ],
  g,
);

test('roi keeps the rectangle and shifts it to the origin, with the new geometry', async () => {
  const [out] = await through([events], roi({ x: 2, y: 1, width: 4, height: 3 }));
  assert.deepEqual(out!.geometry, { width: 4, height: 3 });
  assert.deepEqual(tuples(out!), [
    [3, 2, 4, 0],
    [0, 0, 5, 1],
  ]);
  assert.throws(() => roi({ x: -1, y: 0, width: 2, height: 2 }), /roi: x/);
});

test('downsample pools coordinates by the factor and rounds the geometry up', async () => {
  const [out] = await through([events], downsample({ factor: 4 }));
  assert.deepEqual(out!.geometry, { width: 2, height: 1 });
  assert.deepEqual(tuples(out!), [
    [0, 0, 1, 1],
    [1, 0, 2, 0],
    [0, 0, 3, 1],
    [1, 0, 4, 0],
    [0, 0, 5, 1],
  ]);
  const [xy] = await through([events], downsample({ factorX: 3, factorY: 2 }));
  assert.deepEqual(xy!.geometry, { width: 2, height: 2 });
  assert.deepEqual(tuples(xy!).map((e) => [e[0], e[1]]), [[0, 0], [1, 0], [0, 1], [1, 1], [0, 0]]);
});

test('polarity selects ON or OFF events', async () => {
  assert.deepEqual(tuples((await through([events], polarity('on')))[0]!).map((e) => e[2]), [1, 3, 5]);
  assert.deepEqual(tuples((await through([events], polarity(0)))[0]!).map((e) => e[2]), [2, 4]);
  assert.throws(() => polarity(2 as 1), /polarity/);
});

test('flip, rotate and transpose map coordinates and geometry', async () => {
  const xy = async (op: Parameters<typeof through>[1]): Promise<number[][]> => tuples((await through([events], op))[0]! as never).map((e) => [e[0], e[1]]);
  assert.deepEqual(await xy(flip('x')), [[5, 0], [0, 0], [5, 3], [0, 3], [3, 1]]);
  assert.deepEqual(await xy(flip('y')), [[0, 3], [5, 3], [0, 0], [5, 0], [2, 2]]);
  assert.deepEqual(await xy(flip('xy')), await xy(rotate(180)));
  // 90° counter-clockwise: the top-right corner (5,0) goes to the top-left, the top-left to the bottom-left.
  const [r90] = await through([events], rotate(90));
  assert.deepEqual(r90!.geometry, { width: 4, height: 6 });
  assert.deepEqual(tuples(r90!).map((e) => [e[0], e[1]]), [[0, 5], [0, 0], [3, 5], [3, 0], [1, 3]]);
  const [r270] = await through([events], rotate(270));
  assert.deepEqual(r270!.geometry, { width: 4, height: 6 });
  assert.deepEqual(tuples(r270!).map((e) => [e[0], e[1]]), [[3, 0], [3, 5], [0, 0], [0, 5], [2, 2]]);
  const [tr] = await through([events], transpose());
  assert.deepEqual(tr!.geometry, { width: 4, height: 6 });
  assert.deepEqual(tuples(tr!).map((e) => [e[0], e[1]]), [[0, 0], [0, 5], [3, 0], [3, 5], [1, 2]]);
  // Empty packets get the new geometry too, so downstream state is sized the same from any packet.
  const [empty] = await through([pk([], g)], rotate(90));
  assert.deepEqual(empty!.geometry, { width: 4, height: 6 });
  // Times and polarities are untouched by all of them.
  for (const out of [r90!, r270!, tr!]) assert.deepEqual(Array.from(out.t), Array.from(events.t));
});

test('four quarter turns, two flips and two transposes give a real recording back unchanged', async () => {
  const { all, packets } = recordingEvents('dat_ncars_obj_004397_td.dat');
  const geometry = { width: 128, height: 128 };
  const r4 = concatPackets(await through(packets, (s) => s.pipe(rotate(90, { geometry }), rotate(90), rotate(90), rotate(90))));
  assert.equal(show(r4), show(all));
  assert.deepEqual(r4.geometry, geometry);
  const f2 = concatPackets(await through(packets, (s) => s.pipe(flip('x', { geometry }), flip('x', { geometry }))));
  assert.equal(show(f2), show(all));
  const t2 = concatPackets(await through(packets, (s) => s.pipe(transpose(), transpose())));
  assert.equal(show(t2), show(all));
  // rotate(90) then flip('y')… equals transpose: (x, y) → (y, W−1−x) → (y, x).
  const rt = concatPackets(await through(packets, (s) => s.pipe(rotate(90, { geometry }), flip('y'))));
  const tt = concatPackets(await through(packets, transpose()));
  assert.equal(show(rt), show(tt));
});

test('geometry operators keep the packet cadence (virtual time)', () => {
  marbles().run(({ cold, expectObservable }) => {
    const source = cold('a--b|', { a: events, b: pk([], g) });
    expectObservable(source.pipe(roi({ x: 0, y: 0, width: 1, height: 1 }), map(show))).toBe('a--b|', { a: '0,0,1,1', b: '' });
  });
});
