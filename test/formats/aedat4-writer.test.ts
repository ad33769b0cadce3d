/**
 * AEDAT 4.0 writer: decode(write(x)) == x for both real recordings (events and side streams), for
 * LZ4, NONE and caller-supplied ZSTD; large Unix-µs times; packet splitting; the optional data
 * table with its header patch; trigger mapping. (The writer's LZ4 frames and flatbuffers were also
 * checked once by hand with the `lz4` command-line tool and an independent Python reader.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { init as zstdInit, compress as zstdCompress } from '@bokuweb/zstd-wasm';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum, sideCounts } from '../helpers/chunking.js';
import { allEvents, decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { createEncoder } from '../../src/formats/registry.js';
import { packetFromArrays, packetsEqual, type EventPacket } from '../../src/events/packet.js';
import type { FrameRecord, ImuBatch, SideBatch, TriggerBatch } from '../../src/events/side.js';
import { Aedat4Encoder, type Aedat4Decoder, type Aedat4EncoderOptions } from '../../src/formats/inivation/aedat4.js';

function write(packets: readonly EventPacket[], side: readonly SideBatch[], options: Aedat4EncoderOptions = {}): { bytes: Uint8Array; encoder: Aedat4Encoder } {
  const encoder = createEncoder('aedat4', options) as Aedat4Encoder;
  const parts: Uint8Array[] = [];
  for (const p of packets) parts.push(encoder.encode(p));
  for (const s of side) parts.push(encoder.encodeSide(s));
  parts.push(encoder.end());
  return { bytes: new Uint8Array(Buffer.concat(parts)), encoder };
}
function stats(d: Decoded) {
  return (d.decoder as Aedat4Decoder).stats;
}
function ofKind<K extends SideBatch['kind']>(d: Decoded, kind: K): Extract<SideBatch, { kind: K }>[] {
  return d.side.filter((s) => s.kind === kind) as Extract<SideBatch, { kind: K }>[];
}
function assertSideEqual(a: Decoded, b: Decoded): void {
  assert.deepEqual(sideCounts(a), sideCounts(b));
  const imu = (d: Decoded) => ofKind(d, 'imu') as ImuBatch[];
  const cat = (bs: ImuBatch[], f: (m: ImuBatch) => Float32Array | Float64Array) => bs.flatMap((m) => Array.from(f(m)));
  for (const f of [(m: ImuBatch) => m.t, (m: ImuBatch) => m.accel, (m: ImuBatch) => m.gyro, (m: ImuBatch) => m.mag, (m: ImuBatch) => m.temperature]) {
    assert.deepEqual(cat(imu(a), f), cat(imu(b), f));
  }
  const trig = (d: Decoded) => (ofKind(d, 'trigger') as TriggerBatch[]).flatMap((t) => Array.from(t.t, (v, i) => [v, t.id[i], t.value[i]]));
  assert.deepEqual(trig(a), trig(b));
  const frames = (d: Decoded) => (ofKind(d, 'frame') as FrameRecord[]).map((f) => ({ ...f, pixels: Buffer.from(f.pixels).toString('base64') }));
  assert.deepEqual(frames(a), frames(b));
}

for (const [name, count, checksum] of [
  ['aedat4_tonic_sample.aedat4', 111954, '2e765cc5'],
  ['aedat4_aestream_davis.aedat4', 117667, '75f283ba'],
] as const) {
  test(`aedat4 writer: ${name} round trip (LZ4 and NONE), events and side streams`, () => {
    const original = decodeBuffer(readShared(name), 'aedat4');
    for (const compression of ['lz4', 'none'] as const) {
      const { bytes } = write(original.packets, original.side, { compression });
      const again = decodeBuffer(bytes, 'auto', { fileName: 'x.aedat4' });
      assert.deepEqual(again.errors, []);
      assert.equal(again.decoder.header['compression'], compression.toUpperCase());
      assert.equal(again.decoder.header['dataTablePosition'], '-1');
      assert.deepEqual(again.decoder.geometry, original.decoder.geometry);
      const e = allEvents(again);
      assert.equal(e.length, count);
      assert.ok(packetsEqual(e, allEvents(original)));
      assert.equal(eventChecksum(again), checksum);
      assert.deepEqual(again.packets[0]!.source, { format: 'aedat4', uri: undefined, stream: 0 });
      assertSideEqual(again, original);
      // Each input packet is split into EVTS packets of at most 8192 events.
      assert.equal(stats(again).eventPackets, original.packets.reduce((k, p) => k + Math.ceil(p.length / 8192), 0));
    }
  });
}

test('aedat4 writer: arrays with large Unix-µs times (up to 2^53), 1280x720, small packets', () => {
  const n = 20000;
  const x = new Array<number>(n);
  const y = new Array<number>(n);
  const t = new Array<number>(n);
  const p = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    x[i] = (i * 37) % 1280;
    y[i] = (i * 11) % 720;
    t[i] = 1_700_000_000_000_000 + i * 3 + (i > n / 2 ? 4_294_967_296 * 7 : 0); // crosses several 2^32 boundaries
    p[i] = (i >> 2) & 1;
  }
  t[n - 1] = 2 ** 53 - 1;
  const packet = packetFromArrays({ x, y, t, p }, { width: 1280, height: 720 }, { format: 'evt3' });
  const { bytes } = write([packet], [], { maxPacketEvents: 3000 });
  const d = assertChunkingInvariant(bytes, 'aedat4');
  assert.deepEqual(d.errors, []);
  assert.deepEqual(d.decoder.geometry, { width: 1280, height: 720 });
  assert.equal(d.decoder.header['stream.0.sizeX'], '1280');
  assert.ok(packetsEqual(allEvents(d), packet));
  assert.equal(allEvents(d).t[n - 1], 2 ** 53 - 1);
  assert.equal(stats(d).eventPackets, Math.ceil(n / 3000));

  // Whole-µs times in the file: fractional times are rounded.
  const frac = write([packetFromArrays({ x: [1, 2], y: [3, 4], t: [10.4, 10.6], p: [1, 0] })], [], { geometry: { width: 8, height: 8 } });
  assert.deepEqual(Array.from(allEvents(decodeBuffer(frac.bytes, 'aedat4')).t), [10, 11]);
});

test('aedat4 writer: data table at the end, with and without the header patch', () => {
  const original = decodeBuffer(readShared('aedat4_aestream_davis.aedat4'), 'aedat4');
  for (const compression of ['lz4', 'none'] as const) {
    const { bytes, encoder } = write(original.packets, original.side, { compression, dataTable: true });
    const patch = encoder.headerPatch!;
    assert.ok(patch);
    const position = Number(new DataView(patch.bytes.buffer).getBigInt64(0, true));
    // The table sits where the patch says: LZ4 magic or the 'FTAB' identifier of a raw flatbuffer.
    if (compression === 'lz4') assert.deepEqual(Array.from(bytes.subarray(position, position + 4)), [0x04, 0x22, 0x4d, 0x18]);
    else assert.equal(Buffer.from(bytes.subarray(position + 8, position + 12)).toString(), 'FTAB');

    const unpatched = decodeBuffer(bytes, 'aedat4');
    assert.deepEqual(unpatched.errors, []);
    assert.equal(eventChecksum(unpatched), '75f283ba');
    assert.equal(stats(unpatched).trailingBytes, bytes.length - position);

    const patched = bytes.slice();
    patched.set(patch.bytes, patch.offset);
    const d = assertChunkingInvariant(patched, 'aedat4', {}, [2]);
    assert.deepEqual(d.errors, []);
    assert.equal(d.decoder.header['dataTablePosition'], String(position));
    assert.equal(eventChecksum(d), '75f283ba');
    assertSideEqual(d, original);
    assert.equal(stats(d).trailingBytes, bytes.length - position);
  }
});

test('aedat4 writer: ZSTD through a caller-supplied compressor', async () => {
  await zstdInit();
  const original = decodeBuffer(readShared('aedat4_tonic_sample.aedat4'), 'aedat4');
  const { bytes } = write(original.packets, original.side, { compression: 'zstd', compress: (b) => zstdCompress(b, 3) });
  const d = decodeBuffer(bytes, 'aedat4');
  assert.deepEqual(d.errors, []);
  assert.equal(d.decoder.header['compression'], 'ZSTD');
  assert.equal(eventChecksum(d), '2e765cc5');
  assertSideEqual(d, original);
  assert.throws(() => createEncoder('aedat4', { compression: 'zstd' }), /ZSTD needs a 'compress' function/);
});

test('aedat4 writer: trigger mapping, side streams off, monitor batches dropped', () => {
  const trig: TriggerBatch = { kind: 'trigger', length: 3, t: Float64Array.from([5, 6, 7]), id: Uint8Array.from([0, 0, 9]), value: Uint8Array.from([0, 1, 0]) };
  const auto = decodeBuffer(write([], [trig], { geometry: { width: 4, height: 4 } }).bytes, 'aedat4');
  const got = ofKind(auto, 'trigger')[0]!;
  // (0, falling) is no DV type → ExternalSignalFallingEdge; (0, rising) = TimestampReset; (9, falling) = ExposureEnd.
  assert.deepEqual([Array.from(got.id), Array.from(got.value)], [[2, 0, 9], [0, 1, 0]]);
  const edge = ofKind(decodeBuffer(write([], [trig], { triggerMapping: 'edge' }).bytes, 'aedat4'), 'trigger')[0]!;
  assert.deepEqual([Array.from(edge.id), Array.from(edge.value)], [[2, 1, 2], [0, 1, 0]]);

  const monitor: SideBatch = { kind: 'monitor', length: 4, t: new Float64Array(4), subtype: new Uint16Array(4) };
  const { encoder } = write([], [monitor, trig], { sideStreams: false });
  assert.equal(encoder.droppedSide, 7);
  assert.throws(() => encoder.encode(packetFromArrays({ x: [], y: [], t: [], p: [] })), /after end/);
});
