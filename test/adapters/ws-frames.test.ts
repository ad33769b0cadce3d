// FrameAccumulator: per-window counts from the touched pixels only, buffers reused between windows,
// and the encoders' output equal to that of a frame without the non-zero list (a full scan).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameAccumulator, decodeFrame, encodeFrame, frameFromJson, frameToJson, type CountFrame } from '../../adapters/ws-frames.js';
import { packetOf } from '../../src/events/packet.js';
import { jsonFrameMessage, serverFrame } from '../../adapters/ws-server.js';
import { Rng } from '../../src/emulator/rng.js';

for (const [W, H] of [
  [40, 30], // busy frames: no list, dense layout
  [128, 96], // busy enough for no list, sparse enough for the sparse layout: found by scanning
  [640, 480], // sparse frames: with the sorted list
] as const) {
  test(`frames ${W}x${H}: counts per window match a direct count, only touched pixels are cleared, encodings match a full scan`, () => {
  const rng = new Rng(3, 4);
  const n = 20000;
  const x = new Uint16Array(n);
  const y = new Uint16Array(n);
  const t = new Float64Array(n);
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // Events clustered in a few pixels so some saturate at 255; times ascending over ~10 windows.
    x[i] = rng.uniform() < 0.5 ? 5 : Math.floor(rng.uniform() * W);
    y[i] = rng.uniform() < 0.5 ? 7 : Math.floor(rng.uniform() * H);
    t[i] = i * 0.5;
  }
  const acc = new FrameAccumulator(1000);
  const frames: { f: CountFrame; counts: Uint8Array; nonZero: Int32Array | undefined; bytes: Uint8Array; json: string }[] = [];
  let buffer: Uint8Array | undefined;
  const emit = (f: CountFrame) => {
    // Encoded now, while the buffers are valid; copies kept for the checks.
    frames.push({ f, counts: f.counts.slice(), nonZero: f.nonZero?.slice(), bytes: encodeFrame(f), json: frameToJson(f) });
    if (buffer) assert.equal(f.counts, buffer, 'the counts buffer is reused');
    buffer = f.counts;
  };
  // In packets of uneven size, so windows straddle packets.
  for (let at = 0; at < n; ) {
    const len = Math.min(n - at, 1 + Math.floor(rng.uniform() * 3000));
    acc.add(packetOf(x.subarray(at, at + len), y.subarray(at, at + len), t.subarray(at, at + len), p.subarray(at, at + len), { width: W, height: H }, { format: 'test' }), emit);
    at += len;
  }
  acc.flush(emit);
  assert.equal(frames.length, 10);
  for (const [k, fr] of frames.entries()) {
    const want = new Uint8Array(W * H);
    let events = 0;
    for (let i = 0; i < n; i++) {
      if (Math.floor(t[i]! / 1000) !== k) continue;
      events++;
      const j = y[i]! * W + x[i]!;
      if (want[j]! < 255) want[j]!++;
    }
    assert.deepEqual(Array.from(fr.counts), Array.from(want), `window ${k} counts`);
    assert.equal(fr.f.events, events);
    const nz = Array.from(want.keys()).filter((j) => want[j]! > 0);
    // A sparse frame (under 1/64 of the pixels) comes with its list; a busy one without.
    if (nz.length * 64 < W * H) assert.deepEqual(Array.from(fr.nonZero!), nz, `window ${k}: non-zero list ascending and complete`);
    else assert.equal(fr.nonZero, undefined, `window ${k}: busy, no list`);
    // Without the list (a plain frame), the encoders scan every pixel: the same bytes and JSON.
    const plain = { ...fr.f, counts: fr.counts, nonZero: undefined, nonZeroCount: undefined };
    assert.equal(fr.f.nonZeroCount, nz.length, `window ${k}: non-zero count`);
    assert.deepEqual(fr.bytes, encodeFrame(plain));
    assert.equal(fr.json, frameToJson(plain));
    // Counts at an odd offset (no 4-byte words): the same again.
    const odd = new Uint8Array(fr.counts.length + 1).subarray(1);
    odd.set(fr.counts);
    assert.deepEqual(fr.bytes, encodeFrame({ ...plain, counts: odd }));
    assert.deepEqual(Array.from(decodeFrame(fr.bytes).counts), Array.from(want));
    assert.deepEqual(Array.from(frameFromJson(JSON.parse(fr.json).frame).counts), Array.from(want));
  }
  assert.ok(frames.some((fr) => fr.counts.includes(255)), 'a saturated pixel was exercised');
  assert.ok(frames.every((fr) => (fr.nonZero !== undefined) === (W === 640)), 'the list comes with the sparse frames only');
  // The layout each size is for (byte 0 of the payload's layout is checked through decodeFrame above).
  const sparse = frames.filter((fr) => fr.json.includes('"layout":"sparse"')).length;
  assert.equal(sparse, W === 40 ? 0 : frames.length, `${W}x${H}: sparse layouts`);
  // After the last emit the shared buffer is clear again.
  assert.ok(buffer!.every((c) => c === 0));
});
}

test('jsonFrameMessage: the WebSocket frame of frameToJson\'s text, built in one buffer (short, 16-bit and 64-bit lengths, a non-ASCII source)', () => {
  const frame = (width: number, height: number, source: string, lit: number): CountFrame => {
    const counts = new Uint8Array(width * height);
    for (let i = 0; i < lit; i++) counts[(i * 7919) % counts.length] = 1 + (i % 255);
    return { sequence: 3, source, width, height, windowStartUs: 66_666, windowUs: 33_333, events: lit, counts };
  };
  const lengths = new Set<number>();
  for (const f of [frame(4, 4, 'cam', 1), frame(64, 48, 'caméra ✓', 200), frame(640, 480, 'evt2 sparklers', 150_000)]) {
    const { data, frame: framed } = jsonFrameMessage(f);
    const text = frameToJson(f);
    assert.equal(data.toString('utf8'), text);
    assert.deepEqual(framed, serverFrame(Buffer.from(text), false));
    assert.equal(data.buffer, framed.buffer, 'data is a view of the frame');
    lengths.add(framed[1]! & 0x7f);
    assert.deepEqual(frameFromJson(JSON.parse(data.toString('utf8')).frame).counts, f.counts);
  }
  // A 7-bit length (under 126 bytes) cannot occur: the keys alone are longer. 16-bit and 64-bit do.
  assert.ok(lengths.has(126) && lengths.has(127), [...lengths].join(','));
});
