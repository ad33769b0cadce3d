/**
 * The WASM backend: the state arena lives in the linear memory of an instance of dist/wasm/snn.wasm
 * (compiled from src/wasm/snn.as.ts by `npm run build`), and the hot kernels (delivery, STDP on_pre
 * and on_post, LIF integrate and threshold, logistic threshold and prediction, the readout's errors
 * and gradients, the two-timescale threshold homeostasis) run there on byte offsets of the arena
 * arrays. Results are bit-identical to the TypeScript reference (test/snn/wasm-backend.test.ts,
 * wasm-conv, wasm-logistic). Delivery reads a table's compact copy (6-byte records of u16 target
 * and f32 weight; SynapseTable.compact) when it keeps one, and on_post the postsynaptic-order keys
 * (SynapseTable.postKey) instead of pre and delay.
 *
 * Memory: each network gets its own instance with an imported memory of exactly the pages it needs
 * (module statics below ARENA_BASE, the arena above), created once and never grown, so the typed
 * array views of the arena are never detached. A kernel finds the instance from the buffer its
 * arrays live in; arrays that are not all in one such memory (say, a population whose input is a
 * separate array) take the TypeScript reference instead, so the backend is always correct.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SnnBackend } from '../backend.js';
import type { LifPopulationSpec, ReadoutSpec, StdpSpec } from '../spec.js';
import { logisticErrors, sgdBiasStep, stepTouchedReference, type AdamState } from '../plasticity/readout.js';
import type { SynapseTable } from '../projections/synapse-table.js';
import type { SpikeHistory } from '../spike-history.js';
import type { PairTraces } from '../plasticity/pair-traces.js';
import { deliverTable } from '../projections/deliver.js';
import { stdpOnPost, stdpOnPre } from '../plasticity/stdp.js';
import { lifIntegrate, lifThreshold, type LifState } from '../neurons/lif.js';
import { logit, logisticPredict, logisticThreshold, type LogisticState, type SigmoidMemo } from '../neurons/logistic.js';
import type { LogisticPopulationSpec } from '../spec.js';
import { spikesAscending, thresholdStep } from '../homeostasis/controllers.js';
import type { RateEstimator } from '../homeostasis/rate-estimator.js';
import { convDeliver, convGradient, type ConvKernel } from '../projections/conv.js';

/** Where the arena starts in each instance's memory (the module's own statics lie below). */
export const ARENA_BASE = 65536;
const PAGE = 65536;
/** wasm32 limit: 4 GiB. */
const MAX_PAGES = 65536;

interface SnnExports {
  heapBase(): number;
  scratchStart(): number;
  scratchEnd(): number;
  deliver(groupStart: number, post: number, weight: number, D: number, lists: number, counts: number, slots: number, size: number, t: number, target: number, compact: number): void;
  deliverQueued(groupStart: number, c: number, D: number, lists: number, counts: number, slots: number, size: number, t: number, target: number, q: number, cap: number): number;
  queueSlack(): number;
  geometryAt(): number;
  convMaxPairs(): number;
  readoutStepTouched(weight: number, m: number, v: number, grad: number, touched: number, seen: number, nt: number, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number): void;
  convDeliver(lists: number, counts: number, slots: number, size: number, t: number, geometry: number, weight: number, target: number): void;
  convGradient(lists: number, counts: number, slots: number, size: number, t: number, geometry: number, e: number, mask: number, grad: number, touched: number, seen: number, rows: number): number;
  stdpOnPre(groupStart: number, post: number, weight: number, D: number, lists: number, counts: number, slots: number, size: number, t: number, z: number, mode: number, symmetric: number, lo: number, hi: number): void;
  stdpOnPost(
    post: number,
    count: number,
    postSize: number,
    postStart: number,
    postSyn: number,
    postKey: number,
    pre: number,
    delay: number,
    weight: number,
    lists: number,
    at: number,
    n: number,
    t: number,
    x: number,
    xSlots: number,
    preSize: number,
    z: number,
    aPost: number,
    learn: number,
    mode: number,
    symmetric: number,
    lo: number,
    hi: number,
  ): number;
  lifIntegrate(v: number, theta: number, refractoryUntil: number, n: number, t: number, decay: number, refractory: number, adapt: number, thetaDecay: number): void;
  lifThreshold(v: number, theta: number, offset: number, refractoryUntil: number, n: number, t: number, vth: number, out: number, refractory: number): number;
  logisticThreshold(a: number, bias: number, p: number, offset: number, n: number, th: number, logitTh: number, out: number, memoA: number, memoB: number, memoP: number): number;
  logisticPredict(a: number, bias: number, n: number, memoA: number, memoB: number, memoP: number): void;
  ieeeExp(x: number): number;
  logisticErrors(a: number, bias: number, y: number, e: number, n: number, classes: number, rows: number): void;
  sgdBiasStep(bias: number, y: number, e: number, n: number, lr: number): void;
  thresholdStep2(r: number, n: number, spikes: number, count: number, a0: number, a1: number, k0: number, k1: number, g0: number, g1: number, target: number, dtS: number, offset: number): void;
}

/**
 * How many kernel calls ran in WASM and how many fell back to the reference, and how on_post visited
 * the weights (by the postsynaptic index or by a scan of the table), how many deliveries read the
 * compact copy (SynapseTable.compact) and how many of those went through the arrival queues (which
 * were rebuilt from history, and how many steps overflowed them): tests check every path ran.
 */
export const wasmKernelCalls = { wasm: 0, reference: 0, onPostIndexed: 0, onPostScan: 0, deliverCompact: 0, deliverQueued: 0, queueRebuilds: 0, queueOverflows: 0 };

/**
 * Arrival queues (deliverQueued in src/wasm/snn.as.ts, where the layout is described): a header,
 * two i32 per delay slot, then per slot `queueCapacity` records of 6 bytes plus QUEUE_SLACK. The
 * capacity holds a step's arrivals while the mean presynaptic rate stays under 1/(D·dt) (62.5 Hz for
 * delays of 0–15 ms at 1 ms); a busier step is delivered by the staged path instead, so nothing is
 * ever lost. Tables with a single delay slot keep no queues: their groups are whole blocks already.
 */
const QUEUE_SLACK = 96;
const QUEUE_MAX_BYTES = 256 * 2 ** 20;
function queueCapacity(count: number, delaySlots: number): number {
  return Math.min(Math.ceil(count / delaySlots) + 64, Math.floor(QUEUE_MAX_BYTES / delaySlots / 6));
}
function arrivalQueueBytes(count: number, delaySlots: number): number {
  if (delaySlots < 2) return 0;
  return 16 + 8 * delaySlots + delaySlots * (queueCapacity(count, delaySlots) * 6 + QUEUE_SLACK);
}

let compiled: WebAssembly.Module | undefined;
let loadError: string | undefined;

/** The compiled module: beside dist/src/snn/backends (built) or from src/snn/backends (tsx). */
function wasmPath(): string | undefined {
  for (const rel of ['../../../wasm/snn.wasm', '../../../dist/wasm/snn.wasm']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

function module(): WebAssembly.Module {
  if (compiled) return compiled;
  if (loadError) throw new Error(loadError);
  const path = wasmPath();
  if (!path) {
    loadError = 'the SNN WASM kernels are not built (dist/wasm/snn.wasm is missing): run npm run build';
    throw new Error(loadError);
  }
  try {
    compiled = new WebAssembly.Module(readFileSync(path));
  } catch (e) {
    loadError = `${path} failed to load: ${(e as Error).message}`;
    throw new Error(loadError);
  }
  return compiled;
}

/** Whether the WASM backend can run here; otherwise the reason. */
export function wasmAvailable(): true | string {
  try {
    module();
    return true;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Instances by the memory buffer their arena lives in (one per network built). */
const instances = new WeakMap<ArrayBuffer, SnnExports>();

function arenaMemory(bytes: number): { buffer: ArrayBuffer; base: number } {
  const pages = Math.ceil((ARENA_BASE + bytes) / PAGE);
  if (pages > MAX_PAGES) throw new RangeError(`wasm backend: the network needs ${ARENA_BASE + bytes} bytes of state, more than WebAssembly's 4 GiB`);
  // initial = maximum: the memory can never grow, so views of it never detach.
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(module(), {
    env: {
      memory,
      abort: () => {
        throw new Error('snn WASM kernel aborted');
      },
    },
  });
  const ex = instance.exports as unknown as SnnExports;
  if (ex.heapBase() > ex.scratchStart() || ex.scratchEnd() > ARENA_BASE) {
    throw new Error(`wasm backend: module statics (to ${ex.heapBase()}) and scratch [${ex.scratchStart()}, ${ex.scratchEnd()}) do not fit below the arena at ${ARENA_BASE}`);
  }
  if (ex.queueSlack() !== QUEUE_SLACK) throw new Error(`wasm backend: snn.wasm writes ${ex.queueSlack()} bytes past a queue slot, the loader reserves ${QUEUE_SLACK}: rebuild it (npm run build)`);
  instances.set(memory.buffer, ex);
  return { buffer: memory.buffer, base: ARENA_BASE };
}

/**
 * The instance a kernel call runs in: the one whose memory is `b`, when `usable` and every array
 * given (undefined ones aside) lies in that memory too; counted as a WASM call. Otherwise undefined,
 * counted as a reference call, and the caller runs the TypeScript kernel.
 */
function instanceFor(usable: boolean, b: ArrayBufferLike, ...arrays: readonly ({ buffer: ArrayBufferLike } | undefined)[]): SnnExports | undefined {
  const ex = usable ? instances.get(b as ArrayBuffer) : undefined;
  let inside = ex !== undefined;
  for (let i = 0; inside && i < arrays.length; i++) inside = !arrays[i] || arrays[i]!.buffer === b;
  if (inside) wasmKernelCalls.wasm++;
  else wasmKernelCalls.reference++;
  return inside ? ex : undefined;
}

const MODE = { additive: 0, multiplicative: 1 } as const;

function deliver(table: SynapseTable, pre: SpikeHistory, t: number, target: Float64Array): void {
  const b = target.buffer;
  const ex = instances.get(b as ArrayBuffer);
  const { groupStart } = table;
  // The compact copy (6-byte records of u16 target and f32 weight: half the bytes) when the table keeps one.
  const compact = table.compact !== undefined && table.compact.buffer === b;
  const post = compact ? table.compact! : table.post;
  const weight = compact ? table.compact! : table.weight;
  if (!ex || groupStart.buffer !== b || post.buffer !== b || weight.buffer !== b || pre.lists.buffer !== b || pre.counts.buffer !== b) {
    wasmKernelCalls.reference++;
    return deliverTable(table, pre, t, target);
  }
  wasmKernelCalls.wasm++;
  if (compact) wasmKernelCalls.deliverCompact++;
  const queue = compact ? table.arrivals : undefined;
  if (queue && queue.buffer === b) {
    wasmKernelCalls.deliverQueued++;
    const D = table.delaySlots;
    const how = ex.deliverQueued(groupStart.byteOffset, post.byteOffset, D, pre.lists.byteOffset, pre.counts.byteOffset, pre.slots, pre.size, t, target.byteOffset, queue.byteOffset, queueCapacity(table.count, D));
    if (how & 1) wasmKernelCalls.queueRebuilds++;
    if (how & 2) wasmKernelCalls.queueOverflows++;
    return;
  }
  ex.deliver(groupStart.byteOffset, post.byteOffset, weight.byteOffset, table.delaySlots, pre.lists.byteOffset, pre.counts.byteOffset, pre.slots, pre.size, t, target.byteOffset, compact ? 1 : 0);
}

/** Views of each instance's geometry slot (made once, not per call). */
const geometryViews = new WeakMap<SnnExports, Int32Array>();

/** Writes a conv kernel's geometry where the module reads it; returns its address. */
function geometry(ex: SnnExports, b: ArrayBufferLike, g: ConvKernel): number {
  let v = geometryViews.get(ex);
  if (!v) geometryViews.set(ex, (v = new Int32Array(b, ex.geometryAt(), 9)));
  v[0] = g.cin;
  v[1] = g.h;
  v[2] = g.w;
  v[3] = g.cout;
  v[4] = g.oh;
  v[5] = g.ow;
  v[6] = g.k;
  v[7] = g.stride;
  v[8] = g.delays;
  return v.byteOffset;
}

function deliverConv(g: ConvKernel, pre: SpikeHistory, t: number, target: Float64Array): void {
  const b = target.buffer;
  const ex = instances.get(b as ArrayBuffer);
  if (!ex || g.perChannel || g.weight.buffer !== b || pre.lists.buffer !== b || pre.counts.buffer !== b || g.k * g.k > ex.convMaxPairs()) {
    wasmKernelCalls.reference++;
    return convDeliver(g, pre, t, target);
  }
  wasmKernelCalls.wasm++;
  ex.convDeliver(pre.lists.byteOffset, pre.counts.byteOffset, pre.slots, pre.size, t, geometry(ex, b, g), g.weight.byteOffset, target.byteOffset);
}

function gradientConv(g: ConvKernel, pre: SpikeHistory, t: number, e: Float64Array, mask: Uint8Array | undefined, grad: Float64Array, touched: Int32Array, seen: Uint8Array, rows?: Uint8Array): number {
  const b = grad.buffer;
  const ex = instances.get(b as ArrayBuffer);
  if (!ex || g.perChannel || e.buffer !== b || (mask && mask.buffer !== b) || (rows && rows.buffer !== b) || touched.buffer !== b || seen.buffer !== b || pre.lists.buffer !== b || pre.counts.buffer !== b || g.k * g.k > ex.convMaxPairs()) {
    wasmKernelCalls.reference++;
    return convGradient(g, pre, t, e, mask, grad, touched, seen, rows);
  }
  wasmKernelCalls.wasm++;
  return ex.convGradient(pre.lists.byteOffset, pre.counts.byteOffset, pre.slots, pre.size, t, geometry(ex, b, g), e.byteOffset, mask ? mask.byteOffset : 0, grad.byteOffset, touched.byteOffset, seen.byteOffset, rows ? rows.byteOffset : 0);
}

function stepTouched(weight: Float64Array, moments: AdamState | undefined, grad: Float64Array, touched: Int32Array, seen: Uint8Array, nt: number, spec: ReadoutSpec, c1: number, c2: number): void {
  const ex = instanceFor(true, grad.buffer, weight, touched, seen, moments?.m, moments?.v);
  if (!ex) return stepTouchedReference(weight, moments, grad, touched, seen, nt, spec, c1, c2);
  ex.readoutStepTouched(weight.byteOffset, moments ? moments.m.byteOffset : 0, moments ? moments.v.byteOffset : 0, grad.byteOffset, touched.byteOffset, seen.byteOffset, nt, spec.learning_rate, spec.beta1, spec.beta2, spec.epsilon, c1, c2);
}

function onPre(table: SynapseTable, pre: SpikeHistory, t: number, z: Float64Array, p: StdpSpec): void {
  const { groupStart, post, weight } = table;
  const ex = instanceFor(true, z.buffer, groupStart, post, weight, pre.lists, pre.counts);
  if (!ex) return stdpOnPre(table, pre, t, z, p);
  ex.stdpOnPre(
    groupStart.byteOffset,
    post.byteOffset,
    weight.byteOffset,
    table.delaySlots,
    pre.lists.byteOffset,
    pre.counts.byteOffset,
    pre.slots,
    pre.size,
    t,
    z.byteOffset,
    MODE[p.mode],
    p.symmetric ? 1 : 0,
    p.w_min,
    p.w_max,
  );
}

function onPost(table: SynapseTable, postSpikes: SpikeHistory, t: number, traces: PairTraces, p: StdpSpec, learn: boolean): void {
  const { x, z } = traces;
  const b = z.buffer;
  const ex = instances.get(b as ArrayBuffer);
  const { post, postStart, postSyn, postKey, pre, delay, weight } = table;
  const lists = postSpikes.lists;
  // postKey locates x(t − d)[pre] in the ring it was made for (D slots of preSize), as PairTraces keeps it.
  const keyed = traces.slots === table.delaySlots && traces.preSize === table.preSize;
  if (!ex || !keyed || postKey.buffer !== b || x.buffer !== b || post.buffer !== b || postStart.buffer !== b || postSyn.buffer !== b || pre.buffer !== b || delay.buffer !== b || weight.buffer !== b || lists.buffer !== b) {
    wasmKernelCalls.reference++;
    return stdpOnPost(table, postSpikes, t, traces, p, learn);
  }
  wasmKernelCalls.wasm++;
  const path = ex.stdpOnPost(
    post.byteOffset,
    table.count,
    table.postSize,
    postStart.byteOffset,
    postSyn.byteOffset,
    postKey.byteOffset,
    pre.byteOffset,
    delay.byteOffset,
    weight.byteOffset,
    lists.byteOffset,
    postSpikes.offset(t),
    postSpikes.count(t),
    t,
    x.byteOffset,
    traces.slots,
    traces.preSize,
    z.byteOffset,
    traces.p.a_post,
    learn ? 1 : 0,
    MODE[p.mode],
    p.symmetric ? 1 : 0,
    p.w_min,
    p.w_max,
  );
  if (path === 1) wasmKernelCalls.onPostIndexed++;
  else if (path === 2) wasmKernelCalls.onPostScan++;
}

function integrate(s: LifState, p: LifPopulationSpec, t: number): void {
  const { v, theta, refractoryUntil } = s;
  const ex = instanceFor(true, v.buffer, theta, refractoryUntil);
  if (!ex) return lifIntegrate(s, p, t);
  const a = p.adaptation;
  ex.lifIntegrate(v.byteOffset, theta.byteOffset, refractoryUntil.byteOffset, v.length, t, p.decay, p.refractory_steps > 0 ? 1 : 0, a ? 1 : 0, a ? a.decay : 1);
}

function threshold(s: LifState, p: LifPopulationSpec, t: number, out: Int32Array, at: number): number {
  const { v, theta, offset, refractoryUntil } = s;
  const ex = instanceFor(true, v.buffer, theta, offset, refractoryUntil, out);
  if (!ex) return lifThreshold(s, p, t, out, at);
  return ex.lifThreshold(v.byteOffset, theta.byteOffset, offset.byteOffset, refractoryUntil.byteOffset, v.length, t, p.v_th, out.byteOffset + at * 4, p.refractory_steps > 0 ? 1 : 0);
}


function thresholdLogistic(s: LogisticState, spec: LogisticPopulationSpec, out: Int32Array, at: number, memo?: SigmoidMemo): number {
  const { a, bias, p, offset } = s;
  const ex = instanceFor(true, a.buffer, bias, p, offset, out, memo?.a, memo?.b, memo?.p);
  if (!ex) return logisticThreshold(s, spec, out, at, memo);
  return ex.logisticThreshold(a.byteOffset, bias.byteOffset, p.byteOffset, offset ? offset.byteOffset : 0, a.length, spec.threshold, logit(spec.threshold), out.byteOffset + at * 4, memo ? memo.a.byteOffset : 0, memo ? memo.b.byteOffset : 0, memo ? memo.p.byteOffset : 0);
}

function predictLogistic(s: LogisticState, memo: SigmoidMemo): void {
  const { a, bias } = s;
  const ex = instanceFor(true, a.buffer, bias, memo.a, memo.b, memo.p);
  if (!ex) return logisticPredict(s, memo);
  ex.logisticPredict(a.byteOffset, bias.byteOffset, a.length, memo.a.byteOffset, memo.b.byteOffset, memo.p.byteOffset);
}

function errorsLogistic(a: Float64Array, bias: Float64Array, y: Float64Array, e: Float64Array, classes: number, rows?: Uint8Array): void {
  const ex = instanceFor(true, a.buffer, bias, y, e, rows);
  if (!ex) return logisticErrors(a, bias, y, e, classes, rows);
  ex.logisticErrors(a.byteOffset, bias.byteOffset, y.byteOffset, e.byteOffset, y.length, classes, rows ? rows.byteOffset : 0);
}

function biasStepSgd(bias: Float64Array, y: Float64Array, e: Float64Array, learningRate: number): void {
  const ex = instanceFor(true, bias.buffer, y, e);
  if (!ex) return sgdBiasStep(bias, y, e, learningRate);
  ex.sgdBiasStep(bias.byteOffset, y.byteOffset, e.byteOffset, y.length, learningRate);
}

function homeostasisThresholdStep(est: RateEstimator, history: SpikeHistory, t: number, target: number, gains: Float64Array, dtS: number, offset: Float64Array): boolean {
  // The module's step has two timescales unrolled; other counts take the reference.
  const ex = instanceFor(gains.length === 2, offset.buffer, est.r, history.lists);
  if (!ex) return thresholdStep(est, history, t, target, gains, dtS, offset);
  if (!spikesAscending(history, t)) return false;
  const { alpha, kick } = est;
  ex.thresholdStep2(est.r.byteOffset, est.size, history.lists.byteOffset + history.offset(t) * 4, history.count(t), alpha[0]!, alpha[1]!, kick[0]!, kick[1]!, gains[0]!, gains[1]!, target, dtS, offset.byteOffset);
  return true;
}

/**
 * e^x computed by the module's port of fdlibm's exp (the σ of the logistic kernels), for tests that
 * check it equals Math.exp bit for bit; throws when the module does not load.
 */
export function wasmExp(): (x: number) => number {
  const { buffer } = arenaMemory(0);
  return instances.get(buffer as ArrayBuffer)!.ieeeExp;
}

/** The WASM backend; throws (naming why) when dist/wasm/snn.wasm is missing or does not load. */
export function wasmBackend(): SnnBackend {
  module();
  return {
    name: 'wasm',
    arenaMemory,
    arrivalQueueBytes,
    kernels: { deliver, convDeliver: deliverConv, convGradient: gradientConv, readoutStepTouched: stepTouched, stdpOnPre: onPre, stdpOnPost: onPost, lifIntegrate: integrate, lifThreshold: threshold, logisticThreshold: thresholdLogistic, logisticPredict: predictLogistic, logisticErrors: errorsLogistic, sgdBiasStep: biasStepSgd, homeostasisThresholdStep },
  };
}
