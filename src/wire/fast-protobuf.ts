/**
 * Hand-written protobuf reading and writing for the hot Envelope bodies (Decision, EventPacket): no
 * protobufjs message objects, no per-field closures, strings read straight from the bytes. Same bytes
 * out as protobufjs writes (field order, zero values written); on reading, anything outside the plain
 * case (another body, an unknown field, a non-ASCII string, a number beyond what fits exactly, a
 * truncated field) returns undefined and the caller falls back to protobufjs, so every odd or
 * damaged payload is judged exactly as before.
 */

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The Envelope fields as protobufjs' decode leaves them (plain object, absent fields absent). */
export type ParsedEnvelope = { version: number | undefined; events: Record<string, unknown> | undefined; decision: Record<string, unknown> | undefined };

class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  /** A varint of at most 8 bytes as an exact number (≤ 2^53), or -1 when it is not one. */
  varint(): number {
    const b = this.buf;
    let pos = this.pos;
    let value = 0;
    let scale = 1;
    for (let k = 0; k < 8; k++) {
      if (pos >= this.end) return -1;
      const byte = b[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.pos = pos;
        return value <= MAX_SAFE ? value : -1;
      }
      scale *= 128;
    }
    return -1;
  }
  /** A uint32 as protobufjs reads it (5th byte keeps its low 4 bits), or -1 beyond 5 bytes. */
  uint32(): number {
    const b = this.buf;
    let pos = this.pos;
    let value = 0;
    for (let k = 0; k < 5; k++) {
      if (pos >= this.end) return -1;
      const byte = b[pos++]!;
      value = k < 4 ? value | ((byte & 0x7f) << (7 * k)) : value | ((byte & 15) << 28);
      if (byte < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    return -1;
  }
  double(): number | undefined {
    const p = this.pos;
    if (p + 8 > this.end) return undefined;
    const b = this.buf;
    for (let k = 0; k < 8; k++) f64Bytes[k] = b[p + k]!;
    this.pos = p + 8;
    return f64[0]!;
  }
  /** A length-delimited field's [start, end), or undefined when it overruns. */
  span(): number {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.end) return -1;
    return n;
  }
  /** An ASCII string (undefined for any other byte, left to protobufjs' UTF-8 reading). */
  ascii(): string | undefined {
    const n = this.span();
    if (n < 0) return undefined;
    const b = this.buf;
    const start = this.pos;
    const end = start + n;
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return undefined;
      s += String.fromCharCode(c);
    }
    this.pos = end;
    return s;
  }
  bytes(): Uint8Array | undefined {
    const n = this.span();
    if (n < 0) return undefined;
    const start = this.pos;
    this.pos = start + n;
    return this.buf.subarray(start, start + n);
  }
}

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

function parseDecision(c: Cursor): Record<string, unknown> | undefined {
  // One object shape for every decision (absent fields stay undefined, as on protobufjs' prototype).
  const d = { sequence: undefined as number | undefined, pipeline: undefined as string | undefined, region: undefined as string | undefined, label: undefined as string | undefined, class_index: undefined as number | undefined, confidence: undefined as number | undefined, time_us: undefined as number | undefined, latency_steps: undefined as number | undefined, latency_us: undefined as number | undefined, emitted_unix_ms: undefined as number | undefined };
  while (c.pos < c.end) {
    const tag = c.uint32();
    if (tag < 0) return undefined;
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 1 || field === 5 || field === 8) {
      if (type !== VARINT) return undefined;
      if (field === 1) {
        const v = c.varint();
        if (v < 0) return undefined;
        d.sequence = v;
      } else {
        const u = c.uint32();
        // A negative int32 class index is a 10-byte varint: protobufjs reads those.
        if (u < 0) return undefined;
        if (field === 5) d.class_index = u | 0;
        else d.latency_steps = u;
      }
    } else if (field >= 2 && field <= 4) {
      if (type !== LEN) return undefined;
      const v = c.ascii();
      if (v === undefined) return undefined;
      if (field === 2) d.pipeline = v;
      else if (field === 3) d.region = v;
      else d.label = v;
    } else if (field === 6 || field === 7 || field === 9 || field === 10) {
      if (type !== FIXED64) return undefined;
      const v = c.double();
      if (v === undefined) return undefined;
      if (field === 6) d.confidence = v;
      else if (field === 7) d.time_us = v;
      else if (field === 9) d.latency_us = v;
      else d.emitted_unix_ms = v;
    } else return undefined;
  }
  return d;
}

function parseEvents(c: Cursor): Record<string, unknown> | undefined {
  const e = { sequence: undefined as number | undefined, source: undefined as string | undefined, width: undefined as number | undefined, height: undefined as number | undefined, count: undefined as number | undefined, x: undefined as Uint8Array | undefined, y: undefined as Uint8Array | undefined, polarity: undefined as Uint8Array | undefined, t_base_us: undefined as number | undefined, t_offset_us: undefined as Uint8Array | undefined, t_us: undefined as Uint8Array | undefined };
  while (c.pos < c.end) {
    const tag = c.uint32();
    if (tag < 0) return undefined;
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 1) {
      if (type !== VARINT) return undefined;
      const v = c.varint();
      if (v < 0) return undefined;
      e.sequence = v;
    } else if (field === 2) {
      if (type !== LEN) return undefined;
      const s = c.ascii();
      if (s === undefined) return undefined;
      e.source = s;
    } else if (field >= 3 && field <= 5) {
      if (type !== VARINT) return undefined;
      const u = c.uint32();
      if (u < 0) return undefined;
      if (field === 3) e.width = u;
      else if (field === 4) e.height = u;
      else e.count = u;
    } else if (field === 9) {
      if (type !== FIXED64) return undefined;
      const v = c.double();
      if (v === undefined) return undefined;
      e.t_base_us = v;
    } else if ((field >= 6 && field <= 8) || field === 10 || field === 11) {
      if (type !== LEN) return undefined;
      const b = c.bytes();
      if (b === undefined) return undefined;
      if (field === 6) e.x = b;
      else if (field === 7) e.y = b;
      else if (field === 8) e.polarity = b;
      else if (field === 10) e.t_offset_us = b;
      else e.t_us = b;
    } else return undefined;
  }
  return e;
}

/** Envelope bytes → its fields when they are a plain Decision or EventPacket; undefined otherwise (use protobufjs). */
export function parseEnvelopeFast(bytes: Uint8Array): ParsedEnvelope | undefined {
  const c = new Cursor(bytes, 0, bytes.length);
  const env: ParsedEnvelope = { version: undefined, events: undefined, decision: undefined };
  let bodies = 0;
  while (c.pos < c.end) {
    const tag = c.uint32();
    if (tag < 0) return undefined;
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 1 && type === VARINT) {
      const v = c.uint32();
      if (v < 0) return undefined;
      env.version = v;
      continue;
    }
    if ((field !== 2 && field !== 4) || type !== LEN || ++bodies > 1) return undefined;
    const n = c.span();
    if (n < 0) return undefined;
    const body = new Cursor(bytes, c.pos, c.pos + n);
    c.pos += n;
    const parsed = field === 2 ? parseEvents(body) : parseDecision(body);
    if (!parsed) return undefined;
    if (field === 2) env.events = parsed;
    else env.decision = parsed;
  }
  return env;
}

// ---- writing ----

const varintSize = (v: number): number => {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
};

const isUint32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;
const isSafeUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/** Strings are checked for ASCII while they are written (Out.ascii); here only their type. */
const isAscii = (s: unknown): s is string => typeof s === 'string';

/** Node: a Buffer from its pool (what protobufjs returns there too); a browser bundle has no Buffer. */
const hasBuffer = typeof Buffer !== 'undefined';

class Out {
  pos = 0;
  readonly buf: Uint8Array;
  constructor(size: number) {
    this.buf = hasBuffer ? Buffer.allocUnsafe(size) : new Uint8Array(size);
  }
  varint(v: number): void {
    const b = this.buf;
    while (v >= 128) {
      b[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    b[this.pos++] = v;
  }
  double(v: number): void {
    f64[0] = v;
    this.buf.set(f64Bytes, this.pos);
    this.pos += 8;
  }
  /** False when `s` is not ASCII (its UTF-8 length differs): the caller then leaves the message to protobufjs. */
  ascii(s: string): boolean {
    this.varint(s.length);
    const b = this.buf;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return false;
      b[this.pos++] = c;
    }
    return true;
  }
  bytes(v: Uint8Array): void {
    this.varint(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }
}

export interface DecisionFields {
  sequence: number;
  pipeline: string;
  region: string;
  label: string;
  classIndex: number;
  confidence: number;
  timeUs: number;
  latencySteps: number;
  latencyUs: number;
  emittedUnixMs: number;
}

// protobufjs leaves out proto3 defaults: +0 (not -0), '' and empty bytes. So do these writers, so that
// both give the same bytes.
const present = (v: number) => !Object.is(v, 0);
const asciiSize = (s: string) => (s.length ? 1 + varintSize(s.length) + s.length : 0);
const varintFieldSize = (v: number) => (present(v) ? 1 + varintSize(v) : 0);
const doubleFieldSize = (v: number) => (present(v) ? 9 : 0);
const bytesFieldSize = (b: Uint8Array) => (b.length ? 1 + varintSize(b.length) + b.length : 0);

function writeVarintField(o: Out, field: number, v: number): void {
  if (!present(v)) return;
  o.varint(field << 3);
  o.varint(v);
}
function writeDoubleField(o: Out, field: number, v: number): void {
  if (!present(v)) return;
  o.varint((field << 3) | FIXED64);
  o.double(v);
}
function writeAsciiField(o: Out, field: number, s: string): boolean {
  if (!s.length) return true;
  o.varint((field << 3) | LEN);
  return o.ascii(s);
}
function writeBytesField(o: Out, field: number, b: Uint8Array): void {
  if (!b.length) return;
  o.varint((field << 3) | LEN);
  o.bytes(b);
}

function envelope(version: number, field: number, body: number): Out {
  const o = new Out(1 + varintSize(version) + 1 + varintSize(body) + body);
  writeVarintField(o, 1, version);
  o.varint((field << 3) | LEN);
  o.varint(body);
  return o;
}

/** A Decision Envelope, or undefined when a field is outside the plain case (protobufjs then writes it). */
export function encodeDecisionFast(m: DecisionFields, version: number): Uint8Array | undefined {
  if (!isSafeUint(m.sequence) || !isAscii(m.pipeline) || !isAscii(m.region) || !isAscii(m.label) || !isInt32(m.classIndex) || m.classIndex < 0 || !isUint32(m.latencySteps)) return undefined;
  if (typeof m.confidence !== 'number' || typeof m.timeUs !== 'number' || typeof m.latencyUs !== 'number' || typeof m.emittedUnixMs !== 'number' || version < 1) return undefined;
  const body =
    varintFieldSize(m.sequence) +
    asciiSize(m.pipeline) +
    asciiSize(m.region) +
    asciiSize(m.label) +
    varintFieldSize(m.classIndex) +
    doubleFieldSize(m.confidence) +
    doubleFieldSize(m.timeUs) +
    varintFieldSize(m.latencySteps) +
    doubleFieldSize(m.latencyUs) +
    doubleFieldSize(m.emittedUnixMs);
  const o = envelope(version, 4, body);
  writeVarintField(o, 1, m.sequence);
  if (!writeAsciiField(o, 2, m.pipeline) || !writeAsciiField(o, 3, m.region) || !writeAsciiField(o, 4, m.label)) return undefined;
  writeVarintField(o, 5, m.classIndex);
  writeDoubleField(o, 6, m.confidence);
  writeDoubleField(o, 7, m.timeUs);
  writeVarintField(o, 8, m.latencySteps);
  writeDoubleField(o, 9, m.latencyUs);
  writeDoubleField(o, 10, m.emittedUnixMs);
  return o.buf;
}

export interface EventFields {
  sequence: number;
  source: string;
  width: number;
  height: number;
  count: number;
  x: Uint8Array;
  y: Uint8Array;
  polarity: Uint8Array;
  t_base_us?: number;
  t_offset_us?: Uint8Array;
  t_us?: Uint8Array;
}

/** An EventPacket Envelope, or undefined when a field is outside the plain case. */
export function encodeEventsFast(e: EventFields, version: number): Uint8Array | undefined {
  if (!isSafeUint(e.sequence) || !isAscii(e.source) || !isUint32(e.width) || !isUint32(e.height) || !isUint32(e.count) || version < 1) return undefined;
  if (!(e.x instanceof Uint8Array) || !(e.y instanceof Uint8Array) || !(e.polarity instanceof Uint8Array)) return undefined;
  let body = varintFieldSize(e.sequence) + asciiSize(e.source) + varintFieldSize(e.width) + varintFieldSize(e.height) + varintFieldSize(e.count) + bytesFieldSize(e.x) + bytesFieldSize(e.y) + bytesFieldSize(e.polarity);
  if (e.t_offset_us instanceof Uint8Array && e.t_us === undefined) {
    if (typeof e.t_base_us !== 'number') return undefined;
    body += doubleFieldSize(e.t_base_us) + bytesFieldSize(e.t_offset_us);
  } else if (e.t_us instanceof Uint8Array && e.t_offset_us === undefined && e.t_base_us === undefined) body += bytesFieldSize(e.t_us);
  else return undefined;
  const o = envelope(version, 2, body);
  writeVarintField(o, 1, e.sequence);
  if (!writeAsciiField(o, 2, e.source)) return undefined;
  writeVarintField(o, 3, e.width);
  writeVarintField(o, 4, e.height);
  writeVarintField(o, 5, e.count);
  writeBytesField(o, 6, e.x);
  writeBytesField(o, 7, e.y);
  writeBytesField(o, 8, e.polarity);
  if (e.t_offset_us) {
    writeDoubleField(o, 9, e.t_base_us!);
    writeBytesField(o, 10, e.t_offset_us);
  } else writeBytesField(o, 11, e.t_us!);
  return o.buf;
}
