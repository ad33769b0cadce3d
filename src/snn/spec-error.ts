/** The error every invalid network spec, exchange file or checkpoint raises: it names the field. */
export class SpecError extends Error {
  override name = 'SpecError';
  constructor(
    /** JSON path of the offending field, e.g. `projections[2].delay_steps[17]`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Small checkers used by every validator; each throws a SpecError naming `field`. */
export function finiteNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SpecError(field, `must be a finite number, got ${describe(value)}`);
  return value;
}

export function positiveNumber(value: unknown, field: string): number {
  const n = finiteNumber(value, field);
  if (n <= 0) throw new SpecError(field, `must be > 0, got ${n}`);
  return n;
}

export function nonNegativeInteger(value: unknown, field: string): number {
  const n = finiteNumber(value, field);
  if (!Number.isInteger(n) || n < 0) throw new SpecError(field, `must be a non-negative integer, got ${n}`);
  return n;
}

export function positiveInteger(value: unknown, field: string): number {
  const n = nonNegativeInteger(value, field);
  if (n === 0) throw new SpecError(field, 'must be a positive integer, got 0');
  return n;
}

/** A per-step decay factor: 0 <= f <= 1. */
export function decayFactor(value: unknown, field: string): number {
  const n = finiteNumber(value, field);
  if (n < 0 || n > 1) throw new SpecError(field, `must be a per-step decay factor in [0, 1], got ${n}`);
  return n;
}

export function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SpecError(field, `must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

export function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new SpecError(field, `must be an array, got ${describe(value)}`);
  return value;
}

export function string(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new SpecError(field, `must be a non-empty string, got ${describe(value)}`);
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SpecError(field, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Rejects keys not in `known`, so a typo is an error instead of a silently ignored setting. */
export function noUnknownKeys(obj: Record<string, unknown>, known: readonly string[], field: string): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) throw new SpecError(`${field}.${k}`, `unknown field (known: ${known.join(', ')})`);
  }
}

/** A numeric array of exactly `length` entries (when given), each checked by `each`. */
export function numberArray(value: unknown, field: string, length: number | undefined, each: (v: unknown, f: string) => number = finiteNumber): Float64Array {
  const a = array(value, field);
  if (length !== undefined && a.length !== length) throw new SpecError(field, `must have ${length} entries, got ${a.length}`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = each(a[i], `${field}[${i}]`);
  return out;
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
