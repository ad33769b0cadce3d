/** The WASM refractory and denoise loops keep exactly the events the TypeScript loops keep. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { concatPackets, packetOf, type EventPacket, type Geometry } from '../../src/events/packet.js';
import { pixelKernelStatus, frameCounterKernel, FILTER_BATCH, MIN_KERNEL_EVENTS } from '../../src/events/pixel-kernels.js';
import { windowCounter } from '../../src/events/window-counter.js';
import { FrameAccumulator, encodeFrame, frameToJson, type CountFrame } from '../../adapters/ws-frames.js';
import { emulateToPackets } from '../../src/emulator/index.js';
import { denoise } from '../../operators/denoise.js';
import { refractory } from '../../operators/refractory.js';
import { REPO_ROOT } from '../helpers/shared-data.js';
import { pk, recordingEvents, rechunk, through } from './support.js';

const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function assertSameEvents(actual: EventPacket, expected: EventPacket, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: event count`);
  for (const k of ['x', 'y', 't', 'p'] as const) assert.ok(bytes(actual[k]).equals(bytes(expected[k])), `${what}: ${k} differs`);
}

test('the filter kernel is built and loads (npm run build)', () => {
  assert.equal(pixelKernelStatus(), 'wasm');
});

const RECORDINGS = ['evt2_sparklers.raw', 'evt3_expelliarmus_sample.raw', 'aedat4_tonic_sample.aedat4'];
// One batch; small packets (under MIN_KERNEL_EVENTS: the TypeScript loop) mixed with ones the kernel
// takes, over the same state; and packets over the kernel's batch (split into several calls).
const CUTS: readonly (readonly number[])[] = [[8192], [1, 7, 1000], [FILTER_BATCH * 2 + 5]];

for (const file of RECORDINGS) {
  test(`refractory and denoise on ${file}: the WASM loop keeps what the TypeScript loop keeps`, async () => {
    const { all } = recordingEvents(file);
    const cases = [
      { name: 'refractory 1 ms', make: (kernel: 'wasm' | 'js') => refractory({ refractoryUs: 1000, kernel }) },
      { name: 'refractory 5 ms per polarity', make: (kernel: 'wasm' | 'js') => refractory({ refractoryUs: 5000, perPolarity: true, kernel }) },
      { name: 'denoise 10 ms', make: (kernel: 'wasm' | 'js') => denoise({ windowUs: 10_000, kernel }) },
      { name: 'denoise 2 ms radius 2', make: (kernel: 'wasm' | 'js') => denoise({ windowUs: 2000, radius: 2, kernel }) },
    ];
    for (const c of cases) {
      const expected = concatPackets(await through([all], c.make('js')));
      assert.ok(expected.length > 0 && expected.length < all.length, `${c.name} drops some of ${file} (${expected.length} of ${all.length})`);
      for (const sizes of CUTS) {
        const out = await through(rechunk(all, sizes), c.make('wasm'));
        assertSameEvents(concatPackets(out), expected, `${c.name}, packets of ${sizes.join('/')}`);
      }
    }
  });
}

test('the WASM loops keep what the TypeScript loops keep on emulated events with sub-µs times', async () => {
  const { packets: emulated } = emulateToPackets({ dvs: { noiseRateHz: 20 } }, 300_000);
  // Quarter-µs offsets: time differences then fall on both sides of the period and window.
  const packets = emulated.map((q, j) => ({ ...q, t: q.t.map((t, i) => t + ((i + j) % 4) * 0.25) }));
  for (const make of [(kernel: 'wasm' | 'js') => refractory({ refractoryUs: 300.5, kernel }), (kernel: 'wasm' | 'js') => denoise({ windowUs: 3000.25, kernel })]) {
    const expected = concatPackets(await through(packets, make('js')));
    assert.ok(expected.length > 1000, `keeps some (${expected.length})`);
    assertSameEvents(concatPackets(await through(packets, make('wasm'))), expected, 'emulator');
  }
});

test('an event outside the geometry in a later packet: the WASM path names it as the TypeScript path does', async () => {
  const inside = pk([[1, 1, 0, 1]]);
  // A packet the kernel takes (at least MIN_KERNEL_EVENTS), the stray event at `at`.
  const strayAt = (at: number, stray: [number, number]) => pk(Array.from({ length: MIN_KERNEL_EVENTS + 36 }, (_, i) => (i === at ? [...stray, 10 + i, 0] : [i % 8, (i >> 3) % 8, 10 + i, 1]) as [number, number, number, number]));
  for (const kernel of ['wasm', 'js'] as const) {
    await assert.rejects(through([inside, strayAt(50, [2, 9])], denoise({ windowUs: 10, kernel })), /denoise: event 50 at \(2, 9\) lies outside the 8x8 geometry/);
    await assert.rejects(through([inside, strayAt(0, [8, 0])], refractory({ refractoryUs: 10, kernel })), /refractory: event 0 at \(8, 0\) lies outside the 8x8 geometry/);
    // A small packet (the TypeScript loop, whatever the option).
    await assert.rejects(through([inside, pk([[1, 1, 5, 1], [2, 9, 6, 0]])], denoise({ windowUs: 10, kernel })), /denoise: event 1 at \(2, 9\) lies outside the 8x8 geometry/);
    // A packet bigger than one kernel batch, the stray event in its second batch.
    const rows: [number, number, number, number][] = [];
    for (let i = 0; i < FILTER_BATCH + 10; i++) rows.push([i % 8, (i >> 3) % 8, 10 + i, 1]);
    rows[FILTER_BATCH + 3] = [3, 8, 10 + FILTER_BATCH + 3, 0];
    await assert.rejects(through([inside, pk(rows)], refractory({ refractoryUs: 10, kernel })), new RegExp(`event ${FILTER_BATCH + 3} at \\(3, 8\\) lies outside`));
  }
});

test("without pixels.wasm the operators use their TypeScript loops, the status says why, and kernel: 'wasm' is refused", () => {
  const script = `
    import { pixelKernelStatus } from './src/events/pixel-kernels.ts';
    import { refractory } from './operators/refractory.ts';
    import { packetFromArrays } from './src/events/packet.ts';
    import { from, lastValueFrom } from 'rxjs';
    const packet = packetFromArrays({ x: [1, 1, 2], y: [1, 1, 1], t: [0, 5, 6], p: [1, 1, 0] }, { width: 4, height: 4 });
    const kept = (await lastValueFrom(from([packet]).pipe(refractory({ refractoryUs: 10 })))).length;
    let refused = '';
    try { await lastValueFrom(from([packet]).pipe(refractory({ refractoryUs: 10, kernel: 'wasm' }))); } catch (e) { refused = e.message; }
    console.log(JSON.stringify({ status: pixelKernelStatus(), kept, refused }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, SPIKEFLOW_WASM_DIR: join(REPO_ROOT, 'test', 'no-such-dir') },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { status: string; kept: number; refused: string };
  assert.match(out.status, /^js \(.*pixels\.wasm not found: run npm run build\)$/);
  assert.equal(out.kept, 2);
  assert.match(out.refused, /refractory: the WASM pixel kernel is unavailable: js \(/);
});

/** Every frame an accumulator emits over the packets (buffers copied at emit), and what it clipped. */
function framesOf(packets: readonly EventPacket[], windowUs: number, counter: 'wasm' | 'js', fallback?: Geometry) {
  const acc = new FrameAccumulator(windowUs, fallback, counter === 'wasm' ? (g) => frameCounterKernel('wasm', g)! : windowCounter);
  const frames: string[] = [];
  // As the clients get them (binary and JSON), and the counts themselves: the WASM counter's frames
  // carry the sparse section it built, which must encode exactly as a scan of the counts does.
  const emit = (f: CountFrame) => frames.push(JSON.stringify({ binary: bytes(encodeFrame(f)).toString('base64'), json: frameToJson(f), counts: bytes(f.counts).toString('base64'), nonZero: f.nonZero && Array.from(f.nonZero) }));
  for (const pk of packets) acc.add(pk, emit);
  acc.flush(emit);
  return { frames, clipped: acc.clipped };
}

test('frame counts: the WASM loop gives the frames the TypeScript loop gives, on recordings cut anyhow', () => {
  // DAVIS346: 89,960 pixels, not a multiple of the sparse section's 16-pixel blocks.
  for (const file of [...RECORDINGS, 'aedat4_aestream_davis.aedat4']) {
    const { all } = recordingEvents(file);
    for (const sizes of [[8192], [1, 7, 1000], [FILTER_BATCH * 2 + 5]]) {
      const packets = rechunk(all, sizes);
      const js = framesOf(packets, 2000, 'js');
      assert.ok(js.frames.length >= 4, `${file}: frames`);
      assert.deepEqual(framesOf(packets, 2000, 'wasm'), js, `${file}, packets of ${sizes.join('/')}`);
    }
  }
  // No geometry in the file: the fallback's, too small, so events are clipped.
  const { all } = recordingEvents('dat_ncars_obj_004397_td.dat');
  const js = framesOf([all], 5000, 'js', { width: 40, height: 100 });
  assert.ok(js.clipped > 0 && js.frames.length > 5);
  assert.deepEqual(framesOf(rechunk(all, [300]), 5000, 'wasm', { width: 40, height: 100 }), js);
});

test('frame counts: the WASM counter builds the sparse section of busy frames, equal to a scan of the counts', () => {
  // 640×480, about 20 % of the pixels hit per window: no sorted list, sparse layout.
  const g = { width: 640, height: 480 };
  const n = 200_000;
  const x = new Uint16Array(n);
  const y = new Uint16Array(n);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = (i * 2_654_435_761) % (g.width * g.height);
    x[i] = k % g.width;
    y[i] = Math.floor(k / g.width);
    t[i] = i * 0.05;
  }
  const packet = packetOf(x, y, t, new Uint8Array(n), g, { format: 'test' });
  let sparse = 0;
  const acc = new FrameAccumulator(1000, undefined, (geo) => frameCounterKernel('wasm', geo)!);
  acc.add(packet, (f) => {
    if (f.sparse) sparse++;
  });
  assert.ok(sparse >= 5, `busy frames with a built section: ${sparse}`);
  assert.deepEqual(framesOf([packet], 1000, 'wasm'), framesOf([packet], 1000, 'js'));
});

test('frame counts: saturation, window edges, late events and a packet past several windows give the same frames', () => {
  const rows: [number, number, number, number][] = [];
  for (let i = 0; i < 600; i++) rows.push([1, 1, i, 1]); // one pixel 600 times in a window: saturates at 255
  rows.push([2, 2, 999.9999999999999, 0], [3, 3, 1000, 1], [4, 4, 500, 1]); // the edge, and a late event
  rows.push([5, 5, 4500, 1], [6, 6, 4999, 0], [7, 7, 10_001, 1]); // windows skipped
  const packet = pk(rows, { width: 8, height: 8 });
  for (const cut of [[packet.length], [1], [2, 3]]) {
    const packets = rechunk(packet, cut);
    const js = framesOf(packets, 1000, 'js');
    assert.equal(js.frames.length, 4);
    assert.match(js.frames[0]!, /events\\":601/);
    assert.deepEqual(framesOf(packets, 1000, 'wasm'), js, `cut ${cut}`);
  }
});
