/**
 * Physics of the pixel model, checked on scenes whose answer is known by hand: a bright bar
 * moving at a known speed, a single pixel whose log intensity ramps by a known amount, a static
 * scene with background activity only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulateToPackets, type EmulatorConfig } from '../../src/emulator/index.js';
import { flatten, eventCount, slope } from './support.js';

/** One bar 8 px wide, 0.2 → 1.0 intensity, starting at the sensor centre, moving at `speed` px/s in `direction`. */
function barConfig(direction_deg: number, speed_px_s: number, dvs: EmulatorConfig['dvs'] = {}): EmulatorConfig {
  return {
    width: 64,
    height: 64,
    seed: 5,
    dvs,
    scene: { kind: 'bars', period_px: 1000, bar_width_px: 8, background: 0.2, bar_intensity: 1 },
    schedule: { kind: 'list', segments: [{ durationUs: 400_000, direction_deg, speed_px_s }] },
  };
}

test('a bright bar moving right: ON events on the leading edge, OFF on the trailing edge, at the configured speed', () => {
  const speed = 100;
  const { packets } = emulateToPackets(barConfig(0, speed), 250_000);
  const e = flatten(packets);
  const onT: number[] = [];
  const onX: number[] = [];
  const offT: number[] = [];
  const offX: number[] = [];
  for (let i = 0; i < e.t.length; i++) {
    // At time t the bar covers x ∈ [32 + v·t, 32 + v·t + 8): leading edge at 40 + v·t, trailing edge at 32 + v·t.
    const trailing = 32 + (speed * e.t[i]!) / 1e6;
    if (e.p[i]) {
      onT.push(e.t[i]!);
      onX.push(e.x[i]!);
      assert.ok(Math.abs(e.x[i]! - (trailing + 8)) <= 1, `ON event at x=${e.x[i]} t=${e.t[i]} is not on the leading edge`);
    } else {
      offT.push(e.t[i]!);
      offX.push(e.x[i]!);
      assert.ok(Math.abs(e.x[i]! - trailing) <= 1, `OFF event at x=${e.x[i]} t=${e.t[i]} is not on the trailing edge`);
    }
  }
  // log(1 / 0.2) / 0.2 ≈ 8 events per pixel per edge; 64 rows × 24 columns crossed by the leading
  // edge (x = 40 → 64) and 25 by the trailing edge (x = 32 → 57) in 250 ms.
  assert.ok(onT.length > 64 * 22 * 7 && onT.length < 64 * 26 * 9, `ON count ${onT.length}`);
  assert.ok(offT.length > 64 * 23 * 7 && offT.length < 64 * 27 * 9, `OFF count ${offT.length}`);
  const onSpeed = slope(onT, onX) * 1e6;
  const offSpeed = slope(offT, offX) * 1e6;
  assert.ok(Math.abs(onSpeed / speed - 1) < 0.1, `ON front moves at ${onSpeed} px/s`);
  assert.ok(Math.abs(offSpeed / speed - 1) < 0.1, `OFF front moves at ${offSpeed} px/s`);
  // Every row sees the same edge: the y coordinate carries no motion.
  assert.ok(Math.abs(slope(onT, e.y.filter((_, i) => e.p[i] === 1)) * 1e6) < 5, 'no vertical motion');
});

test('direction convention: 90° moves upwards (towards row 0), 180° leftwards', () => {
  const up = flatten(emulateToPackets(barConfig(90, 80), 300_000).packets);
  const onT = up.t.filter((_, i) => up.p[i] === 1);
  const onY = up.y.filter((_, i) => up.p[i] === 1);
  assert.ok(onT.length > 1000, `${onT.length} ON events`);
  // The bar's leading (top) edge is at y = 24 − v·t.
  for (let i = 0; i < onT.length; i++) assert.ok(Math.abs(onY[i]! - (24 - (80 * onT[i]!) / 1e6)) <= 1, `ON event at y=${onY[i]} t=${onT[i]}`);
  const vy = slope(onT, onY) * 1e6;
  assert.ok(Math.abs(vy / -80 - 1) < 0.1, `upward bar: dy/dt = ${vy} px/s`);
  const left = flatten(emulateToPackets(barConfig(180, 80), 300_000).packets);
  const vx = slope(left.t.filter((_, i) => left.p[i] === 1), left.x.filter((_, i) => left.p[i] === 1)) * 1e6;
  assert.ok(Math.abs(vx / -80 - 1) < 0.1, `leftward bar: dx/dt = ${vx} px/s`);
});

test('a large change in one step fires several events with linearly interpolated times (hand-computed)', () => {
  // One pixel; log intensity ramps from 0 to 1.1 during the first 1000 µs step, then stays.
  const frames = [
    { t_us: 0, pixels: [1] },
    { t_us: 1000, pixels: [Math.exp(1.1)] },
  ];
  const base: EmulatorConfig = {
    width: 1,
    height: 1,
    scene: { kind: 'frames', frames },
    schedule: { kind: 'list', segments: [{ durationUs: 3000, direction_deg: 0, speed_px_s: 0 }] },
  };
  // Crossings of 0.2, 0.4, …, 1.0 at t = 1000·k·0.2/1.1 µs: 181.8, 363.6, 545.5, 727.3, 909.1.
  const free = flatten(emulateToPackets({ ...base, dvs: { threshold: 0.2, thresholdSigma: 0, refractoryUs: 0 } }, 3000).packets);
  assert.deepEqual(free.t, [182, 364, 545, 727, 909]);
  assert.deepEqual(free.p, [1, 1, 1, 1, 1]);
  // Refractory 300 µs: event at 181.8, held until 481.8 where ref := 0.53; next crossing 0.73 at
  // 663.6; held until 963.6 (ref := 1.06); 1.26 is never reached.
  const held = flatten(emulateToPackets({ ...base, dvs: { threshold: 0.2, thresholdSigma: 0, refractoryUs: 300 } }, 3000).packets);
  assert.deepEqual(held.t, [182, 664]);
  // Going back down by 1.1 gives OFF events.
  const down = flatten(
    emulateToPackets({ ...base, scene: { kind: 'frames', frames: [frames[1]!, { t_us: 1000, pixels: [1] }].map((f, k) => ({ ...f, t_us: k * 1000 })) }, dvs: { threshold: 0.2, thresholdSigma: 0, refractoryUs: 0 } }, 3000).packets,
  );
  assert.deepEqual(down.t, [182, 364, 545, 727, 909]);
  assert.deepEqual(down.p, [0, 0, 0, 0, 0]);
});

test('lower contrast threshold gives more events, roughly in inverse proportion', () => {
  const counts = [0.1, 0.2, 0.4].map((threshold) =>
    eventCount(
      emulateToPackets(
        {
          width: 48,
          height: 48,
          seed: 2,
          dvs: { threshold, refractoryUs: 0 },
          scene: { kind: 'texture' },
          schedule: { kind: 'list', segments: [{ durationUs: 150_000, direction_deg: 30, speed_px_s: 80 }] },
        },
        150_000,
      ).packets,
    ),
  );
  assert.ok(counts[0]! > counts[1]! && counts[1]! > counts[2]!, `counts ${counts}`);
  assert.ok(counts[0]! / counts[2]! > 2.5, `halving the threshold twice multiplies events by ${counts[0]! / counts[2]!}`);
});

test('refractory period: no two events of a pixel closer than the period', () => {
  const run = (refractoryUs: number): number => {
    const e = flatten(
      emulateToPackets(
        {
          width: 32,
          height: 32,
          seed: 9,
          dvs: { threshold: 0.05, refractoryUs, noiseRateHz: 20 },
          scene: { kind: 'texture', contrast: 0.9 },
          schedule: { kind: 'list', segments: [{ durationUs: 100_000, direction_deg: 0, speed_px_s: 300 }] },
        },
        100_000,
      ).packets,
    );
    const last = new Float64Array(32 * 32).fill(-Infinity);
    let minGap = Infinity;
    for (let i = 0; i < e.t.length; i++) {
      const k = e.y[i]! * 32 + e.x[i]!;
      minGap = Math.min(minGap, e.t[i]! - last[k]!);
      last[k] = e.t[i]!;
    }
    return minGap;
  };
  assert.ok(run(0) < 500, 'without a refractory period pixels fire faster (the check below means something)');
  assert.ok(run(500) >= 500, `min gap with refractory 500 µs: ${run(500)}`);
});

test('background activity: Poisson rate per pixel as configured on a static scene', () => {
  const size = 64 * 64;
  const rateHz = 5;
  const seconds = 1;
  const { packets } = emulateToPackets(
    {
      width: 64,
      height: 64,
      seed: 11,
      dvs: { noiseRateHz: rateHz },
      scene: { kind: 'frames', frames: [{ t_us: 0, pixels: new Float32Array(size).fill(0.5) }] },
      schedule: { kind: 'list', segments: [{ durationUs: seconds * 1e6, direction_deg: 0, speed_px_s: 0 }] },
    },
    seconds * 1e6,
  );
  const e = flatten(packets);
  const expected = rateHz * size * seconds; // 20480, Poisson σ ≈ 143
  assert.ok(Math.abs(e.t.length - expected) < 5 * Math.sqrt(expected), `${e.t.length} noise events, expected ≈ ${expected}`);
  const on = e.p.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(on / e.t.length - 0.5) < 0.03, `ON fraction ${on / e.t.length}`);
  // Spread over the sensor: every quadrant gets about a quarter.
  const leftTop = e.t.filter((_, i) => e.x[i]! < 32 && e.y[i]! < 32).length;
  assert.ok(Math.abs(leftTop / e.t.length - 0.25) < 0.03, `top-left quadrant share ${leftTop / e.t.length}`);
  // Spread over time: first and second half alike.
  const firstHalf = e.t.filter((t) => t <= 500_000).length;
  assert.ok(Math.abs(firstHalf / e.t.length - 0.5) < 0.03, `first-half share ${firstHalf / e.t.length}`);
});

test('hot pixels: a few pixels carry most ON events', () => {
  const size = 32 * 32;
  const { packets } = emulateToPackets(
    {
      width: 32,
      height: 32,
      seed: 4,
      dvs: { noiseRateHz: 1, hotPixelFraction: 0.02, hotPixelRateHz: 500 },
      scene: { kind: 'frames', frames: [{ t_us: 0, pixels: new Float32Array(size).fill(1) }] },
      schedule: { kind: 'list', segments: [{ durationUs: 200_000, direction_deg: 0, speed_px_s: 0 }] },
    },
    200_000,
  );
  const e = flatten(packets);
  const perPixel = new Uint32Array(size);
  for (let i = 0; i < e.t.length; i++) perPixel[e.y[i]! * 32 + e.x[i]!]++;
  const busy = [...perPixel].filter((c) => c >= 50).length;
  // ≈ 2 % of 1024 ≈ 20 hot pixels at ≈ 100 events each in 0.2 s; ordinary pixels ≈ 0.2 events.
  assert.ok(busy >= 8 && busy <= 40, `${busy} hot pixels`);
  const hotEvents = [...perPixel].filter((c) => c >= 50).reduce((a, b) => a + b, 0);
  assert.ok(hotEvents / e.t.length > 0.9, `hot pixels carry ${hotEvents / e.t.length} of the events`);
});
