import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusReporter, statusLine, type PipelineMetrics } from '../../src/runtime/index.js';

function metrics(wallS: number, events: number, extra: Partial<PipelineMetrics> = {}): PipelineMetrics {
  return {
    wallS,
    events,
    steps: events / 100,
    decisions: 7,
    eventSpanUs: wallS * 2e6,
    realTimeFactor: 2,
    latency: { count: 7, p50Ms: 0.5, p90Ms: 1, p99Ms: 2.25, maxMs: 3 },
    dropped: 4,
    queues: {},
    judged: 0,
    correct: 0,
    sources: {},
    sinks: {},
    ...extra,
  };
}

test('status line: rates over the last interval, latency, drops, accuracy only with ground truth', () => {
  const line = statusLine(metrics(3, 3_500_000), metrics(2, 1_000_000));
  assert.equal(line, '3s | 2.50M ev/s | 25.0k steps/s | 7 decisions | latency p50 0.50 p99 2.25 ms | x2.0 real time | drops 4');
  // Learning progress: the last (up to 100) judged decisions first, then the whole run.
  assert.match(statusLine(metrics(1, 10, { judged: 180, correct: 90, accuracy: 0.5, recentAccuracy: 0.75, recentJudged: 100 })), / \| accuracy 75\.0% last 100, 50\.0% of 180$/);
});

test('on a terminal the line redraws in place; otherwise plain lines, at most every plainEveryMs', async () => {
  for (const tty of [true, false]) {
    const written: string[] = [];
    const stream = { write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    let t = 0;
    const r = new StatusReporter(() => metrics((t += 0.5), t * 1000), { stream, tty, intervalMs: 10, plainEveryMs: 1000, label: 'p' });
    r.start();
    await new Promise((res) => setTimeout(res, 200));
    r.stop();
    if (tty) {
      assert.ok(written.length >= 3);
      assert.ok(written.slice(0, -1).every((w) => w.startsWith('\rp: ') && w.endsWith('\x1b[K') && !w.includes('\n')));
      assert.equal(written[written.length - 1], '\r\x1b[K', 'cleared on stop');
    } else {
      assert.ok(written.length >= 2);
      assert.ok(written.every((w) => w.startsWith('p: ') && w.endsWith('\n') && !w.includes('\r')));
      // Simulated wall time advances 0.5 s per tick: a line every second of it, not every tick.
      assert.ok(written.length <= t / 1 + 1, `${written.length} lines over ${t} s`);
    }
  }
});
