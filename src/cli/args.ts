/**
 * A small argument parser: positional arguments, `--flag`, `--key value`, `--key=value`, and
 * repeatable `--set k=v`. Unknown options are an error naming the option.
 */

export interface ParsedArgs {
  readonly positional: string[];
  readonly options: Record<string, string | boolean>;
  readonly sets: string[];
}

export interface ArgSpec {
  /** Options that take a value. */
  readonly values?: readonly string[];
  /** Options that are boolean flags. */
  readonly flags?: readonly string[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  const positional: string[] = [];
  const options: Record<string, string | boolean> = {};
  const sets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (flags.has(key)) {
      if (eq > 0) throw new UsageError(`option --${key} takes no value`);
      options[key] = true;
    } else if (values.has(key) || key === 'set') {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`option --${key} needs a value`);
      if (key === 'set') sets.push(v);
      else options[key] = v;
    } else {
      throw new UsageError(`unknown option --${key}`);
    }
  }
  return { positional, options, sets };
}

export function numberOption(options: Record<string, string | boolean>, key: string, fallback: number): number {
  const v = options[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new UsageError(`--${key} must be a number, got '${String(v)}'`);
  return n;
}
