/**
 * The GPU memory plan: where every array of a batched network lives in the two storage buffers the
 * WGSL kernels see. `mem` holds plain 32-bit words (f32 state bit-cast, u32 indices); `atom` holds
 * the words touched by atomics (spike counts, fixed-point input accumulators). B instances of the
 * network (one per sensor or stream) sit side by side: instance b's copy of an array of n entries
 * is at [b·n, (b+1)·n).
 *
 * Supported on the GPU: input and LIF/ALIF populations, sparse/random/dense projections, pair STDP.
 * Anything else is refused by name (GpuUnsupportedError), never silently approximated.
 */
import type { Network } from '../../network.js';
import type { LifPopulationSpec, StdpSpec } from '../../spec.js';
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
}

export interface GpuPlan {
  readonly B: number;
  readonly chunk: number;
  readonly outputCapacity: number;
  readonly pops: PopPlan[];
  readonly projs: ProjPlan[];
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
  for (const h of spec.homeostasis) throw new GpuUnsupportedError(`webgpu backend: homeostasis ('${h.controller}' on '${h.population}') is not supported on the GPU yet; use the cpu or wasm backend`);
  for (const r of spec.plasticity) if (r.rule !== 'stdp') throw new GpuUnsupportedError(`webgpu backend: learning rule '${r.rule}' (on '${r.projection}') is not supported on the GPU yet; use the cpu or wasm backend`);
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
    if (s.model === 'logistic') throw new GpuUnsupportedError(`webgpu backend: population '${s.name}' has model 'logistic', not supported on the GPU yet`);
    const input = s.model === 'input';
    // The ring keeps every step a delay can reach plus the whole chunk (inputs are uploaded ahead).
    const slots = (maxDelayFrom.get(s.name) ?? 0) + 1 + chunk;
    const capacity = input ? Math.min(s.size, o.inputCapacity ?? 1024) : s.size;
    const n = B * s.size;
    pops.push({
      name: s.name,
      index: pops.length,
      size: s.size,
      input,
      ...(input ? {} : { lif: s as LifPopulationSpec }),
      slots,
      capacity,
      lists: m(slots * B * capacity),
      counts: a(slots * B),
      v: input ? -1 : m(n),
      theta: input ? -1 : m(n),
      refractoryUntil: input ? -1 : m(n),
      lastSpike: input ? -1 : m(n),
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
    const rule = spec.plasticity.find((r) => r.projection === pr.spec.name) as StdpSpec | undefined;
    const from = popByName.get(pr.spec.from)!;
    const to = popByName.get(pr.spec.to)!;
    const plastic = rule !== undefined;
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
      ...(rule ? { stdp: { spec: rule, x: m(t.delaySlots * B * from.size), z: m(B * to.size), enabledWord: m(1) } } : {}),
    });
  }
  return { B, chunk, outputCapacity, pops, projs, memWords: mem, atomWords: Math.max(atom, 1), T_WORD: 0 };
}
