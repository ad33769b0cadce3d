/** The emulator as a whole: determinism, the label schedule, time order, configuration errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmulator, emulateToPackets, EmulatorConfigError, type EmulatorConfig } from '../../src/emulator/index.js';
import { checksum, eventCount, flatten } from './support.js';

const small: EmulatorConfig = {
  width: 48,
  height: 32,
  seed: 21,
  dvs: { noiseRateHz: 2 },
  schedule: { kind: 'random', directions: 4, speeds: [40, 90], segmentUs: 50_000 },
};

test('same seed → identical events; another seed → different events', () => {
  const a = emulateToPackets(small, 200_000);
  const b = emulateToPackets(small, 200_000);
  const c = emulateToPackets({ ...small, seed: 22 }, 200_000);
  const n = eventCount(a.packets);
  assert.ok(n > 2000, `${n} events`);
  assert.equal(eventCount(b.packets), n);
  assert.equal(checksum(b.packets), checksum(a.packets));
  assert.deepEqual(b.labels, a.labels);
  assert.notEqual(checksum(c.packets), checksum(a.packets));
  // Every kind of scene is deterministic too.
  for (const kind of ['bars', 'dots'] as const) {
    const cfg = { ...small, scene: { kind } };
    assert.equal(checksum(emulateToPackets(cfg, 60_000).packets), checksum(emulateToPackets(cfg, 60_000).packets), kind);
  }
});

test('the schedule is its own random stream: noise settings do not change the labels', () => {
  const quiet = emulateToPackets({ ...small, dvs: { noiseRateHz: 0 } }, 400_000);
  const noisy = emulateToPackets({ ...small, dvs: { noiseRateHz: 50, hotPixelFraction: 0.01 } }, 400_000);
  assert.deepEqual(noisy.labels, quiet.labels);
  assert.notEqual(checksum(noisy.packets), checksum(quiet.packets));
});

test('random balanced schedule: every class once per round, labels consistent with class_index', () => {
  const { labels, packets } = emulateToPackets(small, 16 * 50_000);
  assert.equal(labels.length, 16);
  assert.equal(packets.length, 16 * 50);
  for (let round = 0; round < 2; round++) {
    const classes = labels.slice(round * 8, round * 8 + 8).map((l) => l.class_index);
    assert.deepEqual([...classes].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7], `round ${round}: ${classes}`);
  }
  labels.forEach((l, k) => {
    assert.equal(l.segment, k);
    assert.equal(l.t_start_us, k * 50_000);
    assert.equal(l.t_end_us, (k + 1) * 50_000);
    assert.equal(l.class_count, 8);
    // class = directionIndex · speeds + speedIndex, directions 0, 90, 180, 270.
    assert.equal(l.direction_deg, 90 * Math.floor(l.class_index / 2));
    assert.equal(l.speed_px_s, [40, 90][l.class_index % 2]);
  });
  // Not the same order in both rounds (seeded shuffle), and other seeds give other orders.
  const other = emulateToPackets({ ...small, seed: 99 }, 8 * 50_000).labels.map((l) => l.class_index);
  assert.notDeepEqual(other, labels.slice(0, 8).map((l) => l.class_index));
});

test('list schedule: steps carry the label of their segment; steps stop at segment boundaries', () => {
  const config: EmulatorConfig = {
    width: 32,
    height: 32,
    stepUs: 3000,
    schedule: {
      kind: 'list',
      segments: [
        { durationUs: 10_000, direction_deg: 0, speed_px_s: 50 },
        { durationUs: 7_000, direction_deg: 135, speed_px_s: 20 },
        { durationUs: 5_000, direction_deg: 0, speed_px_s: 50 },
      ],
    },
  };
  const emu = createEmulator(config);
  const seen: Array<[number, number, number, boolean]> = [];
  for (let s = emu.step(); s; s = emu.step()) seen.push([s.t_start_us, s.t_end_us, s.label.segment, s.startsSegment]);
  assert.deepEqual(seen, [
    [0, 3000, 0, true],
    [3000, 6000, 0, false],
    [6000, 9000, 0, false],
    [9000, 10000, 0, false],
    [10000, 13000, 1, true],
    [13000, 16000, 1, false],
    [16000, 17000, 1, false],
    [17000, 20000, 2, true],
    [20000, 22000, 2, false],
  ]);
  assert.equal(emu.done, true);
  assert.equal(emu.step(), null);
  // Classes are the distinct (direction, speed) pairs in order of first appearance.
  const { labels } = emulateToPackets(config, 22_000);
  assert.deepEqual(
    labels.map((l) => [l.direction_deg, l.speed_px_s, l.class_index, l.class_count, l.t_start_us, l.t_end_us]),
    [
      [0, 50, 0, 2, 0, 10_000],
      [135, 20, 1, 2, 10_000, 17_000],
      [0, 50, 0, 2, 17_000, 22_000],
    ],
  );
  // loop: the list starts again, time keeps running.
  const looped = emulateToPackets({ width: 16, height: 16, loop: true, schedule: { kind: 'list', segments: [{ durationUs: 4000, direction_deg: 0, speed_px_s: 10 }, { durationUs: 6000, direction_deg: 90, speed_px_s: 10 }] } }, 25_000);
  assert.deepEqual(looped.labels.map((l) => [l.segment, l.direction_deg, l.t_start_us]), [[0, 0, 0], [1, 90, 4000], [2, 0, 10_000], [3, 90, 14_000], [4, 0, 20_000], [5, 90, 24_000]]);
});

test('events are time-sorted within and across packets and lie inside their step', () => {
  const emu = createEmulator({ ...small, width: 64, height: 64, dvs: { noiseRateHz: 20, hotPixelFraction: 0.005 } });
  let previous = -Infinity;
  let total = 0;
  for (let k = 0; k < 200; k++) {
    const s = emu.step()!;
    const { packet } = s;
    assert.equal(packet.geometry.width, 64);
    assert.equal(packet.source.format, 'emulator');
    for (let i = 0; i < packet.length; i++) {
      const t = packet.t[i]!;
      assert.ok(t >= previous, `event ${total + i} at ${t} before ${previous}`);
      assert.ok(t >= s.t_start_us && t <= s.t_end_us, `event at ${t} outside step (${s.t_start_us}, ${s.t_end_us}]`);
      assert.ok(Number.isInteger(t), 'whole microseconds');
      assert.ok(packet.x[i]! < 64 && packet.y[i]! < 64 && packet.p[i]! <= 1, 'address in range');
      previous = t;
    }
    total += packet.length;
  }
  assert.ok(total > 1000, `${total} events`);
});

test('scenes: textures and dots keep their pattern across segments (no burst at a direction change)', () => {
  const segments = [
    { durationUs: 100_000, direction_deg: 0, speed_px_s: 60 },
    { durationUs: 100_000, direction_deg: 0, speed_px_s: 60 },
  ];
  for (const kind of ['texture', 'dots'] as const) {
    const { packets } = emulateToPackets({ width: 48, height: 48, seed: 3, scene: { kind }, schedule: { kind: 'list', segments } }, 200_000);
    // Same motion in both segments: the boundary step looks like any other.
    const counts = packets.map((p) => p.length);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    assert.ok(counts[100]! < 4 * mean + 20, `${kind}: ${counts[100]} events at the boundary, mean ${mean}`);
  }
});

test('frames scene: events follow the supplied frames (log-linear interpolation between them)', () => {
  // Left half brightens ×e over 10 ms, right half darkens; threshold 0.25 → 4 events per pixel.
  const w = 8;
  const h = 4;
  const dark = new Float32Array(w * h).fill(1);
  const changed = new Float32Array(w * h).map((_, i) => (i % w < w / 2 ? Math.E : 1 / Math.E));
  const { packets, labels } = emulateToPackets(
    {
      width: w,
      height: h,
      dvs: { threshold: 0.24, thresholdSigma: 0, refractoryUs: 0 },
      scene: { kind: 'frames', frames: [{ t_us: 0, pixels: dark }, { t_us: 10_000, pixels: changed }] },
      schedule: { kind: 'list', segments: [{ durationUs: 20_000, direction_deg: 0, speed_px_s: 0 }] },
    },
    20_000,
  );
  const e = flatten(packets);
  assert.equal(e.t.length, w * h * 4);
  for (let i = 0; i < e.t.length; i++) assert.equal(e.p[i], e.x[i]! < w / 2 ? 1 : 0);
  // Crossings at k·0.24 of a 1.0 log ramp over 10 ms: 2400, 4800, 7200, 9600 µs.
  assert.deepEqual([...new Set(e.t)], [2400, 4800, 7200, 9600]);
  assert.equal(labels.length, 1);
});

test('configuration errors name the field', () => {
  const cases: Array<[unknown, string]> = [
    [{ width: 0 }, 'width'],
    [{ height: 2.5 }, 'height'],
    [{ stepUs: -1 }, 'stepUs'],
    [{ seed: 'x' }, 'seed'],
    [{ dvs: { thresholdOn: -0.1 } }, 'dvs.thresholdOn'],
    [{ dvs: { threshold: 0 } }, 'dvs.threshold'],
    [{ dvs: { refractoryUs: NaN } }, 'dvs.refractoryUs'],
    [{ dvs: { noiseOnFraction: 2 } }, 'dvs.noiseOnFraction'],
    [{ scene: { kind: 'bars', period_px: 0 } }, 'scene.period_px'],
    [{ scene: { kind: 'bars', period_px: 10, bar_width_px: 10 } }, 'scene.bar_width_px'],
    [{ scene: { kind: 'texture', contrast: 1 } }, 'scene.contrast'],
    [{ scene: { kind: 'texture', size_px: 100 } }, 'scene.size_px'],
    [{ scene: { kind: 'dots', count: -3 } }, 'scene.count'],
    [{ scene: { kind: 'spiral' } }, 'scene.kind'],
    [{ width: 2, height: 2, scene: { kind: 'frames', frames: [{ t_us: 0, pixels: [1, 1, 1] }] } }, 'scene.frames[0].pixels'],
    [{ width: 1, height: 1, scene: { kind: 'frames', frames: [{ t_us: 5, pixels: [1] }, { t_us: 2, pixels: [1] }] } }, 'scene.frames[1].t_us'],
    [{ width: 1, height: 1, scene: { kind: 'frames', frames: [{ t_us: 0, pixels: [0] }] } }, 'scene.frames[0].pixels'],
    [{ schedule: { kind: 'random', speeds: [] } }, 'schedule.speeds'],
    [{ schedule: { kind: 'random', directions: 0 } }, 'schedule.directions'],
    [{ schedule: { kind: 'random', segmentUs: 1.5 } }, 'schedule.segmentUs'],
    [{ schedule: { kind: 'random', order: 'sorted' } }, 'schedule.order'],
    [{ schedule: { kind: 'list', segments: [] } }, 'schedule.segments'],
    [{ schedule: { kind: 'list', segments: [{ durationUs: 10, direction_deg: 0, speed_px_s: 1 }, { direction_deg: 0, speed_px_s: 1 }] } }, 'schedule.segments[1].durationUs'],
    [{ schedule: { kind: 'list', segments: [{ durationUs: 10, direction_deg: 0, speed_px_s: 1, scene: { kind: 'bars', background: -1 } }] } }, 'schedule.segments[0].scene.background'],
    [{ schedule: { kind: 'nope' } }, 'schedule.kind'],
    [{ loop: 'yes' }, 'loop'],
  ];
  for (const [config, field] of cases) {
    assert.throws(
      () => createEmulator(config as EmulatorConfig),
      (e: unknown) => e instanceof EmulatorConfigError && e.field === field && e.message.includes(field),
      `expected an error naming ${field} for ${JSON.stringify(config)}`,
    );
  }
  assert.throws(() => emulateToPackets({}, 0), (e: unknown) => e instanceof EmulatorConfigError && e.field === 'durationUs');
});
