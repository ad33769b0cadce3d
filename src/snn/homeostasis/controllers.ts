// PLACEHOLDER (uncommitted): being written by a helper.
import type { HomeostasisSpec } from '../spec.js';
import type { BuildContext, ControllerRuntime } from '../runtime-types.js';
export function createController(spec: HomeostasisSpec, _ctx: BuildContext): ControllerRuntime {
  throw new Error(`${JSON.stringify(spec).slice(0, 40)}: not implemented yet`);
}
