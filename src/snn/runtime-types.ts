/** The runtime pieces a built network is made of, and the order the network calls them in. */
import type { StateArena } from './arena.js';
import type { SnnBackend } from './backend.js';
import type { HomeostasisSpec, NetworkSpec, PlasticitySpec, PopulationSpec, ProjectionSpec } from './spec.js';
import type { SpikeHistory } from './spike-history.js';
import type { SynapseTable } from './projections/synapse-table.js';

/** Values given to one step besides input spikes: rewards, errors, labels, by name. */
export type StepSignals = Readonly<Record<string, number | ArrayLike<number>>>;

export interface PopulationRuntime {
  readonly spec: PopulationSpec;
  readonly size: number;
  readonly history: SpikeHistory;
  /** Where projections add this step's arriving input (v for LIF, the activation for logistic units). */
  readonly input: Float64Array;
  /** groups slot: decay and other per-step dynamics. */
  integrate(t: number): void;
  /** thresholds slot: writes step t's spikes into the history; input populations copy `given`. */
  threshold(t: number, given?: ArrayLike<number>): number;
  /** resets slot. */
  reset(t: number): void;
}

export interface ProjectionRuntime {
  readonly spec: ProjectionSpec;
  readonly from: PopulationRuntime;
  readonly to: PopulationRuntime;
  readonly synapseCount: number;
  /** The synapse table, for sparse/random/dense projections (conv has none). */
  readonly table?: SynapseTable;
  /** Adds the input arriving at step t (spikes of step t − d through delay d) to `to.input`. */
  deliver(t: number): void;
}

/**
 * A learning rule. Every hook is called every step whether or not the rule is enabled, so traces
 * stay consistent; a disabled rule leaves weights and delays alone.
 */
export interface RuleRuntime {
  readonly spec: PlasticitySpec;
  enabled: boolean;
  /** groups slot (before thresholds): decay traces. */
  groups?(t: number): void;
  /** synapses slot, after every projection delivered step t (Brian2's on_pre, then on_post). */
  synapses?(t: number, signals: StepSignals): void;
  /** After resets: updates that need the whole step (readout gradients, pruning, delay moves). */
  end?(t: number, signals: StepSignals): void;
}

export interface ControllerRuntime {
  readonly spec: HomeostasisSpec;
  enabled: boolean;
  /** After resets: updates rate estimates from step t's spikes and applies the control. */
  end(t: number): void;
}

/** What a factory needs to build one piece. */
export interface BuildContext {
  readonly spec: NetworkSpec;
  readonly arena: StateArena;
  readonly backend: SnnBackend;
  readonly populations: ReadonlyMap<string, PopulationRuntime>;
  readonly projections: ReadonlyMap<string, ProjectionRuntime>;
  /** Largest delay (in steps) any projection may reach, so histories keep enough steps. */
  readonly historySlots: number;
}
