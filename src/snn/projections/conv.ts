// PLACEHOLDER (uncommitted): being written by a helper.
import type { ConvProjectionSpec } from '../spec.js';
import type { BuildContext, ProjectionRuntime, PopulationRuntime } from '../runtime-types.js';
export function createConvProjection(spec: ConvProjectionSpec, _from: PopulationRuntime, _to: PopulationRuntime, _ctx: BuildContext): ProjectionRuntime {
  throw new Error(`${JSON.stringify(spec).slice(0, 40)}: not implemented yet`);
}
