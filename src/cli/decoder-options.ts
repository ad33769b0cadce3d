/** Decoder options accepted on the command line (`--endianness legacy`, `--tick-us 0.2`, …). */
import { UsageError } from './args.js';

const NUMERIC = ['tick-us', 'address-bytes', 'width', 'height'] as const;
const TEXT = ['endianness', 'columns', 'chip', 'time-unit'] as const;
export const DECODER_OPTION_NAMES: readonly string[] = [...NUMERIC, ...TEXT];

const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function decoderOptionsFrom(options: Record<string, string | boolean>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of NUMERIC) {
    if (options[k] === undefined) continue;
    const n = Number(options[k]);
    if (!Number.isFinite(n)) throw new UsageError(`--${k} must be a number, got '${String(options[k])}'`);
    out[camel(k)] = n;
  }
  for (const k of TEXT) if (typeof options[k] === 'string') out[camel(k)] = options[k];
  if (out.width !== undefined || out.height !== undefined) {
    out.geometry = { width: Number(out.width ?? 0), height: Number(out.height ?? 0) };
  }
  return out;
}
