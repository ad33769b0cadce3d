// The WebAssembly decode kernels (src/wasm/*.as.ts, loaded by src/formats/wasm-kernels.ts) against the
// TypeScript reference loops: identical events, side data and errors on every shared RAW and DAT
// recording, under any chunking, and on synthetic streams built to make the kernels hand words back
// to the reference (loops, step-backs, triggers, monitoring, IMU, EM mode, unknown words, CONTINUED,
// a full staging area) — with hand-computed events for small streams, so both paths are also checked
// against the format itself. The kernels must be built (npm ci runs npm run build): these tests fail,
// not skip, when they are missing.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBuilder } from '../../src/events/builder.js';
import { concatPackets, type EventPacket } from '../../src/events/packet.js';
import type { SideBatch } from '../../src/events/side.js';
import { allEvents, collect, decodeBuffer, type Decoded } from '../../src/formats/decode-all.js';
import { createDecoder } from '../../src/formats/registry.js';
import type { DecodeError } from '../../src/formats/types.js';
import lz4js from 'lz4js';
import { lz4DecodeBlock } from '../../src/formats/lz4-block.js';
import { decodeDatRecordsWasm, kernel, kernelInfo, lz4DecodeBlockFast, lz4Kernel, type Lz4Kernel } from '../../src/formats/wasm-kernels.js';
import { MONITOR_EM_ROW, MONITOR_IMU } from '../../src/formats/prophesee/timebase.js';
import { assertChunkingInvariant, chunkSizes, eventChecksum } from '../helpers/chunking.js';
import { readShared, REPO_ROOT } from '../helpers/shared-data.js';

test('the WASM kernels are built and load (npm ci builds dist/wasm), and the decoders use them by default', () => {
  assert.deepEqual(kernelInfo(), { evt2: 'wasm', evt21: 'wasm', evt3: 'wasm', dat: 'wasm', lz4: 'wasm' });
});

test("option kernel: a bad choice names the option; 'js' and 'wasm' are accepted", () => {
  const file = evt2File([TH(64)]);
  assert.throws(() => decodeBuffer(file, 'evt2', { kernel: 'gpu' }), /kernel must be 'auto', 'wasm' or 'js'/);
  for (const k of ['js', 'wasm', 'auto']) assert.equal(decodeBuffer(file, 'evt2', { kernel: k }).errors.length, 0);
});

test("without the kernel files the decoders fall back to the TypeScript loops, kernelInfo() says why, and kernel: 'wasm' is refused", () => {
  const script = `
    import { kernelInfo } from './src/formats/wasm-kernels.ts';
    import { decodeBuffer, allEvents } from './src/formats/decode-all.ts';
    import { readShared } from './test/helpers/shared-data.ts';
    const info = kernelInfo();
    const n = allEvents(decodeBuffer(readShared('evt3_pedestrians_small.raw'), 'evt3')).length;
    let refused = '';
    try { decodeBuffer(readShared('evt3_pedestrians_small.raw'), 'evt3', { kernel: 'wasm' }); } catch (e) { refused = e.message; }
    console.log(JSON.stringify({ info, n, refused }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, SPIKEFLOW_WASM_DIR: join(REPO_ROOT, 'test', 'no-such-dir') },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { info: Record<string, string>; n: number; refused: string };
  for (const name of ['evt2', 'evt21', 'evt3', 'dat', 'lz4']) assert.match(out.info[name]!, new RegExp(`^js \\(.*${name}\\.wasm not found: run npm run build\\)$`));
  assert.equal(out.n, 5000, 'decoded by the TypeScript loop');
  assert.match(out.refused, /the evt3 WASM kernel is unavailable: js \(/);
});

// ---------------------------------------------------------------------------------------------
// Comparison helpers

interface Events {
  x: number[];
  y: number[];
  t: number[];
  p: number[];
}

function eventsOf(d: Decoded): Events {
  const e = allEvents(d);
  return { x: [...e.x], y: [...e.y], t: [...e.t], p: [...e.p] };
}

/** Side data as plain values, batch boundaries removed (they follow push boundaries). */
function sideOf(d: Decoded): Record<string, number[][]> {
  const out: Record<string, number[][]> = {};
  for (const s of d.side) {
    const rows = (out[s.kind] ??= []);
    if (s.kind === 'trigger') for (let i = 0; i < s.length; i++) rows.push([s.t[i]!, s.id[i]!, s.value[i]!]);
    else if (s.kind === 'monitor') for (let i = 0; i < s.length; i++) rows.push([s.t[i]!, s.subtype[i]!]);
    else rows.push([-1]); // other kinds do not occur in RAW / DAT streams
  }
  return out;
}

function same(a: Decoded, b: Decoded, what: string): void {
  assert.equal(allEvents(a).length, allEvents(b).length, `${what}: event counts differ`);
  assert.equal(eventChecksum(a), eventChecksum(b), `${what}: events differ`);
  assert.deepEqual(sideOf(a), sideOf(b), `${what}: side data differs`);
  assert.deepEqual(
    a.errors.map((e) => e.toJSON()),
    b.errors.map((e) => e.toJSON()),
    `${what}: errors differ`,
  );
}

/** WASM (whole, and in random chunks that cut words and misalign them) against the TypeScript loop. */
function assertKernelMatchesReference(bytes: Uint8Array, format: string, options: Record<string, unknown> = {}): Decoded {
  const js = decodeBuffer(bytes, format, { ...options, kernel: 'js' });
  same(decodeBuffer(bytes, format, { ...options, kernel: 'wasm' }), js, `${format} whole`);
  same(decodeBuffer(bytes, format, { ...options, kernel: 'wasm', chunkSizes: chunkSizes(11, 2000, 9000) }), js, `${format} chunked`);
  return js;
}

// ---------------------------------------------------------------------------------------------
// The shared recordings

const RECORDED: readonly { file: string; format: string; events: number }[] = [
  { file: 'evt2_expelliarmus_sample.raw', format: 'evt2', events: 539_481 },
  { file: 'evt2_sparklers.raw', format: 'evt2', events: 521_252 },
  { file: 'derived_evt21_little_from_sparklers.raw', format: 'evt21', events: 521_252 },
  { file: 'derived_evt21_legacy_from_sparklers.raw', format: 'evt21', events: 521_252 },
  { file: 'evt3_expelliarmus_sample.raw', format: 'evt3', events: 219_596 },
  { file: 'evt3_pedestrians_small.raw', format: 'evt3', events: 5_000 },
  { file: 'dat_ncars_obj_004397_td.dat', format: 'dat', events: 4_407 },
  { file: 'dat_tonic_sample_ncars.dat', format: 'dat', events: 2_009 },
];

for (const r of RECORDED) {
  test(`${r.file}: the WASM kernel gives the TypeScript loop's events, side data and errors (${r.events} events), whole and chunked`, () => {
    const bytes = readShared(r.file);
    const js = assertKernelMatchesReference(bytes, r.format);
    assert.equal(allEvents(js).length, r.events);
  });

  test(`${r.file}: WASM path is chunking-invariant (1..7-byte chunks on a prefix, larger ones on the whole file)`, () => {
    const bytes = readShared(r.file);
    assertChunkingInvariant(bytes.subarray(0, Math.min(bytes.length, 150_000)), r.format, { kernel: 'wasm' }, [1]);
    assertChunkingInvariant(bytes, r.format, { kernel: 'wasm' }, [2, 3]);
  });
}

test('decoders sharing one kernel instance, pushed alternately, each get their own result', () => {
  const files = ['evt3_expelliarmus_sample.raw', 'evt3_pedestrians_small.raw', 'evt2_sparklers.raw', 'evt2_expelliarmus_sample.raw'] as const;
  const formats = ['evt3', 'evt3', 'evt2', 'evt2'];
  const bytes = files.map((f) => readShared(f));
  const alone = bytes.map((b, i) => eventChecksum(decodeBuffer(b, formats[i], { kernel: 'wasm' })));
  const decoders = formats.map((f) => createDecoder(f, { kernel: 'wasm' }));
  const outs = decoders.map((decoder) => ({ decoder, packets: [] as EventPacket[], side: [] as SideBatch[], errors: [] as DecodeError[] }));
  const step = 10_007; // cuts words, so the decoders also carry partial words between pushes
  for (let o = 0; outs.some((_, i) => o < bytes[i]!.length); o += step) {
    outs.forEach((out, i) => {
      if (o < bytes[i]!.length) collect(out, out.decoder.push(bytes[i]!.subarray(o, o + step)));
    });
  }
  outs.forEach((out) => collect(out, out.decoder.end()));
  assert.deepEqual(
    outs.map((out) => eventChecksum(out)),
    alone,
  );
});

test('truncated and corrupted recordings: the WASM path reports the same errors at the same offsets and keeps the same events', () => {
  for (const [file, format] of [
    ['evt2_sparklers.raw', 'evt2'],
    ['evt3_expelliarmus_sample.raw', 'evt3'],
  ] as const) {
    const bytes = readShared(file);
    const cut = bytes.subarray(0, bytes.length - 3); // ends inside a word
    const js = assertKernelMatchesReference(cut, format);
    // The data part of both files is whole words, so the cut leaves 1 byte of a word at the end.
    assert.deepEqual(
      js.errors.map((e) => [e.offset, /truncated/.test(e.message)]),
      [[cut.length - 1, true]],
    );
    // Unknown word types written over the middle of the stream (every 997th word).
    const bad = bytes.slice();
    const word = format === 'evt2' ? 4 : 2;
    const header = headerLength(bytes);
    const start = header + word * Math.floor((bytes.length - header) / word / 2);
    for (let o = start; o + word <= bad.length; o += 997 * word) bad[o + word - 1] = format === 'evt2' ? 0x30 | (bad[o + word - 1]! & 0x0f) : 0x90 | (bad[o + word - 1]! & 0x0f);
    const jsBad = assertKernelMatchesReference(bad, format);
    assert.ok(jsBad.errors.length > 10, `${file}: corrupted words reported`);
  }
});

/** Length of a RAW file's '%' header lines. */
function headerLength(bytes: Uint8Array): number {
  let o = 0;
  while (bytes[o] === 0x25) {
    while (bytes[o] !== 0x0a) o++;
    o++;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// EVT 2.0 synthetic streams

function evt2File(words: number[]): Uint8Array {
  const header = new TextEncoder().encode('% evt 2.0\n% format EVT2;height=480;width=640\n% end\n');
  const out = new Uint8Array(header.length + words.length * 4);
  out.set(header);
  const view = new DataView(out.buffer, header.length);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return out;
}
const TH = (us: number) => ((0x8 << 28) | (Math.floor(us / 64) & 0x0fffffff)) >>> 0;
const CD = (p: number, x: number, y: number, low: number) => ((p << 28) | (low << 22) | (x << 11) | y) >>> 0;
const TRIGGER2 = (value: number, id: number, low: number) => ((0xa << 28) | (low << 22) | (id << 8) | value) >>> 0;

test('EVT2 by hand: SIMD runs, a word before the time base, step back, trigger, IMU with CONTINUED words, unknown word, 34-bit loop', () => {
  const run = Array.from({ length: 21 }, (_, k) => CD(k & 1, 100 + k, 200 + k, k)); // 21 CD words: SIMD groups and a tail
  const words = [
    CD(1, 5, 5, 1), // before the first TIME_HIGH: skipped
    TH(6400),
    CD(1, 639, 479, 63), // (639, 479) at 6400 + 63
    0xf0000000, // CONTINUED: skipped
    ...run, // at 6400 + k
    TH(6336), // steps back by 64 µs: not a loop (OpenEB keeps it)
    CD(0, 0, 0, 0),
    TRIGGER2(1, 3, 5), // trigger id 3, value 1 at 6336 + 5
    (0xd << 28) >>> 0, // IMU ...
    0xf0000000, 0xf0000000, 0xf0000000, 0xf0000000, 0xf0000000, // ... and its 5 CONTINUED words
    (0x3 << 28) >>> 0, // unknown type 0x3
    CD(1, 1, 2, 3),
    TH(2 ** 34 - 64),
    CD(1, 9, 9, 10),
    TH(0), // the 34-bit counter wrapped: + 2^34
    CD(0, 7, 8, 1),
  ];
  const expected: Events = { x: [639], y: [479], t: [6463], p: [1] };
  run.forEach((_, k) => {
    expected.x.push(100 + k);
    expected.y.push(200 + k);
    expected.t.push(6400 + k);
    expected.p.push(k & 1);
  });
  for (const [x, y, t, p] of [
    [0, 0, 6336, 0],
    [1, 2, 6339, 1],
    [9, 9, 2 ** 34 - 64 + 10, 1],
    [7, 8, 2 ** 34 + 1, 0],
  ]) {
    expected.x.push(x!);
    expected.y.push(y!);
    expected.t.push(t!);
    expected.p.push(p!);
  }
  const bytes = evt2File(words);
  const header = bytes.length - words.length * 4;
  for (const kernelChoice of ['wasm', 'js']) {
    for (const sizes of [[], [1], [3, 5, 7]]) {
      const d = decodeBuffer(bytes, 'evt2', { kernel: kernelChoice, chunkSizes: sizes });
      const what = `${kernelChoice} chunks ${sizes.join(',') || 'whole'}`;
      assert.deepEqual(eventsOf(d), expected, what);
      assert.deepEqual(sideOf(d), { trigger: [[6341, 3, 1]], monitor: [[6336, MONITOR_IMU]] }, what);
      assert.deepEqual(
        d.errors.map((e) => [e.format, e.offset]),
        [['evt2', header + 4 * words.indexOf((0x3 << 28) >>> 0)]],
        what,
      );
    }
  }
});

test('EVT2 synthetic stream: loops, backward steps, triggers, monitoring, unknown words, sparse and dense CD runs', () => {
  const words: number[] = [CD(1, 5, 5, 1), CD(0, 6, 6, 2)];
  const top = 2 ** 34 - 64 * 5; // within OpenEB's 10·64 µs of the counter's end, so the drop to 0 is a loop
  let s = 12345;
  for (let k = 0; k < 30_000; k++) {
    const th = k < 10_000 ? 640 * k : k < 20_000 ? top - 64 * (19_999 - k) : 64 * (k - 20_000);
    words.push(TH(th % 2 ** 34));
    s = (s * 1103515245 + 12345) >>> 0;
    const dense = k % 100 < 30 ? 1 + (s % 40) : 1 + (s % 3); // runs long enough for SIMD, and short ones
    for (let j = 0; j < dense; j++) words.push(CD((k + j) & 1, (k + j) % 640, (k * 7 + j) % 480, (k + j) % 64));
    if (k % 997 === 0) words.push(TRIGGER2(k & 1, 2, 3));
    if (k % 1499 === 0) words.push(((0xe << 28) | 0x14) >>> 0);
    if (k % 2003 === 0) words.push((0x3 << 28) >>> 0, (0x4 << 28) >>> 0);
    if (k % 2500 === 0) words.push(TH(Math.max(0, th - 128) % 2 ** 34));
  }
  const bytes = evt2File(words);
  const js = assertKernelMatchesReference(bytes, 'evt2');
  assert.ok(js.errors.length > 0 && (sideOf(js).trigger?.length ?? 0) > 0 && (sideOf(js).monitor?.length ?? 0) > 0);
  const e = allEvents(js);
  assert.ok(e.t[e.length - 1]! > 2 ** 34, 'the loop was counted');
});

// ---------------------------------------------------------------------------------------------
// EVT 2.1 synthetic streams

/** A RAW EVT 2.1 file from [type/ts/x/y half, mask half] pairs, in either word order. */
function evt21File(words: [number, number][], order: 'little' | 'legacy'): Uint8Array {
  const header = new TextEncoder().encode(`% evt 2.1\n% endianness ${order}\n% format EVT21;height=480;width=640\n% end\n`);
  const out = new Uint8Array(header.length + words.length * 8);
  out.set(header);
  const view = new DataView(out.buffer, header.length);
  words.forEach(([h, mask], i) => {
    view.setUint32(i * 8 + (order === 'little' ? 4 : 0), h >>> 0, true);
    view.setUint32(i * 8 + (order === 'little' ? 0 : 4), mask >>> 0, true);
  });
  return out;
}

test('EVT2.1 by hand, both word orders: masks (bit 31 included), step back, trigger, OTHERS, unknown word, 34-bit loop, and a staging overflow', () => {
  const words: [number, number][] = [
    [CD(1, 1, 1, 1), 1], // before the first TIME_HIGH: skipped
    [TH(640), 0],
    [CD(1, 600, 400, 7), 0x80000005], // x 600, 602 and 631 at 647
    [CD(0, 0, 479, 0), 0], // an empty mask: no event
    [0xf0000000, 0], // CONTINUED
    [TH(576), 0], // a small step back: kept
    [TRIGGER2(1, 4, 2), 0], // trigger id 4, value 1 at 578
    [((0xe << 28) | 0x21) >>> 0, 0], // OTHERS subtype 0x21 at 576
    [(0x5 << 28) >>> 0, 0], // unknown type 0x5
    [CD(0, 10, 20, 3), 0x2], // x 11 at 579
    [TH(2 ** 34 - 64), 0],
    [TH(64), 0], // the 34-bit counter wrapped: 2^34 + 64
  ];
  const expected: Events = { x: [600, 602, 631, 11], y: [400, 400, 400, 20], t: [647, 647, 647, 579], p: [1, 1, 1, 0] };
  // 1,000 full masks: 32,000 events in a row, more than a staging area holds.
  for (let k = 0; k < 1000; k++) words.push([CD(k & 1, 8 * (k % 200), k % 480, k % 64), 0xffffffff]);
  for (let k = 0; k < 1000; k++) {
    for (let b = 0; b < 32; b++) {
      expected.x.push(8 * (k % 200) + b);
      expected.y.push(k % 480);
      expected.t.push(2 ** 34 + 64 + (k % 64));
      expected.p.push(k & 1);
    }
  }
  for (const order of ['little', 'legacy'] as const) {
    const bytes = evt21File(words, order);
    const header = bytes.length - words.length * 8;
    for (const kernelChoice of ['wasm', 'js']) {
      for (const sizes of [[], [1, 2, 3, 5, 7, 11, 13]]) {
        const d = decodeBuffer(bytes, 'evt21', { kernel: kernelChoice, chunkSizes: sizes });
        const what = `${order} ${kernelChoice} chunks ${sizes.join(',') || 'whole'}`;
        assert.deepEqual(eventsOf(d), expected, what);
        assert.deepEqual(sideOf(d), { trigger: [[578, 4, 1]], monitor: [[576, 0x21]] }, what);
        assert.deepEqual(
          d.errors.map((e) => [e.format, e.offset]),
          [['evt21', header + 8 * 8]],
          what,
        );
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// EVT 3.0 synthetic streams

function evt3File(words: number[]): Uint8Array {
  const header = new TextEncoder().encode('% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n');
  const out = new Uint8Array(header.length + words.length * 2);
  out.set(header);
  const view = new DataView(out.buffer, header.length);
  words.forEach((w, i) => view.setUint16(i * 2, w, true));
  return out;
}
const Y = (y: number) => y;
const X = (p: number, x: number) => 0x2000 | (p << 11) | x;
const BASE = (p: number, x: number) => 0x3000 | (p << 11) | x;
const V12 = (valid: number) => 0x4000 | valid;
const V8 = (valid: number) => 0x5000 | valid;
const LOW = (low: number) => 0x6000 | low;
const HIGH = (high: number) => 0x8000 | high;

test('EVT3 by hand: Y/X runs, vectors at the 2047 edge, TIME_LOW step back, trigger, EM mode, unknown and CONTINUED words, 24-bit loop', () => {
  // 8+ ADDR_Y/ADDR_X words in a row take the kernel's SIMD path: y must follow the last ADDR_Y.
  const yx = [Y(1), X(1, 100), X(0, 101), Y(2), X(1, 102), Y(3), Y(4), X(0, 103), X(1, 104), Y(5), X(0, 105), X(1, 106), X(0, 107), X(1, 108), X(0, 109), X(1, 110), X(0, 111), Y(6)];
  const words = [
    X(0, 5), // before the first TIME_HIGH: skipped
    HIGH(5), // base = time = 5 << 12 = 20480
    ...yx,
    Y(10),
    X(1, 2047), // (2047, 10) at 20480
    LOW(0x123), // 20480 + 291 = 20771
    BASE(0, 2040),
    V12(0x801), // x 2040 and 2051; base → 2052
    V8(0x81), // x 2052 and 2059; base → 2060
    LOW(0x001), // back to 20481 under the same TIME_HIGH: kept as is
    X(0, 3),
    0xa201, // trigger id 2, value 1 at 20481
    Y(700),
    X(1, 0),
    0x1005, // EM_Y: EM mode, the ADDR_X/vector words after it are not CD events
    X(1, 9), X(1, 10), X(1, 11), X(1, 12), X(1, 13), X(1, 14), X(1, 15), X(1, 16), X(1, 17),
    BASE(1, 30),
    V12(0xfff),
    Y(701), // CD mode again
    X(0, 1),
    HIGH(0xfff), // 0xfff << 12 = 16773120
    X(1, 4),
    HIGH(0), // the 24-bit counter wrapped: 16777216
    X(0, 5),
    0x9000, // unknown type 0x9
    0x7000, // CONTINUED
    0xf123, // CONTINUED
    X(1, 6),
  ];
  const expected: Events = { x: [], y: [], t: [], p: [] };
  const add = (x: number, y: number, t: number, p: number) => {
    expected.x.push(x);
    expected.y.push(y);
    expected.t.push(t);
    expected.p.push(p);
  };
  for (const [x, y, p] of [[100, 1, 1], [101, 1, 0], [102, 2, 1], [103, 4, 0], [104, 4, 1], [105, 5, 0], [106, 5, 1], [107, 5, 0], [108, 5, 1], [109, 5, 0], [110, 5, 1], [111, 5, 0]]) add(x!, y!, 20480, p!);
  add(2047, 10, 20480, 1);
  for (const x of [2040, 2051, 2052, 2059]) add(x, 10, 20771, 0);
  add(3, 10, 20481, 0);
  add(0, 700, 20481, 1);
  add(1, 701, 20481, 0);
  add(4, 701, 16773120, 1);
  add(5, 701, 16777216, 0);
  add(6, 701, 16777216, 1);
  const bytes = evt3File(words);
  const header = bytes.length - words.length * 2;
  for (const kernelChoice of ['wasm', 'js']) {
    for (const sizes of [[], [1], [2, 3, 5, 16]]) {
      const d = decodeBuffer(bytes, 'evt3', { kernel: kernelChoice, chunkSizes: sizes });
      const what = `${kernelChoice} chunks ${sizes.join(',') || 'whole'}`;
      assert.deepEqual(eventsOf(d), expected, what);
      assert.deepEqual(sideOf(d), { trigger: [[20481, 2, 1]], monitor: [[20481, MONITOR_EM_ROW]] }, what);
      assert.deepEqual(
        d.errors.map((e) => [e.format, e.offset]),
        [['evt3', header + 2 * words.indexOf(0x9000)]],
        what,
      );
    }
  }
});

test('EVT3 synthetic stream: mixed words, rare words between CD words, 24-bit loops, EM mode, and a run of VECT_12 words that overflows the staging area', () => {
  const words: number[] = [X(0, 1), Y(3)]; // before the first TIME_HIGH
  let s = 777;
  const rnd = (m: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % m;
  };
  let high = 0;
  for (let k = 0; k < 40_000; k++) {
    const r = rnd(1000);
    if (r < 300) words.push(Y(rnd(720)));
    else if (r < 700) words.push(X(rnd(2), rnd(1280)));
    else if (r < 740) words.push(BASE(rnd(2), rnd(2048)));
    else if (r < 800) words.push(V12(rnd(4096)));
    else if (r < 840) words.push(V8(rnd(256)));
    else if (r < 900) words.push(LOW(rnd(4096)));
    else if (r < 930) {
      // Mostly forward by 1..8 (a wrap from 4088.. to ..7 is a 24-bit loop), sometimes back by a few (kept as is).
      high = (rnd(10) === 0 ? high + 4096 - rnd(4) : high + 1 + rnd(8)) & 0xfff;
      words.push(HIGH(high));
    } else if (r < 935) words.push(0xa000 | (rnd(16) << 8) | rnd(2));
    else if (r < 938) words.push(0xd000 | rnd(4096), 0x7000 | rnd(4096));
    else if (r < 941) words.push(0xe000 | rnd(4096));
    else if (r < 943) words.push(0x1000 | rnd(720)); // EM_Y: EM mode until the next ADDR_Y
    else if (r < 946) words.push([0x9000, 0xb000, 0xc000][rnd(3)]! | rnd(4096));
    else if (r < 950) words.push(0xf000 | rnd(4096));
    else {
      // A run of ADDR_Y/ADDR_X words (the kernel's SIMD path), sometimes in EM mode.
      const n = 1 + rnd(30);
      for (let j = 0; j < n; j++) words.push(rnd(4) === 0 ? Y(rnd(720)) : X(rnd(2), rnd(1280)));
    }
  }
  // 6,000 full VECT_12 words: 72,000 events in a row (several full staging areas) and a vector base
  // x that runs past 0xffff (kept to 16 bits, as OpenEB's unsigned short).
  words.push(Y(9), BASE(1, 2000));
  for (let k = 0; k < 6000; k++) words.push(V12(0xfff));
  words.push(X(0, 1));
  const bytes = evt3File(words);
  const js = assertKernelMatchesReference(bytes, 'evt3');
  const side = sideOf(js);
  assert.ok((side.trigger?.length ?? 0) > 100 && (side.monitor?.length ?? 0) > 100 && js.errors.length > 10);
  const e = allEvents(js);
  assert.ok(e.t[e.length - 1]! > 2 ** 24, 'loops were counted');
  assert.equal(e.x[e.length - 2], (2000 + 6000 * 12 - 1) & 0xffff, 'the last vector event (x base kept to 16 bits)');
});

// ---------------------------------------------------------------------------------------------
// DAT: the JS glue for dat.ts against a small reference loop written here

/** The DAT record rule (docs: u32 ts, u32 data: x 13..0, y 27..14, p 31..28; a drop > 2^31 is a wrap; p > 1 is bad). */
function referenceDat(records: Uint8Array, state: { base: number; last: number }): { events: Events; bad: number[] } {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const events: Events = { x: [], y: [], t: [], p: [] };
  const bad: number[] = [];
  for (let i = 0; i + 8 <= records.length; i += 8) {
    const ts = view.getUint32(i, true);
    const d = view.getUint32(i + 4, true);
    if (d >>> 28 > 1) {
      bad.push(i / 8);
      continue;
    }
    if (state.last - ts > 2 ** 31) state.base += 2 ** 32;
    state.last = ts;
    events.x.push(d & 0x3fff);
    events.y.push((d >>> 14) & 0x3fff);
    events.t.push(state.base + ts);
    events.p.push(d >>> 28);
  }
  return { events, bad };
}

test('decodeDatRecordsWasm: the same events, bad-record indices and wrap state as the reference rule, across kernel slices, at any alignment', () => {
  const k = kernel('dat');
  assert.ok(k, 'the dat kernel is built');
  const n = 300_000; // more than two kernel input slices (131,072 records each)
  const buf = new Uint8Array(3 + n * 8);
  const records = buf.subarray(3); // not 4-aligned
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let t = 2 ** 32 - 100_000;
  for (let i = 0; i < n; i++) {
    t = (t + 1 + (i % 3)) % 2 ** 32; // wraps once
    const ts = i % 4999 === 7 ? (t + 2 ** 32 - 3) % 2 ** 32 : i === 200_001 ? (t + 2 ** 31 + 5) % 2 ** 32 : t; // jitter, and one huge jump
    const p = i % 30_011 === 11 || (i >= 100_000 && i < 100_020) ? 2 + (i % 14) : i & 1; // bad records, single and in a run
    view.setUint32(i * 8, ts, true);
    view.setUint32(i * 8 + 4, ((p << 28) | ((i % 720) << 14) | (i % 1280)) >>> 0, true);
  }
  const ref = referenceDat(records, { base: 0, last: 0 });
  const builder = new PacketBuilder({ width: 0, height: 0 }, { format: 'dat' });
  const state = { base: 0, last: 0 };
  const bad: number[] = [];
  // Two calls, split inside the stream: the state carries over.
  const split = 123_457;
  decodeDatRecordsWasm(k, records.subarray(0, split * 8), builder, state, (i) => bad.push(i));
  decodeDatRecordsWasm(k, records.subarray(split * 8), builder, state, (i) => bad.push(split + i));
  const packets = builder.finish();
  const got = concatPackets(packets);
  assert.equal(got.length, ref.events.x.length);
  assert.deepEqual([...got.x], ref.events.x);
  assert.deepEqual([...got.y], ref.events.y);
  assert.deepEqual([...got.t], ref.events.t);
  assert.deepEqual([...got.p], ref.events.p);
  assert.deepEqual(bad, ref.bad);
  assert.ok(ref.bad.length > 25 && got.t[got.length - 1]! > 2 ** 32, 'bad records and a wrap were exercised');
  const refState = { base: 0, last: 0 };
  referenceDat(records, refState);
  assert.deepEqual(state, refState);
});

test('synthetic DAT file: wraps, jitter and bad records give the same result through dat.ts with either loop', () => {
  const header = new TextEncoder().encode('% Data file containing CD events\n% Version 2\n% Width 640\n% Height 480\n');
  const n = 200_000;
  const out = new Uint8Array(header.length + 2 + n * 8);
  out.set(header);
  out[header.length] = 12; // EventCD
  out[header.length + 1] = 8;
  const view = new DataView(out.buffer, header.length + 2);
  let t = 2 ** 32 - 50_000;
  for (let i = 0; i < n; i++) {
    t = (t + 1 + (i % 3)) % 2 ** 32;
    const ts = i % 5000 === 7 ? (t - 3 + 2 ** 32) % 2 ** 32 : t;
    const p = i % 40_000 === 11 ? 7 : i & 1;
    view.setUint32(i * 8, ts, true);
    view.setUint32(i * 8 + 4, ((p << 28) | ((i % 480) << 14) | (i % 640)) >>> 0, true);
  }
  const js = assertKernelMatchesReference(out, 'dat');
  assert.ok(js.errors.length >= 5, 'bad records reported');
  assert.equal(allEvents(js).length, n - 5);
});

// ---------------------------------------------------------------------------------------------
// LZ4 blocks (AEDAT 4.0 packets): the kernel against the reference lz4DecodeBlock

/** The block decoded by the reference (k = null) and through the kernel: same end, same bytes, or the same error. */
function sameLz4(src: Uint8Array, sStart: number, sLength: number, dstTemplate: Uint8Array, dStart: number, what: string): string {
  const run = (k: Lz4Kernel | null): { end: number; dst: Uint8Array; error: string } => {
    const dst = dstTemplate.slice();
    try {
      return { end: k ? lz4DecodeBlockFast(src, sStart, sLength, dst, dStart, k) : lz4DecodeBlock(src, sStart, sLength, dst, dStart), dst, error: '' };
    } catch (e) {
      return { end: -1, dst, error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  };
  const ref = run(null);
  const fast = run(lz4Kernel()!);
  assert.equal(fast.error, ref.error, `${what}: errors differ`);
  assert.equal(fast.end, ref.end, `${what}: output ends differ`);
  assert.ok(Buffer.from(fast.dst).equals(Buffer.from(ref.dst)), `${what}: output bytes differ`);
  // The kernel itself (not the reference behind it) must decode every good block that fits it.
  const k = lz4Kernel()!;
  if (!ref.error && sLength <= k.inCapacity && ref.end - dStart <= k.outCapacity) {
    k.memory.set(src.subarray(sStart, sStart + sLength), k.in);
    const history = Math.min(dStart, k.historyMax);
    k.memory.set(dstTemplate.subarray(dStart - history, dStart), k.out - history);
    assert.equal(k.decode(sLength, history, Math.min(dstTemplate.length - dStart, k.outCapacity)), ref.end - dStart, `${what}: the kernel refused a good block`);
  }
  return ref.error;
}

/** Runs, short repeats, RLE and noise (every copy path: literals, long and short matches, offset 1, offsets < 8). */
function lz4Sample(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; ) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const kind = s % 5;
    const len = 1 + ((s >>> 8) % 300);
    const back = 1 + ((s >>> 4) % 12);
    for (let k = 0; k < len && i < n; k++, i++) out[i] = kind === 0 ? 7 : kind === 1 ? i % 3 : kind === 2 ? out[Math.max(0, i - 40)]! : kind === 3 ? out[Math.max(0, i - back)]! : (s >>> (k % 24)) & 255;
  }
  return out;
}

function lz4Compress(src: Uint8Array): Uint8Array | undefined {
  const comp = new Uint8Array(lz4js.compressBound(src.length));
  const n = lz4js.compressBlock(src, comp, 0, src.length, new Uint32Array(65536));
  return n === 0 ? undefined : comp.subarray(0, n);
}

test('LZ4 kernel: blocks by an independent compressor decode to the same bytes, including blocks too big for the kernel (reference path)', () => {
  const k = lz4Kernel();
  assert.ok(k, 'lz4 kernel built');
  for (const n of [0, 1, 15, 100, 4096, 65536, 200_000, k.outCapacity + 1000]) {
    const src = lz4Sample(n, n + 1);
    const block = lz4Compress(src);
    if (!block) continue;
    const dst = new Uint8Array(n);
    assert.equal(lz4DecodeBlockFast(block, 0, block.length, dst, 0, k), n);
    assert.ok(Buffer.from(dst).equals(Buffer.from(src)), `${n} bytes`);
    sameLz4(block, 0, block.length, new Uint8Array(n), 0, `${n} bytes`);
  }
  // A block in the middle of a bigger buffer, with room to spare after it.
  const src = lz4Sample(50_000, 7);
  const block = lz4Compress(src)!;
  const framed = new Uint8Array(block.length + 20);
  framed.set(block, 9);
  sameLz4(framed, 9, block.length, new Uint8Array(70_000).fill(0xee), 123, 'offset block');
  // Input bigger than the kernel's input area: noise barely compresses.
  const noise = new Uint8Array(k.inCapacity + 5000);
  for (let i = 0, s = 1; i < noise.length; i++) noise[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  const noisy = lz4Compress(noise);
  if (noisy) sameLz4(noisy, 0, noisy.length, new Uint8Array(noise.length), 0, 'input above the kernel capacity');
});

test('LZ4 kernel: matches into the output before the block (linked blocks), up to the reference limit and one past it', () => {
  // literal 'q', then a match of 6 bytes at `offset` back: it reaches before dStart by offset - 1.
  const block = (offset: number) => Uint8Array.of(0x12, 0x71, offset & 0xff, offset >>> 8, 0x10, 0x7a);
  for (const dStart of [0, 1, 5, 100, 65_534, 65_535, 65_536, 70_000]) {
    const dst = new Uint8Array(dStart + 64);
    for (let i = 0; i < dStart; i++) dst[i] = (i * 37) & 255;
    for (const offset of [1, 2, 7, 8, 9, dStart, dStart + 1, dStart + 2, 65_535]) {
      if (offset < 1 || offset > 65_535) continue;
      sameLz4(block(offset), 0, 6, dst, dStart, `dStart ${dStart} offset ${offset}`);
    }
  }
});

test('LZ4 kernel: corrupted, truncated and tight blocks give the reference errors (same messages) or the same bytes', () => {
  let seed = 99;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const errors = new Set<string>();
  let ok = 0;
  for (let c = 0; c < 1500; c++) {
    const n = 50 + rnd(5000);
    const src = lz4Sample(n, c + 3);
    const clean = lz4Compress(src);
    if (!clean) continue;
    const block = clean.slice();
    const kind = c % 4;
    if (kind === 0) for (let f = 1 + rnd(3); f > 0; f--) block[rnd(block.length)] ^= 1 << rnd(8);
    else if (kind === 1) block[rnd(block.length)] = rnd(256);
    const len = kind === 2 ? rnd(block.length + 1) : block.length;
    const dStart = rnd(3) === 0 ? rnd(300) : 0;
    const room = kind === 3 ? Math.max(0, n - 1 - rnd(20)) : n + rnd(50);
    const dst = new Uint8Array(dStart + room);
    for (let i = 0; i < dStart; i++) dst[i] = rnd(256);
    const error = sameLz4(block, 0, len, dst, dStart, `case ${c}`);
    if (error) errors.add(error.replace(/\d+/g, 'N'));
    else ok++;
  }
  assert.ok(ok > 100, 'some cases decode');
  assert.ok(errors.size >= 5, `several kinds of error seen: ${[...errors].join('; ')}`);
});
