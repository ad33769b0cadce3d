/**
 * TfjsNetwork: a network built on the CPU (same spec, same initial state) stepped through
 * TensorFlow.js ops as B independent instances at once, in the dense formulation of tfjs-plan.ts.
 * State is f32 (tfjs's float type). Each step, in Brian2's order as in network.ts:
 *
 *   groups      traces x(t) = x(t−1)·decay_pre, z ← z·decay_post;  v ← v·decay unless refractory,
 *               θ ← θ·θ_decay
 *   thresholds  S = [v > v_th + θ] ∧ not refractory (inputs: the given spikes); the spike history
 *               of every population read by a projection shifts in S(t)
 *   synapses    v += H(t)·W for every projection (one matMul);  STDP: x(t) += a_pre·S_pre(t), on_pre
 *               for the arrivals (mask H ⊗ synapse), z += a_post·S_post, on_post for S_post's synapses
 *   resets      v ← v_reset or v − (v_th + θ), θ += θ_plus, refractory until t + refractory_steps
 *
 * Every step runs inside tf.tidy and the previous state tensors are disposed when replaced, so the
 * number of live tensors stays flat over any run; `destroy()` frees the rest.
 */
import type { Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import type { Network } from '../../network.js';
import type { StdpSpec } from '../../spec.js';
import { loadTfjs, type LoadTfjsOptions, type TfjsContext } from './load.js';
import { planTfjs, type TfjsBatchOptions, type TfjsPlan, type TfjsPopPlan, type TfjsProjPlan } from './tfjs-plan.js';

import type { ChunkSpikes, InstanceInput } from '../batch-types.js';
export type { ChunkSpikes, InstanceInput };

export interface TfjsNetworkOptions extends TfjsBatchOptions, LoadTfjsOptions {
  /** An already loaded context (default: loadTfjs with these options). */
  readonly context?: TfjsContext;
}

type State = Record<string, Tensor>;

export class TfjsNetwork {
  /** The next step to run. */
  t = 0;
  private state: State = {};
  /** Constant tensors (shared weights, synapse masks), freed by destroy(). */
  private readonly constants: Tensor[] = [];
  /** Plastic projections: the synapse mask per instance (B × rows × post) and ones for outer products. */
  private readonly masks = new Map<string, { mask: Tensor3D; onesRows: Tensor3D; onesPost: Tensor3D }>();
  private readonly sharedWeights = new Map<string, Tensor2D>();
  private readonly learning = new Map<string, boolean>();
  private readonly outPops: TfjsPopPlan[];
  private destroyed = false;

  private constructor(
    readonly net: Network,
    readonly plan: TfjsPlan,
    readonly context: TfjsContext,
  ) {
    this.outPops = plan.pops.filter((p) => !p.input);
    this.upload();
  }

  /** Builds the tfjs copy of a freshly built network (net.t must be 0). */
  static async create(net: Network, options: TfjsNetworkOptions = {}): Promise<TfjsNetwork> {
    if (net.t !== 0) throw new RangeError(`TfjsNetwork.create needs a network that has not run yet (it is at step ${net.t})`);
    const plan = planTfjs(net, options);
    const context = options.context ?? (await loadTfjs(options));
    return new TfjsNetwork(net, plan, context);
  }

  get instances(): number {
    return this.plan.B;
  }

  private get tf() {
    return this.context.tf;
  }

  /** Copies the CPU network's initial state, replicated for every instance. */
  private upload(): void {
    const { tf } = this;
    const B = this.plan.B;
    const s: State = {};
    for (const p of this.plan.pops) {
      if (p.historySlots > 0) s[`${p.name}.hist`] = tf.zeros([B, p.historySlots, p.size]);
      if (!p.lifState) continue;
      const st = p.lifState;
      const rep = <T extends Float32Array | Int32Array>(make: (n: number) => T, src: ArrayLike<number>) => {
        const a = make(B * p.size);
        for (let b = 0; b < B; b++) a.set(src, b * p.size);
        return a;
      };
      s[`${p.name}.v`] = tf.tensor2d(rep((n) => new Float32Array(n), st.v), [B, p.size]);
      s[`${p.name}.theta`] = tf.tensor2d(rep((n) => new Float32Array(n), st.theta), [B, p.size]);
      s[`${p.name}.refUntil`] = tf.tensor2d(rep((n) => new Int32Array(n), st.refractoryUntil), [B, p.size], 'int32');
    }
    for (const q of this.plan.projs) {
      const t = q.table;
      const post = q.to.size;
      const w = new Float32Array(q.rows * post);
      const m = new Float32Array(q.rows * post);
      for (let k = 0; k < t.count; k++) {
        w[q.row[k]! * post + t.post[k]!] = t.weight[k]!;
        m[q.row[k]! * post + t.post[k]!] = 1;
      }
      if (q.perInstance) {
        const wb = new Float32Array(B * w.length);
        for (let b = 0; b < B; b++) wb.set(w, b * w.length);
        s[`${q.name}.W`] = tf.tensor3d(wb, [B, q.rows, post]);
        // Every elementwise op of the learning step on equal shapes: tfjs's cpu backend runs
        // broadcasting ops element by element through index arithmetic, many times slower.
        const mb = new Float32Array(B * m.length);
        for (let b = 0; b < B; b++) mb.set(m, b * m.length);
        const consts = { mask: tf.tensor3d(mb, [B, q.rows, post]), onesRows: tf.ones([B, q.rows, 1]) as Tensor3D, onesPost: tf.ones([B, 1, post]) as Tensor3D };
        this.masks.set(q.name, consts);
        this.constants.push(consts.mask, consts.onesRows, consts.onesPost);
      } else {
        const W = tf.tensor2d(w, [q.rows, post]);
        this.sharedWeights.set(q.name, W);
        this.constants.push(W);
      }
      if (q.stdp) {
        s[`${q.name}.x`] = tf.zeros([B, q.D, q.from.size]);
        s[`${q.name}.z`] = tf.zeros([B, post]);
        this.learning.set(q.name, this.net.rules.find((r) => r.spec.projection === q.name)!.enabled);
      }
    }
    this.state = s;
  }

  /** Switches STDP on or off (every plastic projection, or one) from the next step on. */
  setLearning(enabled: boolean, projection?: string): void {
    if (projection !== undefined && !this.plan.projs.some((q) => q.name === projection)) throw new RangeError(`no projection named '${projection}' on the tfjs backend`);
    for (const q of this.plan.projs) if (q.stdp && (projection === undefined || q.name === projection)) this.learning.set(q.name, enabled);
  }

  /**
   * Runs inputs.length steps; inputs[k][b] are the input spikes of step t + k of instance b.
   * Resolves with the output spikes (read back once for the whole chunk).
   */
  async runChunk(inputs: readonly (readonly InstanceInput[])[]): Promise<ChunkSpikes> {
    if (this.destroyed) throw new Error('TfjsNetwork: destroyed');
    const { tf } = this;
    const n = inputs.length;
    if (n < 1) throw new RangeError(`runChunk takes at least 1 step, got ${n}`);
    const dense = inputs.map((step, k) => this.denseInputs(step, this.t + k));
    const recorded: Tensor2D[][] = this.outPops.map(() => []);
    try {
      for (let k = 0; k < n; k++) {
        const spikes = this.step(dense[k]!);
        this.outPops.forEach((p, i) => recorded[i]!.push(spikes[p.name]!));
      }
    } catch (e) {
      for (const r of recorded) tf.dispose(r);
      throw e;
    }
    const out: ChunkSpikes = new Map();
    const B = this.plan.B;
    for (let i = 0; i < this.outPops.length; i++) {
      const p = this.outPops[i]!;
      const stacked = tf.stack(recorded[i]!);
      tf.dispose(recorded[i]!);
      let data: Float32Array;
      try {
        data = (await stacked.data()) as Float32Array;
      } finally {
        stacked.dispose();
      }
      const rows: Int32Array[][] = [];
      for (let k = 0; k < n; k++) {
        const row: Int32Array[] = [];
        for (let b = 0; b < B; b++) {
          const base = (k * B + b) * p.size;
          const list: number[] = [];
          for (let j = 0; j < p.size; j++) if (data[base + j]! !== 0) list.push(j);
          row.push(Int32Array.from(list));
        }
        rows.push(row);
      }
      out.set(p.name, rows);
    }
    return out;
  }

  /** Input spikes of one step as B × size 0/1 arrays, checked. */
  private denseInputs(step: readonly InstanceInput[], t: number): Map<string, Float32Array> {
    const B = this.plan.B;
    if (step.length !== B) throw new RangeError(`step ${t}: inputs for ${step.length} instances, expected ${B}`);
    const out = new Map<string, Float32Array>();
    for (let b = 0; b < B; b++) {
      for (const name of Object.keys(step[b]!)) {
        const p = this.plan.pops.find((x) => x.name === name);
        if (!p || !p.input) throw new RangeError(`step ${t}: '${name}' is not an input population of this network`);
      }
    }
    for (const p of this.plan.pops) {
      if (!p.input) continue;
      const a = new Float32Array(B * p.size);
      for (let b = 0; b < B; b++) {
        const given = step[b]![p.name] ?? [];
        for (let e = 0; e < given.length; e++) {
          const i = given[e]!;
          if (!Number.isInteger(i) || i < 0 || i >= p.size) throw new RangeError(`step ${t}, instance ${b}: input '${p.name}' spike index ${i} out of range [0, ${p.size})`);
          a[b * p.size + i] = 1;
        }
      }
      out.set(p.name, a);
    }
    return out;
  }

  /** One step; returns the spikes (B × size, 0/1 f32) of every non-input population, owned by the caller. */
  private step(given: Map<string, Float32Array>): Record<string, Tensor2D> {
    const { tf, plan } = this;
    const B = plan.B;
    const t = this.t;
    const old = this.state;
    const result = tf.tidy(() => {
      const s: State = { ...old };
      const tNow = tf.scalar(t, 'int32');
      const spikes: Record<string, Tensor2D> = {};
      // groups: traces, then membranes
      for (const q of plan.projs) {
        if (!q.stdp) continue;
        const x = s[`${q.name}.x`] as Tensor3D;
        const prev = x.slice([0, 0, 0], [B, 1, q.from.size]).mul(q.stdp.decay_pre);
        s[`${q.name}.xShifted`] = q.D > 1 ? tf.concat([prev, x.slice([0, 0, 0], [B, q.D - 1, q.from.size])], 1) : prev;
        s[`${q.name}.z`] = s[`${q.name}.z`]!.mul(q.stdp.decay_post);
      }
      const free: Record<string, Tensor> = {};
      for (const p of plan.pops) {
        const lif = p.lif;
        if (!lif) continue;
        const v = s[`${p.name}.v`]!;
        const notRefractory = tf.greaterEqual(tNow, s[`${p.name}.refUntil`]!);
        free[p.name] = notRefractory;
        s[`${p.name}.v`] = lif.refractory_steps > 0 ? tf.where(notRefractory, v.mul(lif.decay), v) : v.mul(lif.decay);
        if (lif.adaptation) s[`${p.name}.theta`] = s[`${p.name}.theta`]!.mul(lif.adaptation.decay);
      }
      // thresholds, and the spike histories
      const S: Record<string, Tensor2D> = {};
      for (const p of plan.pops) {
        if (p.input) S[p.name] = tf.tensor2d(given.get(p.name)!, [B, p.size]);
        else {
          const th = s[`${p.name}.theta`]!.add(p.lif!.v_th);
          S[p.name] = tf.logicalAnd(tf.greater(s[`${p.name}.v`]!, th), free[p.name]!).cast('float32') as Tensor2D;
          spikes[p.name] = S[p.name]!;
        }
        if (p.historySlots > 0) {
          const h = s[`${p.name}.hist`] as Tensor3D;
          const now = S[p.name]!.reshape([B, 1, p.size]);
          s[`${p.name}.hist`] = p.historySlots > 1 ? tf.concat([now, h.slice([0, 0, 0], [B, p.historySlots - 1, p.size])], 1) : now;
        }
      }
      // synapses: delivery through the weights before this step's learning
      const arrivals: Record<string, Tensor2D> = {};
      for (const q of plan.projs) {
        const h = s[`${q.from.name}.hist`] as Tensor3D;
        const flat = (q.D === q.from.historySlots ? h : h.slice([0, 0, 0], [B, q.D, q.from.size])).reshape([B, q.D * q.from.size]) as Tensor2D;
        const H = q.layers > 1 ? (tf.tile(flat, [1, q.layers]) as Tensor2D) : flat;
        arrivals[q.name] = H;
        const I = q.perInstance ? (tf.matMul(H.reshape([B, 1, q.rows]) as Tensor3D, s[`${q.name}.W`] as Tensor3D).reshape([B, q.to.size]) as Tensor2D) : tf.matMul(H, this.sharedWeights.get(q.name)!);
        s[`${q.to.name}.v`] = s[`${q.to.name}.v`]!.add(I);
      }
      for (const q of plan.projs) {
        if (!q.stdp) continue;
        const rule = q.stdp;
        const xs = s[`${q.name}.xShifted`] as Tensor3D;
        delete s[`${q.name}.xShifted`];
        // x(t) += a_pre·S_pre(t): slot 0 of the trace ring
        const x0 = xs.slice([0, 0, 0], [B, 1, q.from.size]).add(S[q.from.name]!.reshape([B, 1, q.from.size]).mul(rule.a_pre));
        const x = q.D > 1 ? tf.concat([x0, xs.slice([0, 1, 0], [B, q.D - 1, q.from.size])], 1) : x0;
        s[`${q.name}.x`] = x;
        const learn = this.learning.get(q.name)!;
        const { mask, onesRows, onesPost } = this.masks.get(q.name)!;
        /** Outer product of a column (B × rows × 1) and a row (B × 1 × post), as a full B × rows × post tensor. */
        const outer = (col: Tensor3D, row: Tensor3D) => tf.matMul(col, row);
        let W = s[`${q.name}.W`] as Tensor3D;
        if (learn) {
          // on_pre: every arriving synapse, w ← clip(w + Δ(z_post))
          const z = outer(onesRows, s[`${q.name}.z`]!.reshape([B, 1, q.to.size]));
          const arrive = outer(arrivals[q.name]!.reshape([B, q.rows, 1]) as Tensor3D, onesPost).mul(mask).greater(0);
          W = tf.where(arrive, stdpUpdate(tf, W, z, rule), W) as Tensor3D;
        }
        const post = S[q.to.name]!;
        s[`${q.name}.z`] = s[`${q.name}.z`]!.add(post.mul(rule.a_post));
        if (learn) {
          // on_post: every synapse onto a spiking neuron, w ← clip(w + Δ(x_pre(t − d)))
          const xr0 = x.reshape([B, q.D * q.from.size]);
          const xr = outer((q.layers > 1 ? tf.tile(xr0, [1, q.layers]) : xr0).reshape([B, q.rows, 1]) as Tensor3D, onesPost);
          const hit = outer(onesRows, post.reshape([B, 1, q.to.size]) as Tensor3D).mul(mask).greater(0);
          W = tf.where(hit, stdpUpdate(tf, W, xr, rule), W) as Tensor3D;
        }
        s[`${q.name}.W`] = W;
      }
      // resets
      for (const p of plan.pops) {
        const lif = p.lif;
        if (!lif) continue;
        const fired = S[p.name]!.greater(0);
        const v = s[`${p.name}.v`]!;
        const theta = s[`${p.name}.theta`]!;
        s[`${p.name}.v`] = tf.where(fired, lif.reset === 'value' ? tf.fill(v.shape, lif.v_reset) : v.sub(theta.add(lif.v_th)), v);
        if (lif.adaptation && lif.adaptation.plus !== 0) s[`${p.name}.theta`] = tf.where(fired, theta.add(lif.adaptation.plus), theta);
        s[`${p.name}.refUntil`] = tf.where(fired, tf.fill(v.shape, t + lif.refractory_steps, 'int32'), s[`${p.name}.refUntil`]!);
      }
      return { state: s, spikes };
    });
    // Free what the step replaced.
    const keep = new Set(Object.values(result.state));
    for (const x of Object.values(old)) if (!keep.has(x)) x.dispose();
    this.state = result.state;
    this.t = t + 1;
    return result.spikes;
  }

  /** Final weights of one instance in the user's synapse order (f32 values widened). */
  async weights(projection: string, instance = 0): Promise<Float64Array> {
    const q = this.plan.projs.find((x) => x.name === projection);
    if (!q) throw new RangeError(`no projection named '${projection}' on the tfjs backend`);
    this.checkInstance(instance);
    const { tf } = this;
    const w = q.perInstance ? tf.tidy(() => (this.state[`${q.name}.W`] as Tensor3D).slice([instance, 0, 0], [1, q.rows, q.to.size])) : this.sharedWeights.get(q.name)!;
    const data = await w.data();
    if (q.perInstance) w.dispose();
    const t = q.table;
    const out = new Float64Array(t.count);
    for (let k = 0; k < t.count; k++) out[t.id[k]!] = data[q.row[k]! * q.to.size + t.post[k]!]!;
    return out;
  }

  /** One state array of one instance ('v' or 'theta' of a LIF population), widened to f64. */
  async populationState(population: string, field: 'v' | 'theta', instance = 0): Promise<Float64Array> {
    const p = this.plan.pops.find((x) => x.name === population && x.lif);
    if (!p) throw new RangeError(`no LIF population named '${population}' on the tfjs backend`);
    this.checkInstance(instance);
    const row = this.tf.tidy(() => (this.state[`${p.name}.${field}`] as Tensor2D).slice([instance, 0], [1, p.size]) as Tensor2D);
    try {
      return Float64Array.from((await row.data()) as Float32Array);
    } finally {
      row.dispose();
    }
  }

  private checkInstance(b: number): void {
    if (!Number.isInteger(b) || b < 0 || b >= this.plan.B) throw new RangeError(`instance ${b} out of range [0, ${this.plan.B})`);
  }

  /** Frees every tensor this network holds. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.tf.dispose([...Object.values(this.state), ...this.constants]);
    this.state = {};
  }
}

/** Brian2's STDP update on dense tensors: w + Δ(a), Δ(a) = a, or a·(w − w_min) / a·(w_max − w) (multiplicative), clipped. */
function stdpUpdate(tf: TfjsContext['tf'], w: Tensor, a: Tensor, p: StdpSpec): Tensor {
  const aa = p.symmetric ? a.abs() : a;
  const dw = p.mode === 'additive' ? aa : tf.where(aa.less(0), aa.mul(w.sub(p.w_min)), aa.mul(w.neg().add(p.w_max)));
  return tf.clipByValue(w.add(dw), p.w_min, p.w_max);
}

