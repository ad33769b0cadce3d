/** `spikeflow validate PIPELINE`: checks a pipeline file without running it; errors name file:line and field. */
import { parseArgs, UsageError } from '../args.js';
import { loadPipelineFile, PipelineError } from '../../runtime/index.js';

export const validateHelp = `spikeflow validate PIPELINE [--set key=value ...]
  Checks a pipeline file (schema, node types, edges, networks) without running it. Prints
  "PIPELINE: ok" and exits 0, or one line per problem ("FILE:LINE: FIELD: message") and exits 1.`;

export function validate(argv: string[], print: (s: string) => void): number {
  const args = parseArgs(argv, {});
  if (args.positional.length !== 1) throw new UsageError(`validate needs one PIPELINE file\n${validateHelp}`);
  const file = args.positional[0]!;
  try {
    const { spec } = loadPipelineFile(file, args.sets);
    const counts = { source: 0, op: 0, sink: 0 };
    for (const n of spec.nodes) counts[n.source !== undefined ? 'source' : n.op !== undefined ? 'op' : 'sink']++;
    print(`${file}: ok (${spec.nodes.length} nodes: ${counts.source} source(s), ${counts.op} operator(s), ${counts.sink} sink(s))`);
    return 0;
  } catch (e) {
    if (!(e instanceof PipelineError)) throw e;
    for (const line of e.message.split('\n')) print(line);
    return 1;
  }
}
