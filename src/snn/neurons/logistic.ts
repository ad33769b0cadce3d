// PLACEHOLDER (uncommitted): being written by a helper.
import type { LogisticPopulationSpec } from '../spec.js';
import type { BuildContext, PopulationRuntime } from '../runtime-types.js';
export function createLogisticPopulation(spec: LogisticPopulationSpec, _ctx: BuildContext, _slots: number): PopulationRuntime {
  throw new Error(`${JSON.stringify(spec).slice(0, 40)}: not implemented yet`);
}
