import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum } from '../helpers/chunking.js';
import { allEvents, decodeBuffer } from '../../src/formats/decode-all.js';
import { detectFormat } from '../../src/formats/registry.js';
import { nmnistFormat } from '../../src/formats/nmnist.js';
import { cochleaFormat } from '../../src/formats/cochlea.js';
import { countOn } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';

const FILE = 'nmnist_tonic_sample.bin';
const SMALL_PACKETS = { pool: new PacketPool(256) };

// Reference from an independent Python reading (tonic's read_mnist_file rules; FNV as in chunking.ts).
// Hand check of the first record: 07 0f 80 02 8e → x = 7, y = 15, p = 0x80 >> 7 = 1,
// t = (0x80 & 0x7f) << 16 | 0x02 << 8 | 0x8e = 654 µs.
const REF = {
  events: 4325,
  on: 2145,
  first: [[654, 7, 15, 1], [2999, 19, 18, 0], [3017, 21, 17, 0]],
  last: [311175, 21, 14, 1],
  checksum: 'b4bfdb31',
};

function event(e: ReturnType<typeof allEvents>, i: number): number[] {
  return [e.t[i]!, e.x[i]!, e.y[i]!, e.p[i]!];
}

function record(x: number, y: number, p: number, t: number): number[] {
  return [x, y, (p << 7) | ((t >>> 16) & 0x7f), (t >>> 8) & 0xff, t & 0xff];
}

test('nmnist: the tonic sample decodes to the reference events', () => {
  const d = decodeBuffer(readShared(FILE), 'nmnist');
  const e = allEvents(d);
  assert.equal(d.errors.length, 0);
  assert.equal(e.length, REF.events);
  assert.equal(countOn(e), REF.on);
  REF.first.forEach((ev, i) => assert.deepEqual(event(e, i), ev));
  assert.deepEqual(event(e, e.length - 1), REF.last);
  assert.equal(eventChecksum(d), REF.checksum);
  assert.deepEqual(d.decoder.geometry, { width: 34, height: 34 });
  assert.deepEqual(e.geometry, { width: 34, height: 34 });
  assert.equal(e.t[e.length - 1]! - e.t[0]!, 310521); // 310.5 ms
});

test('nmnist: chunking invariant', () => {
  const d = assertChunkingInvariant(readShared(FILE), 'nmnist', SMALL_PACKETS);
  assert.equal(allEvents(d).length, REF.events);
});

test('nmnist: detected from content and the .bin extension, and not taken for a cochlea file', () => {
  const bytes = readShared(FILE);
  const s = nmnistFormat.sniff(bytes);
  assert.ok(s > 0.3 && s <= 0.5, `plausibility ${s}`);
  assert.equal(cochleaFormat.sniff(bytes), 0);
  assert.equal(detectFormat(bytes.subarray(0, 65536), FILE).format, 'nmnist');
  assert.equal(nmnistFormat.sniff(readShared('nas_cochlea_sound_mono_32ch_addr2b_ts02.aedat').subarray(0, 65536)), 0);
});

test('nmnist: overflow markers (y = 240) shift later times by 2^13 like tonic, or by a chosen increment', () => {
  const bytes = Uint8Array.from([
    ...record(1, 2, 1, 8388600),
    ...record(0, 240, 0, 0), // overflow marker, not an event
    ...record(3, 4, 0, 5),
    ...record(5, 6, 1, 9),
  ]);
  const tonic = allEvents(assertChunkingInvariant(bytes, 'nmnist'));
  assert.deepEqual(Array.from(tonic.t), [8388600, 8192 + 5, 8192 + 9]);
  assert.deepEqual(Array.from(tonic.x), [1, 3, 5]);
  assert.deepEqual(Array.from(tonic.p), [1, 0, 1]);
  const counter = allEvents(decodeBuffer(bytes, 'nmnist', { overflowIncrementUs: 2 ** 23 }));
  assert.deepEqual(Array.from(counter.t), [8388600, 8388608 + 5, 8388608 + 9]);
});

test('nmnist: a truncated last record is reported with its offset; earlier events are kept', () => {
  const bytes = readShared(FILE);
  const d = decodeBuffer(bytes.subarray(0, bytes.length - 2), 'nmnist', { chunkSizes: [999] });
  const e = allEvents(d);
  assert.equal(e.length, REF.events - 1);
  assert.deepEqual(event(e, 0), REF.first[0]);
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.format, 'nmnist');
  assert.equal(d.errors[0]!.offset, (REF.events - 1) * 5);
  assert.match(d.errors[0]!.message, /^nmnist: truncated record: 3 of 5 bytes at byte offset 21620$/);
});

test('nmnist: records outside the geometry are reported as one run and skipped', () => {
  const bytes = readShared(FILE).slice();
  for (const k of [50, 51, 52]) bytes[5 * k] = 200; // x = 200 in a 34x34 sensor
  const d = assertChunkingInvariant(bytes, 'nmnist', SMALL_PACKETS);
  const e = allEvents(d);
  assert.equal(e.length, REF.events - 3);
  assert.deepEqual(d.errors.map((x) => x.offset), [250]);
  assert.match(d.errors[0]!.message, /^nmnist: 3 record\(s\) skipped: x\/y outside the 34x34 geometry/);
  const ref = allEvents(decodeBuffer(readShared(FILE), 'nmnist'));
  for (let i = 0; i < 50; i++) assert.deepEqual(event(e, i), event(ref, i));
  assert.deepEqual(event(e, 50), event(ref, 53));
  // With the right geometry option nothing is lost.
  assert.equal(allEvents(decodeBuffer(bytes, 'nmnist', { geometry: { width: 240, height: 180 } })).length, REF.events);
});

test('nmnist: sniff rejects constant junk and event-less or one-polarity streams, still accepts the sample', () => {
  for (const fill of [0xee, 0x00, 0x01]) {
    const junk = new Uint8Array(1000).fill(fill);
    assert.equal(nmnistFormat.sniff(junk), 0, `1000 bytes of 0x${fill.toString(16)}`);
    assert.throws(() => detectFormat(junk, 'junk.bin'), /cannot detect the event format/);
  }
  // Timestamps advance but every event is ON: not a saccade recording.
  const allOn = Uint8Array.from(Array.from({ length: 50 }, (_, i) => record(i % 34, i % 30, 1, 100 * i)).flat());
  assert.equal(nmnistFormat.sniff(allOn), 0);
  // Both polarities, but one timestamp throughout.
  const frozen = Uint8Array.from(Array.from({ length: 50 }, (_, i) => record(i % 34, i % 30, i & 1, 777)).flat());
  assert.equal(nmnistFormat.sniff(frozen), 0);
  const mixed = Uint8Array.from(Array.from({ length: 50 }, (_, i) => record(i % 34, i % 30, i & 1, 100 * i)).flat());
  assert.equal(nmnistFormat.sniff(mixed), 0.45);
  const sample = readShared(FILE);
  assert.equal(nmnistFormat.sniff(sample), 0.45);
  assert.deepEqual(detectFormat(sample, FILE), { format: 'nmnist', confidence: 0.7, reason: 'content and extension .bin' });
});
