/// <reference types="@webgpu/types" />
/**
 * GpuNetwork: a network built on the CPU (same spec, same initial state) stepped on a WebGPU device
 * as B independent instances at once, several steps per submission. Inputs for a chunk of steps are
 * uploaded ahead; output spikes come back as compacted lists, read through two alternating readback
 * buffers so the next chunk can be submitted while the last one is being read. The supervised
 * readout's labels come with the chunk (runChunk's `signals`, per step and instance, as for
 * Network.step); learning (setLearning) and homeostasis (setHomeostasis) switch between chunks.
 */
import type { Network } from '../../network.js';
import type { LifPopulationRuntime } from '../../neurons/populations.js';
import type { LogisticPopulationRuntime } from '../../neurons/logistic.js';
import type { StepSignals } from '../../runtime-types.js';
import { readoutTargets } from '../../plasticity/readout.js';
import { gpuContext, type GpuContext } from './device.js';
import { GpuUnsupportedError, planGpu, type GpuBatchOptions, type GpuPlan, type PopPlan, type ProjPlan } from './gpu-plan.js';
import { generateWgsl, WORKGROUP } from './wgsl.js';

import type { ChunkSpikes, InstanceInput } from '../batch-types.js';
export type { ChunkSpikes, InstanceInput, StepSignals };

const BYTES = 4;

export class GpuNetwork {
  t = 0;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly bindGroup: GPUBindGroup;
  private readonly mem: GPUBuffer;
  private readonly atom: GPUBuffer;
  private readonly readback: GPUBuffer[];
  private readonly pending: (Promise<unknown> | undefined)[] = [undefined, undefined];
  private submitted = 0;
  /** Every queue write and submission, in call order (see runChunk). */
  private chain: Promise<unknown> = Promise.resolve();
  private readonly outPops: PopPlan[];
  /**
   * Host copies of what the label upload needs: whether each readout learns (as of the chunk being
   * submitted: both change in submission order) and its Adam step count k per instance.
   */
  private readonly readoutOn = new Map<string, boolean>();
  private readonly readoutSteps = new Map<string, Float64Array>();

  private constructor(
    readonly net: Network,
    readonly plan: GpuPlan,
    readonly gpu: GpuContext,
  ) {
    const device = gpu.device;
    if (plan.memWords * BYTES > device.limits.maxStorageBufferBindingSize) {
      throw new GpuUnsupportedError(`webgpu backend: the network needs ${plan.memWords * BYTES} bytes of state, more than this device binds (${device.limits.maxStorageBufferBindingSize})`);
    }
    this.mem = device.createBuffer({ size: plan.memWords * BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    this.atom = device.createBuffer({ size: plan.atomWords * BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    this.outPops = plan.pops.filter((p) => !p.input);
    const rbWords = this.outPops.reduce((a, p) => a + 1 + 2 * plan.outputCapacity, 0);
    this.readback = [0, 1].map(() => device.createBuffer({ size: Math.max(4, rbWords * BYTES), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    const layout = device.createBindGroupLayout({
      entries: [0, 1].map((binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' as const } })),
    });
    const module = device.createShaderModule({ code: generateWgsl(plan) });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    for (const entry of this.entryPoints()) this.pipelines.set(entry, device.createComputePipeline({ layout: pipelineLayout, compute: { module, entryPoint: entry } }));
    this.bindGroup = device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: this.mem } }, { binding: 1, resource: { buffer: this.atom } }] });
    this.upload();
  }

  /** Builds the GPU copy of a freshly built network (net.t must be 0). */
  static async create(net: Network, options: GpuBatchOptions = {}): Promise<GpuNetwork> {
    if (net.t !== 0) throw new RangeError(`GpuNetwork.create needs a network that has not run yet (it is at step ${net.t})`);
    const plan = planGpu(net, options);
    const gpu = await gpuContext();
    gpu.device.pushErrorScope('validation');
    const g = new GpuNetwork(net, plan, gpu);
    const err = await gpu.device.popErrorScope();
    if (err) throw new Error(`webgpu backend: the device rejected the network's kernels: ${err.message}`);
    return g;
  }

  get instances(): number {
    return this.plan.B;
  }

  private entryPoints(): string[] {
    const e = ['begin', 'end'];
    for (const p of this.plan.pops) if (p.lif) e.push(`integrate_${p.index}`, `applyReset_${p.index}`);
    for (const p of this.plan.pops) if (p.logistic) e.push(`logistic_${p.index}`);
    for (const q of this.plan.projs) {
      e.push(`deliver_${q.index}`);
      if (q.stdp) e.push(`traceDecay_${q.index}`, `traceAdd_${q.index}`, `onPost_${q.index}`);
      if (q.readout) e.push(`readoutErr_${q.index}`, `readoutW_${q.index}`);
      if (q.readout && q.readout.mask >= 0) e.push(`pruneRank_${q.index}`, `pruneApply_${q.index}`);
    }
    for (const h of this.plan.homeo) {
      e.push(`homeo_${h.index}`);
      for (const q of h.projs) e.push(`scale_${h.index}_${q.index}`);
    }
    return e;
  }

  /** Copies the CPU network's initial state into GPU memory, replicated for every instance. */
  private upload(): void {
    const { plan } = this;
    const B = plan.B;
    const mem = new Uint32Array(plan.memWords);
    const memF = new Float32Array(mem.buffer);
    const memI = new Int32Array(mem.buffer);
    for (const p of plan.pops) {
      if (p.logistic) {
        const st = (this.net.population(p.name) as LogisticPopulationRuntime).state;
        for (let b = 0; b < B; b++) memF.set(st.bias, p.bias + b * p.size);
      }
      if (!p.lif) continue;
      const st = (this.net.population(p.name) as LifPopulationRuntime).state;
      for (const [o, src] of [[p.v, st.v], [p.theta, st.theta]] as const) for (let b = 0; b < B; b++) memF.set(src, o + b * p.size);
      for (let b = 0; b < B; b++) memI.set(st.refractoryUntil, p.refractoryUntil + b * p.size);
      if (p.offset >= 0) for (let b = 0; b < B; b++) memF.set(st.offset, p.offset + b * p.size);
      else if (st.offset.some((x) => x !== 0)) throw new Error(`webgpu backend: population '${p.name}' has threshold offsets but no threshold controller`);
    }
    for (const h of plan.homeo) {
      // Estimates start at the target (as the CPU's RateEstimator): no evidence yet means on target.
      memF.fill(h.spec.target_hz, h.r, h.r + h.spec.timescales.length * B * h.pop.size);
      mem[h.enabledWord] = this.net.controllers[h.index]!.enabled ? 1 : 0;
    }
    for (const q of plan.projs) {
      const t = q.table;
      mem.set(t.groupStart, q.groupStart);
      mem.set(t.post, q.post);
      mem.set(t.pre, q.pre);
      mem.set(t.delay, q.delay);
      mem.set(t.postStart, q.postStart);
      mem.set(t.postSyn, q.postSyn);
      for (let b = 0; b < (q.weightPerInstance ? B : 1); b++) memF.set(t.weight, q.weight + b * t.count);
      if (q.stdp) mem[q.stdp.enabledWord] = this.net.rules.find((r) => r.spec.projection === q.name)!.enabled ? 1 : 0;
      if (q.readout) {
        this.readoutOn.set(q.name, this.net.rules.find((r) => r.spec.projection === q.name)!.enabled);
        this.readoutSteps.set(q.name, new Float64Array(B));
      }
    }
    this.gpu.device.queue.writeBuffer(this.mem, 0, mem);
  }

  /**
   * Switches STDP on or off on the GPU (every plastic projection, or one), from the next chunk
   * submitted on: the write joins the submission chain, so chunks already asked for run as they were.
   */
  setLearning(enabled: boolean, projection?: string): void {
    if (projection !== undefined && !this.plan.projs.some((q) => q.name === projection)) throw new RangeError(`no projection named '${projection}' on the GPU`);
    const chosen = this.plan.projs.filter((q) => projection === undefined || q.name === projection);
    const words = chosen.filter((q) => q.stdp).map((q) => q.stdp!.enabledWord);
    this.chain = this.chain.then(() => {
      for (const w of words) this.gpu.device.queue.writeBuffer(this.mem, w * BYTES, Uint32Array.of(enabled ? 1 : 0));
      for (const q of chosen) if (q.readout) this.readoutOn.set(q.name, enabled);
    });
  }

  /** Switches homeostasis on or off (every controller, or those of one population), from the next chunk submitted on. */
  setHomeostasis(enabled: boolean, population?: string): void {
    if (population !== undefined && !this.plan.pops.some((p) => p.name === population)) throw new RangeError(`no population named '${population}' on the GPU`);
    const words = this.plan.homeo.filter((h) => population === undefined || h.pop.name === population).map((h) => h.enabledWord);
    this.chain = this.chain.then(() => {
      for (const w of words) this.gpu.device.queue.writeBuffer(this.mem, w * BYTES, Uint32Array.of(enabled ? 1 : 0));
    });
  }

  /**
   * Runs inputs.length steps (at most chunkSteps); inputs[k][b] are the input spikes of step t + k
   * of instance b. Resolves with the output spikes. Up to two chunks may be in flight: call again
   * before awaiting to overlap the GPU with reading back. signals[k][b] are the learning signals
   * (the readout's labels, as for Network.step) of step t + k of instance b.
   */
  runChunk(inputs: readonly (readonly InstanceInput[])[], signals?: readonly (readonly (StepSignals | undefined)[] | undefined)[]): Promise<ChunkSpikes> {
    const { plan } = this;
    const n = inputs.length;
    if (n < 1 || n > plan.chunk) throw new RangeError(`runChunk takes 1..${plan.chunk} steps, got ${n}`);
    if (signals) this.checkSignals(signals, n);
    const t0 = this.t;
    this.t = t0 + n;
    const which = this.submitted++ & 1;
    const rb = this.readback[which]!;
    const bufferFree = this.pending[which];
    // Submissions stay in call order: queue writes (inputs, counters) of a chunk must reach the queue
    // after the previous chunk's commands, whose input ring slots and counters they would overwrite.
    const submitted = this.chain.then(async () => {
      await bufferFree; // its last reader has unmapped it
      this.encodeAndSubmit(inputs, signals, t0, rb);
    });
    this.chain = submitted.catch(() => undefined);
    const result = submitted.then(async () => {
      await rb.mapAsync(GPUMapMode.READ);
      try {
        return this.parseOutputs(new Uint32Array(rb.getMappedRange()), t0, n);
      } finally {
        rb.unmap();
      }
    });
    this.pending[which] = result.catch(() => undefined);
    return result;
  }

  private encodeAndSubmit(inputs: readonly (readonly InstanceInput[])[], signals: readonly (readonly (StepSignals | undefined)[] | undefined)[] | undefined, t0: number, rb: GPUBuffer): void {
    const { plan } = this;
    const device = this.gpu.device;
    for (const p of plan.pops) if (p.input) this.uploadInputs(p, inputs, t0);
    for (const q of plan.projs) if (q.readout) this.uploadLabels(q, signals, inputs.length, t0);
    for (const p of this.outPops) device.queue.writeBuffer(this.atom, p.outCount * BYTES, Uint32Array.of(0));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setBindGroup(0, this.bindGroup);
    const run = (entry: string, x: number, y = 1) => {
      pass.setPipeline(this.pipelines.get(entry)!);
      pass.dispatchWorkgroups(Math.max(1, Math.ceil(x / WORKGROUP)), y);
    };
    const B = plan.B;
    for (let k = 0; k < inputs.length; k++) {
      run('begin', B);
      for (const q of plan.projs) if (q.stdp) run(`traceDecay_${q.index}`, Math.max(q.from.size, q.to.size), B);
      for (const p of plan.pops) if (p.lif) run(`integrate_${p.index}`, p.size, B);
      for (const p of plan.pops) if (p.logistic) run(`logistic_${p.index}`, p.size, B);
      for (const q of plan.projs) if (q.stdp) run(`traceAdd_${q.index}`, q.from.capacity, B);
      for (const q of plan.projs) run(`deliver_${q.index}`, q.from.capacity, B * q.D);
      for (const q of plan.projs) if (q.readout) run(`readoutErr_${q.index}`, q.to.size, B);
      for (const q of plan.projs) if (q.readout) run(`readoutW_${q.index}`, q.from.capacity, B * q.D);
      for (const q of plan.projs) {
        // Pruning steps are known here: this runs in submission order, so readoutOn is this chunk's.
        const every = q.readout?.spec.prune?.every_steps;
        if (every === undefined || !this.readoutOn.get(q.name) || (t0 + k + 1) % every !== 0) continue;
        run(`pruneRank_${q.index}`, q.table.count, B);
        run(`pruneApply_${q.index}`, q.table.count, B);
      }
      for (const p of plan.pops) if (p.lif) run(`applyReset_${p.index}`, p.size, B);
      for (const q of plan.projs) if (q.stdp) run(`onPost_${q.index}`, q.to.size, B);
      for (const h of plan.homeo) {
        run(`homeo_${h.index}`, h.pop.size, B);
        for (const q of h.projs) run(`scale_${h.index}_${q.index}`, q.table.count, B);
      }
      run('end', 1);
    }
    pass.end();
    let at = 0;
    for (const p of this.outPops) {
      enc.copyBufferToBuffer(this.atom, p.outCount * BYTES, rb, at, BYTES);
      enc.copyBufferToBuffer(this.mem, p.out * BYTES, rb, at + BYTES, 2 * plan.outputCapacity * BYTES);
      at += (1 + 2 * plan.outputCapacity) * BYTES;
    }
    device.queue.submit([enc.finish()]);
  }

  private uploadInputs(p: PopPlan, inputs: readonly (readonly InstanceInput[])[], t0: number): void {
    const B = this.plan.B;
    const lists = new Uint32Array(B * p.capacity);
    const counts = new Uint32Array(B);
    const seen = new Uint8Array(p.size);
    for (let k = 0; k < inputs.length; k++) {
      const step = inputs[k]!;
      if (step.length !== B) throw new RangeError(`step ${t0 + k}: inputs for ${step.length} instances, expected ${B}`);
      lists.fill(0);
      for (let b = 0; b < B; b++) {
        const given = step[b]![p.name] ?? [];
        let c = 0;
        for (let e = 0; e < given.length; e++) {
          const i = given[e]!;
          if (!Number.isInteger(i) || i < 0 || i >= p.size) throw new RangeError(`step ${t0 + k}, instance ${b}: input '${p.name}' spike index ${i} out of range [0, ${p.size})`);
          if (seen[i]) continue;
          seen[i] = 1;
          if (c === p.capacity) throw new RangeError(`step ${t0 + k}, instance ${b}: more than ${p.capacity} spikes on input '${p.name}' (raise inputCapacity)`);
          lists[b * p.capacity + c++] = i;
        }
        for (let e = 0; e < c; e++) seen[lists[b * p.capacity + e]!] = 0;
        counts[b] = c;
      }
      const slot = (t0 + k) % p.slots;
      this.gpu.device.queue.writeBuffer(this.mem, (p.lists + slot * B * p.capacity) * BYTES, lists);
      this.gpu.device.queue.writeBuffer(this.atom, (p.counts + slot * B) * BYTES, counts);
    }
  }

  /** Throws on signals the label upload would reject, before anything is queued (a bad chunk then leaves the network as it was). */
  private checkSignals(signals: readonly (readonly (StepSignals | undefined)[] | undefined)[], n: number): void {
    if (signals.length !== n) throw new RangeError(`runChunk: signals for ${signals.length} steps, inputs for ${n}`);
    const B = this.plan.B;
    for (let k = 0; k < n; k++) {
      const row = signals[k];
      if (!row) continue;
      if (row.length !== B) throw new RangeError(`step ${this.t + k}: signals for ${row.length} instances, expected ${B}`);
      for (const q of this.plan.projs) {
        if (!q.readout) continue;
        const y = new Float64Array(q.to.size);
        for (let b = 0; b < B; b++) {
          const label = row[b]?.[q.readout.spec.signal];
          if (label !== undefined) readoutTargets(label, y, `step ${this.t + k}, instance ${b}: readout '${q.name}'`);
        }
      }
    }
  }

  /**
   * Writes the readout's label slots for steps t0 … t0 + n − 1: c1 = 1 − β1^k, c2 = 1 − β2^k in f64
   * as the CPU computes them (k counts this instance's labelled steps while learning is on; SGD: 1),
   * 0 where the step updates nothing; then the targets and which of them are labelled (not NaN).
   */
  private uploadLabels(q: ProjPlan, signals: readonly (readonly (StepSignals | undefined)[] | undefined)[] | undefined, n: number, t0: number): void {
    const r = q.readout!;
    const B = this.plan.B;
    const nOut = q.to.size;
    const words = new Uint32Array(B * r.stride);
    const fl = new Float32Array(words.buffer);
    const y = new Float64Array(nOut);
    const on = this.readoutOn.get(q.name)!;
    const steps = this.readoutSteps.get(q.name)!;
    const adam = r.spec.optimizer === 'adam';
    for (let k = 0; k < n; k++) {
      words.fill(0);
      const row = signals?.[k];
      if (row && row.length !== B) throw new RangeError(`step ${t0 + k}: signals for ${row.length} instances, expected ${B}`);
      for (let b = 0; b < B; b++) {
        const label = row?.[b]?.[r.spec.signal];
        if (label === undefined || !on) continue;
        readoutTargets(label, y, `readout '${q.name}'`);
        const o = b * r.stride;
        if (adam) {
          const kk = (steps[b] = steps[b]! + 1);
          fl[o] = 1 - Math.pow(r.spec.beta1, kk);
          fl[o + 1] = 1 - Math.pow(r.spec.beta2, kk);
        } else {
          fl[o] = 1;
          fl[o + 1] = 1;
        }
        for (let j = 0; j < nOut; j++) {
          if (Number.isNaN(y[j]!)) continue;
          fl[o + 2 + j] = y[j]!;
          words[o + 2 + nOut + j] = 1;
        }
      }
      const slot = (t0 + k) % this.plan.chunk;
      this.gpu.device.queue.writeBuffer(this.mem, (r.labels + slot * B * r.stride) * BYTES, words);
    }
  }

  private parseOutputs(words: Uint32Array, t0: number, n: number): ChunkSpikes {
    const B = this.plan.B;
    const out: ChunkSpikes = new Map();
    let at = 0;
    for (const p of this.outPops) {
      const count = words[at]!;
      if (count > this.plan.outputCapacity) throw new RangeError(`population '${p.name}': ${count} output spikes in one chunk, more than outputCapacity (${this.plan.outputCapacity})`);
      const buckets: number[][][] = Array.from({ length: n }, () => Array.from({ length: B }, () => []));
      for (let e = 0; e < count; e++) {
        const code = words[at + 1 + 2 * e]!;
        const k = ((code >>> 16) - (t0 & 0xffff)) & 0xffff;
        buckets[k]![code & 0xffff]!.push(words[at + 2 + 2 * e]!);
      }
      out.set(p.name, buckets.map((row) => row.map((l) => Int32Array.from(l).sort())));
      at += 1 + 2 * this.plan.outputCapacity;
    }
    return out;
  }

  /** Rate estimates (Hz) of homeostasis controller `index` (spec order), timescale k, one instance. */
  async homeostasisRates(index: number, k: number, instance = 0): Promise<Float64Array> {
    const h = this.plan.homeo[index];
    if (!h || k < 0 || k >= h.spec.timescales.length) throw new RangeError(`no homeostasis controller ${index} with timescale ${k} on the GPU`);
    const N = h.pop.size;
    return Float64Array.from(new Float32Array((await this.readWords(h.r + (k * this.plan.B + instance) * N, N)).buffer));
  }

  /** Final weights of one instance in the user's synapse order (f32 values widened). */
  async weights(projection: string, instance = 0): Promise<Float64Array> {
    const q = this.plan.projs.find((x) => x.name === projection);
    if (!q) throw new RangeError(`no projection named '${projection}' on the GPU`);
    const base = q.weight + (q.weightPerInstance ? instance * q.table.count : 0);
    const w = new Float32Array((await this.readWords(base, q.table.count)).buffer);
    const out = new Float64Array(q.table.count);
    for (let s = 0; s < w.length; s++) out[q.table.id[s]!] = w[s]!;
    return out;
  }

  /**
   * One state array of one instance, widened to f64: 'v', 'theta' or 'offset' (the homeostatic
   * threshold offset, zero without a threshold controller) of a LIF population, 'bias' of a logistic one.
   */
  async populationState(population: string, field: 'v' | 'theta' | 'offset' | 'bias', instance = 0): Promise<Float64Array> {
    const p = this.plan.pops.find((x) => x.name === population && (field === 'bias' ? x.logistic : x.lif));
    if (!p) throw new RangeError(`no ${field === 'bias' ? 'logistic' : 'LIF'} population named '${population}' on the GPU`);
    if (p[field] < 0) return new Float64Array(p.size);
    const words = await this.readWords(p[field] + instance * p.size, p.size);
    return Float64Array.from(new Float32Array(words.buffer));
  }

  private async readWords(start: number, count: number): Promise<Uint32Array> {
    await this.chain;
    await Promise.all(this.pending);
    const device = this.gpu.device;
    const buf = device.createBuffer({ size: Math.max(4, count * BYTES), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(this.mem, start * BYTES, buf, 0, count * BYTES);
    device.queue.submit([enc.finish()]);
    await buf.mapAsync(GPUMapMode.READ);
    const copy = new Uint32Array(buf.getMappedRange()).slice();
    buf.unmap();
    buf.destroy();
    return copy;
  }

  destroy(): void {
    for (const b of [this.mem, this.atom, ...this.readback]) b.destroy();
  }
}
