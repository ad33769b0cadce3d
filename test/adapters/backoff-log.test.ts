import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../adapters/backoff.js';
import { RateLimitedLog } from '../../adapters/error-log.js';

test('backoff grows by factor, caps, gives up after maxAttempts, resets', () => {
  const b = new Backoff({ initialDelayMs: 100, factor: 2, maxDelayMs: 500, jitter: 0, maxAttempts: 5 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 500, 500, undefined]);
  b.reset();
  assert.equal(b.next(), 100);
  const j = new Backoff({ initialDelayMs: 1000, jitter: 0.1 }, () => 1);
  assert.equal(j.next(), 1100);
});

test('rate-limited log: counts everything, logs a few per window, summarises the rest', () => {
  const lines: string[] = [];
  let now = 0;
  const log = new RateLimitedLog('serial /dev/ttyX', { perWindow: 2, windowMs: 1000, sink: (l) => lines.push(l), now: () => now });
  for (let k = 0; k < 10; k++) log.report(new Error(`bad frame ${k}`));
  now = 1500;
  log.report('bad frame 10');
  assert.equal(log.count, 11);
  assert.deepEqual(lines, ['serial /dev/ttyX: bad frame 0', 'serial /dev/ttyX: bad frame 1', 'serial /dev/ttyX: 8 more errors suppressed (10 in total)', 'serial /dev/ttyX: bad frame 10']);
});
