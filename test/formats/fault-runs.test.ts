import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { decodeBuffer } from '../../src/formats/decode-all.js';
import { FaultRuns } from '../../src/formats/fault-runs.js';
import type { DecodeError } from '../../src/formats/types.js';

const summary = (errors: DecodeError[]) => errors.map((e) => [e.format, e.offset, e.detail]);

test('fault-runs: adjacent records with the same reason make one error at the run start', () => {
  const runs = new FaultRuns('fmt', 8);
  const errors: DecodeError[] = [];
  for (const at of [100, 108, 116]) runs.note(at, 'bad', errors);
  runs.note(124, 'worse', errors); // another reason: new run
  runs.note(140, 'worse', errors); // a gap: new run
  runs.settle(148, errors); // may continue at 148: still open
  assert.deepEqual(summary(errors), [
    ['fmt', 100, '3 record(s) skipped: bad'],
    ['fmt', 124, '1 record(s) skipped: worse'],
  ]);
  runs.note(148, 'worse', errors);
  runs.settle(164, errors); // the record at 156 was good: closed
  runs.flush(errors); // nothing left
  assert.deepEqual(summary(errors).slice(2), [['fmt', 140, '2 record(s) skipped: worse']]);
  assert.equal(errors[2]!.message, 'fmt: 2 record(s) skipped: worse at byte offset 140');
  assert.equal(errors[2]!.fatal, false);
});

test('fault-runs: custom wording', () => {
  const runs = new FaultRuns('aedat31', 8, (count, why) => `${count} polarity event(s) ${why} skipped`);
  const errors: DecodeError[] = [];
  runs.note(36, 'outside the 240x180 geometry', errors);
  runs.note(44, 'outside the 240x180 geometry', errors);
  runs.flush(errors);
  assert.deepEqual(summary(errors), [['aedat31', 36, '2 polarity event(s) outside the 240x180 geometry skipped']]);
});

test('fault-runs: on the N-MNIST recording, one error per run of out-of-geometry records whatever the chunking', () => {
  const bytes = readShared('nmnist_tonic_sample.bin');
  // Independent count: runs of consecutive 5-byte records with x or y >= 20 (no overflow markers in this file).
  const expected: number[] = [];
  let inRun = false;
  for (let r = 0; r < bytes.length; r += 5) {
    const out = bytes[r]! >= 20 || bytes[r + 1]! >= 20;
    assert.notEqual(bytes[r + 1], 240);
    if (out && !inRun) expected.push(r);
    inRun = out;
  }
  assert.ok(expected.length > 100, `${expected.length} runs`);
  const geometry = { width: 20, height: 20 };
  for (const chunkSizes of [[], [1], [7], [4096, 3]]) {
    const d = decodeBuffer(bytes, 'nmnist', { geometry, chunkSizes });
    assert.deepEqual(d.errors.map((e) => e.offset), expected, `chunks ${chunkSizes}`);
    assert.ok(d.errors.every((e) => e.format === 'nmnist' && /^\d+ record\(s\) skipped: x\/y outside the 20x20 geometry/.test(e.detail)));
  }
});
