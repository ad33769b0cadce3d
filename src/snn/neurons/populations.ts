/** Runtime wrappers for input and LIF/ALIF populations: state arrays in the arena plus the steps. */
import type { InputPopulationSpec, LifPopulationSpec } from '../spec.js';
import type { BuildContext, PopulationRuntime } from '../runtime-types.js';
import { SpikeHistory } from '../spike-history.js';
import { lifIntegrate, lifReset, lifThreshold, type LifState } from './lif.js';

export function createInputPopulation(spec: InputPopulationSpec, ctx: BuildContext, historySlots: number): PopulationRuntime {
  const history = new SpikeHistory(ctx.arena, spec.name, spec.size, historySlots);
  const seen = new Uint8Array(spec.size);
  return {
    spec,
    size: spec.size,
    history,
    input: new Float64Array(0),
    integrate() {},
    threshold(t, given) {
      const at = history.begin(t);
      if (!given || given.length === 0) return 0;
      // Sorted and de-duplicated: a neuron spikes at most once per step, and delivery order is by index.
      // Lists given ascending and without repeats (the usual case) are taken as they are.
      let n = 0;
      let ascending = true;
      for (let k = 0; k < given.length; k++) {
        const i = given[k]!; // range-checked by Network.step
        if (k > 0 && i <= given[k - 1]!) ascending = false;
        history.lists[at + n++] = i;
      }
      if (!ascending) {
        n = 0;
        for (let k = 0; k < given.length; k++) {
          const i = given[k]!;
          if (seen[i]) continue;
          seen[i] = 1;
          history.lists[at + n++] = i;
        }
        history.lists.subarray(at, at + n).sort();
        for (let k = 0; k < n; k++) seen[history.lists[at + k]!] = 0;
      }
      history.setCount(t, n);
      return n;
    },
    reset() {},
  };
}

export interface LifPopulationRuntime extends PopulationRuntime {
  readonly spec: LifPopulationSpec;
  readonly state: LifState;
}

export function createLifPopulation(spec: LifPopulationSpec, ctx: BuildContext, historySlots: number): LifPopulationRuntime {
  const { arena } = ctx;
  const n = spec.size;
  const state: LifState = {
    v: arena.f64(`${spec.name}.v`, n),
    theta: arena.f64(`${spec.name}.theta`, n),
    offset: arena.f64(`${spec.name}.thresholdOffset`, n),
    refractoryUntil: arena.i32(`${spec.name}.refractoryUntil`, n),
  };
  state.v.fill(spec.v_init);
  state.refractoryUntil.fill(-2147483648);
  const history = new SpikeHistory(arena, spec.name, n, historySlots);
  const integrate = ctx.backend.kernels.lifIntegrate ?? lifIntegrate;
  const threshold = ctx.backend.kernels.lifThreshold ?? lifThreshold;
  return {
    spec,
    size: n,
    state,
    history,
    input: state.v,
    integrate(t) {
      integrate(state, spec, t);
    },
    threshold(t) {
      const at = history.begin(t);
      const count = threshold(state, spec, t, history.lists, at);
      history.setCount(t, count);
      return count;
    },
    reset(t) {
      lifReset(state, spec, t, history.lists, history.offset(t), history.count(t));
    },
  };
}
