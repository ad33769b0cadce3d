/** tapMetrics: interval reports in virtual time, counts, latency, hooks — and an untouched stream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map } from 'rxjs';
import { tapMetrics, type MetricsReport } from '../../operators/tap-metrics.js';
import { binSteps } from '../../operators/bin-steps.js';
import { marbles, pk } from './support.js';

test('reports every intervalMs of scheduler time and once more at completion; the stream passes unchanged', () => {
  const reports: MetricsReport[] = [];
  const scheduler = marbles();
  scheduler.run(({ cold, expectObservable }) => {
    const a = pk([[0, 0, 100, 1], [1, 0, 200, 1]]);
    const b = pk([[0, 0, 990_000, 1]]);
    const c = pk([[2, 0, 1_400_000, 0], [3, 0, 1_500_000, 0], [3, 1, 1_600_000, 1]]);
    const marble = 'a 999ms b 499ms c 1500ms |';
    const source = cold(marble, { a, b, c });
    let depth = 3;
    const tapped = source.pipe(
      tapMetrics({ intervalMs: 1000, report: (m) => reports.push(m), scheduler, queueDepth: () => depth++, drops: () => 7, eventTimeToMs: (t) => t / 1000 }),
    );
    // Same items, same references, same times.
    expectObservable(tapped).toBe(marble, { a, b, c });
  });
  // Items at 0 (a), 1000 (b), 1500 (c); completion at 3001.
  assert.deepEqual(
    reports.map((r) => [r.atMs, r.intervalMs, r.packets, r.events, r.final]),
    [
      [1000, 1000, 1, 2, false], // the timer was scheduled first, so at 1000 it reports before b passes
      [2000, 1000, 2, 4, false],
      [3000, 1000, 0, 0, false],
      [3001, 1, 0, 0, true],
    ],
  );
  assert.equal(reports[0]!.eventsPerS, 2);
  assert.equal(reports[1]!.packetsPerS, 2);
  assert.deepEqual(reports.map((r) => r.queueDepth), [3, 4, 5, 6]);
  assert.equal(reports[3]!.drops, 7);
  assert.equal(reports[3]!.totalEvents, 6);
  // Latency: now − newest event time: a at 0 − 0.2 ms, b at 1000 − 990 ms; c at 1500 − 1600 ms (a clock ahead).
  assert.deepEqual(reports[0]!.latency, { count: 1, meanMs: -0.2, minMs: -0.2, maxMs: -0.2 });
  assert.deepEqual(reports[1]!.latency, { count: 2, meanMs: -45, minMs: -100, maxMs: 10 });
  assert.equal(reports[2]!.latency, undefined);
});

test('steps are counted as steps, with their events; reports stop when the subscriber leaves', () => {
  const reports: MetricsReport[] = [];
  const scheduler = marbles();
  scheduler.run(({ cold, expectObservable }) => {
    const a = pk([[0, 0, 0, 1], [0, 0, 2500, 1]]);
    const source = cold('a 1999ms |', { a });
    const steps = source.pipe(binSteps({ dtUs: 1000 }), tapMetrics({ intervalMs: 500, report: (m) => reports.push(m) }), map((s) => s.step));
    expectObservable(steps).toBe('(xy) 1996ms (z|)', { x: 0, y: 1, z: 2 });
    const forever = cold('a', { a });
    expectObservable(forever.pipe(tapMetrics({ intervalMs: 500, label: 'unsub', report: (m) => reports.push(m) })), '^ 1200ms !').toBe('a', { a });
  });
  const main = reports.filter((r) => r.label === 'metrics');
  assert.deepEqual(main.map((r) => [r.atMs, r.steps, r.events]), [[500, 2, 1], [1000, 0, 0], [1500, 0, 0], [2000, 1, 1]]);
  // The completion at 2000 comes before the timer due then: the final report covers the last step.
  assert.equal(main.at(-1)!.final, true);
  assert.equal(main[0]!.stepsPerS, 4);
  // Unsubscribed at 1201: reports at 500 and 1000 only, no final one.
  assert.deepEqual(reports.filter((r) => r.label === 'unsub').map((r) => r.atMs), [500, 1000]);
});
