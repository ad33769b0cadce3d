/**
 * AEDAT 4.0 decoder on damaged and unusual files, made by editing the real tonic recording:
 * truncation, corrupt LZ4 frames, a corrupt packet header (resynchronisation), undeclared streams,
 * unknown stream types, a missing data table, and the same packets recompressed with ZSTD.
 *
 * Layout facts used (from an independent Python reading of aedat4_tonic_sample.aedat4):
 * IOHeader at 18 (2,316 bytes), compression int32 at byte 46, dataTablePosition int64 at byte 54
 * (945,243); packets: 2334 EVTS 7,949 B (918 events), 10291 IMUS 383 B (8 samples),
 * 10682 EVTS 8,160 B (944 events), 18850 IMUS 375 B, …
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { init as zstdInit, compress as zstdCompress } from '@bokuweb/zstd-wasm';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum, sideCounts } from '../helpers/chunking.js';
import { allEvents, decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { createDecoder } from '../../src/formats/registry.js';
import type { Aedat4Decoder } from '../../src/formats/inivation/aedat4.js';
import { lz4DecompressFrame } from '../../src/formats/inivation/aedat4/compression.js';

const TONIC = 'aedat4_tonic_sample.aedat4';
const TONIC_EVENTS = 111954;
const TONIC_CHECKSUM = '2e765cc5';
const TABLE_AT = 945243;
const P1 = 2334;
const P2 = 10291;
const P3 = 10682;
const P4 = 18850;

function stats(d: Decoded) {
  return (d.decoder as Aedat4Decoder).stats;
}
function tonic(): Uint8Array {
  return readShared(TONIC).slice();
}
function splice(bytes: Uint8Array, at: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at), at + insert.length);
  return out;
}
function packetHeader(stream: number, size: number): Uint8Array {
  const h = new Uint8Array(8);
  new DataView(h.buffer).setInt32(0, stream, true);
  new DataView(h.buffer).setInt32(4, size, true);
  return h;
}

test('aedat4 faults: the layout facts used here hold', () => {
  const b = tonic();
  const dv = new DataView(b.buffer);
  assert.equal(dv.getUint32(14, true), 2316);
  assert.equal(dv.getInt32(46, true), 1);
  assert.equal(dv.getBigInt64(54, true), BigInt(TABLE_AT));
  assert.deepEqual([dv.getInt32(P1, true), dv.getInt32(P1 + 4, true)], [0, 7949]);
  assert.deepEqual([dv.getInt32(P2, true), dv.getInt32(P3, true), dv.getInt32(P4, true)], [2, 0, 2]);
});

test('aedat4 faults: truncation inside a packet keeps earlier packets and names the offset', () => {
  const cut = tonic().subarray(0, P3 + 8 + 4000);
  const d = assertChunkingInvariant(cut, 'aedat4');
  assert.equal(allEvents(d).length, 918);
  assert.deepEqual(sideCounts(d), { imu: 8 });
  assert.equal(d.errors.length, 1);
  const e = d.errors[0]!;
  assert.equal(e.format, 'aedat4');
  assert.equal(e.offset, P3);
  assert.equal(e.fatal, false);
  assert.match(e.message, /^aedat4: truncated packet of stream 0: 4000 of 8160 payload bytes at byte offset 10682$/);
});

test('aedat4 faults: truncation inside a packet header, and at a packet boundary before the table', () => {
  const inHeader = decodeBuffer(tonic().subarray(0, P3 + 5), 'aedat4');
  assert.equal(allEvents(inHeader).length, 918);
  assert.deepEqual(inHeader.errors.map((e) => [e.format, e.offset]), [['aedat4', P3]]);

  const atBoundary = decodeBuffer(tonic().subarray(0, P3), 'aedat4');
  assert.equal(allEvents(atBoundary).length, 918);
  assert.equal(atBoundary.errors.length, 1);
  assert.equal(atBoundary.errors[0]!.offset, P3);
  assert.match(atBoundary.errors[0]!.message, /before the data table/);
});

test('aedat4 faults: truncated file header and wrong magic are fatal', () => {
  const short = decodeBuffer(tonic().subarray(0, 100), 'aedat4');
  assert.equal(allEvents(short).length, 0);
  assert.equal(short.errors.length, 1);
  assert.equal(short.errors[0]!.fatal, true);
  assert.equal(short.errors[0]!.offset, 18);

  const b = tonic();
  b[3] = 0x58;
  const dec = createDecoder('aedat4');
  const r = dec.push(b);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.fatal, true);
  assert.equal(r.errors[0]!.offset, 0);
  assert.ok(dec.failed);
  assert.deepEqual(dec.push(b).events, []);
  assert.deepEqual(dec.end().errors, []);

  const empty = decodeBuffer(new Uint8Array(0), 'aedat4');
  assert.equal(empty.errors.length, 1);
  assert.equal(empty.errors[0]!.fatal, true);
});

test('aedat4 faults: a corrupt LZ4 frame is reported and skipped, later packets decode', () => {
  const b = tonic();
  b[P3 + 8] = 0x05; // break the second event packet's LZ4 magic
  const d = assertChunkingInvariant(b, 'aedat4');
  assert.equal(allEvents(d).length, TONIC_EVENTS - 944);
  assert.deepEqual(sideCounts(d), { imu: 475 });
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.offset, P3);
  assert.match(d.errors[0]!.message, /aedat4: EVTS packet of stream 0 \(8160 bytes\) skipped: LZ4 frame: bad magic number/);
  assert.equal(stats(d).corruptPackets, 1);
  assert.equal(stats(d).eventPackets, 58);

  // A block size pointing past the end of the packet.
  const c = tonic();
  new DataView(c.buffer).setUint32(P3 + 8 + 7, 60000, true);
  const dc = decodeBuffer(c, 'aedat4');
  assert.equal(allEvents(dc).length, TONIC_EVENTS - 944);
  assert.equal(dc.errors.length, 1);
  assert.match(dc.errors[0]!.message, /LZ4 frame: block runs past the end/);

  // A frame whose header checksum no longer matches its descriptor.
  const h = tonic();
  h[P1 + 8 + 5] = 0x70; // block-size code 7 instead of 4
  const dh = decodeBuffer(h, 'aedat4');
  assert.equal(allEvents(dh).length, TONIC_EVENTS - 918);
  assert.match(dh.errors[0]!.message, /header checksum mismatch/);
});

test('aedat4 faults: an implausible packet header is reported and decoding resynchronises', () => {
  const b = tonic();
  new DataView(b.buffer).setInt32(P3 + 4, -77, true);
  const d = assertChunkingInvariant(b, 'aedat4');
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.offset, P3);
  assert.match(d.errors[0]!.message, /implausible packet header \(stream 0, size -77\)/);
  // Only the damaged packet is lost: scanning finds the IMU packet at P4 and everything after.
  assert.equal(allEvents(d).length, TONIC_EVENTS - 944);
  assert.deepEqual(sideCounts(d), { imu: 475 });
});

test('aedat4 faults: packets of an undeclared stream are counted and reported once', () => {
  const junk = new Uint8Array(13).fill(0xab);
  const extra = new Uint8Array([...packetHeader(9, 13), ...junk]);
  const b = splice(splice(tonic(), P3, extra), P1, extra);
  // The data table moved by the two insertions.
  new DataView(b.buffer).setBigInt64(54, BigInt(TABLE_AT + 2 * extra.length), true);
  const d = assertChunkingInvariant(b, 'aedat4');
  assert.equal(allEvents(d).length, TONIC_EVENTS);
  assert.equal(eventChecksum(d), TONIC_CHECKSUM);
  assert.equal(stats(d).unknownStreamPackets, 2);
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.offset, P1);
  assert.match(d.errors[0]!.message, /undeclared stream 9/);
});

test('aedat4 faults: a declared stream of an unknown type is counted, not an error', () => {
  const b = tonic();
  const header = b.subarray(18, 18 + 2316);
  const at = Buffer.from(header).indexOf('>IMUS<');
  assert.ok(at > 0);
  header.set(new TextEncoder().encode('>POSE<'), at);
  const d = decodeBuffer(b, 'aedat4');
  assert.deepEqual(d.errors, []);
  assert.equal(allEvents(d).length, TONIC_EVENTS);
  assert.deepEqual(sideCounts(d), {});
  assert.equal(stats(d).unknownTypePackets, 59);
  assert.equal(d.decoder.header['stream.2.typeIdentifier'], 'POSE');
});

test('aedat4 faults: no data table position (−1) with the table still present', () => {
  const b = tonic();
  new DataView(b.buffer).setBigInt64(54, -1n, true);
  const d = decodeBuffer(b, 'aedat4');
  assert.deepEqual(d.errors, []);
  assert.equal(eventChecksum(d), TONIC_CHECKSUM);
  assert.equal(stats(d).trailingBytes, b.length - TABLE_AT);
  // And with the table cut off: the packets simply run to the end.
  const noTable = decodeBuffer(b.subarray(0, TABLE_AT), 'aedat4');
  assert.deepEqual(noTable.errors, []);
  assert.equal(eventChecksum(noTable), TONIC_CHECKSUM);
});

/** The tonic packets re-encoded as ZSTD frames; IOHeader says ZSTD and no data table. */
async function tonicAsZstd(): Promise<Uint8Array> {
  await zstdInit();
  const src = tonic();
  const dv = new DataView(src.buffer);
  const parts: Uint8Array[] = [src.slice(0, P1)];
  const head = new DataView(parts[0]!.buffer);
  head.setInt32(46, 3, true);
  head.setBigInt64(54, -1n, true);
  for (let pos = P1; pos < TABLE_AT; ) {
    const stream = dv.getInt32(pos, true);
    const size = dv.getInt32(pos + 4, true);
    const flat = lz4DecompressFrame(src.subarray(pos + 8, pos + 8 + size));
    const z = zstdCompress(flat, 3);
    parts.push(packetHeader(stream, z.length), z);
    pos += 8 + size;
  }
  return new Uint8Array(Buffer.concat(parts));
}

test('aedat4 faults: the same packets compressed with ZSTD decode identically', async () => {
  const z = await tonicAsZstd();
  assert.deepEqual(Array.from(z.subarray(P1 + 8, P1 + 12)), [0x28, 0xb5, 0x2f, 0xfd]);
  const d = assertChunkingInvariant(z, 'aedat4', {}, [1, 3]);
  assert.deepEqual(d.errors, []);
  assert.equal(d.decoder.header['compression'], 'ZSTD');
  assert.equal(allEvents(d).length, TONIC_EVENTS);
  assert.equal(eventChecksum(d), TONIC_CHECKSUM);
  assert.deepEqual(sideCounts(d), { imu: 475 });

  // A corrupt ZSTD frame is skipped like a corrupt LZ4 one.
  const bad = z.slice();
  const dv = new DataView(bad.buffer);
  const second = P1 + 8 + dv.getInt32(P1 + 4, true); // IMU packet
  const third = second + 8 + dv.getInt32(second + 4, true); // second event packet
  bad[third + 8] = 0;
  const dz = decodeBuffer(bad, 'aedat4');
  assert.equal(allEvents(dz).length, TONIC_EVENTS - 944);
  assert.equal(dz.errors.length, 1);
  assert.equal(dz.errors[0]!.offset, third);
  assert.match(dz.errors[0]!.message, /ZSTD frame/);
});
