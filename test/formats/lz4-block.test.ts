import { test } from 'node:test';
import assert from 'node:assert/strict';
import lz4js from 'lz4js';
import { lz4DecodeBlock, Lz4BlockError } from '../../src/formats/lz4-block.js';

/** Deterministic data with long runs, short repeats and noise: exercises every copy path. */
function sample(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = 12345;
  for (let i = 0; i < n; ) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const kind = s % 4;
    const len = 1 + ((s >>> 8) % 300);
    for (let k = 0; k < len && i < n; k++, i++) out[i] = kind === 0 ? 7 : kind === 1 ? (i % 3) : kind === 2 ? out[Math.max(0, i - 40)]! : (s >>> (k % 24)) & 255;
  }
  return out;
}

test('decodes blocks written by an independent LZ4 compressor (lz4js) exactly', () => {
  for (const n of [0, 1, 15, 100, 4096, 65536, 200_000]) {
    const src = sample(n);
    const bound = lz4js.compressBound(n);
    const comp = new Uint8Array(bound);
    const hashTable = new Uint32Array(65536);
    const clen = lz4js.compressBlock(src, comp, 0, n, hashTable);
    if (clen === 0) continue; // incompressible: lz4js stores it raw
    const out = new Uint8Array(n);
    assert.equal(lz4DecodeBlock(comp, 0, clen, out, 0), n);
    assert.deepEqual(out, src);
  }
});

test('overlapping matches replicate (RLE) and long matches copy in bulk', () => {
  // literal 'ab', then match offset 2 length 20 → 'abab…'; then literal-free end needs a final literal
  const block = Uint8Array.of(0x2f, 0x61, 0x62, 0x02, 0x00, 20 - 19, 0x10, 0x7a);
  const out = new Uint8Array(2 + 20 + 1);
  assert.equal(lz4DecodeBlock(block, 0, block.length, out, 0), 23);
  assert.equal(new TextDecoder().decode(out), 'ab'.repeat(11) + 'z');
});

test('corrupt blocks throw instead of reading or writing out of range', () => {
  const out = new Uint8Array(64);
  assert.throws(() => lz4DecodeBlock(Uint8Array.of(0x10, 0x61, 0x05, 0x00), 0, 4, out, 0), /offset 5 reaches before/);
  assert.throws(() => lz4DecodeBlock(Uint8Array.of(0xf0, 0xff), 0, 2, out, 0), Lz4BlockError);
  assert.throws(() => lz4DecodeBlock(Uint8Array.of(0x50, 0x61), 0, 2, out, 0), /past the block/);
  assert.throws(() => lz4DecodeBlock(Uint8Array.of(0x1f, 0x61, 0x01, 0x00, 0xff, 0xff, 0x00), 0, 7, out, 0), /overflows the output/);
});
