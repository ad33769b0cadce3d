/**
 * Pipeline files: YAML or JSON (JSON is read by the same YAML parser, so both get line numbers),
 * `--set key=value` overrides, and validation whose every error names the file, the line and the
 * field: `pipelines/x.yaml:14: nodes[3].params.dtUs: must be > 0`.
 *
 * An override's key is `NODE.PARAM[.SUB…]` (a node's params, e.g. `bins.dtUs=2000`), `NODE.queue.FIELD`,
 * `NODE.input`, or a top-level path (`checkpoint.path=…`, `name=…`). Values are read as YAML scalars or
 * flow collections (`3`, `true`, `fast`, `[1, 2]`, `{speed: 2}`). An error in an overridden field names
 * the override instead of a line.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parse as parseYamlValue, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { pipelineIssues, PipelineError, type PipelineSpec } from './pipeline.js';
import type { Issue } from './schema.js';

export interface LoadedPipeline {
  readonly spec: PipelineSpec;
  readonly file: string;
  /** Directory relative paths in the pipeline are resolved against. */
  readonly baseDir: string;
}

type Key = string | number;

/** `nodes[3].params.dtUs` → ['nodes', 3, 'params', 'dtUs']. */
export function splitPath(path: string): Key[] {
  const out: Key[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

function joinPath(keys: readonly Key[]): string {
  return keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** The document path an override key addresses. */
function overridePath(doc: Document, key: string): Key[] {
  const parts = key.split('.').filter(Boolean);
  if (parts.length === 0) throw new PipelineError([{ path: `--set ${key}`, message: 'empty key' }]);
  const nodes = doc.get('nodes');
  if (isSeq(nodes)) {
    const index = nodes.items.findIndex((n) => isMap(n) && n.get('id') === parts[0]);
    if (index >= 0) {
      const rest = parts.slice(1);
      if (rest.length === 0) throw new PipelineError([{ path: `--set ${key}`, message: `name a parameter of node '${parts[0]}' (e.g. ${parts[0]}.PARAM=VALUE)` }]);
      if (rest[0] === 'queue' || rest[0] === 'input' || rest[0] === 'params') return ['nodes', index, ...rest.map(numeric)];
      return ['nodes', index, 'params', ...rest.map(numeric)];
    }
  }
  return parts.map(numeric);
}

function numeric(s: string): Key {
  return /^\d+$/.test(s) ? Number(s) : s;
}

/** Parses `text` (YAML or JSON), applies overrides and validates; errors carry `file:line`. */
export function parsePipeline(text: string, file: string, sets: readonly string[] = [], baseDir = dirname(resolve(file))): LoadedPipeline {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new PipelineError(
      doc.errors.map((e) => ({ where: `${file}:${lines.linePos(e.pos[0]).line}`, path: '(syntax)', message: e.message.split('\n')[0]! })),
    );
  }
  const overridden: { path: string; set: string }[] = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new PipelineError([{ path: `--set ${s}`, message: 'must be KEY=VALUE' }]);
    const keys = overridePath(doc, s.slice(0, eq));
    let value: unknown;
    try {
      value = parseYamlValue(s.slice(eq + 1));
    } catch {
      value = s.slice(eq + 1);
    }
    // setIn creates missing maps on the way (a param the file did not give); problems anywhere in
    // what the override created are its problems.
    let created = keys.length;
    while (created > 1 && !doc.hasIn(keys.slice(0, created - 1))) created--;
    doc.setIn(keys, doc.createNode(value));
    overridden.push({ path: joinPath(keys.slice(0, created)), set: s });
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const issues = pipelineIssues(raw, baseDir);
  if (issues.length) throw new PipelineError(issues.map((i) => locate(i, doc, lines, file, overridden)));
  return { spec: raw as PipelineSpec, file, baseDir };
}

export function loadPipelineFile(file: string, sets: readonly string[] = []): LoadedPipeline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parsePipeline(text, file, sets);
}

/** `file:line` of an issue: the line of its field, or of the nearest enclosing one that exists. */
function locate(issue: Issue, doc: Document, lines: LineCounter, file: string, overridden: readonly { path: string; set: string }[]): Issue & { where: string } {
  const o = overridden.find((x) => issue.path === x.path || issue.path.startsWith(x.path + '.') || issue.path.startsWith(x.path + '['));
  if (o) return { ...issue, where: `--set ${o.set}` };
  const keys = splitPath(issue.path);
  for (let n = keys.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true)) as YamlNode | null | undefined;
    // A present key's own line reads best for "unknown key" problems: use the pair's key position.
    const range = node && typeof node === 'object' && 'range' in node ? node.range : undefined;
    if (range) return { ...issue, where: `${file}:${lines.linePos(keyStart(doc, keys.slice(0, n)) ?? range[0]).line}` };
  }
  return { ...issue, where: file };
}

/** Offset of the key of the pair at `keys` (the line a reader looks at), when it is a mapping entry. */
function keyStart(doc: Document, keys: readonly Key[]): number | undefined {
  if (keys.length === 0) return undefined;
  const parent = keys.length === 1 ? doc.contents : doc.getIn(keys.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = keys[keys.length - 1];
  for (const pair of parent.items) {
    const k = pair.key as YamlNode | null;
    if (k && typeof k === 'object' && 'value' in k && (k as { value: unknown }).value === last && k.range) return k.range[0];
  }
  return undefined;
}
