/** AER word layouts: presets, bit fields across the 32-bit halves, time modes, raw-stream resync, chunking. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AerWordDecoder, AerWordEncoder } from '../../src/formats/serial/aer-words.js';
import { AER_PRESETS, getField, resolveLayout, setField, type AerLayout, type AerPreset } from '../../src/formats/serial/aer-layout.js';
import { packetFromArrays } from '../../src/events/packet.js';
import { chunkSizes } from '../helpers/chunking.js';

interface Ev {
  x: number;
  y: number;
  t: number;
  p: number;
}

function sink() {
  const ev: Ev[] = [];
  const bad: [string, number, string][] = [];
  return { ev, bad, out: { push: (x: number, y: number, t: number, p: number) => ev.push({ x, y, t, p }) }, report: (r: string, o: number, d: string) => bad.push([r, o, d]) };
}

function evs(n: number, f: (i: number) => Ev) {
  const a = Array.from({ length: n }, (_, i) => f(i));
  return { list: a, packet: packetFromArrays({ x: a.map((e) => e.x), y: a.map((e) => e.y), t: a.map((e) => e.t), p: a.map((e) => e.p) }) };
}

test('a hand-built dt16-x8-y7-p1 word decodes field by field (little-endian)', () => {
  // t delta 0x1234, x 0xAB, y 0x55, p 1 → 0x80 | 0x55 << 24 … = 0xD5AB1234
  const word = Uint8Array.from([0x34, 0x12, 0xab, 0xd5]);
  const s = sink();
  new AerWordDecoder('dt16-x8-y7-p1', { timeBase: 1000 }).decodeFrame(word, 0, 0, s.out, s.report);
  assert.deepEqual(s.ev, [{ x: 0xab, y: 0x55, t: 1000 + 0x1234, p: 1 }]);
});

test('a hand-built addr32-ts32 word (big-endian, jAER) decodes with an address width', () => {
  const layout: AerLayout = { ...AER_PRESETS['addr32-ts32'], addressWidth: 128 };
  const word = Uint8Array.from([0x00, 0x00, 0x01, 0x05, 0x00, 0x0f, 0x42, 0x40]); // address 261, t 1,000,000
  const s = sink();
  new AerWordDecoder(layout).decodeFrame(word, 0, 0, s.out, s.report);
  assert.deepEqual(s.ev, [{ x: 261 % 128, y: 2, t: 1e6, p: 1 }]);
});

test('bit fields that straddle the two 32-bit halves of a 64-bit word read and write exactly', () => {
  const f = { shift: 28, bits: 12 };
  const [lo, hi] = setField(0, 0, f, 0xabc);
  assert.equal(lo, 0xc0000000);
  assert.equal(hi, 0xab);
  assert.equal(getField(lo, hi, f), 0xabc);
  assert.equal(getField(0xffffffff, 0, { shift: 0, bits: 32 }), 0xffffffff);
  assert.equal(getField(0, 0x80000000, { shift: 63, bits: 1 }), 1);
  const layout: AerLayout = { wordBytes: 8, endian: 'big', x: { shift: 28, bits: 12 }, y: { shift: 40, bits: 16 }, p: { shift: 27, bits: 1 }, t: { shift: 0, bits: 27 }, time: 'absolute', tickUs: 2 };
  const { list, packet } = evs(300, (i) => ({ x: (i * 13) % 4096, y: (i * 211) % 65536, t: i * 1000, p: i % 2 }));
  const bytes = new AerWordEncoder(layout).encode(packet);
  const s = sink();
  new AerWordDecoder(layout).decodeFrame(bytes, 0, 0, s.out, s.report);
  assert.deepEqual(s.ev, list);
});

for (const preset of Object.keys(AER_PRESETS) as AerPreset[]) {
  test(`preset ${preset}: encode → decode round trip, identical for any chunking of the raw stream`, () => {
    const l = resolveLayout(preset);
    const addr = l.address !== undefined;
    const hasT = l.t !== undefined;
    const { list, packet } = evs(2000, (i) => ({ x: addr ? (i * 7) % 30000 : (i * 7) % 256, y: addr ? 0 : (i * 3) % 128, t: hasT ? 500 + i * 37 : 42, p: l.p ? (i >> 2) & 1 : 1 }));
    const bytes = new AerWordEncoder(preset, { timeBase: 0 }).encode(packet);
    assert.equal(bytes.length, 2000 * l.wordBytes);
    const decodeWith = (sizes?: number[]) => {
      const d = new AerWordDecoder(preset);
      const s = sink();
      if (!sizes) d.pushStream(bytes, 0, 42, s.out, s.report);
      else for (let o = 0, k = 0; o < bytes.length; o += sizes[k++ % sizes.length]!) d.pushStream(bytes.subarray(o, o + sizes[k % sizes.length]!), o, 42, s.out, s.report);
      d.endStream(s.report);
      return s;
    };
    const whole = decodeWith();
    assert.deepEqual(whole.ev, list);
    assert.deepEqual(whole.bad, []);
    assert.deepEqual(decodeWith(chunkSizes(5, 2000, 13)).ev, list);
  });
}

test('delta time: a gap larger than the 16-bit field is clamped and the following deltas catch up', () => {
  const { packet } = evs(3, (i) => ({ x: i, y: 0, t: [100, 100000, 100010][i]!, p: 1 }));
  const enc = new AerWordEncoder('dt16-x8-y7-p1');
  const bytes = enc.encode(packet);
  assert.equal(enc.stats.clampedTimes, 1);
  const s = sink();
  new AerWordDecoder('dt16-x8-y7-p1').decodeFrame(bytes, 0, 0, s.out, s.report);
  assert.deepEqual(
    s.ev.map((e) => e.t),
    [100, 100 + 65535, 100010], // the second is late by the clamped 34,365 µs; the third is exact again
  );
});

test('absolute 32-bit timestamps unwrap across 2^32 (half-range rule)', () => {
  const ts = [4294967000, 4294967290, 5, 300, 4294967295 + 400];
  const { packet } = evs(ts.length, (i) => ({ x: i, y: 0, t: ts[i]!, p: 0 }));
  const bytes = new AerWordEncoder('xytp64').encode(packet);
  const s = sink();
  new AerWordDecoder('xytp64').decodeFrame(bytes, 0, 0, s.out, s.report);
  assert.deepEqual(
    s.ev.map((e) => e.t),
    [4294967000, 4294967290, 4294967296 + 5, 4294967296 + 300, 4294967295 + 400],
  );
});

test('raw xytp64 stream: garbage bursts of any length are skipped and counted once each, at their byte offset, for any chunking', () => {
  const { list, packet } = evs(60, (i) => ({ x: i, y: 2 * i, t: 1000 + i, p: i & 1 }));
  const enc = new AerWordEncoder('xytp64');
  const words = enc.encode(packet);
  const g1 = Uint8Array.from([0xaa, 0xbb, 0xcc]);
  const g2 = Uint8Array.from({ length: 21 }, (_, i) => (i * 29) & 0xff);
  const data = Buffer.concat([words.subarray(0, 160), g1, words.subarray(160, 320), g2, words.subarray(320)]);
  const run = (sizes?: number[]) => {
    const d = new AerWordDecoder('xytp64');
    const s = sink();
    if (!sizes) d.pushStream(data, 0, 0, s.out, s.report);
    else for (let o = 0, k = 0; o < data.length; o += sizes[k++ % sizes.length]!) d.pushStream(data.subarray(o, o + sizes[k % sizes.length]!), o, 0, s.out, s.report);
    d.endStream(s.report);
    return s;
  };
  const whole = run();
  assert.deepEqual(whole.ev, list);
  assert.deepEqual(
    whole.bad.map(([r, o]) => [r, o]),
    [
      ['framing', 160],
      ['framing', 323],
    ],
  );
  assert.match(whole.bad[1]![2], /21 bytes skipped/);
  for (const seed of [3, 4]) {
    const r = run(chunkSizes(seed, 1000, 11));
    assert.deepEqual([r.ev, r.bad], [whole.ev, whole.bad]);
  }
  // A cut word at the end of the stream is reported as truncated.
  const d = new AerWordDecoder('xytp64');
  const s = sink();
  d.pushStream(words.subarray(0, 13), 0, 0, s.out, s.report);
  d.endStream(s.report);
  assert.equal(s.ev.length, 1);
  assert.deepEqual(s.bad.map(([r, o]) => [r, o]), [['framing', 8]]);
});

test('frame payloads: a length that is not whole words is one parse error; invalid layouts are refused', () => {
  const s = sink();
  new AerWordDecoder('addr15-p1').decodeFrame(Uint8Array.from([1, 2, 3]), 77, 5, s.out, s.report);
  assert.deepEqual(s.ev, []);
  assert.equal(s.bad[0]![0], 'parse');
  assert.equal(s.bad[0]![1], 77);
  assert.throws(() => resolveLayout({ wordBytes: 4, endian: 'little', x: { shift: 0, bits: 8 }, y: { shift: 4, bits: 8 } }), /overlap/);
  assert.throws(() => resolveLayout({ wordBytes: 2, endian: 'little', x: { shift: 10, bits: 8 } }), /does not fit/);
  assert.throws(() => resolveLayout({ wordBytes: 3 as 2, endian: 'little', x: { shift: 0, bits: 8 } }), /wordBytes/);
  assert.throws(() => resolveLayout({ wordBytes: 4, endian: 'little', y: { shift: 0, bits: 8 } }), /address field or an x field/);
  assert.throws(() => resolveLayout('nope' as AerPreset), /unknown AER preset/);
  const enc = new AerWordEncoder('dt16-x8-y7-p1');
  assert.equal(enc.encode(packetFromArrays({ x: [300, 3], y: [0, 200], t: [0, 0], p: [1, 1] })).length, 0);
  assert.equal(enc.stats.outOfRange, 2);
});
