/**
 * Binary wire codec: WireMessage <-> protobuf Envelope bytes. Event and spike arrays travel as
 * little-endian byte fields, so encoding is a few typed-array copies and decoding a few more.
 */
import { packetOf, type EventPacket } from '../events/packet.js';
import { EnvelopeType } from './schema.js';
import { WireError } from './errors.js';
import { WIRE_VERSION, type SpikeBatch, type WireMessage } from './messages.js';
import { encodeDecisionFast, encodeEventsFast, parseEnvelopeFast, type EventFields } from './fast-protobuf.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array (a view; copied only on a big-endian host, to little-endian). */
function leBytes(a: Uint16Array | Uint32Array | Float64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  const w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < a.length; i++) {
    if (w === 2) dv.setUint16(i * 2, a[i]!, true);
    else if (w === 4) dv.setUint32(i * 4, a[i]!, true);
    else dv.setFloat64(i * 8, a[i]!, true);
  }
  return out;
}

/** A fresh aligned typed array from little-endian bytes; `field` names it in errors. */
function fromLe<T extends Uint16Array | Uint32Array | Float64Array>(bytes: Uint8Array | undefined, n: number, Ctor: { new (n: number): T; BYTES_PER_ELEMENT: number }, field: string): T {
  const need = n * Ctor.BYTES_PER_ELEMENT;
  const len = bytes?.length ?? 0;
  if (len !== need) throw new WireError(`${field}: ${len} bytes for ${n} values (expected ${need})`);
  const out = new Ctor(n);
  if (n === 0) return out;
  const dst = new Uint8Array(out.buffer);
  dst.set(bytes!);
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(out.buffer);
    for (let i = 0; i < n; i++) {
      if (Ctor.BYTES_PER_ELEMENT === 2) (out as Uint16Array)[i] = dv.getUint16(i * 2, true);
      else if (Ctor.BYTES_PER_ELEMENT === 4) (out as Uint32Array)[i] = dv.getUint32(i * 4, true);
      else (out as Float64Array)[i] = dv.getFloat64(i * 8, true);
    }
  }
  return out;
}

/** Integer microsecond offsets from the first event fit in uint32: the compact time encoding applies. */
function compactTimes(t: Float64Array): Uint32Array | undefined {
  if (t.length === 0) return new Uint32Array(0);
  const base = t[0]!;
  if (!Number.isInteger(base)) return undefined;
  const out = new Uint32Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const ti = t[i]!;
    const d = ti - base; // an integer whenever ti and base are
    if (d < 0 || d > 0xffffffff || !Number.isInteger(ti)) return undefined;
    out[i] = d;
  }
  return out;
}

function checkLength(bytes: Uint8Array | undefined, n: number, width: number, field: string): void {
  const len = bytes?.length ?? 0;
  if (len !== n * width) throw new WireError(`${field}: ${len} bytes for ${n} values (expected ${n * width})`);
}

let offsetScratch = new Uint32Array(0);

/** An ArrayBuffer of exactly `n` bytes, not zero-filled in Node (every byte is written next); zeroed elsewhere. */
const uninitialised: (n: number) => ArrayBuffer = typeof Buffer !== 'undefined' ? (n) => Buffer.allocUnsafeSlow(n).buffer as ArrayBuffer : (n) => new ArrayBuffer(n);

/**
 * An events body → a packet on a little-endian host: the four arrays share one fresh ArrayBuffer (one
 * allocation per packet instead of five: off-heap allocations dominate the decoding of a large packet).
 * Same checks, in the same order, with the same messages as fromLe.
 */
function eventsLe(e: Record<string, any>, n: number): EventPacket {
  checkLength(e.x, n, 2, 'events.x');
  checkLength(e.y, n, 2, 'events.y');
  if ((e.polarity?.length ?? 0) !== n) throw new WireError(`events.polarity: ${e.polarity?.length ?? 0} bytes for ${n} events`);
  const absolute = e.t_us && e.t_us.length;
  if (absolute) checkLength(e.t_us, n, 8, 'events.t_us');
  else checkLength(e.t_offset_us, n, 4, 'events.t_offset_us');
  const buf = uninitialised(13 * n);
  const all = new Uint8Array(buf);
  const t = new Float64Array(buf, 0, n);
  if (n) {
    all.set(e.x, 8 * n);
    all.set(e.y, 10 * n);
    all.set(e.polarity, 12 * n);
    if (absolute) all.set(e.t_us, 0);
    else {
      const b: Uint8Array = e.t_offset_us;
      let off: Uint32Array;
      if (b.byteOffset % 4 === 0) off = new Uint32Array(b.buffer, b.byteOffset, n);
      else {
        if (offsetScratch.length < n) offsetScratch = new Uint32Array(Math.max(n, 2 * offsetScratch.length));
        new Uint8Array(offsetScratch.buffer, 0, 4 * n).set(b);
        off = offsetScratch;
      }
      const base: number = e.t_base_us ?? 0;
      for (let i = 0; i < n; i++) t[i] = base + off[i]!;
    }
  }
  return packetOf(new Uint16Array(buf, 8 * n, n), new Uint16Array(buf, 10 * n, n), t, new Uint8Array(buf, 12 * n, n), { width: e.width ?? 0, height: e.height ?? 0 }, { format: 'wire', uri: e.source || undefined });
}

function addBase(off: Uint32Array, base: number): Float64Array {
  const n = off.length;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = base + off[i]!;
  return t;
}

export function encodeEvents(packet: EventPacket, sequence: number, source = packet.source.uri ?? packet.source.format): Record<string, unknown> {
  const offsets = compactTimes(packet.t);
  return {
    sequence,
    source,
    width: packet.geometry.width,
    height: packet.geometry.height,
    count: packet.length,
    x: leBytes(packet.x),
    y: leBytes(packet.y),
    polarity: packet.p,
    ...(offsets ? { t_base_us: packet.length ? packet.t[0]! : 0, t_offset_us: leBytes(offsets) } : { t_us: leBytes(packet.t) }),
  };
}

function encodeSpikes(s: SpikeBatch): Record<string, unknown> {
  if (s.neuron.length !== s.stepOffset.length) throw new WireError(`spikes: ${s.neuron.length} neurons but ${s.stepOffset.length} step offsets`);
  return {
    sequence: s.sequence,
    source: s.source,
    layer: s.layer,
    step_start: s.stepStart,
    time_start_us: s.timeStartUs,
    dt_us: s.dtUs,
    count: s.neuron.length,
    neuron: leBytes(s.neuron),
    step_offset: leBytes(s.stepOffset),
  };
}

/** One message → Envelope bytes. Decisions and event packets are written by hand (fast-protobuf.ts), the rest by protobufjs. */
export function encodeWire(m: WireMessage): Uint8Array {
  if (m.kind === 'decision') {
    const fast = encodeDecisionFast(m, WIRE_VERSION);
    if (fast) return fast;
  } else if (m.kind === 'events') {
    const fields = encodeEvents(m.packet, m.sequence);
    const fast = encodeEventsFast(fields as unknown as EventFields, WIRE_VERSION);
    if (fast) return fast;
    return encodeEnvelope({ events: fields });
  }
  return encodeWireReference(m);
}

function encodeEnvelope(body: Record<string, unknown>): Uint8Array {
  return EnvelopeType.encode(EnvelopeType.fromObject({ version: WIRE_VERSION, ...body })).finish();
}

/** protobufjs for every kind: the reference the hand-written paths are tested against. */
export function encodeWireReference(m: WireMessage): Uint8Array {
  let body: Record<string, unknown>;
  switch (m.kind) {
    case 'events':
      body = { events: encodeEvents(m.packet, m.sequence) };
      break;
    case 'spikes':
      body = { spikes: encodeSpikes(m) };
      break;
    case 'decision':
      body = {
        decision: {
          sequence: m.sequence,
          pipeline: m.pipeline,
          region: m.region,
          label: m.label,
          class_index: m.classIndex,
          confidence: m.confidence,
          time_us: m.timeUs,
          latency_steps: m.latencySteps,
          latency_us: m.latencyUs,
          emitted_unix_ms: m.emittedUnixMs,
        },
      };
      break;
    case 'metrics':
      body = { metrics: { sequence: m.sequence, pipeline: m.pipeline, time_unix_ms: m.timeUnixMs, values: m.values } };
      break;
  }
  return encodeEnvelope(body);
}

const num = (v: unknown): number => (typeof v === 'number' ? v : v && typeof v === 'object' && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : 0);

/** Envelope bytes → one message; a WireError says what is wrong. Plain decisions and event packets are read by hand, anything else by protobufjs. */
export function decodeWire(bytes: Uint8Array): WireMessage {
  return messageOf((parseEnvelopeFast(bytes) as Record<string, any> | undefined) ?? protobufEnvelope(bytes));
}

/** protobufjs for every payload: the reference the hand-written reading is tested against. */
export function decodeWireReference(bytes: Uint8Array): WireMessage {
  return messageOf(protobufEnvelope(bytes));
}

function protobufEnvelope(bytes: Uint8Array): Record<string, any> {
  try {
    return EnvelopeType.decode(bytes) as unknown as Record<string, any>;
  } catch (e) {
    throw new WireError(`not a spikeflow protobuf envelope (${(e as Error).message}; ${bytes.length} bytes)`);
  }
}

function messageOf(env: Record<string, any>): WireMessage {
  const version = env.version ?? 0;
  if (version !== WIRE_VERSION) throw new WireError(`unsupported wire version ${version} (this reader knows ${WIRE_VERSION})`);
  if (env.events) {
    const e = env.events;
    const n = e.count ?? 0;
    if (LITTLE_ENDIAN) return { kind: 'events', sequence: num(e.sequence), packet: eventsLe(e, n) };
    const x = fromLe(e.x, n, Uint16Array, 'events.x');
    const y = fromLe(e.y, n, Uint16Array, 'events.y');
    if ((e.polarity?.length ?? 0) !== n) throw new WireError(`events.polarity: ${e.polarity?.length ?? 0} bytes for ${n} events`);
    const p = new Uint8Array(n);
    if (n) p.set(e.polarity);
    let t: Float64Array;
    if (e.t_us && e.t_us.length) t = fromLe(e.t_us, n, Float64Array, 'events.t_us');
    else {
      const off = fromLe(e.t_offset_us, n, Uint32Array, 'events.t_offset_us');
      const base = e.t_base_us ?? 0;
      t = addBase(off, base);
    }
    const packet = packetOf(x, y, t, p, { width: e.width ?? 0, height: e.height ?? 0 }, { format: 'wire', uri: e.source || undefined });
    return { kind: 'events', sequence: num(e.sequence), packet };
  }
  if (env.spikes) {
    const s = env.spikes;
    const n = s.count ?? 0;
    return {
      kind: 'spikes',
      sequence: num(s.sequence),
      source: s.source ?? '',
      layer: s.layer ?? '',
      stepStart: num(s.step_start),
      timeStartUs: s.time_start_us ?? 0,
      dtUs: s.dt_us ?? 0,
      neuron: fromLe(s.neuron, n, Uint32Array, 'spikes.neuron'),
      stepOffset: fromLe(s.step_offset, n, Uint32Array, 'spikes.step_offset'),
    };
  }
  if (env.decision) {
    const d = env.decision;
    return {
      kind: 'decision',
      sequence: num(d.sequence),
      pipeline: d.pipeline ?? '',
      region: d.region ?? '',
      label: d.label ?? '',
      classIndex: d.class_index ?? 0,
      confidence: d.confidence ?? 0,
      timeUs: d.time_us ?? 0,
      latencySteps: d.latency_steps ?? 0,
      latencyUs: d.latency_us ?? 0,
      emittedUnixMs: d.emitted_unix_ms ?? 0,
    };
  }
  if (env.metrics) {
    const m = env.metrics;
    return { kind: 'metrics', sequence: num(m.sequence), pipeline: m.pipeline ?? '', timeUnixMs: m.time_unix_ms ?? 0, values: { ...(m.values ?? {}) } };
  }
  throw new WireError('envelope carries no message (empty body)');
}
