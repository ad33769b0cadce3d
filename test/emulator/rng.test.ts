import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, logFactorial } from '../../src/emulator/rng.js';

test('same seed and stream give the same sequence; other seeds or streams differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const seqA = Array.from({ length: 100 }, () => a.nextU32());
  const seqB = Array.from({ length: 100 }, () => b.nextU32());
  assert.deepEqual(seqA, seqB);
  const c = new Rng(43);
  const d = new Rng(42, 1);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c.nextU32()), seqA);
  assert.notDeepEqual(Array.from({ length: 100 }, () => d.nextU32()), seqA);
  for (const v of seqA) assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32, `u32 out of range: ${v}`);
});

test('xoshiro128** core matches the reference algorithm for a known state', () => {
  // Reference xoshiro128** step written out independently on BigInt, from the same seeded state.
  const r = new Rng(7);
  const st = r as unknown as { s0: number; s1: number; s2: number; s3: number };
  const s = [st.s0, st.s1, st.s2, st.s3].map((v) => BigInt(v >>> 0));
  const M = 0xffffffffn;
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M;
  for (let i = 0; i < 20; i++) {
    const expected = Number((rotl((s[1]! * 5n) & M, 7n) * 9n) & M);
    const t = (s[1]! << 9n) & M;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11n);
    assert.equal(r.nextU32(), expected, `output ${i}`);
  }
});

test('uniform, normal and Poisson have the right moments', () => {
  const r = new Rng(1);
  const n = 40000;
  let su = 0;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1, `uniform out of range: ${u}`);
    su += u;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.01, `uniform mean ${su / n}`);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    s1 += v;
    s2 += v * v;
  }
  assert.ok(Math.abs(s1 / n) < 0.03, `normal mean ${s1 / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.04, `normal variance ${s2 / n}`);
  // Both Poisson samplers (Knuth below 10, PTRS above): mean = variance = lambda.
  for (const lambda of [0.3, 4, 12, 150, 5000]) {
    const m = 20000;
    let a = 0;
    let b = 0;
    for (let i = 0; i < m; i++) {
      const k = r.poisson(lambda);
      assert.ok(Number.isInteger(k) && k >= 0, `Poisson draw ${k}`);
      a += k;
      b += k * k;
    }
    const mean = a / m;
    const variance = b / m - mean * mean;
    assert.ok(Math.abs(mean - lambda) < 5 * Math.sqrt(lambda / m), `Poisson(${lambda}) mean ${mean}`);
    assert.ok(Math.abs(variance / lambda - 1) < 0.06, `Poisson(${lambda}) variance ${variance}`);
  }
  assert.equal(r.poisson(0), 0);
});

test('logFactorial is exact for small k and accurate beyond', () => {
  let exact = 0;
  for (let k = 0; k < 40; k++) {
    if (k > 1) exact += Math.log(k);
    assert.ok(Math.abs(logFactorial(k) - exact) < 1e-9, `log(${k}!)`);
  }
});
