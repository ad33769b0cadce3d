/**
 * The dense plan of a network for the tfjs backend: every projection's synapse table laid out as
 * dense weight matrices, one row block per (layer, delay, presynaptic neuron):
 *
 *   row(s) = (l·D + d)·pre + i,   column = post j,
 *
 * for synapse s from i to j with delay d, where l counts earlier synapses with the same (i, j, d)
 * (usually 0; a random or sparse list may repeat a triple, and each copy keeps its own weight so
 * STDP clips it on its own). With the presynaptic spike history H(t) = [S(t), S(t−1), …, S(t−D+1)]
 * flattened to B × D·pre and repeated for each layer, the input of a step is one matMul:
 *
 *   I(t) = Σ_{l,d} S(t−d)·W_{l,d} = H(t)·W.
 *
 * Built on the CPU from a Network, without TensorFlow.js, so refusals come before anything loads.
 * Supported: input and LIF/ALIF populations; sparse, random and dense projections up to a size
 * limit; pair STDP. Anything else is refused by name (TfjsUnsupportedError), never approximated.
 */
import type { Network } from '../../network.js';
import type { LifPopulationSpec, StdpSpec } from '../../spec.js';
import type { SynapseTable } from '../../projections/synapse-table.js';
import type { LifPopulationRuntime } from '../../neurons/populations.js';

export class TfjsUnsupportedError extends Error {
  override name = 'TfjsUnsupportedError';
}

/** Default largest dense weight tensor (entries, all instances together): 2^25 f32 = 128 MiB. */
export const DEFAULT_MAX_DENSE_WEIGHTS = 1 << 25;

export interface TfjsBatchOptions {
  /** Independent instances stepped together (default 1). */
  readonly instances?: number;
  /** Largest dense weight tensor of one projection, in entries over all instances (default 2^25). */
  readonly maxDenseWeights?: number;
}

export interface TfjsPopPlan {
  readonly name: string;
  readonly size: number;
  readonly input: boolean;
  readonly lif?: LifPopulationSpec;
  readonly lifState?: LifPopulationRuntime['state'];
  /** Steps of spike history kept (the longest delay reaching out of it, plus one); 0 if nothing reads it. */
  readonly historySlots: number;
}

export interface TfjsProjPlan {
  readonly name: string;
  readonly from: TfjsPopPlan;
  readonly to: TfjsPopPlan;
  readonly table: SynapseTable;
  readonly D: number;
  readonly layers: number;
  /** layers·D·pre. */
  readonly rows: number;
  /** Dense row of each synapse, by table position. */
  readonly row: Int32Array;
  /** Each instance has its own weights (plastic projections). */
  readonly perInstance: boolean;
  readonly stdp?: StdpSpec;
}

export interface TfjsPlan {
  readonly B: number;
  readonly pops: TfjsPopPlan[];
  readonly projs: TfjsProjPlan[];
}

export function planTfjs(net: Network, o: TfjsBatchOptions = {}): TfjsPlan {
  const spec = net.spec;
  const B = o.instances ?? 1;
  const limit = o.maxDenseWeights ?? DEFAULT_MAX_DENSE_WEIGHTS;
  if (!Number.isInteger(B) || B < 1 || B > 65535) throw new RangeError(`instances must be an integer in [1, 65535], got ${B}`);
  for (const h of spec.homeostasis) throw new TfjsUnsupportedError(`tfjs backend: homeostasis ('${h.controller}' on '${h.population}') is not supported by the dense tfjs backend; use the cpu or wasm backend`);
  for (const r of spec.plasticity) {
    if (r.rule !== 'stdp') throw new TfjsUnsupportedError(`tfjs backend: learning rule '${r.rule}' (on '${r.projection}') is not supported by the dense tfjs backend; use the cpu or wasm backend`);
  }
  const historySlots = new Map<string, number>();
  for (const p of net.projections.values()) if (p.table) historySlots.set(p.spec.from, Math.max(historySlots.get(p.spec.from) ?? 0, p.table.delaySlots));
  const pops: TfjsPopPlan[] = [];
  for (const p of net.populations.values()) {
    const s = p.spec;
    if (s.model === 'logistic') throw new TfjsUnsupportedError(`tfjs backend: population '${s.name}' has model 'logistic', not supported by the dense tfjs backend`);
    const input = s.model === 'input';
    const state = input ? undefined : (p as LifPopulationRuntime).state;
    if (state && state.offset.some((x) => x !== 0)) throw new TfjsUnsupportedError(`tfjs backend: population '${s.name}' has threshold offsets (homeostasis), not supported by the dense tfjs backend`);
    pops.push({ name: s.name, size: s.size, input, ...(input ? {} : { lif: s as LifPopulationSpec, lifState: state! }), historySlots: historySlots.get(s.name) ?? 0 });
  }
  const popByName = new Map(pops.map((p) => [p.name, p]));
  const projs: TfjsProjPlan[] = [];
  for (const pr of net.projections.values()) {
    if (!pr.table) throw new TfjsUnsupportedError(`tfjs backend: projection '${pr.spec.name}' of kind '${pr.spec.kind}' is not supported by the dense tfjs backend`);
    const rules = spec.plasticity.filter((r) => r.projection === pr.spec.name);
    if (rules.length > 1) throw new TfjsUnsupportedError(`tfjs backend: projection '${pr.spec.name}' has more than one learning rule`);
    const stdp = rules[0] as StdpSpec | undefined;
    const t = pr.table;
    const from = popByName.get(pr.spec.from)!;
    const to = popByName.get(pr.spec.to)!;
    const D = t.delaySlots;
    const pre = from.size;
    const post = to.size;
    // Layer of each synapse: how many earlier synapses (in user order) share its (pre, post, delay).
    const row = new Int32Array(t.count);
    const seen = new Map<number, number>();
    let layers = t.count > 0 ? 1 : 0;
    const byId = new Int32Array(t.count);
    for (let s = 0; s < t.count; s++) byId[t.id[s]!] = s;
    for (let k = 0; k < t.count; k++) {
      const s = byId[k]!;
      const key = (t.delay[s]! * pre + t.pre[s]!) * post + t.post[s]!;
      const l = seen.get(key) ?? 0;
      seen.set(key, l + 1);
      if (l + 1 > layers) layers = l + 1;
      row[s] = (l * D + t.delay[s]!) * pre + t.pre[s]!;
    }
    layers = Math.max(layers, 1);
    const rows = layers * D * pre;
    const perInstance = stdp !== undefined;
    const entries = rows * post * (perInstance ? B : 1);
    if (entries > limit) {
      throw new TfjsUnsupportedError(
        `tfjs backend: projection '${pr.spec.name}' needs a dense weight tensor of ${perInstance ? `${B} instances × ` : ''}${layers > 1 ? `${layers} layers × ` : ''}${D} delays × ${pre} pre × ${post} post = ${entries} entries, ` +
          `more than the limit of ${limit} (maxDenseWeights); ${t.count} synapses this sparse belong on the cpu, wasm or webgpu backend`,
      );
    }
    projs.push({ name: pr.spec.name, from, to, table: t, D, layers, rows, row, perInstance, ...(stdp ? { stdp } : {}) });
  }
  return { B, pops, projs };
}
