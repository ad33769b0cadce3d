/**
 * EVT 3.0 decoder and encoder: real recordings, hand-built words, round trips.
 *
 * Reference values come from an independent reading of the raw words (a few lines of Python
 * following OpenEB's standalone EVT3 decoder). Hand check of evt3_expelliarmus_sample.raw (data at
 * byte 166): 0x8b2d TIME_HIGH 0xb2d → 2861·4096 = 11,718,656 µs; 0x6000 TIME_LOW 0; 0x00c8 ADDR_Y 200;
 * 0x236a ADDR_X x 874 OFF → (874, 200, 11718656, 0); 0x2b26 ADDR_X x 806 ON → (806, 200, 11718656, 1).
 * The file has TIME_LOW step-backs under one TIME_HIGH (e.g. word 28317: 811 → 800 under 0xb2d).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum, sideCounts } from '../helpers/chunking.js';
import { allEvents, decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { countOn, packetFromArrays, packetsEqual, slicePacket, type EventPacket } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';
import { createEncoder, detectFormat } from '../../src/formats/registry.js';
import { evt3Format } from '../../src/formats/prophesee/evt3.js';
import { MONITOR_EM_ROW, MONITOR_IMU } from '../../src/formats/prophesee/timebase.js';
import type { MonitorBatch, TriggerBatch } from '../../src/events/side.js';

const EXPELLIARMUS = 'evt3_expelliarmus_sample.raw';
const PEDESTRIANS = 'evt3_pedestrians_small.raw';
const HEADER_BYTES = 166;
const LOOP = 2 ** 24;

function rows(d: Decoded, from: number, count: number): number[][] {
  const e = allEvents(d);
  const out: number[][] = [];
  for (let i = from; i < Math.min(e.length, from + count); i++) out.push([e.x[i]!, e.y[i]!, e.t[i]!, e.p[i]!]);
  return out;
}

/** An EVT 3.0 stream: header then 16-bit little-endian words. */
function evt3Stream(words: number[], header = '% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n'): Uint8Array {
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(head.length + 2 * words.length);
  out.set(head, 0);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint16(head.length + 2 * i, w, true));
  return out;
}
const TH = (v: number) => 0x8000 | v;
const TL = (v: number) => 0x6000 | v;
const Y = (y: number) => y;
const X = (x: number, p: number) => 0x2000 | (p << 11) | x;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Encode packets with a fresh EVT3 encoder (options as given) and return the whole byte stream. */
function encodeAll(packets: EventPacket[], options: Record<string, unknown> = {}): Uint8Array {
  const enc = createEncoder('evt3', options);
  return concat([...packets.map((p) => enc.encode(p)), enc.end()]);
}

test('evt3 expelliarmus sample: counts, geometry, first/last events, checksum; TIME_LOW step-backs are no loop', () => {
  const d = decodeBuffer(readShared(EXPELLIARMUS), 'auto', { fileName: EXPELLIARMUS });
  assert.equal(d.decoder.format, 'evt3');
  assert.deepEqual(d.errors, []);
  const e = allEvents(d);
  assert.equal(e.length, 219_596);
  assert.equal(countOn(e), 115_532);
  assert.deepEqual(e.geometry, { width: 1280, height: 720 });
  assert.deepEqual(rows(d, 0, 4), [
    [874, 200, 11_718_656, 0],
    [806, 200, 11_718_656, 1],
    [882, 201, 11_718_656, 0],
    [1085, 201, 11_718_656, 1],
  ]);
  assert.deepEqual(rows(d, e.length - 1, 1), [[1218, 572, 11_727_457, 1]]);
  let max = 0;
  for (let i = 0; i < e.length; i++) max = Math.max(max, e.t[i]!);
  assert.equal(max, 11_727_457); // an overflow taken for a TIME_LOW step-back would add 2^24
  assert.equal(eventChecksum(d), '39ebfc3e');
  assert.deepEqual(sideCounts(d), {});
});

test('evt3 pedestrians: 5,000 events, redundant TIME_HIGH words, last t 5,885,714 µs', () => {
  const bytes = readShared(PEDESTRIANS);
  const d = decodeBuffer(bytes, 'evt3');
  assert.deepEqual(d.errors, []);
  const e = allEvents(d);
  assert.equal(e.length, 5000);
  assert.equal(countOn(e), 2894);
  assert.deepEqual(rows(d, 0, 3), [
    [707, 297, 5_840_504, 0],
    [592, 301, 5_840_507, 0],
    [997, 313, 5_840_511, 0],
  ]);
  assert.deepEqual(rows(d, 4999, 1), [[598, 260, 5_885_714, 0]]);
  assert.equal(eventChecksum(d), '53b03996');
  let timeHighWords = 0;
  const words = new DataView(bytes.buffer, bytes.byteOffset + HEADER_BYTES, bytes.length - HEADER_BYTES);
  for (let i = 0; i + 1 < words.byteLength; i += 2) if (words.getUint16(i, true) >>> 12 === 0x8) timeHighWords++;
  assert.equal(timeHighWords, 2827);
});

test('evt3 decoding is chunking-invariant', () => {
  const pool = new PacketPool(4096);
  const bytes = readShared(EXPELLIARMUS);
  assertChunkingInvariant(bytes.subarray(0, 48 * 1024), 'evt3', { pool }, [1]);
  assertChunkingInvariant(bytes, 'evt3', { pool }, [2, 3]);
  assertChunkingInvariant(readShared(PEDESTRIANS), 'evt3', { pool });
});

test('evt3 sniff and detection', () => {
  assert.equal(evt3Format.sniff(readShared(EXPELLIARMUS).subarray(0, 65536)), 1);
  assert.equal(evt3Format.sniff(readShared('evt2_sparklers.raw').subarray(0, 65536)), 0);
  assert.equal(detectFormat(readShared(PEDESTRIANS), 'p.raw').format, 'evt3');
});

test('evt3 words: vectors, EM rows, TIME_LOW step back, triggers, OTHERS with CONTINUED, IMU', () => {
  const words = [
    Y(5),
    X(1, 1), // before the first TIME_HIGH: skipped, and so is the ADDR_Y above
    TH(1), // 4096
    TL(10),
    X(3, 1), // (3, 0, 4106, ON): y is still 0, the ADDR_Y before TIME_HIGH was skipped
    Y(7),
    0x3000 | (1 << 11) | 100, // VECT_BASE_X 100 ON
    0x4000 | 0b100000000101, // VECT_12: x 100, 102, 111; base → 112
    0x5000 | 0b10000001, // VECT_8: x 112, 119; base → 120
    0x4000, // empty VECT_12: base → 132
    0x5000 | 0b1, // x 132
    TL(5), // steps back under the same TIME_HIGH: time 4101, not an overflow
    X(9, 0),
    0xa000 | (2 << 8) | 1, // trigger id 2 rising at 4101
    0xe000 | 0x014, // OTHERS: ERC count, followed by CONTINUED words
    0xf123,
    0xf456,
    0x7009,
    0xd000, // IMU
    0x1000 | 3, // EM_Y: the next ADDR_X is not a CD event
    X(50, 1),
    0x3000 | 200, // VECT_BASE_X in EM mode: vectors skipped (base still advances)
    0x4000 | 0xfff,
    Y(8), // back to CD
    0x5000 | 0b10, // base 212 + 1
    0x9000, // unknown
    X(60, 1),
  ];
  const d = decodeBuffer(evt3Stream(words), 'evt3', { chunkSizes: [1] });
  assert.deepEqual(rows(d, 0, 20), [
    [3, 0, 4106, 1],
    [100, 7, 4106, 1],
    [102, 7, 4106, 1],
    [111, 7, 4106, 1],
    [112, 7, 4106, 1],
    [119, 7, 4106, 1],
    [132, 7, 4106, 1],
    [9, 7, 4101, 0],
    [213, 8, 4101, 0],
    [60, 8, 4101, 1],
  ]);
  const trig = d.side.find((s): s is TriggerBatch => s.kind === 'trigger')!;
  assert.deepEqual([...trig.t, ...trig.id, ...trig.value], [4101, 2, 1]);
  const mon = d.side.filter((s): s is MonitorBatch => s.kind === 'monitor');
  assert.deepEqual(
    mon.flatMap((m) => [...m.subtype]),
    [0x014, MONITOR_IMU, MONITOR_EM_ROW],
  );
  const header = 52;
  assert.deepEqual(
    d.errors.map((e) => [e.format, e.offset, e.fatal]),
    [['evt3', header + 2 * 25, false]],
  );
  assert.equal((d.decoder as unknown as { wordsBeforeTimeBase: number }).wordsBeforeTimeBase, 2);
});

test('evt3 time base: the 24-bit loop is detected on TIME_HIGH (threshold 10<<12), a small step back is not', () => {
  const words = [TH(0xfff), TL(0xfff), X(1, 1), TH(0), X(2, 1), TH(5), TH(3), X(3, 1), TH(0xff0), TH(0x00a), X(4, 1)];
  const d = decodeBuffer(evt3Stream(words), 'evt3');
  assert.deepEqual(rows(d, 0, 4), [
    [1, 0, LOOP - 1, 1],
    [2, 0, LOOP, 1],
    [3, 0, LOOP + 3 * 4096, 1], // 5 → 3: a step back, kept
    // 0xff0 → 0x00a: a drop of 4070 ticks < 4085 (= (2^24 − 2^12 − 10·2^12) / 2^12): OpenEB sees no loop
    [4, 0, LOOP + 0x00a * 4096, 1],
  ]);
});

test('evt3 truncated mid-word and garbage in the middle', () => {
  const bytes = readShared(EXPELLIARMUS);
  // 5000 words then 1 byte: the first 5000 words hold 3478 events, the last (1039, 476, 11718807, ON).
  const cut = bytes.subarray(0, HEADER_BYTES + 2 * 5000 + 1);
  const d = decodeBuffer(cut, 'evt3', { chunkSizes: [999] });
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.format, 'evt3');
  assert.equal(d.errors[0]!.offset, HEADER_BYTES + 10_000);
  assert.match(d.errors[0]!.message, /^evt3: truncated 16-bit word.* at byte offset 10166$/);
  assert.equal(allEvents(d).length, 3478);
  assert.deepEqual(rows(d, 3477, 1), [[1039, 476, 11_718_807, 1]]);

  // Words 20000..20003 replaced by unknown type 0xB: decoding resumes after them.
  const bad = bytes.slice();
  for (let k = 20_000; k < 20_004; k++) bad[HEADER_BYTES + 2 * k + 1] = 0xb0;
  const g = assertChunkingInvariant(bad, 'evt3', { pool: new PacketPool(4096) }, [2, 3]);
  assert.deepEqual(
    g.errors.map((e) => [e.format, e.offset]),
    [['evt3', HEADER_BYTES + 40_000]],
  );
  assert.match(g.errors[0]!.message, /4 consecutive words of unknown type \(the first of type 0xB\)/);
  const e = allEvents(g);
  assert.ok(e.length > 219_000 && e.length < 219_596);
  assert.deepEqual(rows(g, e.length - 1, 1), [[1218, 572, 11_727_457, 1]]);
});

test('evt3 encoder: header, and decode → encode → decode gives identical events for every RAW recording', () => {
  const files = [
    'evt2_expelliarmus_sample.raw',
    'evt2_sparklers.raw',
    EXPELLIARMUS,
    PEDESTRIANS,
    'derived_evt21_little_from_sparklers.raw',
    'derived_evt21_legacy_from_sparklers.raw',
  ];
  for (const file of files) {
    const first = decodeBuffer(readShared(file), 'auto', { fileName: file });
    const original = allEvents(first);
    const bytes = encodeAll(first.packets);
    const again = decodeBuffer(bytes, 'auto', { fileName: 'again.raw' });
    assert.equal(again.decoder.format, 'evt3', file);
    assert.deepEqual(again.errors, []);
    assert.deepEqual(again.decoder.geometry, original.geometry);
    const back = allEvents(again);
    assert.equal(back.length, original.length, file);
    assert.ok(packetsEqual(back, original), `${file}: events differ after the EVT3 round trip`);
    assert.equal(eventChecksum(again), eventChecksum(first));
    if (file === EXPELLIARMUS) {
      // Vector words are used: not bigger than the camera's own encoding (618,052 bytes).
      assert.ok(bytes.length < 618_052, `re-encoded size ${bytes.length}`);
      const text = new TextDecoder().decode(bytes.subarray(0, 80));
      assert.ok(text.startsWith('% evt 3.0\n% format EVT3;height=720;width=1280\n% geometry 1280x720\n% end\n'));
    }
  }
});

test('evt3 encoder output decodes the same in any chunking, and packet boundaries do not change the events', () => {
  const first = decodeBuffer(readShared(EXPELLIARMUS), 'evt3');
  const all = allEvents(first);
  const bytes = encodeAll(first.packets);
  assertChunkingInvariant(bytes.subarray(0, 32 * 1024), 'evt3', { pool: new PacketPool(4096) }, [1]);
  const d = assertChunkingInvariant(bytes, 'evt3', { pool: new PacketPool(4096) }, [2, 3]);
  assert.equal(eventChecksum(d), '39ebfc3e');
  // Re-packetise the input at odd boundaries (runs split across packets): same events back.
  const pieces: EventPacket[] = [];
  for (let i = 0, k = 1; i < all.length; i += k, k = (k * 7 + 3) % 5003) pieces.push(slicePacket(all, i, i + k));
  const split = decodeBuffer(encodeAll(pieces), 'evt3');
  assert.ok(packetsEqual(allEvents(split), all));
});

test('evt3 encoder: 24-bit time loops, late start, timeOffset, triggers', () => {
  const t = [0, 5, 4095, LOOP - 1, LOOP, LOOP + 4096 * 7 + 3, 3 * LOOP + 11, 3 * LOOP + 11, 10 * LOOP + 2];
  const events = packetFromArrays({ x: t.map((_, i) => i), y: t.map((_, i) => 2 * i), t, p: t.map((_, i) => i & 1) }, { width: 64, height: 64 });
  const d = decodeBuffer(encodeAll([events]), 'evt3', { chunkSizes: [5] });
  assert.deepEqual(d.errors, []);
  assert.ok(packetsEqual(allEvents(d), events));
  // First event many loops in: TIME_HIGH 4095 then loop steps from the start.
  const late = packetFromArrays({ x: [1, 2], y: [3, 4], t: [7 * LOOP + 100, 7 * LOOP + 200], p: [1, 0] });
  assert.ok(packetsEqual(allEvents(decodeBuffer(encodeAll([late]), 'evt3')), late));
  // timeOffset: times are stored relative to it (for absolute clocks such as Unix µs).
  const unix = packetFromArrays({ x: [1, 2], y: [3, 4], t: [1.7e15, 1.7e15 + 10], p: [1, 1] });
  assert.throws(() => encodeAll([unix]), /timeOffset/);
  const rel = allEvents(decodeBuffer(encodeAll([unix], { timeOffset: 1.7e15 }), 'evt3'));
  assert.deepEqual([...rel.t], [0, 10]);
  // Triggers travel as EXT_TRIGGER words at their time (4-bit id).
  const enc = createEncoder('evt3', { geometry: { width: 32, height: 32 } });
  const parts = [
    enc.encode(packetFromArrays({ x: [1], y: [1], t: [100], p: [1] })),
    enc.encodeSide!({ kind: 'trigger', length: 3, t: Float64Array.of(150, 160, 90), id: Uint8Array.of(3, 20, 1), value: Uint8Array.of(1, 0, 1) }),
    enc.encode(packetFromArrays({ x: [2], y: [1], t: [200], p: [0] })),
    enc.encodeSide!({ kind: 'monitor', length: 2, t: Float64Array.of(300, 301), subtype: Uint16Array.of(1, 2) }),
    enc.end(),
  ];
  assert.equal(enc.droppedSide, 4); // id 20 does not fit 4 bits, t 90 is in the past, 2 monitor records
  const withTriggers = decodeBuffer(concat(parts), 'evt3');
  const trig = withTriggers.side.find((s): s is TriggerBatch => s.kind === 'trigger')!;
  assert.deepEqual([...trig.t, ...trig.id, ...trig.value], [150, 3, 1]);
  assert.deepEqual(rows(withTriggers, 0, 5), [
    [1, 1, 100, 1],
    [2, 1, 200, 0],
  ]);
});

test('evt3 encoder rejects what EVT3 cannot carry, without writing anything for that packet', () => {
  const enc = createEncoder('evt3');
  const ok = enc.encode(packetFromArrays({ x: [1], y: [1], t: [50], p: [1] }));
  assert.ok(ok.length > 0);
  assert.throws(() => enc.encode(packetFromArrays({ x: [1, 2], y: [1, 1], t: [60, 59], p: [1, 1] })), /non-decreasing.*sort/);
  assert.throws(() => enc.encode(packetFromArrays({ x: [1], y: [1], t: [40], p: [1] })), /non-decreasing/); // before the previous packet
  assert.throws(() => enc.encode(packetFromArrays({ x: [1], y: [1], t: [60.5], p: [1] })), /integer/);
  assert.throws(() => enc.encode(packetFromArrays({ x: [2048], y: [1], t: [60], p: [1] })), /11-bit/);
  const rest = enc.encode(packetFromArrays({ x: [7], y: [9], t: [70], p: [0] }));
  const d = decodeBuffer(concat([ok, rest, enc.end()]), 'evt3');
  assert.deepEqual(rows(d, 0, 5), [
    [1, 1, 50, 1],
    [7, 9, 70, 0],
  ]);
  assert.throws(() => enc.encode(packetFromArrays({ x: [1], y: [1], t: [80], p: [1] })), /after end/);
  // No packets at all: still a valid (empty) file, geometry unknown.
  const empty = createEncoder('evt3').end();
  assert.equal(new TextDecoder().decode(empty), '% evt 3.0\n% format EVT3\n% end\n');
  assert.equal(allEvents(decodeBuffer(empty, 'auto', { fileName: 'e.raw' })).length, 0);
});
