/** SPIF / AEStream UDP word codec: hand-built words, a real recording round trip, sequence-word loss counting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpifDecoder, SpifEncoder, DEFAULT_MAX_DATAGRAM_BYTES } from '../../src/formats/spif.js';
import { countOn, packetFromArrays, type EventPacket } from '../../src/events/packet.js';
import { decodeBuffer, allEvents } from '../../src/formats/decode-all.js';
import { readShared } from '../helpers/shared-data.js';

/** Little-endian bytes of u32 words, built without the codec. */
function wordsLE(...words: number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  const v = new DataView(b.buffer);
  words.forEach((w, i) => v.setUint32(4 * i, w >>> 0, true));
  return b;
}

function decodeAll(decoder: SpifDecoder, datagrams: Uint8Array[], arrival = 0): EventPacket {
  return decoder.decode(datagrams, new Array(datagrams.length).fill(arrival)).packet;
}

test('encoder writes the SPIF words of the spec (flag, 15-bit x/y, polarity bit 15), little-endian', () => {
  const packet = packetFromArrays({ x: [5, 639], y: [7, 479], t: [123456, 4294967296 + 10], p: [1, 0] });
  // No timestamps: bit 31 set. x=5,y=7,ON -> 0x80000000 | 5<<16 | 0x8000 | 7 = 0x80058007; x=639,y=479,OFF -> 0x827F01DF.
  const plain = new SpifEncoder().encode(packet);
  assert.equal(plain.length, 1);
  assert.deepEqual([...plain[0]!], [0x07, 0x80, 0x05, 0x80, 0xdf, 0x01, 0x7f, 0x82]);
  // With timestamps: bit 31 clear, then the time modulo 2^32 (2^32 + 10 -> 10).
  const stamped = new SpifEncoder({ timestamps: true }).encode(packet);
  assert.deepEqual([...stamped[0]!], [...wordsLE(0x00058007, 123456, 0x027f01df, 10)]);
});

test('decoder reads aestream-style datagrams: flag per word, arrival time for unstamped events', () => {
  const d = new SpifDecoder();
  // aestream without timestamps: ((x|0x8000)<<16) | (y | p<<15)
  const a = wordsLE(((3 | 0x8000) << 16) | (4 | (1 << 15)), ((1000 | 0x8000) << 16) | 700);
  // with timestamps: event word (bit 31 clear) + time word
  const b = wordsLE((12 << 16) | (13 | (1 << 15)), 777);
  const r = d.decode([a, b], [5e9, 6e9]);
  assert.deepEqual(r.errors, []);
  const p = r.packet;
  assert.deepEqual([...p.x], [3, 1000, 12]);
  assert.deepEqual([...p.y], [4, 700, 13]);
  assert.deepEqual([...p.p], [1, 0, 1]);
  assert.deepEqual([...p.t], [5e9, 5e9, 777]);
  assert.equal(p.source.format, 'udp-spif');
  // timestamps: false ignores the flag (every word an event), as aestream's receiver does.
  const ignoring = decodeAll(new SpifDecoder({ timestamps: false }), [b], 42);
  assert.deepEqual([...ignoring.x], [12, 0]);
  assert.deepEqual([...ignoring.y], [13, 777]);
});

test('datagram sizes: 512 B default holds 128 plain / 64 stamped events; the sequence word takes one slot', () => {
  const n = 1000;
  const packet = packetFromArrays({ x: Array.from({ length: n }, (_, i) => i % 640), y: Array.from({ length: n }, (_, i) => i % 480), t: Array.from({ length: n }, (_, i) => i), p: Array.from({ length: n }, (_, i) => i & 1) });
  const cases: [object, number][] = [
    [{}, 128],
    [{ timestamps: true }, 64],
    [{ sequence: true }, 127],
    [{ timestamps: true, sequence: true }, 63],
    [{ maxDatagramBytes: 1400 }, 350],
  ];
  for (const [options, per] of cases) {
    const enc = new SpifEncoder(options);
    const datagrams = enc.encode(packet);
    assert.equal(enc.eventsPerDatagram, per);
    assert.equal(datagrams.length, Math.ceil(n / per));
    for (const d of datagrams) assert.ok(d.length <= ((options as { maxDatagramBytes?: number }).maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES));
    const back = decodeAll(new SpifDecoder(), datagrams);
    assert.deepEqual([...back.x], [...packet.x]);
    assert.deepEqual([...back.y], [...packet.y]);
    assert.deepEqual([...back.p], [...packet.p]);
  }
  assert.throws(() => new SpifEncoder({ timestamps: true, sequence: true, maxDatagramBytes: 8 }), RangeError);
});

test('real recording (evt2_sparklers.raw) round trip: all 521,252 events, exact x/y/p and t with timestamp words', () => {
  const decoded = decodeBuffer(readShared('evt2_sparklers.raw'), 'evt2');
  const ref = allEvents(decoded);
  assert.equal(ref.length, 521252);
  // First event from an independent reading of the EVT2 words (header 166 bytes, TIME_HIGH then CD_ON x=35 y=443).
  assert.deepEqual([ref.x[0], ref.y[0], ref.t[0], ref.p[0]], [35, 443, 913716224, 1]);
  const enc = new SpifEncoder({ timestamps: true, sequence: true });
  const datagrams = decoded.packets.flatMap((p) => enc.encode(p));
  assert.equal(enc.stats.events, 521252);
  assert.equal(datagrams.length, decoded.packets.reduce((k, p) => k + Math.ceil(p.length / 63), 0));
  const dec = new SpifDecoder({ geometry: { width: 640, height: 480 } });
  const got = decodeAll(dec, datagrams);
  assert.equal(got.length, 521252);
  assert.deepEqual(got.x, ref.x);
  assert.deepEqual(got.y, ref.y);
  assert.deepEqual(got.p, ref.p);
  assert.deepEqual(got.t, ref.t);
  assert.equal(countOn(got), 185861);
  assert.deepEqual([got.x[521251], got.y[521251], got.t[521251], got.p[521251]], [12, 471, 913812095, 0]);
  assert.equal(dec.stats.lost, 0);
  assert.equal(dec.stats.sequenced, datagrams.length);
  assert.equal(dec.stats.malformed, 0);
  assert.deepEqual(got.geometry, { width: 640, height: 480 });
});

test('32-bit timestamps unwrap across 2^32 and timeBase restores large (Unix-µs) times', () => {
  const base = 1_600_000_000_000_000; // AEDAT4-like Unix µs
  // Consecutive times may be at most 2^31 µs (35 min) apart: a larger step cannot be told from a wrap.
  const t = [base + 4294967290, base + 4294967295, base + 4294967296 + 3, base + 4294967296 + 2147483648 + 5, base + 2 * 4294967296 + 1];
  const packet = packetFromArrays({ x: [1, 2, 3, 4, 5], y: [1, 2, 3, 4, 5], t, p: [1, 1, 0, 0, 1] });
  const datagrams = new SpifEncoder({ timestamps: true, timeBase: base, maxDatagramBytes: 16 }).encode(packet);
  assert.equal(datagrams.length, 3);
  const got = decodeAll(new SpifDecoder({ timeBase: base }), datagrams);
  assert.deepEqual([...got.t], t);
});

test('sequence words: gaps count as lost, late and duplicate datagrams as late, a big jump back as a restart', () => {
  const n = 127 * 10;
  const packet = packetFromArrays({ x: new Array(n).fill(1), y: new Array(n).fill(2), t: new Array(n).fill(0), p: new Array(n).fill(1) });
  const datagrams = new SpifEncoder({ sequence: true }).encode(packet);
  assert.equal(datagrams.length, 10);
  // The sequence word: marker 0xFFFF in the upper half, number in the lower half (datagram 3 -> 0xFFFF0003).
  assert.deepEqual([...datagrams[3]!.subarray(0, 4)], [3, 0, 0xff, 0xff]);
  const dec = new SpifDecoder();
  // skip 2 and 5,6; deliver 2 late; repeat 9 (duplicate)
  const order = [0, 1, 3, 4, 7, 2, 8, 9, 9];
  const got = decodeAll(dec, order.map((k) => datagrams[k]!));
  assert.equal(got.length, order.length * 127);
  assert.equal(dec.stats.lost, 3);
  assert.equal(dec.stats.late, 2);
  assert.equal(dec.stats.resyncs, 0);
  // A restarted sender (numbers start again at 0, far behind 3000) resynchronises instead of counting late forever.
  const withSequence = (k: number) => wordsLE(0xffff0000 | k, (0x8000 | 7) << 16);
  const dec2 = new SpifDecoder();
  decodeAll(dec2, [3000, 3001, 0, 1, 3].map(withSequence));
  assert.equal(dec2.stats.resyncs, 1);
  assert.equal(dec2.stats.lost, 1);
  assert.equal(dec2.stats.late, 0);
  // Numbers wrap at 2^16: 65535 -> 0 is no gap.
  const dec3 = new SpifDecoder();
  decodeAll(dec3, [65534, 65535, 0, 1].map(withSequence));
  assert.equal(dec3.stats.lost, 0);
  // Events at the reserved column (x = 32767) and beyond 15 bits are refused by a sequencing encoder.
  const enc = new SpifEncoder({ sequence: true });
  const out = decodeAll(new SpifDecoder(), enc.encode(packetFromArrays({ x: [32767, 40000, 9], y: [0, 0, 7232], t: [0, 0, 0], p: [0, 0, 0] })));
  assert.equal(enc.stats.outOfRange, 2);
  assert.deepEqual([...out.x], [9]);
});

test('malformed datagrams are counted and reported with the stream offset; their whole events are kept', () => {
  const dec = new SpifDecoder();
  const good = wordsLE((0x8000 | 1) << 16, (0x8000 | 2) << 16);
  const ragged = new Uint8Array([...wordsLE((0x8000 | 3) << 16), 0xaa, 0xbb]); // 6 bytes
  const missingStamp = wordsLE((0x8000 | 4) << 16, 5 << 16); // second event flags a timestamp that is not there
  const r = dec.decode([good, ragged, missingStamp], [0, 0, 0]);
  assert.deepEqual([...r.packet.x], [1, 2, 3, 4]);
  assert.equal(dec.stats.malformed, 2);
  assert.equal(r.errors.length, 2);
  assert.equal(r.errors[0]!.format, 'udp-spif');
  assert.equal(r.errors[0]!.offset, 8);
  assert.match(r.errors[0]!.message, /not a multiple of 4/);
  assert.equal(r.errors[1]!.offset, 14);
  assert.match(r.errors[1]!.message, /lacks its timestamp word/);
});
