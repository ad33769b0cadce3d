/**
 * AEDAT 2.0 / 1.0: no real recording is available, so the streams are built here byte by byte from the
 * format description (big-endian [int32 address, int32 timestamp], '#' header lines) and jAER's
 * address layouts (DVS128 Extractor; DavisChip/DavisBaseCamera; IMUSample), then decoded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertChunkingInvariant, sideCounts } from '../helpers/chunking.js';
import { allEvents, decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { detectFormat } from '../../src/formats/registry.js';
import { aedat2Format } from '../../src/formats/inivation/aedat2.js';
import type { ImuBatch, MonitorBatch, TriggerBatch } from '../../src/events/side.js';
import { PacketPool } from '../../src/events/pool.js';

const SMALL_PACKETS = { pool: new PacketPool(256) };

/** jAER-style header: version line, comment lines, AEChip, then `xmlLines` lines of XML preferences. */
function header(version: '2.0' | '1.0' | null, aeChip: string | null, xmlLines = 0): string {
  const lines: string[] = [];
  if (version) lines.push(`#!AER-DAT${version}`);
  lines.push('# This is a raw AE data file - do not edit');
  lines.push('# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event');
  lines.push('# Timestamps tick is 1 us');
  lines.push('# created Mon Apr 09 15:06:19 CEST 2012');
  if (aeChip) lines.push(`# AEChip: ${aeChip}`);
  if (xmlLines > 0) {
    lines.push('# Preferences:');
    lines.push('# <?xml version="1.0" encoding="UTF-8" standalone="no"?>');
    for (let i = 0; i < xmlLines; i++) lines.push(`# <entry key="bias.pot${i}.bitValue" value="${(i * 7919) % 16777216}"/>`);
  }
  return lines.map((l) => l + '\r\n').join('');
}

function stream(head: string, records: ReadonlyArray<readonly [number, number]>, addressBytes: 4 | 2 = 4): Uint8Array {
  const h = new TextEncoder().encode(head);
  const size = addressBytes + 4;
  const out = new Uint8Array(h.length + records.length * size);
  out.set(h);
  const dv = new DataView(out.buffer);
  records.forEach(([address, ts], i) => {
    const o = h.length + i * size;
    if (addressBytes === 4) dv.setUint32(o, address >>> 0);
    else dv.setUint16(o, address);
    dv.setUint32(o + addressBytes, ts >>> 0);
  });
  return out;
}

/** DVS128 raw address for image (x, y, ON?): raw x = 127 − x, raw polarity 0 = ON. */
const dvs128 = (x: number, y: number, on: boolean) => (y << 8) | ((127 - x) << 1) | (on ? 0 : 1);
/** DAVIS DVS raw address for image (x, y): raw x = sizeX − 1 − x, polarity bit 11. */
const davisDvs = (sizeX: number, x: number, y: number, on: boolean) => ((y << 22) | ((sizeX - 1 - x) << 12) | ((on ? 1 : 0) << 11)) >>> 0;
const davisAps = (x: number, y: number, cycle: number, adc: number) => (0x80000000 | (y << 22) | (x << 12) | (cycle << 10) | adc) >>> 0;
const davisImu = (code: number, value: number) => (0x80000c00 | (code << 28) | ((value & 0xffff) << 12)) >>> 0;
const DAVIS_EXTERNAL = 1 << 10;

function rows(d: Decoded): number[][] {
  const e = allEvents(d);
  return Array.from({ length: e.length }, (_, i) => [e.t[i]!, e.x[i]!, e.y[i]!, e.p[i]!]);
}

function side<K extends 'trigger' | 'imu' | 'monitor'>(d: Decoded, kind: K): (TriggerBatch | ImuBatch | MonitorBatch)[] {
  return d.side.filter((s) => s.kind === kind) as (TriggerBatch | ImuBatch | MonitorBatch)[];
}

test('aedat2: DVS128 with a > 100 KB header: jAER x flip and inverted polarity; sync events to triggers', () => {
  const head = header('2.0', 'ch.unizh.ini.jaer.chip.retina.DVS128', 2000);
  assert.ok(head.length > 100_000, `header is ${head.length} bytes`);
  const bytes = stream(head, [
    [dvs128(0, 0, true), 100],
    [dvs128(127, 5, false), 101],
    [0x8000, 150], // external sync input
    [dvs128(64, 127, true), 4294967290],
    [dvs128(3, 4, false), 20], // 32-bit timestamp wrapped
  ]);
  const d = assertChunkingInvariant(bytes, 'aedat2', SMALL_PACKETS);
  assert.equal(d.errors.length, 0);
  assert.deepEqual(rows(d), [
    [100, 0, 0, 1],
    [101, 127, 5, 0],
    [4294967290, 64, 127, 1],
    [4294967296 + 20, 3, 4, 0],
  ]);
  assert.deepEqual(d.decoder.geometry, { width: 128, height: 128 });
  assert.equal(d.decoder.header['AEChip'], 'ch.unizh.ini.jaer.chip.retina.DVS128');
  assert.equal(d.decoder.header['chip'], 'dvs128 (AEChip)');
  assert.equal(d.decoder.header['version'], '2.0');
  assert.deepEqual(sideCounts(d), { trigger: 1 });
  assert.deepEqual(Array.from((side(d, 'trigger')[0] as TriggerBatch).t), [150]);
  assert.equal(aedat2Format.sniff(bytes.subarray(0, 65536)), 1);
  assert.equal(detectFormat(bytes.subarray(0, 65536), 'rec.aedat').format, 'aedat2');
});

test('aedat2: DAVIS240: DVS x = 239 − raw x, ON = bit 11; external input, APS samples and IMU samples go to side streams', () => {
  const imu = [8192, -8192, 4096, 340, 655, -131, 131]; // ax ay az temp gx gy gz (raw int16)
  const bytes = stream(header('2.0', 'eu.seebetter.ini.chips.davis.DAVIS240C', 50), [
    [davisDvs(240, 0, 0, true), 10],
    [davisDvs(240, 239, 179, false), 11],
    [DAVIS_EXTERNAL, 12],
    [davisAps(5, 6, 0, 1000), 13], // reset read
    [davisAps(5, 6, 1, 300), 14], // signal read
    ...imu.map((v, code) => [davisImu(code, v), 15] as const),
    [davisDvs(240, 100, 50, true), 16],
  ]);
  const d = assertChunkingInvariant(bytes, 'aedat2', SMALL_PACKETS);
  assert.equal(d.errors.length, 0);
  assert.deepEqual(d.decoder.geometry, { width: 240, height: 180 });
  assert.deepEqual(rows(d), [
    [10, 0, 0, 1],
    [11, 239, 179, 0],
    [16, 100, 50, 1],
  ]);
  assert.deepEqual(sideCounts(d), { trigger: 1, imu: 1, monitor: 2 });
  const mon = side(d, 'monitor')[0] as MonitorBatch;
  assert.deepEqual(Array.from(mon.subtype), [0, 1]);
  assert.deepEqual(Array.from(mon.t), [13, 14]);
  const s = side(d, 'imu')[0] as ImuBatch;
  assert.deepEqual(Array.from(s.t), [15]);
  // jAER IMUSample getters: accel x negated, /8192 g; gyro x and z negated, /65.5 °/s; temp /340 + 35.
  assert.deepEqual(Array.from(s.accel), [-1, -1, 0.5]);
  assert.deepEqual(Array.from(s.gyro), [Math.fround(-10), Math.fround(-2), Math.fround(-2)]);
  assert.deepEqual(Array.from(s.temperature), [36]);
});

test('aedat2: chip auto-detection from AEChip and the chip option', () => {
  const rec = [[davisDvs(346, 345, 259, true), 1]] as const;
  const d346 = decodeBuffer(stream(header('2.0', 'eu.seebetter.ini.chips.davis.Davis346B'), rec), 'aedat2');
  assert.deepEqual(d346.decoder.geometry, { width: 346, height: 260 });
  assert.deepEqual(rows(d346), [[1, 345, 259, 1]]);
  // No AEChip line: a 2.0 file defaults to DAVIS240; the option overrides.
  const plain = stream(header('2.0', null), [[dvs128(10, 20, true), 5]]);
  assert.match(decodeBuffer(plain, 'aedat2').decoder.header['chip']!, /^davis240 \(default/);
  assert.deepEqual(rows(decodeBuffer(plain, 'aedat2', { chip: 'dvs128' })), [[5, 10, 20, 1]]);
});

test('aedat2: AEDAT 1.0 (6-byte records), with and without a version line, defaults to DVS128', () => {
  const records = [[dvs128(1, 2, true), 7], [dvs128(126, 125, false), 8]] as const;
  for (const head of [header('1.0', null), '']) {
    const d = assertChunkingInvariant(stream(head, records, 2), 'aedat2');
    assert.equal(d.decoder.header['version'], '1.0');
    assert.deepEqual(rows(d), [[7, 1, 2, 1], [8, 126, 125, 0]]);
  }
  assert.equal(aedat2Format.sniff(stream(header('1.0', null), records, 2)), 0.6);
  assert.equal(aedat2Format.sniff(stream('', records, 2)), 0);
});

test('aedat2: a truncated record at the end is reported with its offset; earlier events are kept', () => {
  const head = header('2.0', 'ch.unizh.ini.jaer.chip.retina.DVS128', 10);
  const full = stream(head, [[dvs128(1, 1, true), 1], [dvs128(2, 2, true), 2], [dvs128(3, 3, true), 3]]);
  const d = decodeBuffer(full.subarray(0, full.length - 5), 'aedat2', { chunkSizes: [100, 1] });
  assert.deepEqual(rows(d), [[1, 1, 1, 1], [2, 2, 2, 1]]);
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.format, 'aedat2');
  assert.equal(d.errors[0]!.offset, head.length + 16);
  assert.match(d.errors[0]!.message, /^aedat2: truncated record: 3 of 8 bytes/);
});

test('aedat2: DAVIS addresses outside the array and broken IMU samples are reported; decoding goes on', () => {
  const head = header('2.0', 'eu.seebetter.ini.chips.davis.DAVIS240C');
  const bytes = stream(head, [
    [davisDvs(240, 1, 1, true), 1],
    [(300 << 12) >>> 0, 2], // raw x 300 ≥ 240
    [(200 << 22) >>> 0, 3], // raw y 200 ≥ 180
    [davisDvs(240, 2, 2, false), 4],
    ...[0, 1, 2].map((code) => [davisImu(code, 1), 5] as const), // IMU sample cut after 3 words
    [davisDvs(240, 3, 3, true), 6],
    [davisImu(4, 1), 7], // IMU word out of sequence
    [davisDvs(240, 4, 4, true), 8],
  ]);
  const d = assertChunkingInvariant(bytes, 'aedat2', SMALL_PACKETS);
  assert.deepEqual(rows(d), [
    [1, 1, 1, 1],
    [4, 2, 2, 0],
    [6, 3, 3, 1],
    [8, 4, 4, 1],
  ]);
  const base = head.length;
  assert.deepEqual(d.errors.map((e) => e.offset), [base + 8, base + 32, base + 64]);
  assert.match(d.errors[0]!.message, /^aedat2: 2 record\(s\) skipped: DVS address outside the 240x180 array/);
  assert.match(d.errors[1]!.message, /IMU sample cut short after 3 of 7 words/);
  assert.match(d.errors[2]!.message, /IMU word of type 4 outside a sample/);
  assert.equal(sideCounts(d).imu, undefined);
});
