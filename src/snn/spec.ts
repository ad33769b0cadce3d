/**
 * The network spec: a plain, JSON-serialisable description of populations, projections, learning
 * rules and homeostasis controllers. `validateSpec` (validate.ts) turns untrusted JSON into this
 * type or throws a SpecError naming the field; `buildNetwork` (network.ts) turns it into flat
 * typed-array state.
 *
 * Time is in steps of `dt_ms`. Every decay is either a per-step factor (`decay`, used exactly as
 * given, so another simulator's factors can be passed in bit for bit) or a time constant
 * (`tau_ms`, turned into e^(−dt/τ) once).
 */

export const SPEC_VERSION = 1;

export interface NetworkSpec {
  readonly version: typeof SPEC_VERSION;
  readonly dt_ms: number;
  /** Seed for every random initialisation (projections may override). */
  readonly seed: number;
  readonly populations: readonly PopulationSpec[];
  readonly projections: readonly ProjectionSpec[];
  readonly plasticity: readonly PlasticitySpec[];
  readonly homeostasis: readonly HomeostasisSpec[];
}

// ---------------------------------------------------------------- populations

export type PopulationSpec = InputPopulationSpec | LifPopulationSpec | LogisticPopulationSpec;

interface PopulationBase {
  readonly name: string;
  readonly size: number;
  /** Optional layout, e.g. [polarity, height, width] for a sensor plane; its product is `size`. */
  readonly shape?: readonly number[];
}

/** Spikes given from outside each step (a sensor, a spike file). */
export interface InputPopulationSpec extends PopulationBase {
  readonly model: 'input';
}

/**
 * Leaky integrate-and-fire, optionally with threshold adaptation ('alif').
 * Per step (Brian2's order): v ← v·decay, θ ← θ·θ_decay; spike if v > v_th + θ (strict);
 * synaptic input v += w; then for spiking neurons v ← v_reset (or v ← v − (v_th + θ) with
 * reset 'subtract'), θ ← θ + θ_plus, and a refractory period of `refractory_steps` steps counted
 * from the spike step, during which v does not decay and the neuron cannot spike (inputs still add,
 * as in Brian2).
 */
export interface LifPopulationSpec extends PopulationBase {
  readonly model: 'lif' | 'alif';
  /** Per-step membrane decay factor e^(−dt/τ). */
  readonly decay: number;
  readonly v_th: number;
  readonly v_reset: number;
  readonly v_init: number;
  readonly reset: 'value' | 'subtract';
  readonly refractory_steps: number;
  /** Threshold adaptation (model 'alif' only). */
  readonly adaptation?: { readonly decay: number; readonly plus: number };
}

/**
 * Logistic units (the readout of Grimaldi & Perrinet 2023): p = σ(a + b), a the delayed weighted
 * input arriving this step. A unit spikes when p > `threshold`. Trained by the 'readout' rule.
 */
export interface LogisticPopulationSpec extends PopulationBase {
  readonly model: 'logistic';
  readonly threshold: number;
  readonly bias_init: number;
}

// ---------------------------------------------------------------- projections

export type ProjectionSpec = SynapseListProjectionSpec | ConvProjectionSpec;

interface ProjectionBase {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** A value drawn uniformly in [min, max] (integers for delays), or a constant. */
export type Init = number | { readonly min: number; readonly max: number };

/**
 * Every synapse listed (sparse), drawn at random with probability p (random), or all pairs
 * (dense, weights pre-major). All three compile to the same event-driven synapse table.
 */
export type SynapseListProjectionSpec =
  | (ProjectionBase & {
      readonly kind: 'sparse';
      readonly pre: readonly number[];
      readonly post: readonly number[];
      readonly weight: readonly number[];
      readonly delay_steps: readonly number[];
    })
  | (ProjectionBase & { readonly kind: 'random'; readonly p: number; readonly weight: Init; readonly delay_steps: Init; readonly seed?: number })
  | (ProjectionBase & { readonly kind: 'dense'; readonly weight: readonly number[] | Init; readonly delay_steps: readonly number[] | Init; readonly seed?: number });

/**
 * Convolution over the sensor plane with a kernel over input channel (polarity) × delay × space:
 * output (c, oy, ox) receives input (ci, oy·stride + ky, ox·stride + kx) spiking `d` steps ago with
 * weight W[c][ci][d][ky][kx]. `from` must have shape [C_in, H, W] and `to` shape
 * [C_out, (H − K)/stride + 1, (W − K)/stride + 1].
 */
export interface ConvProjectionSpec extends ProjectionBase {
  readonly kind: 'conv';
  readonly kernel_size: number;
  readonly delays: number;
  readonly stride: number;
  /** C_out·C_in·delays·K·K values (C_out with per_channel), or an initialiser. */
  readonly weight: readonly number[] | Init;
  readonly seed?: number;
  /**
   * One weight per output channel, shared by all of that channel's taps (C_out weights): the
   * projection adds w_c × (input spikes in the receptive field over the delays). A dense term such
   * as "activity anywhere in the patch" then costs one weight per channel instead of a full kernel.
   */
  readonly per_channel?: boolean;
}

// ---------------------------------------------------------------- plasticity

export type PlasticitySpec = StdpSpec | ThreeFactorSpec | ReadoutSpec | DelayLearningSpec;

interface RuleBase {
  readonly projection: string;
  /** Learning can be switched on and off while the stream runs; this is the initial state. */
  readonly enabled: boolean;
}

/**
 * Pair-based STDP with traces (Brian2's on_pre/on_post). On arrival of a presynaptic spike:
 * a_pre trace += a_pre, w ← clip(w + Δ); on a postsynaptic spike: a_post trace += a_post,
 * w ← clip(w + Δ). Additive: Δ = trace; multiplicative: Δ = trace·(w − w_min) for negative and
 * trace·(w_max − w) for positive changes. Symmetric: both pairings use |a|, so only timing
 * proximity counts.
 */
export interface StdpSpec extends RuleBase {
  readonly rule: 'stdp';
  readonly decay_pre: number;
  readonly decay_post: number;
  readonly a_pre: number;
  readonly a_post: number;
  readonly w_min: number;
  readonly w_max: number;
  readonly mode: 'additive' | 'multiplicative';
  readonly symmetric: boolean;
}

/**
 * Three-factor learning: STDP pairings accumulate into a per-synapse eligibility trace
 * (decaying by `decay_eligibility`) instead of the weight; each step w ← clip(w + lr·M·e), with M
 * the value of the named signal (reward or error) given to that step.
 */
export interface ThreeFactorSpec extends RuleBase {
  readonly rule: 'three_factor';
  readonly signal: string;
  readonly decay_pre: number;
  readonly decay_post: number;
  readonly a_pre: number;
  readonly a_post: number;
  readonly decay_eligibility: number;
  readonly learning_rate: number;
  readonly w_min: number;
  readonly w_max: number;
}

/**
 * Supervised online readout (time-invariant logistic regression): the target population must be
 * 'logistic'; each step, binary cross-entropy of p against the label signal (one value per output
 * unit, or a class index) is minimised by SGD or Adam on the synapses that delivered input this
 * step and on the biases. Optional magnitude pruning keeps the `keep` largest weights.
 */
export interface ReadoutSpec extends RuleBase {
  readonly rule: 'readout';
  readonly signal: string;
  readonly optimizer: 'sgd' | 'adam';
  readonly learning_rate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly prune?: { readonly keep: number; readonly every_steps: number };
  /**
   * 'logistic' (default): one binary cross-entropy per unit, e = σ(a + b) − y. 'softmax': the units
   * of the target's first shape axis (the classes) compete at each position: e_c = softmax_c(a + b) − y_c
   * over the C units of a position (multinomial cross-entropy); a position is trained when its
   * targets are given (not NaN).
   */
  readonly loss?: 'logistic' | 'softmax';
}

/**
 * Online delay learning: on each postsynaptic spike, every synapse onto that neuron whose last
 * presynaptic spike lies within `window_steps` shifts its delay toward t_post − t_pre by
 * learning_rate·(t_post − t_pre − d), accumulated fractionally and kept within [d_min, d_max].
 */
export interface DelayLearningSpec extends RuleBase {
  readonly rule: 'delay';
  readonly learning_rate: number;
  readonly d_min: number;
  readonly d_max: number;
  readonly window_steps: number;
}

// ---------------------------------------------------------------- homeostasis

/** One controller's timescale: rate estimate r ← r·e^(−dt/τ) + spikes·(1 − e^(−dt/τ))/dt, and its gain. */
export interface Timescale {
  readonly tau_ms: number;
  readonly gain: number;
}

/**
 * Keeps a population's firing rate near `target_hz`. 'threshold' (intrinsic plasticity) moves
 * each neuron's threshold offset by Σ gain·(r − target)·dt; 'scaling' multiplies each neuron's
 * incoming weights by 1 − Σ gain·(r − target)·dt. Several timescales run at once (Multi-Scale
 * Temporal Homeostasis), each with its own estimate.
 */
export interface HomeostasisSpec {
  readonly controller: 'threshold' | 'scaling';
  readonly population: string;
  readonly target_hz: number;
  readonly timescales: readonly Timescale[];
  readonly enabled: boolean;
}
