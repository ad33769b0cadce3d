/** Scenes as pure functions of (params, t): positivity, motion by the stated displacement, texture spectra. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScene, makeLogTexture, type SceneParams } from '../../src/emulator/index.js';

const geometry = { width: 48, height: 40 };
const size = geometry.width * geometry.height;

test('every scene renders positive intensities, and render = exp(renderLog)', () => {
  const scenes: SceneParams[] = [
    { kind: 'bars', direction_deg: 30, speed_px_s: 70 },
    { kind: 'dots', direction_deg: 200, speed_px_s: 40, count: 30 },
    { kind: 'texture', direction_deg: 300, speed_px_s: 90 },
    { kind: 'texture', direction_deg: 10, speed_px_s: 90, btheta_deg: 10 },
    { kind: 'frames', frames: [{ t_us: 0, pixels: new Float32Array(size).fill(0.3) }, { t_us: 1000, pixels: new Float32Array(size).fill(3) }] },
  ];
  const lin = new Float32Array(size);
  const log = new Float32Array(size);
  for (const params of scenes) {
    const scene = createScene(params, geometry);
    for (const t of [0, 333, 12_345, 1_000_000]) {
      scene.render(t, lin);
      scene.renderLog(t, log);
      for (let i = 0; i < size; i++) {
        assert.ok(lin[i]! > 0 && Number.isFinite(lin[i]!), `${params.kind}: intensity ${lin[i]} at ${i}`);
        assert.ok(Math.abs(Math.log(lin[i]!) - log[i]!) < 1e-4, `${params.kind}: log mismatch at ${i}`);
      }
    }
    // Pure: the same time renders the same image.
    const again = new Float32Array(size);
    scene.renderLog(12_345, again);
    scene.renderLog(0, log);
    scene.renderLog(12_345, log);
    assert.deepEqual(log, again, `${params.kind} is a pure function of t`);
  }
});

test('moving scenes translate by speed·t in their direction', () => {
  // 50 px/s for 0.1 s = 5 px. Direction 0: rightwards; 90: upwards (rows decrease).
  const at0 = new Float32Array(size);
  const later = new Float32Array(size);
  for (const [kind, direction_deg, dx, dy] of [
    ['texture', 0, 5, 0],
    ['texture', 90, 0, -5],
    ['dots', 180, -5, 0],
    ['texture', 270, 0, 5],
  ] as const) {
    const scene = createScene({ kind, direction_deg, speed_px_s: 50, count: 25 } as SceneParams, geometry);
    scene.renderLog(0, at0);
    scene.renderLog(100_000, later);
    let checked = 0;
    for (let y = 0; y < geometry.height; y++) {
      for (let x = 0; x < geometry.width; x++) {
        const sx = x - dx;
        const sy = y - dy;
        if (sx < 0 || sy < 0 || sx >= geometry.width || sy >= geometry.height) continue;
        assert.ok(Math.abs(later[y * geometry.width + x]! - at0[sy * geometry.width + sx]!) < 1e-3, `${kind} ${direction_deg}° at (${x}, ${y})`);
        checked++;
      }
    }
    assert.ok(checked > 1000, 'overlap checked');
  }
});

/** Sign changes of (value − mean) per pixel along rows (dx) and along columns (dy). */
function crossings(tex: Float32Array, n: number): { alongX: number; alongY: number } {
  let mean = 0;
  for (const v of tex) mean += v;
  mean /= tex.length;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const v = tex[y * n + x]! > mean;
      if (v !== tex[y * n + ((x + 1) % n)]! > mean) cx++;
      if (v !== tex[((y + 1) % n) * n + x]! > mean) cy++;
    }
  }
  return { alongX: cx / (n * n), alongY: cy / (n * n) };
}

test('textures are band-limited around sf0 and oriented when bθ is small', () => {
  const n = 128;
  const fine = crossings(makeLogTexture(n, 0.25, 0.1, 0, Infinity, 0.7, 0.5, 1), n);
  const coarse = crossings(makeLogTexture(n, 0.06, 0.03, 0, Infinity, 0.7, 0.5, 1), n);
  // A narrow-band signal at frequency f crosses its mean about 2f times per pixel.
  assert.ok(fine.alongX > 2 * coarse.alongX, `crossings fine ${fine.alongX}, coarse ${coarse.alongX}`);
  assert.ok(coarse.alongX > 0.05 && coarse.alongX < 0.25, `coarse texture: ${coarse.alongX} crossings/px`);
  assert.ok(Math.abs(fine.alongX / fine.alongY - 1) < 0.2, 'isotropic texture: same along x and y');
  // θ = 0: wave vectors horizontal → vertical stripes: many crossings along x, few along y.
  const oriented = crossings(makeLogTexture(n, 0.15, 0.05, 0, 8, 0.7, 0.5, 1), n);
  assert.ok(oriented.alongX > 3 * oriented.alongY, `oriented texture: x ${oriented.alongX}, y ${oriented.alongY}`);
  // Contrast and mean: log(0.5·(1 ± 0.7)) bounds.
  const t = makeLogTexture(64, 0.125, 0.1, 0, Infinity, 0.7, 0.5, 3);
  for (const v of t) assert.ok(v >= Math.log(0.5 * 0.3) - 1e-5 && v <= Math.log(0.5 * 1.7) + 1e-5, `texture value ${v}`);
});
