// Our LZ4/ZSTD frame handling against the reference command-line tools (Debian lz4 and zstd):
// frames they write decode here, frames we write decode there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { decompressPayload, lz4CompressFrame, lz4DecompressFrame } from '../../src/formats/inivation/aedat4/compression.js';
import { Compression } from '../../src/formats/inivation/aedat4/schema.js';
import { readShared } from '../helpers/shared-data.js';

function tool(cmd: string, args: string[], input: Uint8Array): Uint8Array {
  const r = spawnSync(cmd, args, { input });
  if (r.error) throw new Error(`${cmd} is needed for this test (apt-get install -y ${cmd}): ${r.error.message}`);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

// Event-like data: a real recording's bytes (mixed runs and noise), several sizes across the 64 KiB block size.
const data = readShared('evt3_expelliarmus_sample.raw');
const sizes = [0, 1, 1000, 65536, 65537, 300_000, data.length];

for (const n of sizes) {
  const src = data.subarray(0, n);
  test(`lz4 CLI frame (${n} bytes, linked and independent blocks, checksums) decodes here`, () => {
    for (const flags of [['-BD'], ['-BI', '--content-size'], ['-BD', '-B4', '--no-frame-crc'], ['-9', '-BD']]) {
      const frame = tool('lz4', ['-c', '-q', ...flags], src);
      assert.deepEqual(lz4DecompressFrame(frame), src, `lz4 ${flags.join(' ')}`);
    }
  });
  test(`our LZ4 frame (${n} bytes) decodes with the lz4 CLI`, () => {
    assert.deepEqual(tool('lz4', ['-d', '-c', '-q'], lz4CompressFrame(src)), src);
  });
  test(`zstd CLI frame (${n} bytes) decodes here`, () => {
    for (const level of ['-1', '-19']) {
      const frame = tool('zstd', ['-c', '-q', level], src);
      assert.deepEqual(decompressPayload(Compression.ZSTD, frame), src);
    }
  });
}

test('a damaged lz4 CLI frame is an error, not wrong bytes (content checksum verified)', () => {
  const clean = tool('lz4', ['-c', '-q', '-BD'], data.subarray(0, 100_000));
  for (const at of [0.3, 0.5, 0.9]) {
    const frame = clean.slice();
    frame[Math.floor(frame.length * at)] ^= 0x01;
    assert.throws(() => lz4DecompressFrame(frame), /LZ4 frame/);
  }
});
