/** CRC, COBS, SLIP and the incremental deframer: reference vectors, chunking invariance, garbage resync. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc16Ccitt, crc32, appendCrc, checkCrc } from '../../src/formats/serial/crc.js';
import { cobsDecode, cobsEncode, cobsSuffixStarts } from '../../src/formats/serial/cobs.js';
import { slipDecode, slipEncode, slipSuffixStarts } from '../../src/formats/serial/slip.js';
import { Deframer, encodeFrame, type FrameKind } from '../../src/formats/serial/deframer.js';
import type { CrcKind } from '../../src/formats/serial/crc.js';
import { chunkSizes } from '../helpers/chunking.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Deterministic pseudo-random payloads rich in delimiter and escape bytes. */
function payloads(seed: number, count: number): Uint8Array[] {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  const special = [0x00, 0xc0, 0xdb, 0xdc, 0xdd, 0xff];
  return Array.from({ length: count }, (_, k) => Uint8Array.from({ length: 1 + ((k * 37) % 600) }, () => (next() < 60 ? special[next() % special.length]! : next())));
}

interface Seen {
  frames: { payload: string; offset: number }[];
  bad: { reason: string; offset: number; detail: string }[];
}

function deframe(kind: FrameKind, crc: CrcKind, data: Uint8Array, sizes?: number[], maxFrameBytes?: number): Seen {
  const d = new Deframer(kind, { crc, maxFrameBytes });
  const seen: Seen = { frames: [], bad: [] };
  const sink = { frame: (p: Uint8Array, offset: number) => seen.frames.push({ payload: hex(p), offset }), bad: (reason: string, offset: number, detail: string) => seen.bad.push({ reason, offset, detail }) };
  if (!sizes) d.push(data, sink);
  else for (let o = 0, k = 0; o < data.length; o += sizes[k++ % sizes.length]!) d.push(data.subarray(o, o + sizes[k % sizes.length]!), sink);
  d.end(sink);
  return seen;
}

test('CRC check values: CRC-16/CCITT-FALSE("123456789") = 0x29B1, CRC-32("123456789") = 0xCBF43926', () => {
  const nine = new TextEncoder().encode('123456789');
  assert.equal(crc16Ccitt(nine), 0x29b1);
  assert.equal(crc32(nine), 0xcbf43926);
  assert.equal(crc16Ccitt(new Uint8Array(0)), 0xffff);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(hex(appendCrc(nine, 'crc16')), hex(nine) + 'b129');
  assert.equal(hex(appendCrc(nine, 'crc16', 'big')), hex(nine) + '29b1');
  assert.equal(hex(appendCrc(nine, 'crc32')), hex(nine) + '2639f4cb');
  assert.equal(hex(checkCrc(appendCrc(nine, 'crc32'), 'crc32')!), hex(nine));
  const bad = appendCrc(nine, 'crc32');
  bad[3]! ^= 1;
  assert.equal(checkCrc(bad, 'crc32'), undefined);
  assert.equal(checkCrc(bytes(1), 'crc16'), undefined);
});

test('COBS reference vectors (Cheshire & Baker / Wikipedia) and round trips', () => {
  const cases: [number[], number[]][] = [
    [[0x00], [0x01, 0x01]],
    [[0x00, 0x00], [0x01, 0x01, 0x01]],
    [[0x00, 0x11, 0x00], [0x01, 0x02, 0x11, 0x01]],
    [[0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]],
    [[0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]],
    [[0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]],
  ];
  for (const [raw, enc] of cases) {
    assert.deepEqual([...cobsEncode(Uint8Array.from(raw))], enc);
    assert.deepEqual([...(cobsDecode(Uint8Array.from(enc)) as Uint8Array)], raw);
  }
  const run254 = Uint8Array.from({ length: 254 }, (_, i) => i + 1);
  assert.deepEqual([...cobsEncode(run254)], [0xff, ...run254]);
  const run255 = Uint8Array.from({ length: 255 }, (_, i) => i); // 00 01 … FE
  assert.deepEqual([...cobsEncode(run255)], [0x01, 0xff, ...run255.subarray(1)]);
  const run255b = Uint8Array.from({ length: 255 }, (_, i) => i + 1); // 01 … FF
  assert.deepEqual([...cobsEncode(run255b)], [0xff, ...run255b.subarray(0, 254), 0x02, 0xff]);
  assert.deepEqual([...(cobsDecode(Uint8Array.from([0xff, ...run254, 0x01])) as Uint8Array)], [...run254], 'the non-minimal form decodes too');
  for (const p of payloads(7, 50)) {
    const e = cobsEncode(p);
    assert.ok(!e.includes(0), 'no zero in the encoding');
    assert.ok(e.length <= p.length + Math.ceil(p.length / 254) + 1);
    assert.equal(hex(cobsDecode(e) as Uint8Array), hex(p));
  }
  assert.match(cobsDecode(bytes(0x05, 0x11)) as string, /runs past the frame end/);
  assert.match(cobsDecode(bytes(0x02, 0x00)) as string, /zero byte/);
});

test('SLIP (RFC 1055) escapes and round trips; an invalid escape is named', () => {
  assert.deepEqual([...slipEncode(bytes(0xc0, 0xdb, 0x01))], [0xdb, 0xdc, 0xdb, 0xdd, 0x01]);
  assert.deepEqual([...(slipDecode(bytes(0xdb, 0xdc, 0xdb, 0xdd, 0x01)) as Uint8Array)], [0xc0, 0xdb, 0x01]);
  for (const p of payloads(11, 50)) {
    const e = slipEncode(p);
    assert.ok(!e.includes(0xc0));
    assert.equal(hex(slipDecode(e) as Uint8Array), hex(p));
  }
  assert.match(slipDecode(bytes(0x01, 0xdb, 0x05)) as string, /invalid SLIP escape 0xdb 0x05 at frame byte 1/);
  assert.match(slipDecode(bytes(0x01, 0xdb)) as string, /ends in an ESC/);
});

for (const kind of ['cobs', 'slip'] as const) {
  for (const crc of ['none', 'crc16', 'crc32'] as const) {
    test(`${kind}/${crc}: identical frames, offsets and errors for any chunking, with garbage between frames`, () => {
      const ps = payloads(kind.length * 31 + crc.length, 40);
      const parts: Uint8Array[] = [];
      const offsets: number[] = [];
      let o = 0;
      ps.forEach((p, k) => {
        if (k % 9 === 4) {
          // garbage with a delimiter in it (so it stays its own frame) before this frame
          const g = kind === 'cobs' ? bytes(0x07, 0x01, 0x02, 0x00) : bytes(0x01, 0xdb, 0x07, 0xc0);
          parts.push(g);
          o += g.length;
        }
        const f = encodeFrame(kind, p, crc);
        parts.push(f);
        offsets.push(o + 1); // after the leading delimiter
        o += f.length;
      });
      const data = Buffer.concat(parts);
      const whole = deframe(kind, crc, data);
      assert.deepEqual(
        whole.frames.map((f) => f.payload),
        ps.map(hex),
      );
      assert.deepEqual(
        whole.frames.map((f) => f.offset),
        offsets,
      );
      assert.equal(whole.bad.length, 4);
      assert.ok(whole.bad.every((b) => b.reason === 'framing'));
      for (const seed of [1, 2, 3]) assert.deepEqual(deframe(kind, crc, data, chunkSizes(seed, 500, 97)), whole);
      assert.deepEqual(deframe(kind, crc, data, [1]), whole);
    });
  }
}

test('garbage without a delimiter running into a frame: with a CRC the frame after it is recovered; without one the frames around it stay intact', () => {
  const p = Uint8Array.from({ length: 40 }, (_, i) => (i * 13) & 0xff);
  const garbage = Uint8Array.from({ length: 25 }, (_, i) => 0x41 + i);
  for (const kind of ['cobs', 'slip'] as const) {
    const tight = encodeFrame(kind, p, 'crc32', 'little', false);
    const data = Buffer.concat([encodeFrame(kind, p, 'crc32'), garbage, tight, encodeFrame(kind, p, 'crc32')]);
    const seen = deframe(kind, 'crc32', data);
    assert.equal(seen.frames.length, 3, kind);
    const start = encodeFrame(kind, p, 'crc32').length;
    assert.deepEqual(seen.frames[1], { payload: hex(p), offset: start + garbage.length });
    assert.equal(seen.bad.length, 1);
    assert.equal(seen.bad[0]!.offset, start);
    assert.match(seen.bad[0]!.detail, /a valid frame follows 25 bytes of garbage/);

    const plain = Buffer.concat([encodeFrame(kind, p), garbage, encodeFrame(kind, p, 'none', 'little', false), encodeFrame(kind, p)]);
    const lost = deframe(kind, 'none', plain);
    // Without a CRC the glued frame decodes as one longer payload (COBS may even call it valid): the
    // point is that the frames around it are intact.
    assert.equal(lost.frames[0]!.payload, hex(p));
    assert.equal(lost.frames[lost.frames.length - 1]!.payload, hex(p));
  }
});

test('a CRC mismatch is reported as crc with the frame offset; an over-long frame as framing; a truncated tail at end', () => {
  const p = bytes(1, 2, 3, 4, 5);
  const good = encodeFrame('slip', p, 'crc16');
  const corrupt = good.slice();
  corrupt[3]! ^= 0x10;
  const data = Buffer.concat([good, corrupt, encodeFrame('slip', new Uint8Array(300).fill(7), 'crc16'), good, good.subarray(0, 4)]);
  const seen = deframe('slip', 'crc16', data, undefined, 64);
  assert.equal(seen.frames.length, 2);
  assert.deepEqual(
    seen.bad.map((b) => [b.reason, b.offset]),
    [
      ['crc', good.length + 1],
      ['framing', 2 * good.length + 1],
      ['framing', data.length - 3],
    ],
  );
  assert.match(seen.bad[1]!.detail, /longer than 64 bytes/);
  assert.match(seen.bad[2]!.detail, /truncated slip frame/);
});

test('suffix scans used for recovery agree with decoding every suffix one by one', () => {
  let seed = 99;
  const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24) & 0xff;
  for (let k = 0; k < 200; k++) {
    // Non-zero noise with a valid COBS / SLIP encoding at the end, and escape bytes sprinkled in.
    const noise = Uint8Array.from({ length: 1 + (k % 40) }, () => (k % 3 === 0 && rnd() < 40 ? 0xdb : rnd() | 1));
    const payload = Uint8Array.from({ length: k % 50 }, rnd);
    const cobs = Buffer.concat([noise.map((b) => (b === 0xc0 ? 1 : b)), cobsEncode(payload)]);
    const ok = cobsSuffixStarts(cobs);
    for (let s = 0; s <= cobs.length; s++) assert.equal(ok[s] === 1, s === cobs.length || typeof cobsDecode(cobs.subarray(s)) !== 'string', `cobs k=${k} s=${s}`);
    const slip = Buffer.concat([noise.map((b) => (b === 0xc0 ? 1 : b)), slipEncode(payload)]);
    const { bytes, starts } = slipSuffixStarts(slip);
    for (let s = 0; s < slip.length; s++) {
      if (starts[s]! < 0) continue;
      const d = slipDecode(slip.subarray(s));
      assert.ok(typeof d !== 'string', `slip k=${k} s=${s}: claimed valid`);
      assert.equal(hex(bytes.subarray(starts[s]!)), hex(d), `slip k=${k} s=${s}`);
    }
    assert.ok(starts[noise.length]! >= 0 || noise.includes(0xdb), `slip k=${k}: the frame start is a candidate`);
  }
});
