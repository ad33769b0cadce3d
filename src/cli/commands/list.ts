/** `spikeflow list`: what a pipeline can use — node types with their parameters, models, rules, backends, presets. */
import { parseArgs, UsageError } from '../args.js';
import { networkPresets, nodeTypes } from '../../runtime/index.js';
import { schemaText } from '../../runtime/schema.js';
import { BACKEND_NAMES } from '../../snn/backends/select.js';

export const listHelp = `spikeflow list
  Lists the pipeline node types (sources, operators, sinks) with their parameters, the neuron
  models, learning rules and backends of networks, and the registered network presets.`;

// The engine's validator (src/snn/validate.ts) accepts exactly these.
const NEURON_MODELS = ['input', 'lif', 'alif', 'logistic'];
const RULES = ['stdp', 'three_factor', 'readout', 'delay'];

export function list(argv: string[], print: (s: string) => void): number {
  const args = parseArgs(argv, {});
  if (args.positional.length) throw new UsageError(`list takes no arguments\n${listHelp}`);
  for (const [role, title] of [
    ['source', 'sources'],
    ['op', 'operators'],
    ['sink', 'sinks'],
  ] as const) {
    print(`${title}:`);
    for (const t of nodeTypes(role)) {
      const io = [t.accepts ? `in: ${t.accepts.join('|')}` : '', t.produces ? `out: ${t.produces}` : '', t.pausable ? 'pausable' : role === 'source' ? 'drops when full' : '', t.labels ? 'labels' : ''].filter(Boolean).join(', ');
      print(`  ${t.name.padEnd(11)} ${t.doc}${io ? ` [${io}]` : ''}`);
      for (const [k, f] of Object.entries(t.params)) print(`      ${(k + (f.required ? '*' : '')).padEnd(15)} ${schemaText(f.schema).padEnd(28)} ${f.doc}`);
    }
  }
  print(`neuron models: ${NEURON_MODELS.join(', ')}`);
  print(`learning rules: ${RULES.join(', ')}`);
  print(`backends: ${BACKEND_NAMES.join(', ')}`);
  print('presets:');
  for (const p of networkPresets()) print(`  ${p.name.padEnd(18)} ${p.doc}`);
  return 0;
}
