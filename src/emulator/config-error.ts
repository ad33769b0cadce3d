/**
 * Configuration errors of the emulator, naming the offending field (dotted path such as
 * 'dvs.thresholdOn' or 'schedule.segments[2].durationUs'), and small checkers that raise them.
 */

export class EmulatorConfigError extends RangeError {
  constructor(
    /** Dotted path of the bad field, e.g. 'scene.period_px'. */
    readonly field: string,
    detail: string,
  ) {
    super(`emulator config: ${field} ${detail}`);
    this.name = 'EmulatorConfigError';
  }
}

export interface NumberRule {
  readonly min?: number;
  readonly max?: number;
  /** The value must be strictly greater than `min`. */
  readonly exclusiveMin?: boolean;
  readonly integer?: boolean;
  /** Infinity is allowed (e.g. an isotropic orientation bandwidth). */
  readonly allowInfinity?: boolean;
}

/** `value` if it is a number obeying `rule`, `fallback` if undefined; otherwise throws naming `field`. */
export function checkNumber(value: unknown, fallback: number, field: string, rule: NumberRule = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new EmulatorConfigError(field, `must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value) && !(rule.allowInfinity && value === Infinity)) throw new EmulatorConfigError(field, `must be finite, got ${value}`);
  if (rule.integer && !Number.isInteger(value)) throw new EmulatorConfigError(field, `must be an integer, got ${value}`);
  if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)) {
    throw new EmulatorConfigError(field, `must be ${rule.exclusiveMin ? '>' : '>='} ${rule.min}, got ${value}`);
  }
  if (rule.max !== undefined && value > rule.max) throw new EmulatorConfigError(field, `must be <= ${rule.max}, got ${value}`);
  return value;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
