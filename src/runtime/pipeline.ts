/**
 * The pipeline spec: a graph of named nodes (sources, operators, sinks) with their parameters, plus
 * pipeline-wide settings (checkpoint). `validatePipeline` checks untrusted data (a parsed file, or what
 * the builder API made) against the registered node types and returns every problem with its path;
 * pipeline-file.ts adds the file and line. Only registered node types can appear, so a pipeline is
 * data, never code.
 */
import { nodeType, type NodeTypeInfo, type StreamKind } from './registry.js';
import { check, checkFields, childPath, describeValue, field, int, str, type FieldSchema, type Issue } from './schema.js';
import type { QueuePolicy } from './edge-queue.js';

export interface QueueSpec {
  readonly capacity?: number;
  readonly policy?: QueuePolicy;
}

export interface NodeSpec {
  readonly id: string;
  readonly source?: string;
  readonly op?: string;
  readonly sink?: string;
  readonly params?: Readonly<Record<string, unknown>>;
  /** One upstream node id, or several for multi-input sinks. */
  readonly input?: string | readonly string[];
  /** Sources: the bounded queue on the outgoing edge. */
  readonly queue?: QueueSpec;
}

export interface CheckpointSpec {
  /** File the learned state is saved to on shutdown (relative to the pipeline file). */
  readonly path: string;
  /** The snn node whose network is saved (default: the only one). */
  readonly node?: string;
}

export interface PipelineSpec {
  readonly name?: string;
  readonly description?: string;
  readonly checkpoint?: CheckpointSpec;
  readonly nodes: readonly NodeSpec[];
}

export class PipelineError extends Error {
  constructor(readonly issues: readonly (Issue & { readonly where?: string })[]) {
    super(issues.map((i) => `${i.where ? i.where + ': ' : ''}${i.path}: ${i.message}`).join('\n'));
    this.name = 'PipelineError';
  }
}

const ID = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const ROLES = ['source', 'op', 'sink'] as const;
const NODE_KEYS = ['id', 'source', 'op', 'sink', 'params', 'input', 'queue'];

const QUEUE_FIELDS: Record<string, FieldSchema> = {
  capacity: field(int({ ge: 1, le: 1_000_000 }), 'items the edge may hold'),
  policy: field(str(['pause', 'drop-oldest', 'drop-newest']), 'when full: pause the source, or drop the oldest/newest item'),
};

export function roleOf(n: NodeSpec): 'source' | 'op' | 'sink' {
  return n.source !== undefined ? 'source' : n.op !== undefined ? 'op' : 'sink';
}

export function typeNameOf(n: NodeSpec): string {
  return (n.source ?? n.op ?? n.sink)!;
}

export function inputsOf(n: NodeSpec): string[] {
  return n.input === undefined ? [] : typeof n.input === 'string' ? [n.input] : [...n.input];
}

/** Extra semantic checks a node type can register (e.g. snn resolves and validates its network). */
export type NodeCheck = (params: Record<string, unknown>, path: string, ctx: { readonly baseDir: string; readonly spec: PipelineSpec }) => Issue[];
const nodeChecks = new Map<string, NodeCheck>();
export function registerNodeCheck(role: string, name: string, f: NodeCheck): void {
  nodeChecks.set(`${role}:${name}`, f);
}

/** Every problem of `raw` as a pipeline; empty when it is valid. */
export function pipelineIssues(raw: unknown, baseDir = '.'): Issue[] {
  const out: Issue[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [{ path: '(root)', message: `must be a mapping with 'nodes', got ${describeValue(raw)}` }];
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['name', 'description', 'checkpoint', 'nodes'].includes(k)) out.push({ path: k, message: 'unknown key (known: name, description, checkpoint, nodes)' });
  if (o.name !== undefined) check(o.name, str(), 'name', out);
  if (o.description !== undefined) check(o.description, str(), 'description', out);
  if (!Array.isArray(o.nodes) || o.nodes.length === 0) {
    out.push({ path: 'nodes', message: o.nodes === undefined ? 'is required' : 'must be a non-empty list of nodes' });
    return out;
  }
  const nodes = o.nodes as unknown[];
  const byId = new Map<string, { index: number; info: NodeTypeInfo | undefined; node: NodeSpec }>();
  const seen = new Set<string>();
  nodes.forEach((n, i) => {
    const p = childPath('nodes', i);
    if (typeof n !== 'object' || n === null || Array.isArray(n)) {
      out.push({ path: p, message: `must be a mapping, got ${describeValue(n)}` });
      return;
    }
    const node = n as Record<string, unknown>;
    for (const k of Object.keys(node)) if (!NODE_KEYS.includes(k)) out.push({ path: childPath(p, k), message: `unknown key (known: ${NODE_KEYS.join(', ')})` });
    if (typeof node.id !== 'string' || !ID.test(node.id)) out.push({ path: childPath(p, 'id'), message: node.id === undefined ? 'is required' : `must be a name of letters, digits, _ and - (starting with a letter), got ${describeValue(node.id)}` });
    else if (byId.has(node.id)) out.push({ path: childPath(p, 'id'), message: `'${node.id}' is already the id of nodes[${byId.get(node.id)!.index}]` });
    const roles = ROLES.filter((r) => node[r] !== undefined);
    if (roles.length !== 1) {
      out.push({ path: p, message: roles.length ? `has ${roles.join(' and ')}: a node is exactly one of source, op, sink` : 'needs one of source, op, sink (its type)' });
      return;
    }
    const role = roles[0]!;
    seen.add(role);
    const typeName = node[role];
    let info: NodeTypeInfo | undefined;
    if (typeof typeName !== 'string') out.push({ path: childPath(p, role), message: `must be a type name, got ${describeValue(typeName)}` });
    else {
      info = nodeType(role, typeName);
      if (!info) out.push({ path: childPath(p, role), message: `unknown ${role} type '${typeName}' (see 'spikeflow list')` });
    }
    if (typeof node.id === 'string' && !byId.has(node.id)) byId.set(node.id, { index: i, info, node: node as unknown as NodeSpec });
    if (info) {
      const params = node.params ?? {};
      const before = out.length;
      checkFields(params, info.params, childPath(p, 'params'), out);
      const extra = nodeChecks.get(`${role}:${info.name}`);
      if (extra && out.length === before) out.push(...extra(params as Record<string, unknown>, childPath(p, 'params'), { baseDir, spec: raw as PipelineSpec }));
    }
    if (node.queue !== undefined) {
      if (role !== 'source') out.push({ path: childPath(p, 'queue'), message: 'only sources have a queue (the operators after it run synchronously, sinks bound their own sends)' });
      else {
        checkFields(node.queue, QUEUE_FIELDS, childPath(p, 'queue'), out);
        const pol = (node.queue as QueueSpec).policy;
        if (pol === 'pause' && info && !info.pausable) out.push({ path: childPath(childPath(p, 'queue'), 'policy'), message: `source '${info.name}' cannot pause; use drop-oldest or drop-newest` });
      }
    }
    if (role === 'source' && node.input !== undefined) out.push({ path: childPath(p, 'input'), message: 'a source has no input' });
    if (role !== 'source') {
      const inp = node.input;
      const ok = typeof inp === 'string' || (Array.isArray(inp) && inp.length > 0 && inp.every((x) => typeof x === 'string'));
      if (!ok) out.push({ path: childPath(p, 'input'), message: inp === undefined ? 'is required (the id of the upstream node)' : `must be a node id or a list of them, got ${describeValue(inp)}` });
      else if (Array.isArray(inp) && inp.length > 1 && !info?.multiInput) out.push({ path: childPath(p, 'input'), message: `${role} '${String(typeName)}' takes one input` });
    }
  });
  // Edges: references, kinds, cycles.
  const kindOf = new Map<string, StreamKind | undefined>();
  const resolving = new Set<string>();
  const kind = (id: string): StreamKind | undefined => {
    if (kindOf.has(id)) return kindOf.get(id);
    const e = byId.get(id);
    if (!e || !e.info || resolving.has(id)) return undefined;
    resolving.add(id);
    let k: StreamKind | undefined;
    if (e.info.role === 'source') k = e.info.produces;
    else if (e.info.role === 'op') k = e.info.produces;
    resolving.delete(id);
    kindOf.set(id, k);
    return k;
  };
  for (const [id, e] of byId) {
    if (!e.info || e.info.role === 'source') continue;
    const ins = inputsOf(e.node);
    ins.forEach((src, j) => {
      const ip = Array.isArray(e.node.input) ? childPath(childPath(childPath('nodes', e.index), 'input'), j) : childPath(childPath('nodes', e.index), 'input');
      if (typeof src !== 'string') return;
      const up = byId.get(src);
      if (!up) return void out.push({ path: ip, message: `no node with id '${src}'` });
      if (src === id) return void out.push({ path: ip, message: 'a node cannot take its own output' });
      if (up.info?.role === 'sink') return void out.push({ path: ip, message: `'${src}' is a sink and has no output` });
      const k = kind(src);
      if (k && e.info!.accepts && !e.info!.accepts.includes(k)) out.push({ path: ip, message: `'${src}' gives ${k} but ${e.info!.role} '${e.info!.name}' takes ${e.info!.accepts.join(' or ')}` });
    });
  }
  // Cycles among ops (sources have no inputs, sinks no outputs, so only ops can loop).
  const state = new Map<string, number>();
  const visit = (id: string, trail: string[]): void => {
    const st = state.get(id);
    if (st === 2) return;
    if (st === 1) {
      const e = byId.get(id)!;
      out.push({ path: childPath(childPath('nodes', e.index), 'input'), message: `cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' -> ')}` });
      return;
    }
    state.set(id, 1);
    const e = byId.get(id);
    if (e) for (const up of inputsOf(e.node)) if (typeof up === 'string' && byId.has(up)) visit(up, [...trail, id]);
    state.set(id, 2);
  };
  for (const id of byId.keys()) visit(id, []);
  if (!seen.has('source')) out.push({ path: 'nodes', message: 'has no source' });
  if (!seen.has('sink')) out.push({ path: 'nodes', message: 'has no sink (nothing would leave the pipeline)' });
  if (o.checkpoint !== undefined) {
    const ck = o.checkpoint;
    checkFields(ck, { path: field(str(), 'checkpoint file', true), node: field(str(), 'snn node') }, 'checkpoint', out);
    const snns = [...byId.entries()].filter(([, e]) => e.info?.role === 'op' && e.info.name === 'snn').map(([id]) => id);
    const want = (ck as CheckpointSpec | undefined)?.node;
    if (want !== undefined && typeof want === 'string' && !snns.includes(want)) out.push({ path: 'checkpoint.node', message: `'${want}' is not an snn node (snn nodes: ${snns.join(', ') || 'none'})` });
    if (want === undefined && snns.length !== 1) out.push({ path: 'checkpoint', message: snns.length ? `${snns.length} snn nodes: name one with checkpoint.node` : 'the pipeline has no snn node whose state could be saved' });
  }
  return out;
}

/** The spec, or a PipelineError listing every problem (paths only; see pipeline-file.ts for lines). */
export function validatePipeline(raw: unknown, baseDir = '.'): PipelineSpec {
  const issues = pipelineIssues(raw, baseDir);
  if (issues.length) throw new PipelineError(issues);
  return raw as PipelineSpec;
}

/** The snn node the checkpoint belongs to. */
export function checkpointNode(spec: PipelineSpec): string | undefined {
  if (spec.checkpoint?.node) return spec.checkpoint.node;
  const snns = spec.nodes.filter((n) => n.op === 'snn');
  return snns.length === 1 ? snns[0]!.id : undefined;
}

/** Nodes in an order where every node comes after its inputs. */
export function topoOrder(spec: PipelineSpec): NodeSpec[] {
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  const done = new Set<string>();
  const out: NodeSpec[] = [];
  const visit = (n: NodeSpec): void => {
    if (done.has(n.id)) return;
    done.add(n.id);
    for (const i of inputsOf(n)) visit(byId.get(i)!);
    out.push(n);
  };
  spec.nodes.forEach(visit);
  return out;
}

/** The kind a node gives downstream. */
export function producedKind(n: NodeSpec): StreamKind | undefined {
  return nodeType(roleOf(n), typeNameOf(n))?.produces;
}

/**
 * Whether the items node `id` emits (event packets, snn steps) can be recycled as soon as their
 * delivery returns: every node they can reach releases its input (registry releasesInput). An events
 * op may pass a packet on unchanged, so its consumers count too; nodes that make another kind
 * (steps, decisions) end the walk.
 */
export function packetsRecyclable(spec: PipelineSpec, id: string): boolean {
  const seen = new Set<string>();
  const walk = (from: string): boolean => {
    for (const n of spec.nodes) {
      if (!inputsOf(n).includes(from) || seen.has(n.id)) continue;
      seen.add(n.id);
      if (!nodeType(roleOf(n), typeNameOf(n))?.releasesInput) return false;
      if (roleOf(n) === 'op' && producedKind(n) === 'events' && !walk(n.id)) return false;
    }
    return true;
  };
  return walk(id);
}
