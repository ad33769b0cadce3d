/**
 * EVT 2.1 decoder on the two derived recordings (both word orders) and on hand-built words.
 *
 * Hand check of derived_evt21_legacy_from_sparklers.raw (data at byte 206), as u32 pairs
 * [type/ts/x/y half, mask half] (the little file has the halves swapped):
 *   [0x80d9d8d0, 0]           TIME_HIGH 0xd9d8d0 → base 14,276,816·64 = 913,716,224 µs
 *   [0x100101bb, 0x00000018]  EVT_POS, ts 0, x base 32, y 443, mask bits 3,4 → (35,443) (36,443)
 *   [0x100201bb, 0x00001f81]  x base 64, bits 0,7,8,9,10,11,12 → x 64, 71, 72, …, 76
 * The independent reading gives 521,252 events, checksum df4c08e3 for both files.
 *
 * Note: the derived files hold the same events as evt2_sparklers.raw as a multiset, but not in the
 * same order: a vector word emits its events in increasing x, whereas the EVT 2.0 file lists the
 * same-timestamp events of a row in sensor readout order (74, 75, 72, 73, 76, 71, 64 …).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum } from '../helpers/chunking.js';
import { allEvents, decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { countOn, type EventPacket } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';
import { evt21Format } from '../../src/formats/prophesee/evt21.js';
import type { MonitorBatch, TriggerBatch } from '../../src/events/side.js';

const LITTLE = 'derived_evt21_little_from_sparklers.raw';
const LEGACY = 'derived_evt21_legacy_from_sparklers.raw';
const HEADER_BYTES = 206;

function rows(d: Decoded, from: number, count: number): number[][] {
  const e = allEvents(d);
  const out: number[][] = [];
  for (let i = from; i < Math.min(e.length, from + count); i++) out.push([e.x[i]!, e.y[i]!, e.t[i]!, e.p[i]!]);
  return out;
}

/** Events as sorted keys, to compare decodes as multisets. */
function sortedKeys(e: EventPacket): number[] {
  const keys = new Array<number>(e.length);
  for (let i = 0; i < e.length; i++) keys[i] = ((e.t[i]! * 2048 + e.y[i]!) * 2048 + e.x[i]!) * 2 + e.p[i]!;
  return keys.sort((a, b) => a - b);
}

/** An EVT 2.1 stream from [type-half, mask-half] pairs, in the given word order. */
function evt21Stream(pairs: [number, number][], order: 'little' | 'legacy', header = `% format EVT21;height=480;width=640\n% endianness ${order}\n% end\n`): Uint8Array {
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(head.length + 8 * pairs.length);
  out.set(head, 0);
  const view = new DataView(out.buffer);
  pairs.forEach(([hi, mask], i) => {
    const at = head.length + 8 * i;
    view.setUint32(order === 'legacy' ? at : at + 4, hi >>> 0, true);
    view.setUint32(order === 'legacy' ? at + 4 : at, mask >>> 0, true);
  });
  return out;
}
const timeHigh = (us: number): [number, number] => [(0x8 << 28) | Math.floor(us / 64), 0];
const vector = (on: number, x: number, y: number, tsLow: number, mask: number): [number, number] => [((on ? 1 : 0) << 28) | (tsLow << 22) | (x << 11) | y, mask];

test('evt21 derived recordings: both word orders give the same 521,252 events', () => {
  for (const [file, order] of [
    [LITTLE, 'little'],
    [LEGACY, 'legacy'],
  ] as const) {
    const d = decodeBuffer(readShared(file), 'auto', { fileName: file });
    assert.equal(d.decoder.format, 'evt21');
    assert.equal((d.decoder as unknown as { endianness: string }).endianness, order);
    assert.deepEqual(d.errors, []);
    const e = allEvents(d);
    assert.equal(e.length, 521_252);
    assert.equal(countOn(e), 185_861);
    assert.deepEqual(e.geometry, { width: 640, height: 480 });
    assert.deepEqual(rows(d, 0, 6), [
      [35, 443, 913_716_224, 1],
      [36, 443, 913_716_224, 1],
      [64, 443, 913_716_224, 1],
      [71, 443, 913_716_224, 1],
      [72, 443, 913_716_224, 1],
      [73, 443, 913_716_224, 1],
    ]);
    assert.deepEqual(rows(d, e.length - 1, 1), [[12, 471, 913_812_095, 0]]);
    assert.equal(eventChecksum(d), 'df4c08e3');
  }
});

test('evt21 derived recordings hold exactly the events of evt2_sparklers.raw (as a multiset)', () => {
  const evt2 = allEvents(decodeBuffer(readShared('evt2_sparklers.raw'), 'evt2'));
  const evt21 = allEvents(decodeBuffer(readShared(LEGACY), 'evt21'));
  assert.equal(evt21.length, evt2.length);
  assert.deepEqual(sortedKeys(evt21), sortedKeys(evt2));
  assert.equal(evt21.t[0], evt2.t[0]);
  assert.equal(evt21.t[evt21.length - 1], evt2.t[evt2.length - 1]);
});

test('evt21 decoding is chunking-invariant', () => {
  const pool = new PacketPool(4096);
  for (const file of [LITTLE, LEGACY]) {
    const bytes = readShared(file);
    assertChunkingInvariant(bytes.subarray(0, 48 * 1024), 'evt21', { pool }, [1]);
    assertChunkingInvariant(bytes, 'evt21', { pool }, [2, 3]);
  }
});

test('evt21 option endianness overrides the header', () => {
  const bytes = readShared(LEGACY).subarray(0, HEADER_BYTES + 8 * 2000);
  const asHeader = decodeBuffer(bytes, 'evt21');
  const forced = decodeBuffer(bytes, 'evt21', { endianness: 'legacy' });
  assert.equal(eventChecksum(forced), eventChecksum(asHeader));
  const wrong = decodeBuffer(bytes, 'evt21', { endianness: 'little' });
  assert.equal((wrong.decoder as unknown as { endianness: string }).endianness, 'little');
  assert.notEqual(eventChecksum(wrong), eventChecksum(asHeader));
  assert.throws(() => evt21Format.createDecoder({ endianness: 'big' }), /endianness/);
});

test('evt21 words: vector bits 0..31, triggers, monitoring, CONTINUED, unknown types, both orders', () => {
  const pairs: [number, number][] = [
    vector(1, 0, 1, 0, 0xffffffff), // before the first TIME_HIGH: dropped
    timeHigh(640),
    vector(1, 96, 7, 2, 0x80000001), // x 96 and 127
    vector(0, 2016, 479, 63, 0x00000004), // x 2018
    [(0xa << 28) | (5 << 22) | (17 << 8) | 0, 0], // trigger id 17 falling at 645
    [(0xe << 28) | (1 << 22) | 0x14, 1234], // OTHERS subtype 0x14 at 641
    [0xf0000000, 0xffffffff], // CONTINUED
    [0x30000000, 0], // unknown type 0x3
    [0x90000000, 0], // unknown type 0x9 (same run)
    vector(1, 0, 0, 0, 0), // empty mask: no event
    vector(1, 32, 3, 1, 0x2), // x 33
  ];
  for (const order of ['little', 'legacy'] as const) {
    const d = decodeBuffer(evt21Stream(pairs, order), 'evt21', { chunkSizes: [3] });
    assert.deepEqual(rows(d, 0, 10), [
      [96, 7, 642, 1],
      [127, 7, 642, 1],
      [2018, 479, 703, 0],
      [33, 3, 641, 1],
    ]);
    const trig = d.side.find((s): s is TriggerBatch => s.kind === 'trigger')!;
    assert.deepEqual([...trig.t, ...trig.id, ...trig.value], [645, 17, 0]);
    const mon = d.side.find((s): s is MonitorBatch => s.kind === 'monitor')!;
    assert.deepEqual([...mon.t, ...mon.subtype], [641, 0x14]);
    const header = 62; // the three header lines
    assert.deepEqual(
      d.errors.map((e) => [e.format, e.offset]),
      [['evt21', header + 8 * 7]],
    );
    assert.match(d.errors[0]!.message, /2 consecutive words of unknown type/);
  }
});

test('evt21 truncated mid-word: error with format and offset, earlier events kept', () => {
  const bytes = readShared(LITTLE);
  const cut = bytes.subarray(0, HEADER_BYTES + 8 * 100 + 5);
  const whole = allEvents(decodeBuffer(bytes.subarray(0, HEADER_BYTES + 8 * 100), 'evt21')).length;
  const d = decodeBuffer(cut, 'evt21', { chunkSizes: [7] });
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.format, 'evt21');
  assert.equal(d.errors[0]!.offset, HEADER_BYTES + 800);
  assert.match(d.errors[0]!.message, /truncated 64-bit word/);
  assert.ok(whole > 100);
  assert.equal(allEvents(d).length, whole);
});
