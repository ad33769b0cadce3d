/**
 * EVT 2.0 decoder on the real recordings and on hand-built word streams.
 *
 * Reference values come from an independent reading of the raw words (a few lines of Python
 * following OpenEB's standalone decoder), not from this decoder. Hand check of the first words of
 * evt2_expelliarmus_sample.raw (data starts at byte 164):
 *   0x80005070  TIME_HIGH 0x5070 → base = 20592·64 = 1,317,888 µs
 *   0x10076879  CD_ON, ts_low 0, x = (w>>11)&0x7ff = 237, y = w&0x7ff = 121 → (237, 121, 1317888, ON)
 *   0x1007b079  CD_ON → (246, 121, 1317888, ON)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum, sideCounts } from '../helpers/chunking.js';
import { allEvents, decodeBuffer } from '../../src/formats/decode-all.js';
import { countOn } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';
import { detectFormat } from '../../src/formats/registry.js';
import { evt2Format } from '../../src/formats/prophesee/evt2.js';
import { MONITOR_IMU } from '../../src/formats/prophesee/timebase.js';
import type { MonitorBatch, TriggerBatch } from '../../src/events/side.js';

const EXPELLIARMUS = 'evt2_expelliarmus_sample.raw';
const SPARKLERS = 'evt2_sparklers.raw';

/** A RAW EVT 2.0 stream: old-style header then the given 32-bit words (little-endian). */
function evt2Stream(words: number[], header = '% evt 2.0\n% system_ID 21\n'): Uint8Array {
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(head.length + 4 * words.length);
  out.set(head, 0);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(head.length + 4 * i, w >>> 0, true));
  return out;
}
const timeHigh = (us: number) => (0x8 << 28) | Math.floor(us / 64);
const cd = (on: number, x: number, y: number, tsLow: number) => ((on ? 1 : 0) << 28) | (tsLow << 22) | (x << 11) | y;

function rows(d: ReturnType<typeof decodeBuffer>, from: number, count: number): number[][] {
  const e = allEvents(d);
  const out: number[][] = [];
  for (let i = from; i < Math.min(e.length, from + count); i++) out.push([e.x[i]!, e.y[i]!, e.t[i]!, e.p[i]!]);
  return out;
}

test('evt2 expelliarmus sample: counts, geometry, first/last events, checksum', () => {
  const bytes = readShared(EXPELLIARMUS);
  const d = decodeBuffer(bytes, 'auto', { fileName: EXPELLIARMUS, uri: EXPELLIARMUS });
  assert.equal(d.decoder.format, 'evt2');
  assert.deepEqual(d.errors, []);
  const e = allEvents(d);
  assert.equal(e.length, 539_481);
  assert.equal(countOn(e), 367_855);
  assert.deepEqual(d.decoder.geometry, { width: 640, height: 480 });
  assert.deepEqual(e.geometry, { width: 640, height: 480 });
  assert.deepEqual(e.source, { format: 'evt2', uri: EXPELLIARMUS });
  assert.equal(d.decoder.header['system_ID'], '21');
  assert.deepEqual(rows(d, 0, 4), [
    [237, 121, 1_317_888, 1],
    [246, 121, 1_317_888, 1],
    [248, 132, 1_317_888, 1],
    [239, 133, 1_317_888, 1],
  ]);
  assert.deepEqual(rows(d, e.length - 1, 1), [[210, 142, 1_367_888, 1]]);
  assert.equal(e.t[e.length - 1]! - e.t[0]!, 50_000); // 50.0 ms
  assert.equal(eventChecksum(d), 'ba03a30c');
  assert.deepEqual(sideCounts(d), {});
});

test('evt2 sparklers: 521,252 events over 95.9 ms with the 345 exact duplicates kept', () => {
  const d = decodeBuffer(readShared(SPARKLERS), 'evt2');
  assert.deepEqual(d.errors, []);
  const e = allEvents(d);
  assert.equal(e.length, 521_252);
  assert.equal(countOn(e), 185_861);
  assert.deepEqual(rows(d, 0, 4), [
    [35, 443, 913_716_224, 1],
    [36, 443, 913_716_224, 1],
    [74, 443, 913_716_224, 1],
    [75, 443, 913_716_224, 1],
  ]);
  assert.deepEqual(rows(d, e.length - 1, 1), [[12, 471, 913_812_095, 0]]);
  assert.equal(e.t[e.length - 1]! - e.t[0]!, 95_871);
  let duplicates = 0;
  for (let i = 1; i < e.length; i++) {
    if (e.x[i] === e.x[i - 1] && e.y[i] === e.y[i - 1] && e.t[i] === e.t[i - 1] && e.p[i] === e.p[i - 1]) duplicates++;
  }
  assert.equal(duplicates, 345);
  assert.equal(eventChecksum(d), 'e245331f');
});

test('evt2 decoding is chunking-invariant (1-byte chunks through the header and words)', () => {
  const pool = new PacketPool(4096);
  for (const name of [EXPELLIARMUS, SPARKLERS]) {
    const bytes = readShared(name);
    // Tiny chunks on a prefix (time), larger random chunks on the whole file.
    assertChunkingInvariant(bytes.subarray(0, 48 * 1024), 'evt2', { pool }, [1]);
    const whole = assertChunkingInvariant(bytes, 'evt2', { pool }, [2, 3]);
    assert.ok(allEvents(whole).length > 500_000);
  }
});

test('evt2 sniff and detection: header says EVT 2.0', () => {
  const head = readShared(EXPELLIARMUS).subarray(0, 65536);
  assert.equal(evt2Format.sniff(head), 1);
  assert.equal(evt2Format.sniff(readShared('evt3_pedestrians_small.raw').subarray(0, 4096)), 0);
  assert.equal(evt2Format.sniff(new Uint8Array([0x70, 0x50, 0x00, 0x80])), 0);
  assert.equal(detectFormat(head, EXPELLIARMUS).format, 'evt2');
  assert.equal(detectFormat(readShared(SPARKLERS).subarray(0, 65536), 'x.raw').format, 'evt2');
});

test('evt2 truncated mid-word: DecodeError names evt2 and the byte offset, earlier events kept', () => {
  const bytes = readShared(EXPELLIARMUS);
  const headerBytes = 164;
  // 1000 whole words then 2 bytes of the next one. The first 1000 words hold 994 CD events
  // (independent reading), the last (244, 121, 1317978, ON).
  const cut = bytes.subarray(0, headerBytes + 4 * 1000 + 2);
  for (const chunkSizes of [[], [3], [1000, 7]]) {
    const d = decodeBuffer(cut, 'evt2', { chunkSizes });
    assert.equal(d.errors.length, 1);
    const err = d.errors[0]!;
    assert.equal(err.format, 'evt2');
    assert.equal(err.offset, headerBytes + 4000);
    assert.equal(err.fatal, false);
    assert.match(err.message, /evt2: truncated 32-bit word.*at byte offset 4164/);
    assert.equal(allEvents(d).length, 994);
    assert.deepEqual(rows(d, 993, 1), [[244, 121, 1_317_978, 1]]);
  }
});

test('evt2 garbage in the middle: one error per run of unknown words, decoding resumes', () => {
  const bytes = readShared(EXPELLIARMUS).slice();
  const headerBytes = 164;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Overwrite words 5000..5009 with type 0x5 (unknown in EVT 2.0) and word 6000 with type 0xC.
  const lost: number[] = [];
  for (const k of [...Array.from({ length: 10 }, (_, i) => 5000 + i), 6000]) {
    const at = headerBytes + 4 * k;
    const old = view.getUint32(at, true);
    if (old >>> 28 <= 1) lost.push(k);
    assert.notEqual(old >>> 28, 0x8, 'test overwrites no TIME_HIGH');
    view.setUint32(at, k === 6000 ? 0xc0000000 : 0x51234567, true);
  }
  const d = assertChunkingInvariant(bytes, 'evt2', { pool: new PacketPool(4096) }, [2, 3]);
  assert.deepEqual(
    d.errors.map((e) => [e.format, e.offset, e.fatal]),
    [
      ['evt2', headerBytes + 4 * 5000, false],
      ['evt2', headerBytes + 4 * 6000, false],
    ],
  );
  assert.match(d.errors[0]!.message, /10 consecutive words of unknown type \(the first of type 0x5\)/);
  assert.match(d.errors[1]!.message, /unknown type 0xC/);
  const e = allEvents(d);
  assert.equal(e.length, 539_481 - lost.length);
  assert.deepEqual(rows(d, e.length - 1, 1), [[210, 142, 1_367_888, 1]]);
});

test('evt2 words: events before the first TIME_HIGH dropped, triggers, monitoring, IMU, CONTINUED', () => {
  const words = [
    cd(1, 5, 5, 3), // before any TIME_HIGH: dropped (time base unknown)
    timeHigh(6400), // base 6400 µs
    cd(1, 10, 20, 1),
    (0xa << 28) | (7 << 22) | (3 << 8) | 1, // EXT_TRIGGER id 3 rising at 6407
    (0xe << 28) | (2 << 22) | 0x0016, // OTHERS subtype 0x16 (ERC count) at 6402
    (0xd << 28) | (4 << 22) | 0x1234, // IMU_EVT + 5 CONTINUED at 6404
    0xf0000001,
    0xf0000002,
    0xf0000003,
    0xf0000004,
    0xf0000005,
    cd(0, 11, 21, 63),
  ];
  const d = decodeBuffer(evt2Stream(words), 'evt2', { chunkSizes: [1] });
  assert.deepEqual(d.errors, []);
  assert.deepEqual(rows(d, 0, 10), [
    [10, 20, 6401, 1],
    [11, 21, 6463, 0],
  ]);
  assert.equal(d.decoder.geometry.width, 640);
  const trig = d.side.find((s): s is TriggerBatch => s.kind === 'trigger')!;
  assert.deepEqual([...trig.t, ...trig.id, ...trig.value], [6407, 3, 1]);
  const mon = d.side.filter((s): s is MonitorBatch => s.kind === 'monitor');
  assert.deepEqual(
    mon.flatMap((m) => [...m.subtype].map((s, i) => [s, m.t[i]])),
    [
      [0x16, 6402],
      [MONITOR_IMU, 6404],
    ],
  );
  assert.equal((d.decoder as unknown as { wordsBeforeTimeBase: number }).wordsBeforeTimeBase, 1);
});

test('evt2 time base: 34-bit loop detected as OpenEB does, small step back is not a loop', () => {
  const LOOP = 2 ** 34;
  const words = [
    timeHigh(LOOP - 64), // last TIME_HIGH before the wrap
    cd(1, 1, 1, 5),
    timeHigh(0), // wrapped: + 2^34
    cd(1, 2, 2, 6),
    timeHigh(64 * 100),
    cd(1, 3, 3, 0),
    timeHigh(64 * 90), // a step back of 10 ticks: kept as is, no loop
    cd(1, 4, 4, 0),
  ];
  const d = decodeBuffer(evt2Stream(words), 'evt2');
  assert.deepEqual(rows(d, 0, 4), [
    [1, 1, LOOP - 64 + 5, 1],
    [2, 2, LOOP + 6, 1],
    [3, 3, LOOP + 6400, 1],
    [4, 4, LOOP + 5760, 1],
  ]);
});

test('evt2 decoder refuses a header that declares another format', () => {
  const bytes = evt2Stream([timeHigh(64), cd(1, 1, 1, 0)], '% evt 3.0\n');
  const d = decodeBuffer(bytes, 'evt2');
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.fatal, true);
  assert.equal(d.errors[0]!.format, 'evt2');
  assert.match(d.errors[0]!.message, /EVT3/);
  assert.equal(d.decoder.failed, true);
  assert.equal(allEvents(d).length, 0);
});

test('evt2 headerless stream decodes with unknown geometry; a stream cut inside the header is reported', () => {
  const bare = evt2Stream([timeHigh(128), cd(0, 7, 8, 1)], '');
  const d = decodeBuffer(bare, 'evt2', { chunkSizes: [1] });
  assert.deepEqual(rows(d, 0, 5), [[7, 8, 129, 0]]);
  assert.deepEqual(d.decoder.geometry, { width: 0, height: 0 });
  const cut = decodeBuffer(new TextEncoder().encode('% evt 2.0\n% syst'), 'evt2');
  assert.equal(cut.errors.length, 1);
  assert.equal(cut.errors[0]!.offset, 10);
  assert.match(cut.errors[0]!.message, /header line/);
});
