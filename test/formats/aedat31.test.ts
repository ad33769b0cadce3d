/**
 * AEDAT 3.1: no real recording is available, so the byte stream is built here by hand from the format
 * description (inivation-docs §AEDAT 3.1; libcaer events/common.h, polarity.h, special.h, frame.h,
 * imu6.h): header lines to `#!END-HEADER\r\n`, 28-byte little-endian packet headers, typed events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertChunkingInvariant, sideCounts } from '../helpers/chunking.js';
import { allEvents, decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { detectFormat } from '../../src/formats/registry.js';
import { aedat31Format } from '../../src/formats/inivation/aedat31.js';
import type { FrameRecord, ImuBatch, MonitorBatch, TriggerBatch } from '../../src/events/side.js';
import { PacketPool } from '../../src/events/pool.js';

const SMALL_PACKETS = { pool: new PacketPool(256) };
const HEADER =
  '#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DAVIS240C\r\n#Start-Time: 2017-03-13 11:45:06 (TZ+0100)\r\n#!END-HEADER\r\n';

/** One event as bytes, built with a little-endian DataView. */
function bytesOf(size: number, fill: (dv: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  return b;
}

/** A packet: caer_event_packet_header (type, source, size, tsOffset, tsOverflow, capacity, number, valid) + events. */
function packet(type: number, size: number, tsOverflow: number, events: Uint8Array[], valid = events.length, tsOffset = 4): Uint8Array {
  const out = new Uint8Array(28 + size * events.length);
  const dv = new DataView(out.buffer);
  dv.setInt16(0, type, true);
  dv.setInt16(2, 1, true);
  dv.setInt32(4, size, true);
  dv.setInt32(8, tsOffset, true);
  dv.setInt32(12, tsOverflow, true);
  dv.setInt32(16, events.length, true);
  dv.setInt32(20, events.length, true);
  dv.setInt32(24, valid, true);
  events.forEach((e, i) => {
    assert.equal(e.length, size);
    out.set(e, 28 + i * size);
  });
  return out;
}

/** Polarity event: data = x << 17 | y << 2 | pol << 1 | valid; int32 timestamp. */
const polarity = (x: number, y: number, on: boolean, ts: number, valid = true) =>
  bytesOf(8, (dv) => {
    dv.setUint32(0, ((x << 17) | (y << 2) | ((on ? 1 : 0) << 1) | (valid ? 1 : 0)) >>> 0, true);
    dv.setInt32(4, ts, true);
  });
/** Special event: data = payload << 8 | type << 1 | valid. */
const special = (type: number, ts: number) =>
  bytesOf(8, (dv) => {
    dv.setUint32(0, (type << 1) | 1, true);
    dv.setInt32(4, ts, true);
  });
const imu6 = (ts: number, accel: number[], gyro: number[], temp: number) =>
  bytesOf(36, (dv) => {
    dv.setUint32(0, 1, true);
    dv.setInt32(4, ts, true);
    [...accel, ...gyro, temp].forEach((v, i) => dv.setFloat32(8 + 4 * i, v, true));
  });
/** Frame event: info (channels << 1 | valid), 4 timestamps, lengthX, lengthY, positionX, positionY, u16 pixels. */
const frame = (ts: number, width: number, height: number, channels: number, pixels: number[]) =>
  bytesOf(36 + 2 * pixels.length, (dv) => {
    dv.setUint32(0, (channels << 1) | 1, true);
    [ts - 10, ts + 10, ts, ts + 5, width, height, 0, 0].forEach((v, i) => dv.setInt32(4 + 4 * i, v, true));
    pixels.forEach((p, i) => dv.setUint16(36 + 2 * i, p, true));
  });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function rows(d: Decoded): number[][] {
  const e = allEvents(d);
  return Array.from({ length: e.length }, (_, i) => [e.t[i]!, e.x[i]!, e.y[i]!, e.p[i]!]);
}

const head = new TextEncoder().encode(HEADER);
const PACKETS = [
  packet(0, 8, 0, [special(1, 0), special(2, 50), special(3, 60)]), // reset → monitor; rising/falling → triggers
  packet(1, 8, 0, [polarity(0, 0, true, 100), polarity(5, 5, true, 101, false), polarity(239, 179, false, 2147483647)], 2),
  packet(1, 8, 1, [polarity(10, 20, true, 10)]), // TSOverflow 1: t = 2^31 + 10
  packet(3, 36, 1, [imu6(200, [0.5, -1, 0.25], [1.5, -2.5, 3], 30.5)]),
  // libcaer frame packets point eventTSOffset at ts_startexposure (offset 12).
  packet(2, 44, 1, [frame(300, 2, 2, 1, [1, 2, 3, 4])], 1, 12),
  packet(2, 48, 1, [frame(400, 2, 1, 3, [10, 20, 30, 40, 50, 60])], 1, 12),
  packet(12, 8, 1, [special(0, 0), special(0, 0)]), // SPIKE: unsupported, skipped by size
  packet(1, 8, 1, [polarity(1, 2, false, 500), polarity(300, 2, true, 501), polarity(3, 4, true, 502)]),
];
const STREAM = concat([head, ...PACKETS]);
const packetOffset = (k: number) => head.length + PACKETS.slice(0, k).reduce((n, p) => n + p.length, 0);

test('aedat31: hand-built stream decodes: polarity, overflow, invalid events, special, IMU6, frames, unknown packet', () => {
  const d = assertChunkingInvariant(STREAM, 'aedat31', SMALL_PACKETS);
  assert.deepEqual(rows(d), [
    [100, 0, 0, 1],
    [2147483647, 239, 179, 0],
    [2147483648 + 10, 10, 20, 1],
    [2147483648 + 500, 1, 2, 0],
    [2147483648 + 502, 3, 4, 1],
  ]);
  assert.deepEqual(d.decoder.geometry, { width: 240, height: 180 });
  assert.deepEqual(allEvents(d).geometry, { width: 240, height: 180 });
  assert.equal(d.decoder.header['version'], '3.1');
  assert.equal(d.decoder.header['Source 1'], 'DAVIS240C');
  assert.deepEqual(sideCounts(d), { trigger: 2, monitor: 1, imu: 1, frame: 2 });

  const trig = d.side.find((s) => s.kind === 'trigger') as TriggerBatch;
  assert.deepEqual(Array.from(trig.t), [50, 60]);
  assert.deepEqual(Array.from(trig.value), [1, 0]);
  const mon = d.side.find((s) => s.kind === 'monitor') as MonitorBatch;
  assert.deepEqual(Array.from(mon.subtype), [1]); // TIMESTAMP_RESET
  const imu = d.side.find((s) => s.kind === 'imu') as ImuBatch;
  assert.deepEqual(Array.from(imu.t), [2147483648 + 200]);
  assert.deepEqual(Array.from(imu.accel), [0.5, -1, 0.25]);
  assert.deepEqual(Array.from(imu.gyro), [1.5, -2.5, 3]);
  assert.deepEqual(Array.from(imu.temperature), [30.5]);
  assert.ok(Number.isNaN(imu.mag[0]!));

  const frames = d.side.filter((s) => s.kind === 'frame') as FrameRecord[];
  assert.deepEqual(frames.map((f) => [f.t, f.exposureStart, f.exposureEnd, f.width, f.height, f.channels]), [
    [2147483648 + 300, 2147483648 + 300, 2147483648 + 305, 2, 2, 1],
    [2147483648 + 400, 2147483648 + 400, 2147483648 + 405, 2, 1, 3],
  ]);
  assert.deepEqual(Array.from(frames[0]!.pixels), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(frames[1]!.pixels), [30, 20, 10, 60, 50, 40]); // RGB → BGR

  // The unknown SPIKE packet and the polarity event outside 240x180 are reported, not fatal.
  assert.deepEqual(d.errors.map((e) => [e.offset, e.fatal]), [
    [packetOffset(6), false],
    [packetOffset(7) + 28 + 8, false],
  ]);
  assert.match(d.errors[0]!.message, /^aedat31: skipped a packet of unsupported type 12 \(SPIKE\): 2 event\(s\) of 8 bytes/);
  assert.match(d.errors[1]!.message, /^aedat31: 1 polarity event\(s\) outside the 240x180 geometry skipped/);
});

test('aedat31: sniff and detection', () => {
  assert.equal(aedat31Format.sniff(STREAM), 1);
  assert.equal(detectFormat(STREAM, 'x.aedat').format, 'aedat31');
  assert.equal(aedat31Format.sniff(new TextEncoder().encode('#!AER-DAT2.0\r\n')), 0);
});

test('aedat31: a truncated packet is reported at its offset; earlier packets are kept', () => {
  const cut = STREAM.subarray(0, STREAM.length - 5);
  const d = decodeBuffer(cut, 'aedat31', { chunkSizes: [64, 1, 13] });
  assert.deepEqual(rows(d), [
    [100, 0, 0, 1],
    [2147483647, 239, 179, 0],
    [2147483648 + 10, 10, 20, 1],
  ]);
  const last = d.errors[d.errors.length - 1]!;
  assert.equal(last.format, 'aedat31');
  assert.equal(last.offset, packetOffset(7));
  assert.match(last.message, /truncated packet: 47 byte\(s\) at end of stream/);
});

test('aedat31: a corrupt packet header is reported and decoding resynchronises on the next packet', () => {
  const bytes = STREAM.slice();
  new DataView(bytes.buffer).setInt32(packetOffset(3) + 4, 37, true); // IMU6 eventSize 36 → 37
  const d = assertChunkingInvariant(bytes, 'aedat31', SMALL_PACKETS);
  assert.equal(d.errors[0]!.offset, packetOffset(3));
  assert.match(d.errors[0]!.message, /^aedat31: corrupt packet header \(event size 37 for a IMU6 packet \(expected 36\)\); searching for the next packet/);
  assert.equal(rows(d).length, 5, 'all polarity events still decoded');
  assert.deepEqual(sideCounts(d), { trigger: 2, monitor: 1, frame: 2 });
});

test('aedat31: AEDAT 3.0 header without #!END-HEADER; DVS128 geometry from #Source', () => {
  const bytes = concat([
    new TextEncoder().encode('#!AER-DAT3.0\r\n#Format: RAW\r\n#Source 2: DVS128\r\n'),
    packet(1, 8, 0, [polarity(127, 127, true, 7)]),
  ]);
  const d = assertChunkingInvariant(bytes, 'aedat31');
  assert.deepEqual(d.decoder.geometry, { width: 128, height: 128 });
  assert.deepEqual(rows(d), [[7, 127, 127, 1]]);
  assert.equal(d.errors.length, 0);
});

test('aedat31: a stream that ends inside the header is reported', () => {
  const d = decodeBuffer(new TextEncoder().encode('#!AER-DAT3.1\r\n#Format: RAW\r\n'), 'aedat31');
  assert.equal(d.errors.length, 1);
  assert.match(d.errors[0]!.message, /^aedat31: stream ended inside the header/);
});
