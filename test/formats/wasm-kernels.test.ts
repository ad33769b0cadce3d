// The EVT 2.0 and DAT WASM kernels against the TypeScript reference loop: identical events, side data and
// errors on the real recordings, under any chunking, and on synthetic edge cases that make the
// kernel hand words back to the reference (loops, backward steps, triggers, unknown words).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelInfo } from '../../src/formats/wasm-kernels.js';
import { decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { readShared } from '../helpers/shared-data.js';
import { chunkSizes, eventChecksum, sideCounts } from '../helpers/chunking.js';

test('the WASM kernels are built and load (npm ci builds dist/wasm)', () => {
  assert.deepEqual(kernelInfo(), { evt2: 'wasm', dat: 'wasm' });
});

function same(a: Decoded, b: Decoded, what: string): void {
  assert.equal(eventChecksum(a), eventChecksum(b), `${what}: events differ`);
  assert.deepEqual(sideCounts(a), sideCounts(b), `${what}: side data differs`);
  assert.deepEqual(a.errors.map((e) => e.toJSON()), b.errors.map((e) => e.toJSON()), `${what}: errors differ`);
}

for (const file of ['evt2_expelliarmus_sample.raw', 'evt2_sparklers.raw']) {
  test(`${file}: WASM and TypeScript loops give identical results, whole and chunked`, () => {
    const bytes = readShared(file);
    const js = decodeBuffer(bytes, 'evt2', { kernel: 'js' });
    same(decodeBuffer(bytes, 'evt2', { kernel: 'wasm' }), js, 'whole');
    same(decodeBuffer(bytes, 'evt2', { kernel: 'wasm', chunkSizes: chunkSizes(9, 1000, 70_000) }), js, 'chunked');
  });
}

/** A RAW EVT2 file from words. */
function evt2File(words: number[]): Uint8Array {
  const header = new TextEncoder().encode('% evt 2.0\n% format EVT2;height=480;width=640\n% end\n');
  const out = new Uint8Array(header.length + words.length * 4);
  out.set(header);
  const view = new DataView(out.buffer, header.length);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return out;
}
const TH = (us: number) => (0x8 << 28) | ((us / 64) & 0x0fffffff);
const CD = (p: number, x: number, y: number, low: number) => (p << 28) | (low << 22) | (x << 11) | y;

test('synthetic stream: 34-bit loops, backward steps, triggers, monitoring, unknown words, events before the first TIME_HIGH', () => {
  const words: number[] = [CD(1, 5, 5, 1), CD(0, 6, 6, 2)]; // before any TIME_HIGH: dropped
  const top = 2 ** 34 - 64 * 5; // within OpenEB's 10·64 µs of the counter's end, so the drop to 0 is a loop
  for (let k = 0; k < 30_000; k++) {
    const th = k < 10_000 ? 640 * k : k < 20_000 ? top - 64 * (19_999 - k) : 64 * (k - 20_000); // loops after k = 20,000
    words.push(TH(th % 2 ** 34));
    words.push(CD(k & 1, k % 640, k % 480, k % 64));
    if (k % 997 === 0) words.push((0xa << 28) | (3 << 22) | (2 << 8) | 1); // trigger
    if (k % 1499 === 0) words.push((0xe << 28) | 0x14); // monitoring
    if (k % 2003 === 0) words.push(0x3 << 28); // unknown type
    if (k % 2500 === 0) words.push(TH(Math.max(0, th - 128) % 2 ** 34)); // small step back
  }
  const bytes = evt2File(words);
  const js = decodeBuffer(bytes, 'evt2', { kernel: 'js' });
  assert.ok(js.errors.length > 0 && (sideCounts(js).trigger ?? 0) > 0 && (sideCounts(js).monitor ?? 0) > 0);
  const all = js.packets.flatMap((p) => [...p.t]);
  assert.ok(all[all.length - 1]! > 2 ** 34, 'the loop was counted');
  same(decodeBuffer(bytes, 'evt2', { kernel: 'wasm' }), js, 'whole');
  same(decodeBuffer(bytes, 'evt2', { kernel: 'wasm', chunkSizes: chunkSizes(4, 500, 3000) }), js, 'chunked');
});

test("kernel: 'wasm' or 'js' is honoured and a bad choice names the option", () => {
  assert.throws(() => decodeBuffer(evt2File([]), 'evt2', { kernel: 'gpu' }), /kernel must be 'auto', 'wasm' or 'js'/);
});

for (const file of ['dat_ncars_obj_004397_td.dat', 'dat_tonic_sample_ncars.dat']) {
  test(`${file}: DAT WASM and TypeScript loops give identical results, whole and chunked`, () => {
    const bytes = readShared(file);
    const js = decodeBuffer(bytes, 'dat', { kernel: 'js' });
    same(decodeBuffer(bytes, 'dat', { kernel: 'wasm' }), js, 'whole');
    same(decodeBuffer(bytes, 'dat', { kernel: 'wasm', chunkSizes: chunkSizes(5, 1000, 3000) }), js, 'chunked');
  });
}

test('synthetic DAT: 32-bit timestamp wraps, small backward jitter and bad polarity records, across kernel slices', () => {
  const header = new TextEncoder().encode('% Data file containing CD events\n% Version 2\n% Width 640\n% Height 480\n');
  const n = 300_000; // more than one kernel input slice (131,072 records)
  const out = new Uint8Array(header.length + 2 + n * 8);
  out.set(header);
  out[header.length] = 12; // EventCD
  out[header.length + 1] = 8;
  const view = new DataView(out.buffer, header.length + 2);
  let t = 2 ** 32 - 50_000;
  for (let i = 0; i < n; i++) {
    t = (t + 1 + (i % 3)) % 2 ** 32; // wraps once
    const ts = i % 5000 === 7 ? (t - 3 + 2 ** 32) % 2 ** 32 : t; // small step back: not a wrap
    const p = i % 40_000 === 11 ? 7 : i & 1; // polarity field 7: a bad record
    view.setUint32(i * 8, ts, true);
    view.setUint32(i * 8 + 4, ((p << 28) | ((i % 480) << 14) | (i % 640)) >>> 0, true);
  }
  const js = decodeBuffer(out, 'dat', { kernel: 'js' });
  assert.ok(js.errors.length >= 7, 'bad records reported');
  const last = js.packets[js.packets.length - 1]!;
  assert.ok(last.t[last.length - 1]! > 2 ** 32, 'the wrap was counted');
  same(decodeBuffer(out, 'dat', { kernel: 'wasm' }), js, 'whole');
  same(decodeBuffer(out, 'dat', { kernel: 'wasm', chunkSizes: chunkSizes(6, 300, 200_000) }), js, 'chunked');
});
