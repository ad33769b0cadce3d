import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum } from '../helpers/chunking.js';
import { allEvents, decodeBuffer } from '../../src/formats/decode-all.js';
import { detectFormat } from '../../src/formats/registry.js';
import { cochleaFormat, tickFraction } from '../../src/formats/cochlea.js';
import { countOn } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';

const FILE = 'nas_cochlea_sound_mono_32ch_addr2b_ts02.aedat';
const SMALL_PACKETS = { pool: new PacketPool(256) };

// Reference from an independent Python reading (struct '>HI'; x = a >> 1, p = 1 - (a & 1),
// t = ticks * 2 / 10, FNV as in chunking.ts). Hand check of the first record:
// 00 09 | 00 08 be 52 → address 9 = channel 4, odd = OFF; 0x0008be52 = 573010 ticks × 0.2 µs = 114602 µs.
const REF = {
  events: 49864,
  on: 25023,
  first: [[114602, 4, 0, 0], [114602.2, 7, 0, 1], [114617.4, 7, 0, 1]],
  last: [1259341, 24, 0, 1],
  checksum: '4b0f8d35',
};

function event(e: ReturnType<typeof allEvents>, i: number): number[] {
  return [e.t[i]!, e.x[i]!, e.y[i]!, e.p[i]!];
}

function rows(e: ReturnType<typeof allEvents>): number[][] {
  return Array.from({ length: e.length }, (_, i) => event(e, i));
}

/** Big-endian records [address (2 or 4 B), ticks (4 B)]. */
function records(list: ReadonlyArray<readonly [number, number]>, addressBytes = 2): Uint8Array {
  const size = addressBytes + 4;
  const out = new Uint8Array(list.length * size);
  const dv = new DataView(out.buffer);
  list.forEach(([a, ts], i) => {
    if (addressBytes === 2) dv.setUint16(i * size, a);
    else dv.setUint32(i * size, a);
    dv.setUint32(i * size + addressBytes, ts);
  });
  return out;
}

test('cochlea: the NAS sample decodes to the reference events', () => {
  const d = decodeBuffer(readShared(FILE), 'cochlea');
  const e = allEvents(d);
  assert.equal(d.errors.length, 0);
  assert.equal(e.length, REF.events);
  assert.equal(countOn(e), REF.on);
  REF.first.forEach((ev, i) => assert.deepEqual(event(e, i), ev));
  assert.deepEqual(event(e, e.length - 1), REF.last);
  assert.equal(eventChecksum(d), REF.checksum);
  assert.deepEqual(d.decoder.geometry, { width: 32, height: 1 });
  assert.equal(e.t[e.length - 1]! - e.t[0]!, 1144739); // 1.14 s
  // All 64 addresses (32 channels × ON/OFF) occur.
  const seen = new Set<number>();
  for (let i = 0; i < e.length; i++) seen.add(e.x[i]! * 2 + (1 - e.p[i]!));
  assert.equal(seen.size, 64);
});

test('cochlea: chunking invariant', () => {
  const d = assertChunkingInvariant(readShared(FILE), 'cochlea', SMALL_PACKETS);
  assert.equal(allEvents(d).length, REF.events);
});

test('cochlea: detected from content and the .aedat extension', () => {
  const bytes = readShared(FILE);
  const s = cochleaFormat.sniff(bytes.subarray(0, 65536));
  assert.ok(s > 0.3 && s <= 0.5, `plausibility ${s}`);
  assert.equal(detectFormat(bytes.subarray(0, 65536), FILE).format, 'cochlea');
});

test('cochlea: tick 0.2 µs gives the correctly rounded quotient ticks / 5', () => {
  assert.deepEqual(tickFraction(0.2), { num: 1, den: 5 });
  assert.deepEqual(tickFraction(0.08), { num: 2, den: 25 });
  assert.deepEqual(tickFraction(1), { num: 1, den: 1 });
  const e = allEvents(decodeBuffer(readShared(FILE), 'cochlea'));
  const b = readShared(FILE);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < e.length; i += 997) assert.equal(e.t[i], dv.getUint32(6 * i + 2) / 5);
});

test('cochlea: tick, 4-byte addresses, stereo and a # header are options/handled', () => {
  const header = new TextEncoder().encode('#!AER-DAT2.0\r\n# NAS stereo 64 channels\r\n#End Of ASCII Header\r\n');
  const body = records([
    [0, 10], // left ch 0 ON
    [1, 11], // left ch 0 OFF
    [2 * 64 + 5, 12], // right ear, ch 2 OFF
    [255, 13], // right ear ch 63 OFF
  ], 4);
  const bytes = new Uint8Array(header.length + body.length);
  bytes.set(header);
  bytes.set(body, header.length);
  const d = assertChunkingInvariant(bytes, 'cochlea', { addressBytes: 4, tickUs: 1, channels: 64, ears: 2 });
  const e = allEvents(d);
  assert.deepEqual(d.decoder.geometry, { width: 64, height: 2 });
  assert.deepEqual(Array.from(e.x), [0, 0, 2, 63]);
  assert.deepEqual(Array.from(e.y), [0, 0, 1, 1]);
  assert.deepEqual(Array.from(e.p), [1, 0, 0, 0]);
  assert.deepEqual(Array.from(e.t), [10, 11, 12, 13]);
  assert.equal(d.decoder.header['header_lines'], '3');
  // The same layout through `geometry` (what the CLI's --width/--height give).
  const g = decodeBuffer(bytes, 'cochlea', { addressBytes: 4, tickUs: 1, geometry: { width: 64, height: 2 } });
  assert.deepEqual(rows(allEvents(g)), rows(e));
});

test('cochlea: the 32-bit tick counter unwraps', () => {
  const bytes = records([[0, 4294967290], [1, 4294967295], [2, 3]]);
  const e = allEvents(decodeBuffer(bytes, 'cochlea', { tickUs: 1 }));
  assert.deepEqual(Array.from(e.t), [4294967290, 4294967295, 4294967299]);
});

test('cochlea: a truncated last record is reported with its offset; earlier events are kept', () => {
  const bytes = readShared(FILE);
  const d = decodeBuffer(bytes.subarray(0, bytes.length - 1), 'cochlea', { chunkSizes: [4096, 3] });
  const e = allEvents(d);
  assert.equal(e.length, REF.events - 1);
  assert.deepEqual(event(e, 0), REF.first[0]);
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.format, 'cochlea');
  assert.equal(d.errors[0]!.offset, (REF.events - 1) * 6);
  assert.match(d.errors[0]!.message, /^cochlea: truncated record: 5 of 6 bytes at byte offset 299178$/);
});

test('cochlea: addresses beyond the geometry are reported and skipped; decoding goes on', () => {
  const bytes = readShared(FILE).slice();
  bytes[6 * 1000] = 0x80; // address 0x80xx: a localization event, not a 32-channel NAS address
  const d = assertChunkingInvariant(bytes, 'cochlea', SMALL_PACKETS);
  const e = allEvents(d);
  assert.equal(e.length, REF.events - 1);
  assert.deepEqual(d.errors.map((x) => x.offset), [6000]);
  assert.match(d.errors[0]!.message, /^cochlea: 1 record\(s\) skipped: address beyond the 64 addresses/);
  const ref = allEvents(decodeBuffer(readShared(FILE), 'cochlea'));
  assert.deepEqual(event(e, 999), event(ref, 999));
  assert.deepEqual(event(e, 1000), event(ref, 1001));
});
