/**
 * The GPU memory plan: where every array of a batched network lives in the two storage buffers the
 * WGSL kernels see. `mem` holds plain 32-bit words (f32 state bit-cast, u32 indices); `atom` holds
 * the words touched by atomics (spike counts, fixed-point input accumulators). B instances of the
 * network (one per sensor or stream) sit side by side: instance b's copy of an array of n entries
 * is at [b·n, (b+1)·n).
 *
 * Supported on the GPU: input, LIF/ALIF and logistic populations, sparse/random/dense projections,
 * pair STDP, the supervised readout (SGD/Adam, magnitude pruning) and homeostasis (threshold and scaling
 * controllers, any number of timescales). Anything else is refused by name (GpuUnsupportedError),
 * never silently approximated.
 */
import type { Network } from '../../network.js';
import type { HomeostasisSpec, LifPopulationSpec, LogisticPopulationSpec, ReadoutSpec, StdpSpec } from '../../spec.js';
import type { SynapseTable } from '../../projections/synapse-table.js';

export class GpuUnsupportedError extends Error {
  override name = 'GpuUnsupportedError';
}

export interface GpuBatchOptions {
  /** Independent instances stepped together (default 1). */
  readonly instances?: number;
  /** Most steps per submission (default 32); inputs for them must be known in advance. */
  readonly chunkSteps?: number;
  /** Most input spikes one input population may have in one step of one instance (default min(size, 1024)). */
  readonly inputCapacity?: number;
  /** Most output spikes per population per chunk over all instances (default 1 << 18). */
  readonly outputCapacity?: number;
}

export interface PopPlan {
  readonly name: string;
  readonly index: number;
  readonly size: number;
  readonly input: boolean;
  readonly lif?: LifPopulationSpec;
  readonly logistic?: LogisticPopulationSpec;
  /** Ring of `slots` steps; each (slot, instance) list holds up to `capacity` indices. */
  readonly slots: number;
  readonly capacity: number;
  readonly lists: number;
  /** atom: counts[slot][b]. */
  readonly counts: number;
  /** LIF state (mem words, B·size each) and the accumulator (atom). */
  readonly v: number;
  readonly theta: number;
  readonly refractoryUntil: number;
  readonly lastSpike: number;
  /** Homeostatic threshold offset (LIF, B·size; -1 without a threshold controller). */
  readonly offset: number;
  /** Logistic: bias b (B·size); -1 otherwise. */
  readonly bias: number;
  readonly acc: number;
  /** Output list (mem: pairs of words) and its counter (atom), for readback. */
  readonly out: number;
  readonly outCount: number;
}

export interface ProjPlan {
  readonly name: string;
  readonly index: number;
  readonly from: PopPlan;
  readonly to: PopPlan;
  readonly table: SynapseTable;
  readonly D: number;
  readonly groupStart: number;
  readonly post: number;
  readonly pre: number;
  readonly delay: number;
  readonly postStart: number;
  readonly postSyn: number;
  readonly weight: number;
  /** Each instance has its own weights (plastic projections). */
  readonly weightPerInstance: boolean;
  readonly stdp?: { readonly spec: StdpSpec; readonly x: number; readonly z: number; readonly enabledWord: number };
  readonly readout?: ReadoutPlan;
}

/**
 * The supervised readout on a table projection into a logistic population. Labels are uploaded per
 * step into a ring of `chunk` slots; slot (step, b) holds [c1, c2, y_0 … y_{n−1}, labelled_0 … ]
 * where c1 = 1 − β1^k, c2 = 1 − β2^k (k counted on the host, in f64), c1 = 0 meaning "no update
 * this step" (no label, or learning off), and labelled_j = 0 for a NaN target.
 */
export interface ReadoutPlan {
  readonly spec: ReadoutSpec;
  readonly labels: number;
  /** Words per (slot, instance) in `labels`: 2 + 2·n. */
  readonly stride: number;
  /** Error e_j of this step (B·n). */
  readonly err: number;
  /** Adam moments of weights (B·count each) and biases (B·n each); -1 for SGD. */
  readonly m: number;
  readonly v: number;
  readonly bm: number;
  readonly bv: number;
  /** Pruning: mask per instance (B·count; 1 = pruned, kept at zero); -1 without pruning. */
  readonly mask: number;
}

/** A homeostasis controller: rate estimates r (K × B·size, timescale-major) and, for scaling, a per-neuron factor. */
export interface HomeoPlan {
  readonly spec: HomeostasisSpec;
  readonly index: number;
  readonly pop: PopPlan;
  readonly r: number;
  /** Scaling: factor per neuron of this step (B·size); -1 for threshold. */
  readonly factor: number;
  /** Projections whose weights a scaling controller multiplies. */
  readonly projs: ProjPlan[];
  readonly enabledWord: number;
}

export interface GpuPlan {
  readonly B: number;
  readonly chunk: number;
  readonly outputCapacity: number;
  readonly pops: PopPlan[];
  readonly projs: ProjPlan[];
  readonly homeo: HomeoPlan[];
  readonly dtMs: number;
  /** mem and atom sizes in words. */
  readonly memWords: number;
  readonly atomWords: number;
  /** mem[T_WORD] is the current step. */
  readonly T_WORD: 0;
}

export function planGpu(net: Network, o: GpuBatchOptions = {}): GpuPlan {
  const spec = net.spec;
  const B = o.instances ?? 1;
  const chunk = o.chunkSteps ?? 32;
  if (!Number.isInteger(B) || B < 1 || B > 65535) throw new RangeError(`instances must be an integer in [1, 65535], got ${B}`);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 65535) throw new RangeError(`chunkSteps must be an integer in [1, 65535], got ${chunk}`);
  for (const r of spec.plasticity) {
    if (r.rule !== 'stdp' && r.rule !== 'readout') throw new GpuUnsupportedError(`webgpu backend: learning rule '${r.rule}' (on '${r.projection}') is not supported on the GPU yet; use the cpu or wasm backend`);
    if (r.rule === 'readout' && r.loss === 'softmax') throw new GpuUnsupportedError(`webgpu backend: the softmax readout loss (on '${r.projection}') is not supported on the GPU yet; use the cpu or wasm backend`);
  }
  const readoutTargets = spec.plasticity.filter((r) => r.rule === 'readout').map((r) => spec.projections.find((p) => p.name === r.projection)!.to);
  for (const [i, to] of readoutTargets.entries()) {
    if (readoutTargets.indexOf(to) !== i) throw new GpuUnsupportedError(`webgpu backend: more than one readout rule trains population '${to}', not supported on the GPU yet`);
  }
  for (const h of spec.homeostasis) {
    const model = spec.populations.find((p) => p.name === h.population)?.model;
    if (model === 'logistic') throw new GpuUnsupportedError(`webgpu backend: homeostasis on logistic population '${h.population}' is not supported on the GPU yet; use the cpu or wasm backend`);
  }
  const thresholdPops = new Set(spec.homeostasis.filter((h) => h.controller === 'threshold').map((h) => h.population));
  const scaledPops = new Set(spec.homeostasis.filter((h) => h.controller === 'scaling').map((h) => h.population));
  let mem = 1;
  let atom = 0;
  const m = (n: number) => ((mem += n), mem - n);
  const a = (n: number) => ((atom += n), atom - n);
  const outputCapacity = o.outputCapacity ?? 1 << 18;
  const maxDelayFrom = new Map<string, number>();
  for (const p of net.projections.values()) maxDelayFrom.set(p.spec.from, Math.max(maxDelayFrom.get(p.spec.from) ?? 0, p.table ? p.table.delaySlots - 1 : 0));
  const pops: PopPlan[] = [];
  for (const p of net.populations.values()) {
    const s = p.spec;
    const input = s.model === 'input';
    // The ring keeps every step a delay can reach plus the whole chunk (inputs are uploaded ahead).
    const slots = (maxDelayFrom.get(s.name) ?? 0) + 1 + chunk;
    const capacity = input ? Math.min(s.size, o.inputCapacity ?? 1024) : s.size;
    const n = B * s.size;
    const logistic = s.model === 'logistic';
    const lif = !input && !logistic;
    pops.push({
      name: s.name,
      index: pops.length,
      size: s.size,
      input,
      ...(lif ? { lif: s as LifPopulationSpec } : {}),
      ...(logistic ? { logistic: s as LogisticPopulationSpec } : {}),
      slots,
      capacity,
      lists: m(slots * B * capacity),
      counts: a(slots * B),
      v: lif ? m(n) : -1,
      theta: lif ? m(n) : -1,
      refractoryUntil: lif ? m(n) : -1,
      lastSpike: input ? -1 : m(n),
      offset: lif && thresholdPops.has(s.name) ? m(n) : -1,
      bias: logistic ? m(n) : -1,
      acc: input ? -1 : a(n),
      out: input ? -1 : m(2 * outputCapacity),
      outCount: input ? -1 : a(1),
    });
  }
  const popByName = new Map(pops.map((p) => [p.name, p]));
  const projs: ProjPlan[] = [];
  for (const pr of net.projections.values()) {
    if (!pr.table) throw new GpuUnsupportedError(`webgpu backend: projection '${pr.spec.name}' of kind '${pr.spec.kind}' is not supported on the GPU yet`);
    const t = pr.table;
    if (B * t.delaySlots > 65535) throw new GpuUnsupportedError(`webgpu backend: projection '${pr.spec.name}': instances × delay slots (${B} × ${t.delaySlots}) exceeds 65535 workgroup rows`);
    if (spec.plasticity.filter((r) => r.projection === pr.spec.name).length > 1) throw new GpuUnsupportedError(`webgpu backend: projection '${pr.spec.name}' has more than one learning rule`);
    const rule = spec.plasticity.find((r) => r.projection === pr.spec.name) as StdpSpec | ReadoutSpec | undefined;
    const from = popByName.get(pr.spec.from)!;
    const to = popByName.get(pr.spec.to)!;
    // Scaling moves each instance's weights apart too.
    const plastic = rule !== undefined || scaledPops.has(to.name);
    const ro = rule?.rule === 'readout' ? rule : undefined;
    const stride = 2 + 2 * to.size;
    if (ro?.prune && Math.ceil(t.count / 64) > 65535) throw new GpuUnsupportedError(`webgpu backend: magnitude pruning of projection '${pr.spec.name}' (${t.count} synapses, over ${64 * 65535}) is not supported on the GPU yet`);
    const adam = ro?.optimizer === 'adam';
    projs.push({
      name: pr.spec.name,
      index: projs.length,
      from,
      to,
      table: t,
      D: t.delaySlots,
      groupStart: m(t.groupStart.length),
      post: m(t.count),
      pre: m(t.count),
      delay: m(t.count),
      postStart: m(t.postStart.length),
      postSyn: m(t.count),
      weight: m((plastic ? B : 1) * t.count),
      weightPerInstance: plastic,
      ...(rule?.rule === 'stdp' ? { stdp: { spec: rule, x: m(t.delaySlots * B * from.size), z: m(B * to.size), enabledWord: m(1) } } : {}),
      ...(ro
        ? {
            readout: {
              spec: ro,
              labels: m(chunk * B * stride),
              stride,
              err: m(B * to.size),
              m: adam ? m(B * t.count) : -1,
              v: adam ? m(B * t.count) : -1,
              bm: adam ? m(B * to.size) : -1,
              bv: adam ? m(B * to.size) : -1,
              mask: ro.prune ? m(B * t.count) : -1,
            },
          }
        : {}),
    });
  }
  const homeo: HomeoPlan[] = spec.homeostasis.map((h, index) => {
    const pop = popByName.get(h.population)!;
    for (const q of projs) {
      // scale_h_q runs one thread per synapse: x workgroups of 64 (WGSL's per-dimension limit is 65535).
      if (h.controller === 'scaling' && q.to === pop && Math.ceil(q.table.count / 64) > 65535) throw new GpuUnsupportedError(`webgpu backend: synaptic scaling of projection '${q.name}' (${q.table.count} synapses, over ${64 * 65535}) is not supported on the GPU yet`);
    }
    return {
      spec: h,
      index,
      pop,
      r: m(h.timescales.length * B * pop.size),
      factor: h.controller === 'scaling' ? m(B * pop.size) : -1,
      projs: h.controller === 'scaling' ? projs.filter((q) => q.to === pop) : [],
      enabledWord: m(1),
    };
  });
  return { B, chunk, outputCapacity, pops, projs, homeo, dtMs: spec.dt_ms, memWords: mem, atomWords: Math.max(atom, 1), T_WORD: 0 };
}
