/**
 * Event packets downsampled to frames: the count of events per pixel over a window of event time,
 * saturating at 255, for viewers that want images rather than thousands of events per message.
 * Browser-safe (no Node imports).
 *
 * Binary message, little-endian: "SFF1" | u8 layout (0 dense, 1 sparse) | u8 0 | u16 width | u16 height |
 * u16 source bytes | f64 sequence | f64 windowStartUs | f64 windowUs | u32 events | source UTF-8 | counts.
 * Dense counts: width×height bytes, row-major. Sparse (chosen when smaller): u32 n, n × u32 pixel index,
 * n × u8 count. A protobuf Envelope never starts with "S" (its first byte is the version tag 0x08).
 * JSON: {"version":1,"frame":{sequence, source, width, height, windowStartUs, windowUs, events, layout, counts: base64}}.
 */
import type { EventPacket, Geometry } from '../src/events/packet.js';
import { windowCounter, type WindowCounter, type WindowTally } from '../src/events/window-counter.js';
import { WireError } from '../src/wire/errors.js';
import { packetSourceName } from './ws-protocol.js';

export interface CountFrame {
  readonly sequence: number;
  readonly source: string;
  readonly width: number;
  readonly height: number;
  /** Start of the window in event time (µs), a multiple of windowUs. */
  readonly windowStartUs: number;
  readonly windowUs: number;
  /** Events counted in the window (those inside the geometry). */
  readonly events: number;
  /** width × height counts, row-major (index y × width + x), saturating at 255. */
  readonly counts: Uint8Array;
  /** Optional: the ascending indices of the non-zero counts (FrameAccumulator gives them for sparse frames; encoders then skip the scan). */
  readonly nonZero?: Int32Array;
  /** Optional: how many counts are non-zero (FrameAccumulator gives it; encoders then skip counting). */
  readonly nonZeroCount?: number;
  /** Optional: the sparse counts section already built (a WASM window counter makes it; encoders then use it as is). */
  readonly sparse?: Uint8Array;
}

const MAGIC = [0x53, 0x46, 0x46, 0x31]; // "SFF1"
const HEADER = 40;

export function isFrameBytes(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === MAGIC[0] && b[1] === MAGIC[1] && b[2] === MAGIC[2] && b[3] === MAGIC[3];
}

/**
 * The counts section: dense or sparse, whichever is smaller. `nonZero`, when the caller knows it: the
 * ascending indices of the non-zero counts (spares a scan of every pixel).
 */
function countsPayload(f: CountFrame): { layout: 0 | 1; bytes: Uint8Array } {
  if (f.sparse) return { layout: 1, bytes: f.sparse };
  const { counts, nonZero, nonZeroCount } = f;
  let nnz = 0;
  if (nonZero) nnz = nonZero.length;
  else if (nonZeroCount !== undefined) nnz = nonZeroCount;
  else for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) nnz++;
  if (4 + nnz * 5 >= counts.length) return { layout: 0, bytes: counts };
  const out = new Uint8Array(4 + nnz * 5);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, nnz, true);
  if (nonZero) {
    for (let k = 0; k < nnz; k++) {
      const i = nonZero[k]!;
      dv.setUint32(4 + k * 4, i, true);
      out[4 + nnz * 4 + k] = counts[i]!;
    }
    return { layout: 1, bytes: out };
  }
  // Four pixels at a time past the zero words (most of a frame this sparse), in index order.
  const words = counts.byteOffset % 4 === 0 ? new Uint32Array(counts.buffer, counts.byteOffset, counts.length >> 2) : new Uint32Array(0);
  let k = 0;
  const put = (i: number): void => {
    const c = counts[i]!;
    if (c === 0) return;
    dv.setUint32(4 + k * 4, i, true);
    out[4 + nnz * 4 + k] = c;
    k++;
  };
  for (let w = 0; w < words.length; w++) {
    if (words[w] === 0) continue;
    const i = w << 2;
    put(i);
    put(i + 1);
    put(i + 2);
    put(i + 3);
  }
  for (let i = words.length << 2; i < counts.length; i++) put(i);
  return { layout: 1, bytes: out };
}

function countsFrom(layout: number, bytes: Uint8Array, n: number): Uint8Array {
  if (layout === 0) {
    if (bytes.length !== n) throw new WireError(`frame: ${bytes.length} count bytes for ${n} pixels`);
    return bytes.slice();
  }
  if (layout !== 1) throw new WireError(`frame: unknown layout ${layout}`);
  if (bytes.length < 4) throw new WireError('frame: sparse counts truncated');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nnz = dv.getUint32(0, true);
  if (bytes.length !== 4 + nnz * 5) throw new WireError(`frame: sparse counts of ${nnz} pixels need ${4 + nnz * 5} bytes, got ${bytes.length}`);
  const out = new Uint8Array(n);
  for (let k = 0; k < nnz; k++) {
    const i = dv.getUint32(4 + k * 4, true);
    if (i >= n) throw new WireError(`frame: pixel index ${i} outside ${n} pixels`);
    out[i] = bytes[4 + nnz * 4 + k]!;
  }
  return out;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function encodeFrame(f: CountFrame): Uint8Array {
  const src = utf8.encode(f.source);
  const { layout, bytes } = countsPayload(f);
  const out = new Uint8Array(HEADER + src.length + bytes.length);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = layout;
  dv.setUint16(6, f.width, true);
  dv.setUint16(8, f.height, true);
  dv.setUint16(10, src.length, true);
  dv.setFloat64(12, f.sequence, true);
  dv.setFloat64(20, f.windowStartUs, true);
  dv.setFloat64(28, f.windowUs, true);
  dv.setUint32(36, f.events, true);
  out.set(src, HEADER);
  out.set(bytes, HEADER + src.length);
  return out;
}

export function decodeFrame(b: Uint8Array): CountFrame {
  if (!isFrameBytes(b) || b.length < HEADER) throw new WireError(`not a frame message (${b.length} bytes)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = dv.getUint16(6, true);
  const height = dv.getUint16(8, true);
  const srcLen = dv.getUint16(10, true);
  if (HEADER + srcLen > b.length) throw new WireError('frame: source name truncated');
  return {
    sequence: dv.getFloat64(12, true),
    source: fromUtf8.decode(b.subarray(HEADER, HEADER + srcLen)),
    width,
    height,
    windowStartUs: dv.getFloat64(20, true),
    windowUs: dv.getFloat64(28, true),
    events: dv.getUint32(36, true),
    counts: countsFrom(b[4]!, b.subarray(HEADER + srcLen), width * height),
  };
}

function toBase64(b: Uint8Array): string {
  // Node's Buffer encodes natively (a large frame's counts in a fraction of the time); browsers take the portable path.
  if (typeof Buffer !== 'undefined') return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  let s = '';
  // Chunked so String.fromCharCode never gets too many arguments.
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    throw new WireError('frame: counts are not base64');
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * frameToJson's message in three parts: the JSON text before the counts' base64, the counts section
 * (bytes), and the text after it (base64 needs no escaping). A server can then write the base64 straight
 * into its outgoing buffer instead of copying a busy frame's counts through JSON.stringify and UTF-8.
 */
export function frameJsonParts(f: CountFrame): { head: string; counts: Uint8Array; tail: string } {
  const { layout, bytes } = countsPayload(f);
  const { counts: _c, nonZero: _n, nonZeroCount: _k, sparse: _s, ...rest } = f;
  // counts is the last key, so the text ends with "counts":""}}.
  const text = JSON.stringify({ version: 1, frame: { ...rest, layout: layout ? 'sparse' : 'dense', counts: '' } });
  return { head: text.slice(0, -3), counts: bytes, tail: text.slice(-3) };
}

export function frameToJson(f: CountFrame): string {
  const { head, counts, tail } = frameJsonParts(f);
  return head + toBase64(counts) + tail;
}

/** The `frame` object of a parsed JSON message. */
export function frameFromJson(o: unknown): CountFrame {
  if (typeof o !== 'object' || o === null) throw new WireError('frame must be an object');
  const f = o as Record<string, unknown>;
  const num = (k: string): number => {
    if (typeof f[k] !== 'number' || !Number.isFinite(f[k])) throw new WireError(`frame.${k}: wrong type`);
    return f[k] as number;
  };
  if (typeof f.counts !== 'string') throw new WireError('frame.counts: wrong type');
  const width = num('width');
  const height = num('height');
  const layout = f.layout === 'sparse' ? 1 : f.layout === 'dense' ? 0 : -1;
  return {
    sequence: num('sequence'),
    source: typeof f.source === 'string' ? f.source : '',
    width,
    height,
    windowStartUs: num('windowStartUs'),
    windowUs: num('windowUs'),
    events: num('events'),
    counts: countsFrom(layout, fromBase64(f.counts), width * height),
  };
}

interface Window {
  sequence: number;
  start: number;
  geometry: Geometry;
  counter: WindowCounter;
  tally: WindowTally;
}

/**
 * Accumulates event packets into one frame per window of event time, per source. A frame is emitted
 * when an event at or past its window's end arrives (or on flush), so a stalled stream holds its
 * last window until flushed. Events outside the geometry are counted in `clipped` and skipped.
 *
 * The emitted frame's `counts` (and `nonZero`) are the accumulator's own buffers, valid during the
 * `emit` call only: they are cleared and refilled for the next window (copy to keep). Only the pixels
 * the window touched are cleared; a sparse frame (under 1/64 of the pixels) also comes with its
 * sorted list of non-zero pixels, so it costs its events, not its width × height. The counting loop
 * is a WindowCounter: the TypeScript one unless `counterFor` gives another (the WebSocket server
 * passes the WASM one, src/events/pixel-kernels.ts).
 */
export class FrameAccumulator {
  private readonly windows = new Map<string, Window>();
  clipped = 0;

  constructor(
    readonly windowUs: number,
    /** Used when a packet carries no geometry. */
    private readonly fallback?: Geometry,
    private readonly counterFor: (g: Geometry) => WindowCounter = windowCounter,
  ) {
    if (!(windowUs > 0)) throw new RangeError(`frame window must be > 0 µs (got ${windowUs})`);
  }

  add(p: EventPacket, emit: (f: CountFrame) => void): void {
    if (p.length === 0) return;
    const source = packetSourceName(p);
    const g = p.geometry.width > 0 && p.geometry.height > 0 ? p.geometry : this.fallback;
    if (!g) {
      this.clipped += p.length;
      return;
    }
    let w = this.windows.get(source);
    if (!w || w.geometry.width !== g.width || w.geometry.height !== g.height) {
      if (w) this.emitWindow(source, w, emit);
      w = { sequence: w ? w.sequence : 0, start: this.windowStart(p.t[0]!), geometry: g, counter: this.counterFor(g), tally: { nTouched: 0, events: 0, clipped: 0 } };
      this.windows.set(source, w);
    }
    // Count up to the window's end; an event past it closes the window and opens the next, in which
    // it is counted whatever rounding says of its time.
    let i = 0;
    let opened = false;
    for (;;) {
      i = w.counter.count(p, i, w.start + this.windowUs, opened, w.tally);
      if (i >= p.length) break;
      this.emitWindow(source, w, emit);
      w.start = this.windowStart(p.t[i]!);
      opened = true;
    }
    this.clipped += w.tally.clipped;
    w.tally.clipped = 0;
  }

  /** Emits every non-empty window held. */
  flush(emit: (f: CountFrame) => void): void {
    for (const [source, w] of this.windows) this.emitWindow(source, w, emit);
  }

  private windowStart(t: number): number {
    return Math.floor(t / this.windowUs) * this.windowUs;
  }

  private emitWindow(source: string, w: Window, emit: (f: CountFrame) => void): void {
    const { tally, counter } = w;
    if (tally.events === 0) return;
    const { counts } = counter;
    const touched = counter.touched.subarray(0, tally.nTouched);
    // The ascending list costs a sort: worth it for a sparse frame; a busy one is cheaper to scan
    // (the encoders do when no list is given, unless the counter builds the sparse section itself).
    const nonZero = touched.length * 64 < counts.length ? touched.sort() : undefined;
    const sparse = !nonZero && 4 + 5 * touched.length < counts.length ? counter.sparseSection?.(touched.length) : undefined;
    w.sequence++;
    try {
      emit({ sequence: w.sequence, source, width: w.geometry.width, height: w.geometry.height, windowStartUs: w.start, windowUs: this.windowUs, events: tally.events, counts, nonZeroCount: touched.length, ...(nonZero ? { nonZero } : {}), ...(sparse ? { sparse } : {}) });
    } finally {
      counter.clear(touched.length);
      tally.events = 0;
      tally.nTouched = 0;
    }
  }
}
