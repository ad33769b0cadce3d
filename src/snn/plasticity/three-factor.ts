// PLACEHOLDER (uncommitted): being written by a helper.
import type { ThreeFactorSpec } from '../spec.js';
import type { BuildContext, RuleRuntime } from '../runtime-types.js';
export function createThreeFactor(spec: ThreeFactorSpec, _ctx: BuildContext): RuleRuntime {
  throw new Error(`${JSON.stringify(spec).slice(0, 40)}: not implemented yet`);
}
