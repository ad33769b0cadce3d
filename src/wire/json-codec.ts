/**
 * JSON mapping of the wire messages, for humans and browsers: `{"version": 1, "<kind>": {...}}`
 * with camelCase fields; event arrays as plain number arrays (x, y, t in µs, p), spikes as neuron
 * and absolute step arrays.
 */
import { packetOf } from '../events/packet.js';
import { WireError } from './errors.js';
import { WIRE_KINDS, WIRE_VERSION, type WireKind, type WireMessage } from './messages.js';

export function toJsonObject(m: WireMessage): Record<string, unknown> {
  switch (m.kind) {
    case 'events': {
      const p = m.packet;
      return {
        version: WIRE_VERSION,
        events: { sequence: m.sequence, source: p.source.uri ?? p.source.format, width: p.geometry.width, height: p.geometry.height, x: Array.from(p.x), y: Array.from(p.y), t: Array.from(p.t), p: Array.from(p.p) },
      };
    }
    case 'spikes': {
      const { kind: _k, neuron, stepOffset, ...rest } = m;
      return { version: WIRE_VERSION, spikes: { ...rest, neuron: Array.from(neuron), step: Array.from(stepOffset, (o) => o + m.stepStart) } };
    }
    case 'decision':
    case 'metrics': {
      const { kind, ...rest } = m;
      return { version: WIRE_VERSION, [kind]: rest };
    }
  }
}

export function encodeJson(m: WireMessage): string {
  return JSON.stringify(toJsonObject(m));
}

function field<T>(o: Record<string, unknown>, k: string, kind: string, check: (v: unknown) => v is T, fallback?: T): T {
  const v = o[k];
  if (v === undefined && fallback !== undefined) return fallback;
  if (!check(v)) throw new WireError(`${kind}.${k}: wrong type (${v === undefined ? 'missing' : typeof v})`);
  return v;
}
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNum);
const isValues = (v: unknown): v is Record<string, number> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isNum);

/** Parses a JSON text or object into a message; a WireError says what is wrong. */
export function decodeJson(input: string | unknown): WireMessage {
  let o: unknown = input;
  if (typeof input === 'string') {
    try {
      o = JSON.parse(input);
    } catch (e) {
      throw new WireError(`not JSON (${(e as Error).message})`);
    }
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new WireError('JSON message must be an object');
  const env = o as Record<string, unknown>;
  if (env.version !== WIRE_VERSION) throw new WireError(`unsupported wire version ${String(env.version)} (this reader knows ${WIRE_VERSION})`);
  const kinds = WIRE_KINDS.filter((k) => env[k] !== undefined);
  if (kinds.length !== 1) throw new WireError(`JSON message must hold exactly one of ${WIRE_KINDS.join(', ')}; found ${kinds.length ? kinds.join(', ') : 'none'}`);
  const kind = kinds[0] as WireKind;
  const b = env[kind];
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new WireError(`${kind} must be an object`);
  const body = b as Record<string, unknown>;
  const seq = field(body, 'sequence', kind, isNum, 0);
  switch (kind) {
    case 'events': {
      const xs = field(body, 'x', kind, isNumArray);
      const n = xs.length;
      const ys = field(body, 'y', kind, isNumArray);
      const ts = field(body, 't', kind, isNumArray);
      const ps = field(body, 'p', kind, isNumArray);
      if (ys.length !== n || ts.length !== n || ps.length !== n) throw new WireError(`events: x, y, t, p lengths differ (${n}, ${ys.length}, ${ts.length}, ${ps.length})`);
      const src = field(body, 'source', kind, isStr, '');
      const packet = packetOf(Uint16Array.from(xs), Uint16Array.from(ys), Float64Array.from(ts), Uint8Array.from(ps, (v) => (v ? 1 : 0)), { width: field(body, 'width', kind, isNum, 0), height: field(body, 'height', kind, isNum, 0) }, { format: 'wire', uri: src || undefined });
      return { kind, sequence: seq, packet };
    }
    case 'spikes': {
      const neuron = field(body, 'neuron', kind, isNumArray);
      const step = field(body, 'step', kind, isNumArray);
      if (neuron.length !== step.length) throw new WireError(`spikes: ${neuron.length} neurons but ${step.length} steps`);
      const stepStart = field(body, 'stepStart', kind, isNum, step.length ? Math.min(...step) : 0);
      return {
        kind,
        sequence: seq,
        source: field(body, 'source', kind, isStr, ''),
        layer: field(body, 'layer', kind, isStr, ''),
        stepStart,
        timeStartUs: field(body, 'timeStartUs', kind, isNum, 0),
        dtUs: field(body, 'dtUs', kind, isNum, 0),
        neuron: Uint32Array.from(neuron),
        stepOffset: Uint32Array.from(step, (s) => s - stepStart),
      };
    }
    case 'decision':
      return {
        kind,
        sequence: seq,
        pipeline: field(body, 'pipeline', kind, isStr, ''),
        region: field(body, 'region', kind, isStr, ''),
        label: field(body, 'label', kind, isStr, ''),
        classIndex: field(body, 'classIndex', kind, isNum, 0),
        confidence: field(body, 'confidence', kind, isNum, 0),
        timeUs: field(body, 'timeUs', kind, isNum, 0),
        latencySteps: field(body, 'latencySteps', kind, isNum, 0),
        latencyUs: field(body, 'latencyUs', kind, isNum, 0),
        emittedUnixMs: field(body, 'emittedUnixMs', kind, isNum, 0),
      };
    case 'metrics':
      return { kind, sequence: seq, pipeline: field(body, 'pipeline', kind, isStr, ''), timeUnixMs: field(body, 'timeUnixMs', kind, isNum, 0), values: { ...field(body, 'values', kind, isValues) } };
  }
}
