/**
 * A small declarative schema for node parameters: every registered node type describes its params
 * with these, so a pipeline file is checked field by field before anything is built, and each problem
 * names its path (`nodes[3].params.dtUs`). Deliberately tiny: numbers with bounds, strings with
 * choices, booleans, arrays, nested objects, and free-form JSON (inline network specs).
 */

export type ParamSchema =
  | { readonly type: 'number'; readonly integer?: boolean; readonly gt?: number; readonly ge?: number; readonly le?: number; readonly lt?: number }
  | { readonly type: 'string'; readonly choices?: readonly string[] }
  | { readonly type: 'boolean' }
  | { readonly type: 'array'; readonly items: ParamSchema; readonly minItems?: number }
  | { readonly type: 'object'; readonly fields: Readonly<Record<string, FieldSchema>> }
  | { readonly type: 'oneOf'; readonly options: readonly ParamSchema[]; readonly describe: string }
  /** Any JSON value (inline network specs: validated by their own validator). */
  | { readonly type: 'json' };

export interface FieldSchema {
  readonly schema: ParamSchema;
  readonly required?: boolean;
  /** One line for `spikeflow list` and the docs. */
  readonly doc: string;
}

export interface Issue {
  /** Dotted/bracketed path from the pipeline root, e.g. `nodes[3].params.dtUs`. */
  readonly path: string;
  readonly message: string;
}

export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  return String(v);
}

/** Problems of `value` against `schema`; an empty list when it conforms. */
export function check(value: unknown, schema: ParamSchema, path: string, out: Issue[] = []): Issue[] {
  switch (schema.type) {
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        out.push({ path, message: `must be a number, got ${describeValue(value)}` });
      } else if (schema.integer && !Number.isInteger(value)) out.push({ path, message: `must be an integer, got ${value}` });
      else if (schema.gt !== undefined && !(value > schema.gt)) out.push({ path, message: `must be > ${schema.gt}` });
      else if (schema.ge !== undefined && !(value >= schema.ge)) out.push({ path, message: `must be >= ${schema.ge}` });
      else if (schema.lt !== undefined && !(value < schema.lt)) out.push({ path, message: `must be < ${schema.lt}` });
      else if (schema.le !== undefined && !(value <= schema.le)) out.push({ path, message: `must be <= ${schema.le}` });
      break;
    }
    case 'string':
      if (typeof value !== 'string') out.push({ path, message: `must be a string, got ${describeValue(value)}` });
      else if (schema.choices && !schema.choices.includes(value)) out.push({ path, message: `must be one of ${schema.choices.join(', ')}; got ${describeValue(value)}` });
      break;
    case 'boolean':
      if (typeof value !== 'boolean') out.push({ path, message: `must be true or false, got ${describeValue(value)}` });
      break;
    case 'array':
      if (!Array.isArray(value)) out.push({ path, message: `must be a list, got ${describeValue(value)}` });
      else {
        if (schema.minItems !== undefined && value.length < schema.minItems) out.push({ path, message: `must have at least ${schema.minItems} item(s)` });
        value.forEach((v, i) => check(v, schema.items, childPath(path, i), out));
      }
      break;
    case 'object':
      checkFields(value, schema.fields, path, out);
      break;
    case 'oneOf': {
      const ok = schema.options.some((o) => check(value, o, path).length === 0);
      if (!ok) out.push({ path, message: `must be ${schema.describe}, got ${describeValue(value)}` });
      break;
    }
    case 'json':
      break;
  }
  return out;
}

/** An object with exactly the known fields: unknown ones are named (a typo must not be ignored silently). */
export function checkFields(value: unknown, fields: Readonly<Record<string, FieldSchema>>, path: string, out: Issue[]): Issue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.push({ path, message: `must be a mapping, got ${describeValue(value)}` });
    return out;
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(key in fields)) out.push({ path: childPath(path, key), message: `unknown parameter (known: ${Object.keys(fields).join(', ') || 'none'})` });
  }
  for (const [key, f] of Object.entries(fields)) {
    const v = o[key];
    if (v === undefined) {
      if (f.required) out.push({ path: childPath(path, key), message: 'is required' });
      continue;
    }
    check(v, f.schema, childPath(path, key), out);
  }
  return out;
}

/** Short text of a schema for `spikeflow list`. */
export function schemaText(s: ParamSchema): string {
  switch (s.type) {
    case 'number': {
      const b = [s.gt !== undefined ? `> ${s.gt}` : '', s.ge !== undefined ? `>= ${s.ge}` : '', s.lt !== undefined ? `< ${s.lt}` : '', s.le !== undefined ? `<= ${s.le}` : ''].filter(Boolean);
      return `${s.integer ? 'integer' : 'number'}${b.length ? ' ' + b.join(', ') : ''}`;
    }
    case 'string':
      return s.choices ? s.choices.join('|') : 'string';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `list of ${schemaText(s.items)}`;
    case 'object':
      return `{${Object.keys(s.fields).join(', ')}}`;
    case 'oneOf':
      return s.describe;
    case 'json':
      return 'any';
  }
}

// Shorthands for the registry.
export const num = (o: Omit<Extract<ParamSchema, { type: 'number' }>, 'type'> = {}): ParamSchema => ({ type: 'number', ...o });
export const int = (o: Omit<Extract<ParamSchema, { type: 'number' }>, 'type' | 'integer'> = {}): ParamSchema => ({ type: 'number', integer: true, ...o });
export const str = (choices?: readonly string[]): ParamSchema => (choices ? { type: 'string', choices } : { type: 'string' });
export const bool: ParamSchema = { type: 'boolean' };
export const json: ParamSchema = { type: 'json' };
export const field = (schema: ParamSchema, doc: string, required = false): FieldSchema => ({ schema, doc, required });
