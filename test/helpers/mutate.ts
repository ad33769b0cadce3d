/**
 * Fuzzing engine for the stream decoders, shared by test/formats/fuzz.test.ts and `npm run bench -- fuzz`.
 *
 *  - Mutations: seeded, reproducible damage to a real recording — bit flips, truncations, splices of
 *    another recording or of the same file at another offset, runs of 0x00/0xFF, byte deletions and
 *    insertions (misalignment), header damage. A case is a small plan (edits on the original bytes),
 *    so thousands of cases cost no memory until each is materialised.
 *  - Cut structure: where each format's stream may end cleanly (record, word or packet boundaries),
 *    worked out from the bytes independently of the decoders. A cut anywhere else must be reported.
 *  - Checks per case: push/end never throw; every error is a DecodeError naming the format with an
 *    offset in [0, length]; a fatal error leaves the decoder `failed` and silent; packets are well
 *    formed (p ∈ {0,1}, finite t); the output is the same for one whole push and a random chunking;
 *    the events before the first damaged byte are kept (see Oracle); for a pure truncation the events
 *    are a prefix of the full decode, equal to those of the cut at the last clean boundary, an error
 *    is reported when the cut is not on a boundary, and none when it is on a record boundary of a
 *    fixed-record body; each case finishes within a time budget.
 *  - Oracle: the undamaged file decoded once with chunk boundaries at every case's first damaged
 *    offset c. The events it has emitted after c bytes depend on bytes [0, c) only, and chunking
 *    invariance makes them the first events of ANY decode of a stream sharing those bytes. So a
 *    damaged stream must reproduce them exactly — whatever the format, without trusting the decoder.
 *  - Hangs: cases run in a worker thread (this same module); the main thread watches a progress
 *    counter and terminates the worker when one case runs past the hang limit, naming the case.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { concatPackets, packetFromArrays, slicePacket, type EventPacket } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';
import { sideCount } from '../../src/events/side.js';
import { FORMATS, getFormat } from '../../src/formats/registry.js';
import { DecodeError, type DecoderOptions, type FormatDescriptor, type StreamDecoder } from '../../src/formats/types.js';
import { RECORDINGS } from './recordings.js';
import { readShared } from './shared-data.js';

// ---------------------------------------------------------------------------------------------
// Seeded random numbers (mulberry32: tiny, fast, good enough to pick offsets).

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x6d2b79f5) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Length in [1, max], log-uniform: short runs are as likely as long ones per decade. */
  logLength(max: number): number {
    return Math.max(1, Math.min(max, Math.floor(Math.exp(this.next() * Math.log(max + 1)))));
  }
}

/** A case seed from (base seed, target, index): cases stay reproducible one by one. */
export function caseSeed(base: number, target: string, index: number): number {
  let h = (base ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < target.length; i++) h = Math.imul(h ^ target.charCodeAt(i), 0x01000193) >>> 0;
  return Math.imul(h ^ index, 0x9e3779b1) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Cut structure: offsets where a stream may end cleanly, derived from the bytes.

export class CutStructure {
  constructor(
    /** Clean-cut offsets before the fixed-size records (header line ends, packet ends), sorted. */
    private readonly marks: readonly number[],
    /** Fixed-size records from `recordsFrom` on (0 = none). */
    private readonly recordsFrom: number,
    private readonly recordBytes: number,
    /** From here on the structure is not tracked: a cut may or may not be reported. */
    readonly opaqueFrom: number,
    /** Where the payload (records, words, packets) begins: the header length. */
    readonly dataStart: number,
  ) {}

  /** The last clean-cut offset ≤ k. */
  floor(k: number): number {
    if (this.recordBytes > 0 && k >= this.recordsFrom) {
      return this.recordsFrom + Math.floor((k - this.recordsFrom) / this.recordBytes) * this.recordBytes;
    }
    let lo = 0;
    let hi = this.marks.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.marks[mid]! <= k) {
        best = this.marks[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  /**
   * A cut at k is a clean end of stream: a record/word boundary inside the fixed-size-record body,
   * after at least one record (a header alone may rightly be reported as unfinished: AEDAT 2 and
   * old RAW headers have no end marker). (Header line ends and container packet ends are boundaries too, but a decoder may rightly
   * report a header or a data table that never came.)
   */
  cleanEnd(k: number): boolean {
    return this.recordBytes > 0 && k > this.recordsFrom && k < this.opaqueFrom && (k - this.recordsFrom) % this.recordBytes === 0;
  }

  /** A cut at k must be reported unless k is a clean boundary or lies in the untracked region. */
  mustReport(k: number): boolean {
    return k < this.opaqueFrom && this.floor(k) !== k;
  }
}

const PERCENT = 0x25;
const HASH = 0x23;
const SPACE = 0x20;
const LF = 0x0a;

/** Ends of the header lines starting with `first` (and `second` when given); returns [marks, header length]. */
function headerLines(b: Uint8Array, first: number, second = -1): [number[], number, boolean] {
  const marks = [0];
  let i = 0;
  while (i < b.length && b[i] === first && (second < 0 || b[i + 1] === second)) {
    const nl = b.indexOf(LF, i);
    if (nl < 0) return [marks, b.length, false];
    i = nl + 1;
    marks.push(i);
  }
  return [marks, i, true];
}

function aedat4Structure(b: Uint8Array): CutStructure {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const MAGIC_BYTES = 14;
  if (b.length < MAGIC_BYTES + 4) return new CutStructure([0], 0, 0, 0, 0);
  const headerLen = dv.getUint32(MAGIC_BYTES, true);
  const hs = MAGIC_BYTES + 4;
  const dataStart = hs + headerLen;
  if (dataStart > b.length) return new CutStructure([0], 0, 0, 0, 0);
  // IOHeader flatbuffer: field 1 is dataTablePosition (int64, −1 = no table).
  let tablePos = -1;
  const root = hs + dv.getUint32(hs, true);
  const vt = root - dv.getInt32(root, true);
  const vtSize = dv.getUint16(vt, true);
  if (vtSize > 6) {
    const off = dv.getUint16(vt + 6, true);
    if (off !== 0) tablePos = Number(dv.getBigInt64(root + off, true));
  }
  const marks = [0, dataStart];
  let pos = dataStart;
  const end = tablePos >= 0 ? Math.min(tablePos, b.length) : b.length;
  while (pos + 8 <= end) {
    const size = dv.getInt32(pos + 4, true);
    if (size < 0 || pos + 8 + size > end) break;
    pos += 8 + size;
    marks.push(pos);
  }
  return new CutStructure(marks, 0, 0, pos === end && tablePos >= 0 ? tablePos : pos, dataStart);
}

function aedat31Structure(b: Uint8Array): CutStructure {
  const end = '#!END-HEADER\r\n';
  const at = Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(end, 0, 'latin1');
  if (at < 0) return new CutStructure([0], 0, 0, 0, 0);
  const [lineMarks] = headerLines(b, HASH);
  const dataStart = at + end.length;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const marks = [...lineMarks.filter((m) => m < dataStart), dataStart];
  let pos = dataStart;
  while (pos + 28 <= b.length) {
    const size = dv.getInt32(pos + 4, true);
    const capacity = dv.getInt32(pos + 20, true);
    const bytes = 28 + size * capacity;
    if (size <= 0 || capacity < 0 || pos + bytes > b.length) break;
    pos += bytes;
    marks.push(pos);
  }
  return new CutStructure(marks, 0, 0, pos, dataStart);
}

/** Where `bytes` (a stream of `format`) may end cleanly. Unknown layouts are left untracked. */
export function cutStructure(format: string, b: Uint8Array, options: Readonly<Record<string, unknown>> = {}): CutStructure {
  const fixed = (marks: number[], start: number, size: number) => new CutStructure(marks, start, size, b.length, start);
  switch (format) {
    case 'evt2':
    case 'evt21':
    case 'evt3': {
      const [marks, h, ok] = headerLines(b, PERCENT, SPACE);
      if (!ok) return new CutStructure(marks, 0, 0, h, h);
      return fixed(marks, h, format === 'evt2' ? 4 : format === 'evt21' ? 8 : 2);
    }
    case 'dat': {
      const [marks, h, ok] = headerLines(b, PERCENT);
      if (!ok) return new CutStructure(marks, 0, 0, h, h);
      return new CutStructure(marks, h + 2, 8, b.length, h + 2);
    }
    case 'aedat2':
    case 'cochlea': {
      const [marks, h, ok] = headerLines(b, HASH);
      if (!ok) return new CutStructure(marks, 0, 0, h, h);
      const size = format === 'aedat2' ? 8 : Number(options['addressBytes'] ?? 2) + 4;
      return fixed(marks, h, size);
    }
    case 'nmnist':
      return fixed([0], 0, 5);
    case 'aedat31':
      return aedat31Structure(b);
    case 'aedat4':
      return aedat4Structure(b);
    default:
      return new CutStructure([0], 0, 0, 0, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutation plans.

export type Insert =
  | { readonly src: 'none' }
  | { readonly src: 'fill'; readonly len: number; readonly value: number }
  | { readonly src: 'random'; readonly len: number; readonly seed: number }
  | { readonly src: 'self'; readonly start: number; readonly len: number }
  | { readonly src: 'other'; readonly other: number; readonly start: number; readonly len: number };

/** Replace original bytes [at, at+del) with `ins`, or xor one byte (`mask`). Offsets refer to the original. */
export type Edit = { readonly at: number; readonly mask: number } | { readonly at: number; readonly del: number; readonly ins: Insert };

export type MutationKind = 'truncate' | 'bitflip' | 'header' | 'fill' | 'splice-other' | 'splice-self' | 'delete' | 'insert' | 'flip+truncate';

export interface CasePlan {
  readonly index: number;
  readonly kind: MutationKind;
  readonly edits: readonly Edit[];
  /** Keep only original bytes [0, cut) (pure truncation when there are no edits). */
  readonly cut?: number;
  /** No byte before this offset differs from the original (the lowest offset any edit touches). */
  readonly firstChange: number;
  readonly chunkSeed: number;
}

export interface OtherStream {
  readonly name: string;
  readonly bytes: Uint8Array;
}

const KINDS: readonly [MutationKind, number][] = [
  ['truncate', 25],
  ['bitflip', 20],
  ['header', 10],
  ['fill', 10],
  ['splice-other', 10],
  ['splice-self', 10],
  ['delete', 5],
  ['insert', 5],
  ['flip+truncate', 5],
];
const KIND_TOTAL = KINDS.reduce((s, [, w]) => s + w, 0);

function pickKind(rng: Rng): MutationKind {
  let r = rng.int(KIND_TOTAL);
  for (const [k, w] of KINDS) {
    if (r < w) return k;
    r -= w;
  }
  return 'bitflip';
}

/** A damaged offset: a quarter of them near the start (header and first records), the rest anywhere. */
function damageOffset(rng: Rng, length: number, s: CutStructure): number {
  if (rng.chance(0.25)) return rng.int(Math.min(length, s.dataStart + 256));
  return rng.int(length);
}

export function planCase(index: number, seed: number, length: number, s: CutStructure, others: readonly OtherStream[]): CasePlan {
  const rng = new Rng(seed);
  const kind = pickKind(rng);
  const chunkSeed = rng.int(2 ** 31);
  const edits: Edit[] = [];
  let cut: number | undefined;
  const flips = (n: number, limit: number) => {
    const clustered = rng.chance(0.5);
    const centre = damageOffset(rng, limit, s);
    for (let i = 0; i < n; i++) {
      const at = clustered ? Math.max(0, Math.min(limit - 1, centre + rng.range(-32, 32))) : damageOffset(rng, limit, s);
      edits.push({ at, mask: 1 << rng.int(8) });
    }
  };
  switch (kind) {
    case 'truncate': {
      let k = rng.chance(0.2) ? rng.int(Math.min(length, s.dataStart + 64)) : rng.int(length);
      if (rng.chance(0.15)) k = s.floor(k); // exactly on a boundary: a clean end
      else if (rng.chance(0.15)) k = Math.min(length - 1, s.floor(k) + 1);
      cut = k;
      break;
    }
    case 'bitflip':
      flips(rng.range(1, 8), length);
      break;
    case 'header': {
      const limit = Math.min(length, Math.max(s.dataStart, 32));
      const at = rng.int(limit);
      const what = rng.int(4);
      if (what === 0) edits.push({ at, mask: 1 << rng.int(8) });
      else if (what === 1) edits.push({ at, del: rng.range(1, 4), ins: { src: 'random', len: rng.range(1, 4), seed: rng.int(2 ** 31) } });
      else if (what === 2) edits.push({ at, del: rng.range(1, 8), ins: { src: 'none' } });
      else edits.push({ at, del: 0, ins: { src: 'random', len: rng.range(1, 16), seed: rng.int(2 ** 31) } });
      break;
    }
    case 'fill': {
      const at = damageOffset(rng, length, s);
      const len = rng.logLength(4096);
      const value = rng.pick([0x00, 0xff, 0x00, 0xff, 0x55, 0x80]);
      edits.push({ at, del: rng.chance(0.7) ? Math.min(len, length - at) : 0, ins: { src: 'fill', len, value } });
      break;
    }
    case 'splice-other': {
      const other = rng.int(others.length);
      const ob = others[other]!.bytes;
      if (ob.length === 0) {
        flips(1, length);
        break;
      }
      const len = Math.min(ob.length, rng.logLength(65536));
      const start = rng.int(ob.length - len + 1);
      const at = damageOffset(rng, length, s);
      const del = rng.chance(0.6) ? Math.min(len, length - at) : rng.int(Math.min(len, length - at) + 1);
      edits.push({ at, del, ins: { src: 'other', other, start, len } });
      break;
    }
    case 'splice-self': {
      const len = Math.min(length, rng.logLength(65536));
      const start = rng.int(length - len + 1);
      const at = damageOffset(rng, length, s);
      const mode = rng.int(3); // overwrite, insert (duplicate a stretch), delete a stretch
      if (mode === 0) edits.push({ at, del: Math.min(len, length - at), ins: { src: 'self', start, len } });
      else if (mode === 1) edits.push({ at, del: 0, ins: { src: 'self', start, len } });
      else edits.push({ at, del: Math.min(len, length - at), ins: { src: 'none' } });
      break;
    }
    case 'delete': {
      const at = damageOffset(rng, length, s);
      edits.push({ at, del: Math.min(rng.range(1, 16), length - at), ins: { src: 'none' } });
      break;
    }
    case 'insert':
      edits.push({ at: damageOffset(rng, length, s), del: 0, ins: { src: 'random', len: rng.range(1, 16), seed: rng.int(2 ** 31) } });
      break;
    case 'flip+truncate': {
      cut = rng.range(1, length);
      flips(rng.range(1, 4), cut);
      break;
    }
  }
  let firstChange = cut ?? length;
  for (const e of edits) firstChange = Math.min(firstChange, e.at);
  return { index, kind, edits, cut, firstChange, chunkSeed };
}

function insertLength(ins: Insert): number {
  return ins.src === 'none' ? 0 : ins.len;
}

/** The damaged bytes of a plan. Overlapping edits (rare) are skipped, later ones losing. */
export function materialize(plan: CasePlan, original: Uint8Array, others: readonly OtherStream[]): Uint8Array {
  const limit = plan.cut ?? original.length;
  const edits = plan.edits.filter((e) => e.at < limit).sort((a, b) => a.at - b.at);
  const applied: Edit[] = [];
  let pos = 0;
  let size = 0;
  for (const e of edits) {
    if (e.at < pos) continue;
    const del = 'mask' in e ? 1 : Math.min(e.del, limit - e.at);
    size += e.at - pos + ('mask' in e ? 1 : insertLength(e.ins));
    pos = e.at + del;
    applied.push(e);
  }
  size += limit - pos;
  const out = new Uint8Array(size);
  let o = 0;
  pos = 0;
  for (const e of applied) {
    out.set(original.subarray(pos, e.at), o);
    o += e.at - pos;
    if ('mask' in e) {
      out[o++] = original[e.at]! ^ e.mask;
      pos = e.at + 1;
      continue;
    }
    const ins = e.ins;
    if (ins.src === 'fill') out.fill(ins.value, o, o + ins.len);
    else if (ins.src === 'random') {
      const r = new Rng(ins.seed);
      for (let i = 0; i < ins.len; i++) out[o + i] = r.int(256);
    } else if (ins.src === 'self') out.set(original.subarray(ins.start, ins.start + ins.len), o);
    else if (ins.src === 'other') out.set(others[ins.other]!.bytes.subarray(ins.start, ins.start + ins.len), o);
    o += insertLength(ins);
    pos = e.at + Math.min(e.del, limit - e.at);
  }
  out.set(original.subarray(pos, limit), o);
  return out;
}

export function describePlan(plan: CasePlan, others: readonly OtherStream[]): string {
  const parts = plan.edits.map((e) => {
    if ('mask' in e) return `xor 0x${e.mask.toString(16)} @${e.at}`;
    const i = e.ins;
    const what =
      i.src === 'none'
        ? 'nothing'
        : i.src === 'fill'
          ? `${i.len}× 0x${i.value.toString(16)}`
          : i.src === 'random'
            ? `${i.len} random bytes (seed ${i.seed})`
            : i.src === 'self'
              ? `own bytes [${i.start}, +${i.len})`
              : `${others[i.other]?.name ?? '?'} [${i.start}, +${i.len})`;
    return `replace [${e.at}, +${e.del}) with ${what}`;
  });
  if (plan.cut !== undefined) parts.push(`cut at ${plan.cut}`);
  return `case #${plan.index} ${plan.kind}: ${parts.join('; ')} (first change @${plan.firstChange}, chunk seed ${plan.chunkSeed})`;
}

// ---------------------------------------------------------------------------------------------
// Chunk plans: how a buffer is fed to `push`.

export type ChunkStyle = 'whole' | 'mib' | 'large' | 'small' | 'focus';

/** Chunk sizes for `length` bytes; 'focus' feeds 1..7-byte chunks within ±512 bytes of `focus`. */
export function chunkPlan(seed: number, length: number, focus: number): { style: ChunkStyle; sizes: number[] } {
  const rng = new Rng(seed);
  let style = rng.pick<ChunkStyle>(['mib', 'large', 'large', 'small', 'focus', 'focus']);
  if (style === 'small' && length > 64 * 1024) style = 'focus';
  const sizes: number[] = [];
  let o = 0;
  while (o < length) {
    let n: number;
    if (style === 'mib') n = 1 << 20;
    else if (style === 'small') n = rng.chance(0.3) ? rng.range(1, 7) : rng.range(1, 512);
    else if (style === 'focus' && o >= focus - 512 && o < focus + 512) n = rng.range(1, 7);
    else if (style === 'focus') n = Math.max(1, Math.min(rng.range(1, 65536), o < focus - 512 ? focus - 512 - o : 65536));
    else n = rng.chance(0.15) ? rng.range(1, 8) : rng.range(1, 65536);
    n = Math.min(n, length - o);
    sizes.push(n);
    o += n;
  }
  return { style, sizes };
}

// ---------------------------------------------------------------------------------------------
// Decoding under watch: every invariant that needs no reference is checked here.

export interface DecodeRun {
  readonly packets: EventPacket[];
  readonly count: number;
  readonly hash: string;
  readonly errors: DecodeError[];
  readonly side: Record<string, number>;
  readonly failed: boolean;
  readonly ms: number;
  /** Contract violations seen while decoding (thrown exceptions, malformed errors or packets). */
  readonly problems: string[];
}

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);

/**
 * FNV-1a over x, y, the bits of t, and p (equal hashes ⇔ practically equal events), checking each
 * event on the way (one pass over the columns): p must be 0 or 1 and t finite.
 */
class EventHash {
  private h = 0x811c9dc5;
  /** Adds the packet; returns the index of its first malformed event, or -1. */
  add(pk: EventPacket): number {
    const { x, y, t, p } = pk;
    let h = this.h;
    let bad = -1;
    for (let i = 0; i < pk.length; i++) {
      const ti = t[i]!;
      const pi = p[i]!;
      if ((pi > 1 || ti - ti !== 0) && bad < 0) bad = i;
      f64[0] = ti;
      h = Math.imul(h ^ (x[i]! | (y[i]! << 16)), 0x01000193);
      h = Math.imul(h ^ f64Words[0]!, 0x01000193);
      h = Math.imul(h ^ f64Words[1]!, 0x01000193);
      h = Math.imul(h ^ pi, 0x01000193);
    }
    this.h = h >>> 0;
    return bad;
  }
  get value(): string {
    return this.h.toString(16).padStart(8, '0');
  }
}

/** Adds a well-formed packet to the hash; reports a malformed one. */
function checkPacket(pk: EventPacket, format: string, hash: EventHash, problems: string[]): void {
  const n = pk.length;
  if (pk.x.length !== n || pk.y.length !== n || pk.t.length !== n || pk.p.length !== n) {
    problems.push(`packet arrays differ in length (length ${n}: x ${pk.x.length}, y ${pk.y.length}, t ${pk.t.length}, p ${pk.p.length})`);
    return;
  }
  if (pk.source?.format !== format) problems.push(`packet source.format is '${pk.source?.format}', not '${format}'`);
  const bad = hash.add(pk);
  if (bad >= 0) problems.push(`malformed event in a packet: p=${pk.p[bad]}, t=${pk.t[bad]} (index ${bad} of ${n})`);
}

/**
 * Decoder options with a pool of its own for this one decode (unless one is given), so that buffers
 * of packets nobody releases are garbage with the decode, whatever the process-wide pool keeps.
 */
function withOwnPool(options: DecoderOptions): DecoderOptions {
  return options.pool ? { ...options } : { ...options, pool: new PacketPool(65536) };
}

/** Feed `bytes` to a fresh decoder in `sizes` chunks (whole when empty); check the contract as it goes. */
export function watchedDecode(desc: FormatDescriptor, options: DecoderOptions, bytes: Uint8Array, sizes: readonly number[] = []): DecodeRun {
  const problems: string[] = [];
  const packets: EventPacket[] = [];
  const errors: DecodeError[] = [];
  const side: Record<string, number> = {};
  const hash = new EventHash();
  let count = 0;
  let fatalSeen = false;
  const t0 = performance.now();
  let decoder: StreamDecoder | undefined;
  const take = (r: { events: EventPacket[]; side: { kind: string }[]; errors: DecodeError[] } | undefined, where: string) => {
    if (!r || !Array.isArray(r.events) || !Array.isArray(r.errors) || !Array.isArray(r.side)) {
      problems.push(`${where} returned a malformed result`);
      return;
    }
    if (fatalSeen && (r.events.some((p) => p.length > 0) || r.errors.length > 0)) problems.push(`${where} produced output after a fatal error`);
    for (const pk of r.events) {
      checkPacket(pk, desc.name, hash, problems);
      count += pk.length;
      if (pk.length > 0) packets.push(pk);
    }
    for (const s of r.side) side[s.kind] = (side[s.kind] ?? 0) + sideCount(s as never);
    for (const e of r.errors) {
      if (!(e instanceof DecodeError)) {
        problems.push(`${where} reported an error that is not a DecodeError: ${String(e)}`);
        continue;
      }
      if (e.format !== desc.name) problems.push(`error names format '${e.format}', not '${desc.name}': ${e.message}`);
      if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > bytes.length) problems.push(`error offset ${e.offset} outside [0, ${bytes.length}]: ${e.message}`);
      if (e.fatal) fatalSeen = true;
      errors.push(e);
    }
  };
  try {
    decoder = desc.createDecoder(withOwnPool(options));
    if (sizes.length === 0) {
      if (bytes.length > 0) take(decoder.push(bytes), 'push');
    } else {
      let o = 0;
      for (const n of sizes) {
        take(decoder.push(bytes.subarray(o, o + n)), `push of [${o}, +${n})`);
        o += n;
      }
    }
    take(decoder.end(), 'end');
  } catch (err) {
    problems.push(`threw: ${err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 4).join(' | ') : String(err)}`);
  }
  const failed = decoder?.failed === true;
  if (fatalSeen && !failed) problems.push('a fatal error was reported but the decoder is not `failed`');
  return { packets, count, hash: hash.value, errors, side, failed, ms: performance.now() - t0, problems };
}

/** Index of the first of the first `count` events of `packets` that differs from `ref`, or -1. */
export function prefixMismatch(packets: readonly EventPacket[], ref: EventPacket, count: number): number {
  let k = 0;
  for (const pk of packets) {
    for (let i = 0; i < pk.length && k < count; i++, k++) {
      if (k >= ref.length || pk.x[i] !== ref.x[k] || pk.y[i] !== ref.y[k] || pk.t[i] !== ref.t[k] || pk.p[i] !== ref.p[k]) return k;
    }
    if (k >= count) return -1;
  }
  return k < count ? k : -1;
}

function errorKey(d: DecodeRun): string {
  return d.errors.map((e) => `${e.offset}${e.fatal ? '!' : ''}`).join(',');
}

function sideKey(d: DecodeRun): string {
  return Object.entries(d.side)
    .sort()
    .map(([k, v]) => `${k}:${v}`)
    .join(',');
}

// ---------------------------------------------------------------------------------------------
// Targets, the oracle and the case checks.

export interface FuzzTarget {
  /** A recording's file name, or `synthetic:<format>` / `garbage:<format>`. */
  readonly name: string;
  readonly format: string;
  readonly bytes: Uint8Array;
  readonly options: Readonly<Record<string, unknown>>;
  /** Events the undamaged stream must decode to (README count), when known. */
  readonly expectedEvents?: number;
}

export interface Oracle {
  readonly full: EventPacket;
  /** Events emitted after the first `offset` bytes had been pushed (offset ∈ the planned points). */
  readonly emittedAt: ReadonlyMap<number, number>;
  readonly cleanMs: number;
  readonly cleanErrors: DecodeError[];
}

export function buildOracle(desc: FormatDescriptor, target: FuzzTarget, points: readonly number[]): { oracle: Oracle; problems: string[] } {
  const bytes = target.bytes;
  const cuts = [...new Set(points.filter((p) => p > 0 && p < bytes.length))].sort((a, b) => a - b);
  const sizes: number[] = [];
  let prev = 0;
  for (const c of cuts) {
    sizes.push(c - prev);
    prev = c;
  }
  if (prev < bytes.length) sizes.push(bytes.length - prev);
  // The same watched decode, also recording the events emitted at each cut point.
  const emittedAt = new Map<number, number>([[0, 0]]);
  const decoder = desc.createDecoder(withOwnPool(target.options));
  const packets: EventPacket[] = [];
  let o = 0;
  let count = 0;
  for (const n of sizes) {
    for (const pk of decoder.push(bytes.subarray(o, o + n)).events) {
      packets.push(pk);
      count += pk.length;
    }
    o += n;
    emittedAt.set(o, count);
  }
  const beforeEnd = count;
  for (const pk of decoder.end().events) {
    packets.push(pk);
    count += pk.length;
  }
  const clean = watchedDecode(desc, target.options, bytes);
  const problems = clean.problems.map((p) => `undamaged stream: ${p}`);
  if (clean.count !== count) problems.push(`undamaged stream: ${clean.count} events in one push, ${count} when pushed in ${sizes.length} chunks`);
  if (target.expectedEvents !== undefined && clean.count !== target.expectedEvents) {
    problems.push(`undamaged stream decodes to ${clean.count} events, expected ${target.expectedEvents}`);
  }
  // A streaming decoder hands out what it has: with every byte pushed, nearly all events are out before end().
  if (count > 1000 && beforeEnd < 0.9 * count) problems.push(`only ${beforeEnd} of ${count} events were emitted before end(): the decoder does not stream`);
  return { oracle: { full: concatPackets(packets), emittedAt, cleanMs: clean.ms, cleanErrors: clean.errors }, problems };
}

export interface FuzzFailure {
  readonly target: string;
  readonly caseIndex: number;
  readonly description: string;
  readonly message: string;
}

export interface CaseContext {
  readonly desc: FormatDescriptor;
  readonly target: FuzzTarget;
  readonly structure: CutStructure;
  readonly oracle: Oracle;
  readonly others: readonly OtherStream[];
  /** A case slower than this fails (catches quadratic blow-ups; hangs are caught by the watchdog). */
  readonly slowMs: number;
}

/** Run one planned case; returns its failures (empty when every check holds). */
export function runCase(ctx: CaseContext, plan: CasePlan): string[] {
  const { desc, target, structure, oracle } = ctx;
  const bytes = materialize(plan, target.bytes, ctx.others);
  const out: string[] = [];
  const whole = watchedDecode(desc, target.options, bytes);
  const chunks = chunkPlan(plan.chunkSeed, bytes.length, plan.firstChange);
  const chunked = watchedDecode(desc, target.options, bytes, chunks.sizes);
  for (const p of whole.problems) out.push(`whole push: ${p}`);
  for (const p of chunked.problems) out.push(`${chunks.style} chunks: ${p}`);
  if (whole.ms + chunked.ms > ctx.slowMs) out.push(`too slow: ${(whole.ms + chunked.ms).toFixed(0)} ms for two decodes (budget ${ctx.slowMs.toFixed(0)} ms)`);
  if (out.length > 0) return out;

  // Chunking invariance on damaged data.
  if (whole.count !== chunked.count || whole.hash !== chunked.hash) {
    out.push(`events differ with ${chunks.style} chunks: ${whole.count} (hash ${whole.hash}) whole vs ${chunked.count} (hash ${chunked.hash})`);
  }
  if (errorKey(whole) !== errorKey(chunked)) out.push(`error offsets differ with ${chunks.style} chunks: [${errorKey(whole)}] whole vs [${errorKey(chunked)}]`);
  if (sideKey(whole) !== sideKey(chunked)) out.push(`side data differs with ${chunks.style} chunks: {${sideKey(whole)}} vs {${sideKey(chunked)}}`);

  // The events before the first damaged byte are kept.
  const kept = oracle.emittedAt.get(plan.firstChange);
  if (kept === undefined) out.push(`internal: no oracle point at ${plan.firstChange}`);
  else {
    if (whole.count < kept) out.push(`lost events before the damage: ${whole.count} events, but the undamaged stream had emitted ${kept} by byte ${plan.firstChange}`);
    const bad = prefixMismatch(whole.packets, oracle.full, kept);
    if (bad >= 0) out.push(`event ${bad} differs from the undamaged decode although it was emitted before the damage at byte ${plan.firstChange}`);
  }

  if (plan.kind === 'truncate' && plan.cut !== undefined) checkTruncation(ctx, plan.cut, bytes, whole, out);
  return out;
}

function checkTruncation(ctx: CaseContext, k: number, bytes: Uint8Array, run: DecodeRun, out: string[]): void {
  const { desc, target, structure, oracle } = ctx;
  const bad = prefixMismatch(run.packets, oracle.full, run.count);
  if (run.count > oracle.full.length || bad >= 0) {
    out.push(`truncation at ${k} is not a prefix of the full decode (${run.count} events, first differing index ${bad})`);
  }
  if (structure.cleanEnd(k)) {
    const extra = run.errors.filter((e) => !oracle.cleanErrors.some((c) => c.offset === e.offset));
    if (extra.length > 0) out.push(`a cut at ${k}, on a record boundary, must end cleanly, but it reports: ${extra.map((e) => `${e.offset}: ${e.detail}`).join('; ')}`);
    return;
  }
  if (!structure.mustReport(k)) return;
  const floor = structure.floor(k);
  if (!run.errors.some((e) => e.offset >= floor && e.offset <= k)) {
    const seen = run.errors.map((e) => `${e.offset}: ${e.detail}`).join('; ') || 'none';
    out.push(`truncation at ${k} (inside the record/packet starting at ${floor}) is not reported by an error at an offset in [${floor}, ${k}]; errors: ${seen}`);
  }
  // A partial record/packet contributes nothing: the same events as the clean cut before it.
  const atFloor = watchedDecode(desc, target.options, bytes.subarray(0, floor));
  if (atFloor.count !== run.count || atFloor.hash !== run.hash) {
    out.push(`truncation at ${k} gives ${run.count} events, the clean cut at ${floor} gives ${atFloor.count}: the partial record/packet changed the events`);
  }
}

// ---------------------------------------------------------------------------------------------
// Garbage: streams with no reference decode (random bytes, other formats' files, own header + noise).

export function garbageStream(index: number, seed: number, format: string, own: readonly OtherStream[], others: readonly OtherStream[]): { bytes: Uint8Array; what: string } {
  const rng = new Rng(seed);
  if (index === 0) return { bytes: new Uint8Array(0), what: 'empty stream' };
  const which = rng.int(5);
  if (which === 0 || others.length === 0) {
    const n = rng.logLength(65536);
    const b = new Uint8Array(n);
    const sparse = rng.chance(0.5);
    for (let i = 0; i < n; i++) b[i] = sparse && rng.chance(0.8) ? 0 : rng.int(256);
    return { bytes: b, what: `${n} ${sparse ? 'mostly-zero ' : ''}random bytes (seed ${seed})` };
  }
  if (which === 1 || which === 2) {
    const o = others[rng.int(others.length)]!;
    const n = Math.min(o.bytes.length, rng.chance(0.5) ? rng.logLength(4096) : 256 * 1024);
    return { bytes: o.bytes.subarray(0, n), what: `first ${n} bytes of ${o.name}` };
  }
  // This format's own header (or first bytes) followed by another stream's body or noise.
  const src = own.length > 0 ? own[rng.int(own.length)]! : undefined;
  const head = src ? src.bytes.subarray(0, Math.min(src.bytes.length, cutStructure(format, src.bytes).dataStart + rng.int(64))) : new Uint8Array(0);
  const o = others[rng.int(others.length)]!;
  const start = rng.int(Math.max(1, o.bytes.length - 4096));
  const body = o.bytes.subarray(start, start + rng.logLength(65536));
  const b = new Uint8Array(head.length + body.length);
  b.set(head, 0);
  b.set(body, head.length);
  return { bytes: b, what: `${head.length} header bytes of ${src?.name ?? 'nothing'} + ${body.length} bytes of ${o.name} from ${start}` };
}

// ---------------------------------------------------------------------------------------------
// Jobs: what the worker runs, and the main-thread handle with the hang watchdog.

export interface FuzzJob {
  readonly kind: 'recording' | 'synthetic' | 'garbage';
  /** Recording file name (kind 'recording') or format name. */
  readonly target: string;
  readonly cases: number;
  readonly seed: number;
  /** First case index (jobs of many cases are run in rounds). */
  readonly from?: number;
  /** Run only this case index (replay). */
  readonly only?: number;
}

export interface FuzzReport {
  readonly job: FuzzJob;
  readonly cases: number;
  readonly failures: FuzzFailure[];
  readonly failureCount: number;
  readonly ms: number;
  /** Cases per mutation kind. */
  readonly kinds: Record<string, number>;
  readonly notes: string[];
  /** Set when the job could not run (decoder not written, no encoder, …). */
  readonly skipped?: string;
}

/** True when a format's decoder exists (the placeholder modules throw from createDecoder). */
export function decoderAvailable(desc: FormatDescriptor): boolean {
  try {
    desc.createDecoder({});
    return true;
  } catch {
    return false;
  }
}

const MAX_FAILURES_KEPT = 20;

let loaded: OtherStream[] | undefined;
function sharedStreams(): OtherStream[] {
  loaded ??= RECORDINGS.map((r) => ({ name: r.file, bytes: readShared(r.file) }));
  return loaded;
}

/** Events for synthetic streams: the first 20,000 of evt2_sparklers.raw, folded into 128x128. */
function syntheticEvents(): EventPacket | string {
  const src = sharedStreams().find((s) => s.name === 'evt2_sparklers.raw');
  const evt2 = getFormat('evt2');
  if (!src || !decoderAvailable(evt2)) return 'the evt2 decoder (source of synthetic events) is not available';
  const all = concatPackets(watchedDecode(evt2, {}, src.bytes).packets);
  const n = Math.min(all.length, 20000);
  return packetFromArrays(
    { x: Array.from(all.x.subarray(0, n), (v) => v & 127), y: Array.from(all.y.subarray(0, n), (v) => v & 127), t: all.t.subarray(0, n), p: all.p.subarray(0, n) },
    { width: 128, height: 128 },
    { format: 'memory' },
  );
}

function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Reference writers for formats that have neither a recording nor an encoder, written from the
 * format documents (not from the decoders): AEDAT 2.0 DVS128 and AEDAT 3.1 polarity packets.
 */
const REFERENCE_WRITERS: Readonly<Record<string, (pk: EventPacket) => Uint8Array>> = {
  // jAER DVS128: big-endian [int32 address, int32 t]; address = y<<8 | (127−x)<<1 | (ON ? 0 : 1).
  aedat2(pk) {
    const head = Buffer.from('#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\r\n', 'latin1');
    const body = new Uint8Array(pk.length * 8);
    const dv = new DataView(body.buffer);
    for (let i = 0; i < pk.length; i++) {
      dv.setInt32(8 * i, (pk.y[i]! << 8) | ((127 - pk.x[i]!) << 1) | (pk.p[i] ? 0 : 1), false);
      dv.setInt32(8 * i + 4, pk.t[i]!, false);
    }
    return joinBytes([head, body]);
  },
  // libcaer: 28-byte packet headers (LE) + 8-byte polarity events: data = x<<17 | y<<2 | p<<1 | valid.
  aedat31(pk) {
    const head = Buffer.from('#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#Start-Time: 2024-01-01 00:00:00 (TZ+0000)\r\n#!END-HEADER\r\n', 'latin1');
    const parts: Uint8Array[] = [head];
    for (let s = 0; s < pk.length; s += 1000) {
      const n = Math.min(1000, pk.length - s);
      const b = new Uint8Array(28 + 8 * n);
      const dv = new DataView(b.buffer);
      dv.setInt16(0, 1, true);
      dv.setInt16(2, 1, true);
      dv.setInt32(4, 8, true);
      dv.setInt32(8, 4, true);
      dv.setInt32(12, 0, true);
      dv.setInt32(16, n, true);
      dv.setInt32(20, n, true);
      dv.setInt32(24, n, true);
      for (let i = 0; i < n; i++) {
        const k = s + i;
        dv.setUint32(28 + 8 * i, ((pk.x[k]! << 17) | (pk.y[k]! << 2) | (pk.p[k]! << 1) | 1) >>> 0, true);
        dv.setInt32(32 + 8 * i, pk.t[k]!, true);
      }
      parts.push(b);
    }
    return joinBytes(parts);
  },
};

/** A stream of a format that has no recording: its encoder's or a reference writer's output for real events. */
function syntheticTarget(desc: FormatDescriptor): FuzzTarget | string {
  const writer = REFERENCE_WRITERS[desc.name];
  if (!desc.createEncoder && !writer) return `${desc.name} has no recording, no encoder and no reference writer`;
  const pk = syntheticEvents();
  if (typeof pk === 'string') return pk;
  try {
    let bytes: Uint8Array;
    if (desc.createEncoder) {
      const enc = desc.createEncoder({ geometry: pk.geometry });
      const parts: Uint8Array[] = [];
      for (let i = 0; i < pk.length; i += 4096) parts.push(enc.encode(slicePacket(pk, i, i + 4096)));
      parts.push(enc.end());
      bytes = joinBytes(parts);
    } else bytes = writer!(pk);
    return { name: `synthetic:${desc.name}`, format: desc.name, bytes, options: {}, expectedEvents: pk.length };
  } catch (err) {
    return `writing a ${desc.name} stream of 128x128 events failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Run a job in this thread. `onCase(i, description)` is called before each case (progress, hang reports). */
export function runJob(job: FuzzJob, onCase: (index: number, description: string) => void = () => {}): FuzzReport {
  const t0 = performance.now();
  const failures: FuzzFailure[] = [];
  const kinds: Record<string, number> = {};
  const notes: string[] = [];
  let failureCount = 0;
  let cases = 0;
  const fail = (target: string, caseIndex: number, description: string, message: string) => {
    failureCount++;
    if (failures.length < MAX_FAILURES_KEPT) failures.push({ target, caseIndex, description, message });
  };
  const report = (skipped?: string): FuzzReport => ({ job, cases, failures, failureCount, ms: performance.now() - t0, kinds, notes, skipped });
  const streams = sharedStreams();
  const formatName = job.kind === 'recording' ? RECORDINGS.find((r) => r.file === job.target)?.format : job.target;
  if (!formatName) return report(`unknown recording ${job.target}`);
  const desc = getFormat(formatName);
  if (!decoderAvailable(desc)) return report(`the ${formatName} decoder is not written yet (placeholder)`);
  const from = job.from ?? 0;
  const indices = job.only !== undefined ? [job.only] : Array.from({ length: job.cases }, (_, i) => from + i);

  if (job.kind === 'garbage') {
    const own = streams.filter((s) => RECORDINGS.find((r) => r.file === s.name)?.format === formatName);
    const others = streams.filter((s) => !own.includes(s));
    for (const i of indices) {
      const g = garbageStream(i, caseSeed(job.seed, job.target, i), formatName, own, others);
      const description = `garbage #${i}: ${g.what}`;
      onCase(i, description);
      cases++;
      const whole = watchedDecode(desc, {}, g.bytes);
      const chunks = chunkPlan(caseSeed(job.seed + 1, job.target, i), g.bytes.length, 0);
      const chunked = watchedDecode(desc, {}, g.bytes, chunks.sizes);
      const problems = [...whole.problems.map((p) => `whole push: ${p}`), ...chunked.problems.map((p) => `${chunks.style} chunks: ${p}`)];
      if (problems.length === 0) {
        if (whole.hash !== chunked.hash || whole.count !== chunked.count) problems.push(`events differ with ${chunks.style} chunks (${whole.count} vs ${chunked.count})`);
        if (errorKey(whole) !== errorKey(chunked)) problems.push(`error offsets differ with ${chunks.style} chunks: [${errorKey(whole)}] vs [${errorKey(chunked)}]`);
      }
      for (const m of problems) fail(job.target, i, description, m);
    }
    return report();
  }

  let target: FuzzTarget;
  if (job.kind === 'recording') {
    const rec = RECORDINGS.find((r) => r.file === job.target)!;
    const bytes = streams.find((s) => s.name === rec.file)!.bytes;
    if (bytes.length !== rec.bytes) notes.push(`${rec.file} has ${bytes.length} bytes, README says ${rec.bytes}`);
    target = { name: rec.file, format: rec.format, bytes, options: rec.options, expectedEvents: rec.events };
  } else {
    const s = syntheticTarget(desc);
    if (typeof s === 'string') return report(s);
    target = s;
  }
  const others = streams;
  const structure = cutStructure(formatName, target.bytes, target.options);
  const plans = indices.map((i) => planCase(i, caseSeed(job.seed, target.name, i), target.bytes.length, structure, others));
  const { oracle, problems } = buildOracle(desc, target, plans.map((p) => p.firstChange));
  for (const p of problems) fail(target.name, -1, 'undamaged stream', p);
  if (oracle.cleanErrors.length > 0) notes.push(`the undamaged stream reports ${oracle.cleanErrors.length} error(s), first: ${oracle.cleanErrors[0]!.message}`);
  if (problems.length > 0) return report();
  const ctx: CaseContext = { desc, target, structure, oracle, others, slowMs: 5000 + 100 * oracle.cleanMs };
  for (const plan of plans) {
    const description = describePlan(plan, others);
    onCase(plan.index, description);
    cases++;
    kinds[plan.kind] = (kinds[plan.kind] ?? 0) + 1;
    for (const m of runCase(ctx, plan)) fail(target.name, plan.index, description, m);
  }
  return report();
}

/** Jobs covering every format: each recording, a synthetic stream for formats without one, garbage for all. */
export function standardJobs(casesPerRecording: number, seed: number): FuzzJob[] {
  const jobs: FuzzJob[] = RECORDINGS.map((r) => ({ kind: 'recording' as const, target: r.file, cases: casesPerRecording, seed }));
  for (const f of FORMATS) {
    if (!RECORDINGS.some((r) => r.format === f.name)) jobs.push({ kind: 'synthetic', target: f.name, cases: casesPerRecording, seed });
  }
  for (const f of FORMATS) jobs.push({ kind: 'garbage', target: f.name, cases: Math.max(8, Math.round(casesPerRecording / 10)), seed });
  return jobs;
}

type WorkerMessage = { type: 'case'; index: number; description: string } | { type: 'done'; report: FuzzReport } | { type: 'crash'; message: string };

/**
 * Runs jobs in a worker thread (this module), one at a time. A case running longer than `hangMs`
 * terminates the worker (reported as a failure naming the case) and the next job gets a fresh one.
 */
export class FuzzWorker {
  private worker: Worker | undefined;

  constructor(private readonly hangMs = 60_000) {}

  private start(): Worker {
    // Node 20 does not apply `--import tsx` hooks to a worker's .ts entry: register tsx in the worker
    // first (its ESM API), then import this module.
    const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const self = JSON.stringify(import.meta.url);
    const boot = `import(${api}).then((m) => { m.register(); return import(${self}); }).catch((e) => setImmediate(() => { throw e; }));`;
    const w = new Worker(boot, { eval: true, workerData: { spikeflowFuzzWorker: true }, execArgv: [] });
    w.unref();
    return w;
  }

  run(job: FuzzJob, onCase?: (index: number, description: string) => void): Promise<FuzzReport> {
    const w = (this.worker ??= this.start());
    const t0 = performance.now();
    return new Promise((resolve) => {
      let current = { index: -1, description: 'starting', since: performance.now() };
      let cases = 0;
      const finish = (r: FuzzReport) => {
        clearInterval(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        resolve(r);
      };
      const lost = (message: string) => {
        this.worker = undefined;
        void w.terminate();
        const failure: FuzzFailure = { target: job.target, caseIndex: current.index, description: current.description, message };
        finish({ job, cases, failures: [failure], failureCount: 1, ms: performance.now() - t0, kinds: {}, notes: [] });
      };
      const onMessage = (m: WorkerMessage) => {
        if (m.type === 'case') {
          current = { index: m.index, description: m.description, since: performance.now() };
          cases++;
          onCase?.(m.index, m.description);
        } else if (m.type === 'done') finish(m.report);
        else lost(`worker failed: ${m.message}`);
      };
      const onError = (err: Error) => lost(`worker crashed: ${err.stack ?? err.message}`);
      const onExit = (code: number) => lost(`worker exited with code ${code}`);
      const timer = setInterval(() => {
        if (performance.now() - current.since > this.hangMs) lost(`hang: the case ran longer than ${this.hangMs} ms (worker terminated)`);
      }, 250);
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage(job);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

if (!isMainThread && (workerData as { spikeflowFuzzWorker?: boolean } | null)?.spikeflowFuzzWorker) {
  parentPort!.on('message', (job: FuzzJob) => {
    try {
      const report = runJob(job, (index, description) => parentPort!.postMessage({ type: 'case', index, description } satisfies WorkerMessage));
      parentPort!.postMessage({ type: 'done', report } satisfies WorkerMessage);
    } catch (err) {
      parentPort!.postMessage({ type: 'crash', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerMessage);
    }
  });
}
