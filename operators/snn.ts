/**
 * snn: runs a network of the SNN engine on a stream of simulation steps (binSteps batches), one
 * network step per batch, learning online. Labels, rewards and errors arrive on their own streams
 * and are given to each step as named signals; learning can be switched on and off by a stream.
 *
 * Signals are sampled at each step: a 'hold' signal (default; labels) keeps its last value until a
 * new one arrives; a 'pulse' signal (rewards) is given to exactly one step and then cleared. A batch
 * may also carry its own `signals` (per-step targets from `triggeredLabels`), given to its step only.
 *
 * Each emission carries copies of the step's output spikes (the engine's own views are recycled a
 * few steps later) and, when `snapshot` names populations, a copy of their state: the membranes of
 * LIF populations; for logistic ones σ(a + b) of the input that arrived in this step (what a decision
 * can weigh, not just spikes).
 *
 * @example
 *   import { snn } from 'spikeflow';
 *   import { openEmulator } from 'spikeflow/adapters';
 *   import { binSteps, snn as runSnn } from 'spikeflow/operators';
 *   const net = snn.buildNetwork({ dt_ms: 1, populations: [
 *       { name: 'retina', model: 'input', shape: [2, 32, 32] },
 *       { name: 'out', model: 'lif', size: 4, tau_ms: 20, v_th: 1 }],
 *     projections: [{ name: 'w', kind: 'random', from: 'retina', to: 'out', p: 0.2, weight: { min: 0, max: 0.05 } }] });
 *   openEmulator({ width: 32, height: 32 }, { durationUs: 2e5 }).events
 *     .pipe(binSteps({ dtUs: 1000, originUs: 0 }), runSnn({ network: net, input: 'retina' }))
 *     .subscribe((s) => s.spikes.out!.length && console.log(s.step, [...s.spikes.out!]));
 */
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { Network } from '../src/snn/network.js';
import type { LifPopulationRuntime } from '../src/snn/neurons/populations.js';
import type { LogisticPopulationRuntime } from '../src/snn/neurons/logistic.js';
import type { StepBatch } from './bin-steps.js';

export type SignalMode = 'hold' | 'pulse';

export interface SnnOptions {
  readonly network: Network;
  /** The input population the batches' active indices go to. */
  readonly input: string;
  /** Populations whose spikes are emitted (default: every non-input population). */
  readonly outputs?: readonly string[];
  /** Named signal streams for the learning rules (labels, rewards, errors). */
  readonly signals?: Readonly<Record<string, Observable<number | ArrayLike<number>>>>;
  /** How each signal is sampled (default 'hold'). */
  readonly signalModes?: Readonly<Record<string, SignalMode>>;
  /** Learning on (true) or off (false), switched while running. */
  readonly learning?: Observable<boolean>;
  /** Populations whose state is copied into each emission (LIF: membrane v; logistic: probability p). */
  readonly snapshot?: readonly string[];
  /**
   * Reuse the snapshot arrays from step to step instead of allocating new ones: each emission's
   * `state` is then valid only while it is being delivered (for consumers that copy what they keep;
   * the pipeline runtime sets this when every consumer of the node releases its input). Default false.
   */
  readonly reuseState?: boolean;
}

export interface SnnStep {
  readonly step: number;
  readonly tStartUs: number;
  readonly dtUs: number;
  /** Input events of the step (from the batch). */
  readonly events: number;
  /** Output spikes per population (ascending neuron indices, copies). */
  readonly spikes: Readonly<Record<string, Int32Array>>;
  /** Size of each output population (one shared object). */
  readonly sizes: Readonly<Record<string, number>>;
  /** Conv readout positions whose centre spiked (passed on from the batch, see triggeredLabels). */
  readonly triggered?: Int32Array;
  /** State copies of the `snapshot` populations (LIF membranes, logistic probabilities). */
  readonly state?: Readonly<Record<string, Float64Array>>;
}

export function snn(options: SnnOptions): OperatorFunction<StepBatch, SnnStep> {
  const net = options.network;
  const inputPop = net.population(options.input);
  if (inputPop.spec.model !== 'input') throw new RangeError(`snn: '${options.input}' is not an input population`);
  const outputs = options.outputs ?? [...net.populations.values()].filter((p) => p.spec.model !== 'input').map((p) => p.spec.name);
  const sizes: Record<string, number> = Object.freeze(Object.fromEntries(outputs.map((o) => [o, net.population(o).size])));
  /** A copy of the population's state: LIF membranes; logistic σ(a + b) of this step's arrivals (what they say now, not the last threshold). */
  const snapshotOf = (name: string): (() => Float64Array) => {
    const pop = net.population(name);
    const reused = options.reuseState ? new Float64Array(pop.size) : undefined;
    if (pop.spec.model === 'logistic') return () => (pop as LogisticPopulationRuntime).predict(reused);
    if ('state' in pop && (pop as LifPopulationRuntime).state.v) {
      const v = (pop as LifPopulationRuntime).state.v;
      return reused ? () => (reused.set(v), reused) : () => v.slice();
    }
    throw new RangeError(`snn: snapshot population '${name}' has no membrane or probability`);
  };
  const snapshots = (options.snapshot ?? []).map((s) => [s, snapshotOf(s)] as const);
  return (source) =>
    new Observable<SnnStep>((subscriber) => {
      const current: Record<string, number | ArrayLike<number>> = {};
      const subs: Subscription[] = [];
      for (const [name, stream] of Object.entries(options.signals ?? {})) {
        subs.push(stream.subscribe({ next: (v) => (current[name] = v), error: (e) => subscriber.error(e) }));
      }
      if (options.learning) subs.push(options.learning.subscribe({ next: (on) => net.setLearning(on), error: (e) => subscriber.error(e) }));
      subs.push(
        source.subscribe({
          next(batch) {
            if (batch.size !== inputPop.size) {
              subscriber.error(new RangeError(`snn: step ${batch.step} has ${batch.size} inputs but population '${options.input}' has ${inputPop.size}`));
              return;
            }
            // Signals carried by the batch itself (per-step targets, e.g. triggeredLabels) hold for this step only.
            const carried = batch.signals;
            try {
              net.step({ spikes: { [options.input]: batch.active }, signals: carried ? { ...current, ...carried } : { ...current } });
            } catch (e) {
              subscriber.error(e);
              return;
            }
            for (const [name, mode] of Object.entries(options.signalModes ?? {})) if (mode === 'pulse') delete current[name];
            const spikes: Record<string, Int32Array> = {};
            for (const o of outputs) spikes[o] = net.spikes(o).slice();
            let state: Record<string, Float64Array> | undefined;
            if (snapshots.length) {
              state = {};
              for (const [s, copy] of snapshots) state[s] = copy();
            }
            subscriber.next({ step: batch.step, tStartUs: batch.tStartUs, dtUs: batch.dtUs, events: batch.events, spikes, sizes, ...(state ? { state } : {}), ...(batch.triggered ? { triggered: batch.triggered } : {}) });
          },
          error: (e) => subscriber.error(e),
          complete: () => subscriber.complete(),
        }),
      );
      return () => subs.forEach((s) => s.unsubscribe());
    });
}
