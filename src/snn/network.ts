/**
 * Network: a validated spec built into flat state (one StateArena) plus the runtime pieces, stepped
 * one dt at a time in Brian2's order:
 *
 *   1. groups      every population integrates (decay); every rule decays its traces
 *   2. thresholds  input populations take the given spikes, the others spike where above threshold
 *   3. synapses    every projection delivers the arrivals of this step (v += w); rules then run
 *                  their presynaptic, then postsynaptic updates
 *   4. resets      spiking neurons reset (and adapt)
 *   5. end         rules that need the whole step (readout, pruning, delay moves), then homeostasis
 *
 * Because delivery comes after the threshold, input arriving in the step a neuron fires is wiped by
 * its reset, and input arriving at step t is first seen by the threshold of step t + 1, as in Brian2.
 */
import { StateArena } from './arena.js';
import { cpuBackend, type SnnBackend } from './backend.js';
import type { NetworkSpec, PopulationSpec, ProjectionSpec } from './spec.js';
import { validateSpec } from './validate.js';
import type { BuildContext, ControllerRuntime, PopulationRuntime, ProjectionRuntime, RuleRuntime, StepSignals } from './runtime-types.js';
import { createInputPopulation, createLifPopulation } from './neurons/populations.js';
import { createLogisticPopulation } from './neurons/logistic.js';
import { createSynapseListProjection } from './projections/synapse-list.js';
import { createConvProjection } from './projections/conv.js';
import { createStdp } from './plasticity/stdp.js';
import { createThreeFactor } from './plasticity/three-factor.js';
import { createReadout } from './plasticity/readout.js';
import { createDelayLearning } from './plasticity/delay-learning.js';
import { createController } from './homeostasis/controllers.js';

export interface StepInput {
  /** Spiking input neurons of this step, by input population name (any order; duplicates ignored). */
  readonly spikes?: Readonly<Record<string, ArrayLike<number>>>;
  /** Rewards, errors and labels for the learning rules, by signal name. */
  readonly signals?: StepSignals;
}

export interface BuildOptions {
  readonly backend?: SnnBackend;
}

export class Network {
  /** The next step to run (steps run so far). */
  t = 0;

  constructor(
    readonly spec: NetworkSpec,
    readonly arena: StateArena,
    readonly backend: SnnBackend,
    readonly populations: ReadonlyMap<string, PopulationRuntime>,
    readonly projections: ReadonlyMap<string, ProjectionRuntime>,
    readonly rules: readonly RuleRuntime[],
    readonly controllers: readonly ControllerRuntime[],
  ) {
    this.popList = [...populations.values()];
    this.projList = [...projections.values()];
  }

  private readonly popList: PopulationRuntime[];
  private readonly projList: ProjectionRuntime[];

  /** Runs one step of dt. */
  step(input: StepInput = {}): void {
    const t = this.t;
    const signals = input.signals ?? NO_SIGNALS;
    const given = input.spikes ?? NO_SPIKES;
    // Check everything before touching state, so a bad step leaves the network as it was.
    for (const name in given) {
      const p = this.populations.get(name);
      if (!p || p.spec.model !== 'input') throw new RangeError(`step ${t}: '${name}' is not an input population of this network`);
      const list = given[name]!;
      for (let k = 0; k < list.length; k++) {
        const i = list[k]!;
        if (!Number.isInteger(i) || i < 0 || i >= p.size) throw new RangeError(`step ${t}: input '${name}' spike index ${i} (entry ${k}) out of range [0, ${p.size})`);
      }
    }
    // Plain arrays, not Map iterators: this runs every step.
    const pops = this.popList;
    const rules = this.rules;
    for (let k = 0; k < pops.length; k++) pops[k]!.integrate(t);
    for (let k = 0; k < rules.length; k++) rules[k]!.groups?.(t);
    for (let k = 0; k < pops.length; k++) pops[k]!.threshold(t, given[pops[k]!.spec.name]);
    for (let k = 0; k < this.projList.length; k++) this.projList[k]!.deliver(t);
    for (let k = 0; k < rules.length; k++) rules[k]!.synapses?.(t, signals);
    for (let k = 0; k < pops.length; k++) pops[k]!.reset(t);
    for (let k = 0; k < rules.length; k++) rules[k]!.end?.(t, signals);
    for (let k = 0; k < this.controllers.length; k++) this.controllers[k]!.end(t);
    this.t = t + 1;
  }

  /** Spikes of a population at step t (default: the last step run), as a view valid for a few steps; copy to keep. */
  spikes(population: string, t = this.t - 1): Int32Array {
    return this.population(population).history.spikes(t);
  }

  population(name: string): PopulationRuntime {
    const p = this.populations.get(name);
    if (!p) throw new RangeError(`no population named '${name}' (have: ${[...this.populations.keys()].join(', ')})`);
    return p;
  }

  projection(name: string): ProjectionRuntime {
    const p = this.projections.get(name);
    if (!p) throw new RangeError(`no projection named '${name}' (have: ${[...this.projections.keys()].join(', ')})`);
    return p;
  }

  /** Switches learning on or off while running: every rule, or those of one projection. */
  setLearning(enabled: boolean, projection?: string): void {
    if (projection !== undefined) this.projection(projection);
    for (const r of this.rules) if (projection === undefined || r.spec.projection === projection) r.enabled = enabled;
  }

  /** Switches homeostasis on or off: every controller, or those of one population. */
  setHomeostasis(enabled: boolean, population?: string): void {
    if (population !== undefined) this.population(population);
    for (const c of this.controllers) if (population === undefined || c.spec.population === population) c.enabled = enabled;
  }

  get synapseCount(): number {
    let n = 0;
    for (const p of this.projections.values()) n += p.synapseCount;
    return n;
  }
}

const NO_SIGNALS: StepSignals = Object.freeze({});
const NO_SPIKES: Readonly<Record<string, ArrayLike<number>>> = Object.freeze({});

/** Builds a network from a spec (validated here if given as plain JSON). */
export function buildNetwork(spec: NetworkSpec | unknown, options: BuildOptions = {}): Network {
  const valid = validateSpec(spec);
  const backend = options.backend ?? cpuBackend;
  // Pass 1 sizes the arena; pass 2 builds into one buffer the backend provides.
  const sizing = new StateArena();
  assemble(valid, sizing, backend);
  const { buffer, base } = backend.arenaMemory(sizing.byteLength + 16 + sizing.scratchBytes);
  return assemble(valid, new StateArena(buffer, base, sizing.byteLength), backend);
}

function assemble(spec: NetworkSpec, arena: StateArena, backend: SnnBackend): Network {
  const populations = new Map<string, PopulationRuntime>();
  const projections = new Map<string, ProjectionRuntime>();
  const historySlots = new Map<string, number>();
  for (const p of spec.populations) historySlots.set(p.name, 1);
  const reserve = new Map<string, number>();
  for (const r of spec.plasticity) if (r.rule === 'delay') reserve.set(r.projection, Math.max(reserve.get(r.projection) ?? 0, r.d_max));
  for (const pr of spec.projections) {
    const d = Math.max(maxDelayOf(pr), reserve.get(pr.name) ?? 0);
    historySlots.set(pr.from, Math.max(historySlots.get(pr.from)!, d + 1));
  }
  const ctx: BuildContext = { spec, arena, backend, populations, projections, historySlots: Math.max(...historySlots.values()) };
  for (const p of spec.populations) populations.set(p.name, createPopulation(p, ctx, historySlots.get(p.name)!));
  for (const pr of spec.projections) {
    const from = populations.get(pr.from)!;
    const to = populations.get(pr.to)!;
    projections.set(pr.name, pr.kind === 'conv' ? createConvProjection(pr, from, to, ctx) : createSynapseListProjection(pr, from, to, ctx, reserve.get(pr.name) ?? 0));
  }
  const rules = spec.plasticity.map((r): RuleRuntime => {
    switch (r.rule) {
      case 'stdp':
        return createStdp(r, ctx);
      case 'three_factor':
        return createThreeFactor(r, ctx);
      case 'readout':
        return createReadout(r, ctx);
      case 'delay':
        return createDelayLearning(r, ctx);
    }
  });
  const controllers = spec.homeostasis.map((h) => createController(h, ctx));
  return new Network(spec, arena, backend, populations, projections, rules, controllers);
}

function createPopulation(p: PopulationSpec, ctx: BuildContext, slots: number): PopulationRuntime {
  switch (p.model) {
    case 'input':
      return createInputPopulation(p, ctx, slots);
    case 'lif':
    case 'alif':
      return createLifPopulation(p, ctx, slots);
    case 'logistic':
      return createLogisticPopulation(p, ctx, slots);
  }
}

/** The largest delay in steps a projection's synapses start with. */
export function maxDelayOf(pr: ProjectionSpec): number {
  switch (pr.kind) {
    case 'conv':
      return pr.delays - 1;
    case 'sparse':
      return pr.delay_steps.reduce((a, b) => Math.max(a, b), 0);
    case 'random':
    case 'dense':
      return Array.isArray(pr.delay_steps)
        ? (pr.delay_steps as number[]).reduce((a, b) => Math.max(a, b), 0)
        : typeof pr.delay_steps === 'number'
          ? pr.delay_steps
          : (pr.delay_steps as { max: number }).max;
  }
}
