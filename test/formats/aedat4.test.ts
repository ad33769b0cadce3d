/**
 * AEDAT 4.0 decoding of the two real DV recordings. Expected values come from an independent
 * Python reading of the files (packets walked by hand, payloads inflated with the `lz4` command-line
 * tool, flatbuffer structs unpacked with `struct`), not from this decoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum, sideCounts } from '../helpers/chunking.js';
import { allEvents, decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { countOn, type EventPacket } from '../../src/events/packet.js';
import { detectFormat } from '../../src/formats/registry.js';
import { aedat4Format, type Aedat4Decoder } from '../../src/formats/inivation/aedat4.js';
import type { FrameRecord, ImuBatch, TriggerBatch } from '../../src/events/side.js';

const TONIC = 'aedat4_tonic_sample.aedat4';
const DAVIS = 'aedat4_aestream_davis.aedat4';

function ev(e: EventPacket, i: number): [number, number, number, number] {
  return [e.t[i]!, e.x[i]!, e.y[i]!, e.p[i]!];
}
function stats(d: Decoded) {
  return (d.decoder as Aedat4Decoder).stats;
}
function imu(d: Decoded): ImuBatch[] {
  return d.side.filter((s): s is ImuBatch => s.kind === 'imu');
}
function triggers(d: Decoded): TriggerBatch[] {
  return d.side.filter((s): s is TriggerBatch => s.kind === 'trigger');
}

test('aedat4: sniff and detection', () => {
  assert.equal(aedat4Format.sniff(readShared(TONIC).subarray(0, 64)), 1);
  assert.equal(aedat4Format.sniff(new TextEncoder().encode('#!AER-DAT3.1\r\n')), 0);
  assert.equal(aedat4Format.sniff(new TextEncoder().encode('#!AER-DAT4.0')), 0);
  assert.equal(detectFormat(readShared(DAVIS).subarray(0, 65536), 'x.aedat4').format, 'aedat4');
  assert.deepEqual(aedat4Format.extensions, ['.aedat4']);
});

test('aedat4: tonic DVXplorer sample — 111,954 events in 59 packets, 320x240, IMU, no triggers', () => {
  const d = decodeBuffer(readShared(TONIC), 'aedat4', { uri: 'tonic.aedat4' });
  const e = allEvents(d);
  assert.deepEqual(d.errors, []);
  assert.equal(e.length, 111954);
  assert.deepEqual(d.decoder.geometry, { width: 320, height: 240 });
  assert.deepEqual(d.packets[0]!.geometry, { width: 320, height: 240 });
  assert.deepEqual(d.packets[0]!.source, { format: 'aedat4', uri: 'tonic.aedat4', stream: 0 });
  assert.equal(countOn(e), 55023);
  // First and last events (t = int64 µs since the Unix epoch, exact in a float64).
  assert.deepEqual(ev(e, 0), [1605537493718345, 154, 204, 0]);
  assert.deepEqual(ev(e, 1), [1605537493718348, 149, 206, 0]);
  assert.deepEqual(ev(e, 2), [1605537493718349, 148, 199, 1]);
  assert.deepEqual(ev(e, 3), [1605537493718354, 139, 30, 0]);
  assert.deepEqual(ev(e, 4), [1605537493718360, 130, 181, 1]);
  assert.deepEqual(ev(e, e.length - 1), [1605537494308262, 88, 237, 1]);
  assert.equal(e.t[e.length - 1]! - e.t[0]!, 589917); // 590 ms
  for (let i = 1; i < e.length; i++) assert.ok(e.t[i]! >= e.t[i - 1]!, `time goes back at ${i}`);
  assert.equal(eventChecksum(d), '2e765cc5');

  const s = stats(d);
  assert.equal(s.eventPackets, 59);
  assert.equal(s.imuPackets, 59);
  assert.equal(s.triggerPackets, 0);
  assert.equal(s.framePackets, 0);
  assert.equal(s.corruptPackets + s.unknownStreamPackets + s.unknownTypePackets, 0);
  // The FileDataTable (LZ4 frame at dataTablePosition 945,243) is not read as packets.
  assert.equal(s.trailingBytes, 949253 - 945243);

  assert.deepEqual(sideCounts(d), { imu: 475 });
  const m = imu(d)[0]!;
  assert.equal(m.t[0], 1605537493718788);
  assert.equal(m.temperature[0], 38.15234375);
  assert.deepEqual(Array.from(m.accel.subarray(0, 3)), [0.1263427734375, -0.9951171875, -0.39306640625]);
  assert.deepEqual(Array.from(m.gyro.subarray(0, 3)), [Math.fround(0.4119872748851776), 0.0762939453125, Math.fround(-0.4119872748851776)]);
  assert.ok(m.mag.every(Number.isNaN), 'DVXplorer has no magnetometer: absent fields read as NaN');

  const h = d.decoder.header;
  assert.equal(h['compression'], 'LZ4');
  assert.equal(h['dataTablePosition'], '945243');
  assert.equal(h['streams'], '0:EVTS,2:IMUS,3:TRIG');
  assert.equal(h['stream.0.source'], 'DVXplorer_DXB00010');
  assert.equal(h['stream.0.sizeX'], '320');
});

test('aedat4: aestream DAVIS346 sample — 117,667 events in 13 packets, frames, IMU, triggers; first packet is TRIG', () => {
  const d = decodeBuffer(readShared(DAVIS), 'aedat4');
  const e = allEvents(d);
  assert.deepEqual(d.errors, []);
  assert.equal(e.length, 117667);
  assert.deepEqual(d.decoder.geometry, { width: 346, height: 260 });
  assert.equal(countOn(e), 72363);
  assert.deepEqual(ev(e, 0), [1633953690975950, 218, 15, 1]);
  assert.deepEqual(ev(e, 1), [1633953690975950, 306, 76, 1]);
  assert.deepEqual(ev(e, 2), [1633953690975954, 178, 73, 0]);
  assert.deepEqual(ev(e, 3), [1633953690975955, 89, 91, 0]);
  assert.deepEqual(ev(e, 4), [1633953690975957, 57, 12, 1]);
  assert.deepEqual(ev(e, e.length - 1), [1633953691105949, 137, 56, 0]);
  let maxX = 0;
  let maxY = 0;
  for (let i = 0; i < e.length; i++) {
    maxX = Math.max(maxX, e.x[i]!);
    maxY = Math.max(maxY, e.y[i]!);
  }
  assert.deepEqual([maxX, maxY], [345, 259]);
  assert.equal(eventChecksum(d), '75f283ba');

  const s = stats(d);
  assert.equal(s.eventPackets, 13);
  assert.equal(s.imuPackets, 13);
  assert.equal(s.triggerPackets, 11);
  assert.equal(s.framePackets, 3);
  assert.equal(s.packets, 40);
  assert.deepEqual(sideCounts(d), { trigger: 15, imu: 130, frame: 3 });

  // Triggers: DV types ExposureBegin 8 / ExposureEnd 9 / FrameEnd 7 / FrameBegin 6; value = edge.
  const tr = triggers(d);
  const ids = tr.flatMap((b) => Array.from(b.id));
  const values = tr.flatMap((b) => Array.from(b.value));
  const times = tr.flatMap((b) => Array.from(b.t));
  assert.deepEqual(ids.slice(0, 4), [8, 9, 7, 6]);
  assert.deepEqual(values.slice(0, 4), [1, 0, 0, 1]);
  assert.deepEqual(times.slice(0, 4), [1633953690976518, 1633953690981291, 1633953690990743, 1633953691007091]);
  assert.equal(times[14], 1633953691110744);

  const frames = d.side.filter((b): b is FrameRecord => b.kind === 'frame');
  assert.equal(frames.length, 3);
  const f = frames[0]!;
  assert.equal(f.t, 1633953690978904);
  assert.equal(f.exposureStart, 1633953690976518);
  assert.equal(f.exposureEnd, 1633953690981291);
  assert.deepEqual([f.width, f.height, f.channels, f.pixels.length], [346, 260, 1, 89960]);
  assert.deepEqual(Array.from(f.pixels.subarray(0, 8)), [101, 98, 106, 99, 104, 100, 106, 106]);
  // The frame's exposure matches the ExposureBegin/End triggers.
  assert.equal(times[0], f.exposureStart);
  assert.equal(times[1], f.exposureEnd);

  const m = imu(d);
  assert.equal(m[0]!.t[0], 1633953690976628);
  assert.deepEqual(Array.from(m[0]!.accel.subarray(0, 3)), [-0.0604248046875, -0.9912109375, -0.097412109375]);
  assert.equal(m[m.length - 1]!.t[m[m.length - 1]!.length - 1], 1633953691105605);
});

test('aedat4: chunking invariance on both recordings (down to 1-byte chunks)', () => {
  for (const name of [TONIC, DAVIS]) {
    const d = assertChunkingInvariant(readShared(name), 'aedat4');
    assert.deepEqual(d.errors, []);
  }
});

test('aedat4: packets carry at most the pool capacity, all from stream 0', async () => {
  const { PacketPool } = await import('../../src/events/pool.js');
  const d = decodeBuffer(readShared(DAVIS), 'aedat4', { pool: new PacketPool(5000) });
  assert.equal(allEvents(d).length, 117667);
  assert.ok(d.packets.every((p) => p.length <= 5000 && p.source.stream === 0));
  assert.equal(eventChecksum(d), '75f283ba');
});

test('aedat4: two event streams — all events decoded in file order, each packet tagged with its stream', async () => {
  const { buildInfoNode, buildIoHeader } = await import('../../src/formats/inivation/aedat4/io-header.js');
  const { MAGIC } = await import('../../src/formats/inivation/aedat4/schema.js');
  const evts = (id: number, w: number, h: number) => ({
    id,
    typeIdentifier: 'EVTS',
    outputName: `events${id}`,
    description: 'events',
    info: [['sizeX', 'int', w], ['sizeY', 'int', h]] as const,
  });
  const header = buildIoHeader(1, -1, buildInfoNode([evts(4, 320, 240), evts(7, 640, 480)], 'LZ4', 'test')).bytes;
  // The tonic EVTS packets, alternately relabelled as stream 4 and stream 7 (IMU packets dropped).
  const src = readShared(TONIC);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const parts: Uint8Array[] = [MAGIC, header];
  let k = 0;
  for (let pos = 18 + dv.getUint32(14, true); pos < 945243; ) {
    const stream = dv.getInt32(pos, true);
    const size = dv.getInt32(pos + 4, true);
    if (stream === 0) {
      const packet = src.slice(pos, pos + 8 + size);
      new DataView(packet.buffer).setInt32(0, k++ % 2 === 0 ? 4 : 7, true);
      parts.push(packet);
    }
    pos += 8 + size;
  }
  const d = assertChunkingInvariant(new Uint8Array(Buffer.concat(parts)), 'aedat4');
  assert.deepEqual(d.errors, []);
  assert.equal(allEvents(d).length, 111954);
  assert.equal(eventChecksum(d), '2e765cc5');
  assert.deepEqual(d.decoder.geometry, { width: 320, height: 240 });
  const streams = d.packets.map((p) => p.source.stream);
  assert.equal(streams.length, 59);
  assert.deepEqual(streams.slice(0, 4), [4, 7, 4, 7]);
  assert.deepEqual(d.packets[1]!.geometry, { width: 640, height: 480 });
  assert.deepEqual(d.packets[0]!.geometry, { width: 320, height: 240 });
});
