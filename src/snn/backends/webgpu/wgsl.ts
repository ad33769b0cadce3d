/**
 * WGSL for one planned network: every size and offset is a constant in the code, one entry point
 * per piece of a step. Per step, in Brian2's order (the CPU reference's):
 *
 *   begin            clear this step's spike counts of the LIF populations
 *   traceDecay_r     x(t) = x(t−1)·decay_pre, z ← z·decay_post              (STDP rule r)
 *   integrate_p      v ← v·decay (unless refractory), θ ← θ·θ_decay; spike ⇔ v > v_th + θ;
 *                    append to the step's list and to the output list
 *   traceAdd_r       x(t) += a_pre for this step's presynaptic spikes
 *   deliver_q        for every spike of step t − d and its synapses of delay d: acc += round(w·2^16)
 *                    (integer atomics: WGSL has no float atomics, and an integer sum does not depend on
 *                    the order threads run in); STDP on_pre: w ← clip(w + Δ(z))
 *   readoutErr_q     (readout) e_j = σ(a_j + b_j) − y_j (0 for an unlabelled unit), a_j = acc·2^−16
 *                    read without clearing; the bias takes its SGD/Adam step
 *   readoutW_q       (readout) every synapse that delivered this step takes its SGD/Adam step with
 *                    g = e_post (same threads as deliver_q: one synapse is touched once per step)
 *   pruneRank_q,     (readout with pruning, after the update of each step t with (t + 1) mod every = 0
 *   pruneApply_q      while learning is on) mask the synapses outside the `keep` largest |w|, zero them
 *   applyReset_p     spiking neurons reset (input of the firing step is wiped; 'subtract' keeps it),
 *                    the others take v += acc·2^−16
 *   onPost_r         z += a_post; w ← clip(w + Δ(x(t − d))) for the spiking neurons' synapses
 *   homeo_h          (controller h, spec order) r_k ← r_k·α_k (+ kick_k if the neuron spiked at t);
 *                    u = Σ_k gain_k·(r_k − target)·dt; threshold: offset += u; scaling: factor =
 *                    max(1 − u, MIN_SCALE)
 *   scale_h_q        (scaling) w ← w·factor[post] for every synapse of projection q into the population
 *   end              t ← t + 1
 *
 * Logistic populations have logistic_p in integrate_p's place: p = σ(acc·2^−16 + b), acc ← 0,
 * spike ⇔ p > threshold. Their input is summed in the same fixed point as the LIF input.
 *
 * State is f32 (WGSL has no f64), so results equal the f64 CPU reference exactly only where the
 * arithmetic is exact in both (dyadic weights, decays like 0.5); otherwise within f32 rounding.
 */
import type { GpuPlan, PopPlan, ProjPlan } from './gpu-plan.js';
import { MIN_SCALE } from '../../homeostasis/controllers.js';

export const FIXED_POINT_SCALE = 65536;
export const WORKGROUP = 64;

/** A WGSL f32 literal that rounds to the same f32 as Math.fround(x). */
function f(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`WGSL constant must be finite, got ${x}`);
  const s = Math.fround(x).toPrecision(9);
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
}

const u = (n: number) => `${n >>> 0}u`;

function slot(p: PopPlan, tExpr: string): string {
  return `((${tExpr}) % ${u(p.slots)})`;
}

function delta(name: string, r: NonNullable<ProjPlan['stdp']>['spec']): string {
  const a = r.symmetric ? 'abs(a0)' : 'a0';
  const dw = r.mode === 'additive' ? 'a' : `select(a * (${f(r.w_max)} - w), a * (w - ${f(r.w_min)}), a < 0.0f)`;
  return `fn ${name}(w: f32, a0: f32) -> f32 { let a = ${a}; return clamp(w + ${dw}, ${f(r.w_min)}, ${f(r.w_max)}); }`;
}

export function generateWgsl(plan: GpuPlan): string {
  const B = plan.B;
  const out: string[] = [
    `@group(0) @binding(0) var<storage, read_write> mem: array<u32>;`,
    `@group(0) @binding(1) var<storage, read_write> atom: array<atomic<u32>>;`,
    `fn rf(i: u32) -> f32 { return bitcast<f32>(mem[i]); }`,
    `fn wf(i: u32, x: f32) { mem[i] = bitcast<u32>(x); }`,
    `fn stepNow() -> u32 { return mem[0]; }`,
    // The CPU's two-branch logistic (no overflow of e^−x for large |x|).
    `fn sigm(x: f32) -> f32 { if (x >= 0.0f) { return 1.0f / (1.0f + exp(-x)); } let e = exp(x); return e / (1.0f + e); }`,
  ];
  const lifs = plan.pops.filter((p) => p.lif);
  const spiking = plan.pops.filter((p) => !p.input);
  out.push(`@compute @workgroup_size(${WORKGROUP}) fn begin(@builtin(global_invocation_id) g: vec3u) {
  let b = g.x; if (b >= ${u(B)}) { return; }
  let t = stepNow();
${spiking.map((p) => `  atomicStore(&atom[${u(p.counts)} + ${slot(p, 't')} * ${u(B)} + b], 0u);`).join('\n')}
}`);
  const spikeOut = (p: PopPlan) => `    mem[${u(p.lastSpike)} + n] = t + 1u;
    let k = atomicAdd(&atom[${u(p.counts)} + ${slot(p, 't')} * ${u(B)} + b], 1u);
    mem[${u(p.lists)} + (${slot(p, 't')} * ${u(B)} + b) * ${u(p.capacity)} + k] = j;
    let o = atomicAdd(&atom[${u(p.outCount)}], 1u);
    if (o < ${u(plan.outputCapacity)}) {
      mem[${u(p.out)} + 2u * o] = ((t & 0xffffu) << 16u) | b;
      mem[${u(p.out)} + 2u * o + 1u] = j;
    }`;
  for (const p of plan.pops.filter((x) => x.logistic)) {
    out.push(`@compute @workgroup_size(${WORKGROUP}) fn logistic_${p.index}(@builtin(global_invocation_id) g: vec3u) {
  let j = g.x; let b = g.y; if (j >= ${u(p.size)}) { return; }
  let t = stepNow();
  let n = b * ${u(p.size)} + j;
  let a = f32(bitcast<i32>(atomicExchange(&atom[${u(p.acc)} + n], 0u))) * ${f(1 / FIXED_POINT_SCALE)};
  if (sigm(a + rf(${u(p.bias)} + n)) > ${f(p.logistic!.threshold)}) {
${spikeOut(p)}
  }
}`);
  }
  const off = (p: PopPlan) => (p.offset >= 0 ? ` + rf(${u(p.offset)} + n)` : '');
  for (const p of lifs) {
    const s = p.lif!;
    const refr = s.refractory_steps > 0;
    out.push(`@compute @workgroup_size(${WORKGROUP}) fn integrate_${p.index}(@builtin(global_invocation_id) g: vec3u) {
  let j = g.x; let b = g.y; if (j >= ${u(p.size)}) { return; }
  let t = stepNow();
  let n = b * ${u(p.size)} + j;
  var v = rf(${u(p.v)} + n);
  var th = rf(${u(p.theta)} + n);
  let free = ${refr ? `i32(t) >= bitcast<i32>(mem[${u(p.refractoryUntil)} + n])` : 'true'};
  if (free) { v = v * ${f(s.decay)}; }
  ${s.adaptation ? `th = th * ${f(s.adaptation.decay)}; wf(${u(p.theta)} + n, th);` : ''}
  wf(${u(p.v)} + n, v);
  if (free && v > ${f(s.v_th)} + th${off(p)}) {
${spikeOut(p)}
  }
}`);
  }
  for (const q of plan.projs) {
    const r = q.stdp;
    const w = (s: string) => (q.weightPerInstance ? `${u(q.weight)} + b * ${u(q.table.count)} + ${s}` : `${u(q.weight)} + ${s}`);
    if (r) {
      const pre = q.from;
      const post = q.to;
      out.push(delta(`dw_${q.index}`, r.spec));
      out.push(`@compute @workgroup_size(${WORKGROUP}) fn traceDecay_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x; let b = g.y; let t = stepNow();
  if (i < ${u(pre.size)}) {
    let cur = ${u(r.x)} + ((t % ${u(q.D)}) * ${u(B)} + b) * ${u(pre.size)} + i;
    let prev = ${u(r.x)} + (((t + ${u(q.D - 1)}) % ${u(q.D)}) * ${u(B)} + b) * ${u(pre.size)} + i;
    wf(cur, rf(prev) * ${f(r.spec.decay_pre)});
  }
  if (i < ${u(post.size)}) { let zi = ${u(r.z)} + b * ${u(post.size)} + i; wf(zi, rf(zi) * ${f(r.spec.decay_post)}); }
}`);
      out.push(`@compute @workgroup_size(${WORKGROUP}) fn traceAdd_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let k = g.x; let b = g.y; let t = stepNow();
  let sl = ${slot(pre, 't')} * ${u(B)} + b;
  if (k >= atomicLoad(&atom[${u(pre.counts)} + sl])) { return; }
  let i = mem[${u(pre.lists)} + sl * ${u(pre.capacity)} + k];
  let xi = ${u(r.x)} + ((t % ${u(q.D)}) * ${u(B)} + b) * ${u(pre.size)} + i;
  wf(xi, rf(xi) + ${f(r.spec.a_pre)});
}`);
      out.push(`@compute @workgroup_size(${WORKGROUP}) fn onPost_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let k = g.x; let b = g.y; let t = stepNow();
  let sl = ${slot(post, 't')} * ${u(B)} + b;
  if (k >= atomicLoad(&atom[${u(post.counts)} + sl])) { return; }
  let j = mem[${u(post.lists)} + sl * ${u(post.capacity)} + k];
  let zi = ${u(r.z)} + b * ${u(post.size)} + j;
  wf(zi, rf(zi) + ${f(r.spec.a_post)});
  if (mem[${u(r.enabledWord)}] == 0u) { return; }
  for (var q = mem[${u(q.postStart)} + j]; q < mem[${u(q.postStart)} + j + 1u]; q++) {
    let s = mem[${u(q.postSyn)} + q];
    let d = mem[${u(q.delay)} + s];
    let xi = ${u(r.x)} + (((t + ${u(q.D)} - d) % ${u(q.D)}) * ${u(B)} + b) * ${u(pre.size)} + mem[${u(q.pre)} + s];
    let wi = ${w('s')};
    wf(wi, dw_${q.index}(rf(wi), rf(xi)));
  }
}`);
    }
    const pre = q.from;
    const post = q.to;
    out.push(`@compute @workgroup_size(${WORKGROUP}) fn deliver_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let k = g.x; let b = g.y % ${u(B)}; let d = g.y / ${u(B)}; let t = stepNow();
  if (d > t) { return; }
  let sl = ${slot(pre, 't - d')} * ${u(B)} + b;
  if (k >= atomicLoad(&atom[${u(pre.counts)} + sl])) { return; }
  let i = mem[${u(pre.lists)} + sl * ${u(pre.capacity)} + k];
  let gi = ${u(q.groupStart)} + i * ${u(q.D)} + d;
  ${r ? `let learn = mem[${u(r.enabledWord)}] != 0u;` : ''}
  for (var s = mem[gi]; s < mem[gi + 1u]; s++) {
    let j = mem[${u(q.post)} + s];
    let wi = ${w('s')};
    let w = rf(wi);
    atomicAdd(&atom[${u(post.acc)} + b * ${u(post.size)} + j], bitcast<u32>(i32(round(w * ${f(FIXED_POINT_SCALE)}))));
    ${r ? `if (learn) { wf(wi, dw_${q.index}(w, rf(${u(r.z)} + b * ${u(post.size)} + j))); }` : ''}
  }
}`);
  }
  for (const q of plan.projs) if (q.readout) out.push(...readoutKernels(plan, q));
  for (const h of plan.homeo) out.push(...homeoKernels(plan, h));
  for (const p of lifs) {
    const s = p.lif!;
    const resetV = s.reset === 'value' ? `${f(s.v_reset)}` : `v + inp - (${f(s.v_th)} + th${off(p)})`;
    out.push(`@compute @workgroup_size(${WORKGROUP}) fn applyReset_${p.index}(@builtin(global_invocation_id) g: vec3u) {
  let j = g.x; let b = g.y; if (j >= ${u(p.size)}) { return; }
  let t = stepNow();
  let n = b * ${u(p.size)} + j;
  let inp = f32(bitcast<i32>(atomicExchange(&atom[${u(p.acc)} + n], 0u))) * ${f(1 / FIXED_POINT_SCALE)};
  let v = rf(${u(p.v)} + n);
  if (mem[${u(p.lastSpike)} + n] == t + 1u) {
    let th = rf(${u(p.theta)} + n);
    wf(${u(p.v)} + n, ${resetV});
    ${s.adaptation ? `wf(${u(p.theta)} + n, th + ${f(s.adaptation.plus)});` : ''}
    ${s.refractory_steps > 0 ? `mem[${u(p.refractoryUntil)} + n] = bitcast<u32>(i32(t) + ${s.refractory_steps}i);` : ''}
  } else {
    wf(${u(p.v)} + n, v + inp);
  }
}`);
  }
  out.push(`@compute @workgroup_size(1) fn end() { mem[0] = mem[0] + 1u; }`);
  return out.join('\n\n');
}

/** SGD or Adam on parameter index `i` (an expression) of array `theta` with gradient `g`; `mi`/`vi` index the moments. */
function optimizerStep(r: NonNullable<ProjPlan['readout']>, theta: string, mBase: number, vBase: number, i: string, g: string): string {
  const s = r.spec;
  if (s.optimizer === 'sgd') return `wf(${theta}, rf(${theta}) - ${f(s.learning_rate)} * ${g});`;
  return `{
      let mi = ${u(mBase)} + ${i}; let vi = ${u(vBase)} + ${i};
      let m = ${f(s.beta1)} * rf(mi) + ${f(1 - s.beta1)} * ${g};
      let v = ${f(s.beta2)} * rf(vi) + ${f(1 - s.beta2)} * ${g} * ${g};
      wf(mi, m); wf(vi, v);
      wf(${theta}, rf(${theta}) - (${f(s.learning_rate)} * (m / c1)) / (sqrt(v / c2) + ${f(s.epsilon)}));
    }`;
}

function readoutKernels(plan: GpuPlan, q: ProjPlan): string[] {
  const r = q.readout!;
  const B = plan.B;
  const pre = q.from;
  const post = q.to;
  const n = post.size;
  const label = `${u(r.labels)} + ((stepNow() % ${u(plan.chunk)}) * ${u(B)} + b) * ${u(r.stride)}`;
  return [
    `@compute @workgroup_size(${WORKGROUP}) fn readoutErr_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let j = g.x; let b = g.y; if (j >= ${u(n)}) { return; }
  let L = ${label};
  let c1 = rf(L); let c2 = rf(L + 1u);
  if (c1 == 0.0f) { return; }
  let n = b * ${u(n)} + j;
  let a = f32(bitcast<i32>(atomicLoad(&atom[${u(post.acc)} + n]))) * ${f(1 / FIXED_POINT_SCALE)};
  let bi = ${u(post.bias)} + n;
  if (mem[L + 2u + ${u(n)} + j] == 0u) { wf(${u(r.err)} + n, 0.0f); return; }
  let e = sigm(a + rf(bi)) - rf(L + 2u + j);
  wf(${u(r.err)} + n, e);
  ${optimizerStep(r, 'bi', r.bm, r.bv, 'n', 'e')}
}`,
    `@compute @workgroup_size(${WORKGROUP}) fn readoutW_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let k = g.x; let b = g.y % ${u(B)}; let d = g.y / ${u(B)}; let t = stepNow();
  if (d > t) { return; }
  let L = ${label};
  let c1 = rf(L); let c2 = rf(L + 1u);
  if (c1 == 0.0f) { return; }
  let sl = ${slot(pre, 't - d')} * ${u(B)} + b;
  if (k >= atomicLoad(&atom[${u(pre.counts)} + sl])) { return; }
  let i = mem[${u(pre.lists)} + sl * ${u(pre.capacity)} + k];
  let gi = ${u(q.groupStart)} + i * ${u(q.D)} + d;
  for (var s = mem[gi]; s < mem[gi + 1u]; s++) {
    ${r.mask >= 0 ? `if (mem[${u(r.mask)} + b * ${u(q.table.count)} + s] != 0u) { continue; }` : ''}
    let e = rf(${u(r.err)} + b * ${u(n)} + mem[${u(q.post)} + s]);
    let wi = ${u(q.weight)} + b * ${u(q.table.count)} + s;
    ${optimizerStep(r, 'wi', r.m, r.v, `b * ${u(q.table.count)} + s`, 'e')}
  }
}`,
    ...(r.mask >= 0 ? pruneKernels(plan, q) : []),
  ];
}

/**
 * Magnitude pruning in two passes: pruneRank_q masks every synapse whose rank by |w| (descending,
 * ties: lower table index first, as the CPU's sort) is ≥ keep, from the weights before this pruning;
 * pruneApply_q then zeroes masked weights and their Adam moments. The rank is counted directly,
 * O(count) per synapse: O(count²) per pruning and instance, fine for a readout pruned every so often.
 */
function pruneKernels(plan: GpuPlan, q: ProjPlan): string[] {
  const r = q.readout!;
  const n = q.table.count;
  const w = `${u(q.weight)} + b * ${u(n)}`;
  const mk = `${u(r.mask)} + b * ${u(n)} + s`;
  return [
    `@compute @workgroup_size(${WORKGROUP}) fn pruneRank_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let s = g.x; let b = g.y; if (s >= ${u(n)}) { return; }
  let x = abs(rf(${w} + s));
  var rank = 0u;
  for (var o = 0u; o < ${u(n)}; o++) {
    let y = abs(rf(${w} + o));
    if (y > x || (y == x && o < s)) { rank++; }
  }
  if (rank >= ${u(r.spec.prune!.keep)}) { mem[${mk}] = 1u; }
}`,
    `@compute @workgroup_size(${WORKGROUP}) fn pruneApply_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let s = g.x; let b = g.y; if (s >= ${u(n)}) { return; }
  if (mem[${mk}] == 0u) { return; }
  wf(${w} + s, 0.0f);
  ${r.m >= 0 ? `wf(${u(r.m)} + b * ${u(n)} + s, 0.0f); wf(${u(r.v)} + b * ${u(n)} + s, 0.0f);` : ''}
}`,
  ];
}

function homeoKernels(plan: GpuPlan, h: GpuPlan['homeo'][number]): string[] {
  const B = plan.B;
  const p = h.pop;
  const N = B * p.size;
  const dtMs = plan.dtMs;
  const dtS = dtMs / 1000;
  const s = h.spec;
  // α_k and the kick as the CPU's RateEstimator computes them (f64), then rounded to f32.
  const decay = s.timescales.map((x) => Math.exp(-dtMs / x.tau_ms));
  const lines = s.timescales.map((x, k) => {
    const kick = (1 - decay[k]!) / dtS;
    return `  { let ri = ${u(h.r + k * N)} + n; var r = rf(ri) * ${f(decay[k]!)}; if (spiked) { r = r + ${f(kick)}; } wf(ri, r); u = u + ${f(x.gain)} * (r - ${f(s.target_hz)}); }`;
  });
  const apply =
    s.controller === 'threshold'
      ? `let oi = ${u(p.offset)} + n; wf(oi, rf(oi) + u);`
      : `let fct = 1.0f - u; wf(${u(h.factor)} + n, select(${f(MIN_SCALE)}, fct, fct > ${f(MIN_SCALE)}));`;
  const out = [
    `@compute @workgroup_size(${WORKGROUP}) fn homeo_${h.index}(@builtin(global_invocation_id) g: vec3u) {
  let j = g.x; let b = g.y; if (j >= ${u(p.size)}) { return; }
  let n = b * ${u(p.size)} + j;
  let spiked = mem[${u(p.lastSpike)} + n] == stepNow() + 1u;
  var u = 0.0f;
${lines.join('\n')}
  u = u * ${f(dtS)};
  if (mem[${u(h.enabledWord)}] == 0u) { return; }
  ${apply}
}`,
  ];
  for (const q of h.projs) {
    out.push(`@compute @workgroup_size(${WORKGROUP}) fn scale_${h.index}_${q.index}(@builtin(global_invocation_id) g: vec3u) {
  let s = g.x; let b = g.y; if (s >= ${u(q.table.count)}) { return; }
  if (mem[${u(h.enabledWord)}] == 0u) { return; }
  let wi = ${u(q.weight)} + b * ${u(q.table.count)} + s;
  wf(wi, rf(wi) * rf(${u(h.factor)} + b * ${u(p.size)} + mem[${u(q.post)} + s]));
}`);
  }
  return out;
}
