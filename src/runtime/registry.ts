/**
 * The node types a pipeline may use, and the network presets. A pipeline file can only name these:
 * nothing in a file is ever evaluated or imported, so a file cannot run code of its own. Each type
 * declares its parameters (schema.ts), what stream kind it takes and gives, and how it is built;
 * the builders live in nodes.ts so this table stays a readable catalogue.
 */
import type { NetworkSpec } from '../snn/spec.js';
import type { FieldSchema } from './schema.js';

/** What flows on an edge. `snn` is the snn operator's per-step output (spikes per population). */
export type StreamKind = 'events' | 'steps' | 'snn' | 'decisions';

export type NodeRole = 'source' | 'op' | 'sink';

export interface NodeTypeInfo {
  readonly role: NodeRole;
  readonly name: string;
  readonly doc: string;
  readonly params: Readonly<Record<string, FieldSchema>>;
  /** Kinds accepted on the input(s) (ops, sinks). */
  readonly accepts?: readonly StreamKind[];
  /** Kind produced (sources, ops). */
  readonly produces?: StreamKind;
  /** Sinks taking several inputs (e.g. a WebSocket server publishing events and decisions). */
  readonly multiInput?: boolean;
  /** Sources whose reading can be paused (backpressure policy 'pause'). */
  readonly pausable?: boolean;
  /** Sources that also give ground-truth labels (class indices) for accuracy. */
  readonly labels?: boolean;
  /**
   * Ops and sinks that are done with each input item when their call returns: they keep no reference
   * to it or its arrays (they copy what they keep). When every node a source's packets can reach is
   * such a node, the runtime recycles the packets' buffers once they are delivered.
   */
  readonly releasesInput?: boolean;
  /**
   * Sources that can run in a worker thread (param `thread: true`), and event ops that can go with
   * them there: they need nothing of the main thread (thread-source.ts).
   */
  readonly threadable?: boolean;
}

const types = new Map<string, NodeTypeInfo>();

function key(role: NodeRole, name: string): string {
  return `${role}:${name}`;
}

export function registerNodeType(info: NodeTypeInfo): void {
  types.set(key(info.role, info.name), info);
}

export function nodeType(role: NodeRole, name: string): NodeTypeInfo | undefined {
  return types.get(key(role, name));
}

export function nodeTypes(role?: NodeRole): NodeTypeInfo[] {
  return [...types.values()].filter((t) => !role || t.role === role);
}

// ------------------------------------------------------------------ network presets

export type NetworkPreset = (params: Readonly<Record<string, unknown>>) => NetworkSpec;

export interface PresetInfo {
  readonly name: string;
  readonly doc: string;
  readonly build: NetworkPreset;
}

const presets = new Map<string, PresetInfo>();

/** Makes `network: { preset: name, params }` available to pipelines. Registering a name again replaces it. */
export function registerNetworkPreset(name: string, build: NetworkPreset, doc = ''): void {
  presets.set(name, { name, build, doc });
}

export function networkPreset(name: string): PresetInfo | undefined {
  return presets.get(name);
}

export function networkPresets(): PresetInfo[] {
  return [...presets.values()];
}
