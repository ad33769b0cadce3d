/** countWindows: fixed event-count windows across packet boundaries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map } from 'rxjs';
import { concatPackets, packetsEqual } from '../../src/events/packet.js';
import { countWindows } from '../../operators/count-windows.js';
import { marbles, pk, recordingEvents, rechunk, show, through } from './support.js';

test('windows of n events are emitted when their last event arrives; the short rest at completion', () => {
  marbles().run(({ cold, expectObservable }) => {
    const a = pk([[0, 0, 1, 1], [0, 0, 2, 1]]);
    const b = pk([[0, 0, 3, 1], [0, 0, 4, 1], [0, 0, 5, 1], [0, 0, 6, 1], [0, 0, 7, 1], [0, 0, 8, 1], [0, 0, 9, 1]]);
    const times = (p: Parameters<typeof show>[0]): string => Array.from(p.t).join(' ');
    expectObservable(cold('a--b-----|', { a, b }).pipe(countWindows(3), map(times))).toBe('---(xyz)-|', { x: '1 2 3', y: '4 5 6', z: '7 8 9' });
    expectObservable(cold('a--b-----|', { a, b }).pipe(countWindows(4), map(times))).toBe('---(xy)--(z|)', { x: '1 2 3 4', y: '5 6 7 8', z: '9' });
    expectObservable(cold('a--b-----|', { a, b }).pipe(countWindows(4, { partial: false }), map(times))).toBe('---(xy)--|', { x: '1 2 3 4', y: '5 6 7 8' });
  });
});

test('a real recording cut into 10,000-event windows: same events, same order, exact sizes', async () => {
  const { all } = recordingEvents('evt2_sparklers.raw');
  for (const sizes of [[all.length], [777, 65536]]) {
    const windows = await through(rechunk(all, sizes), countWindows(10_000));
    assert.equal(windows.length, Math.ceil(all.length / 10_000));
    for (const w of windows.slice(0, -1)) assert.equal(w.length, 10_000);
    assert.ok(packetsEqual(concatPackets(windows), all), 'same events in the same order');
  }
  assert.throws(() => countWindows(0), /countWindows: n/);
});
