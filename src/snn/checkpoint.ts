/**
 * Checkpoints: a whole Network — spec, step counter, learning/homeostasis switches and every byte of
 * its state arena — saved to one versioned binary file, and restored so the run continues
 * bit-identically to one never stopped (all state lives in the arena; everything else is rebuilt
 * from the spec).
 *
 * File format (all integers little-endian):
 *
 *   offset       size  field
 *   0            8     magic "SPKFCKPT"
 *   8            4     u32 format version (CHECKPOINT_FORMAT_VERSION)
 *   12           4     u32 H: header length in bytes
 *   16           8     u64 B: state length in bytes
 *   24           H     header, UTF-8 JSON (CheckpointHeader): spec, its SHA-256, t, enabled flags,
 *                      arena layout as [name, kind, length] triples
 *   24 + H       B     state: each arena array's bytes in layout order, packed (no alignment
 *                      padding), host byte order (little-endian; recorded and checked)
 *   24 + H + B   4     u32 CRC-32 (IEEE 802.3) of every byte before it
 *
 * Saving writes to a temporary file beside the target and renames it over the target, so a reader
 * (or a crash) never sees half a checkpoint. Saving the same state twice gives the same bytes.
 *
 * Restoring verifies everything — magic, version, length, checksum, header, spec, layout — before
 * it writes a single byte into the network, so a refused checkpoint leaves the network untouched.
 * Every refusal is a CheckpointError whose `reason` says what was wrong.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../cli/write-atomic.js';
import type { ArrayKind, StateArray } from './arena.js';
import { buildNetwork, type BuildOptions, type Network } from './network.js';
import type { NetworkSpec } from './spec.js';

export const CHECKPOINT_MAGIC = 'SPKFCKPT';
export const CHECKPOINT_FORMAT_VERSION = 1;
/** Bytes before the header JSON: magic, version, header length, state length. */
const PREFIX = 24;
const TRAILER = 4;

export type CheckpointErrorReason =
  | 'io' //            the file could not be read
  | 'not_checkpoint' // wrong magic
  | 'version' //       another format version
  | 'truncated' //     shorter than its header declares
  | 'corrupt' //       checksum mismatch, trailing bytes, unreadable header
  | 'endianness' //    written on a big-endian host (or read on one)
  | 'spec' //          saved from a different network spec
  | 'layout'; //       same spec, different arena layout (another engine version)

export class CheckpointError extends Error {
  constructor(
    readonly reason: CheckpointErrorReason,
    /** The file path, or '<bytes>'. */
    readonly source: string,
    message: string,
  ) {
    super(`checkpoint ${source}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** The header JSON. */
export interface CheckpointHeader {
  readonly spec: NetworkSpec;
  /** SHA-256 (hex) of the spec's canonical JSON (keys sorted): a short identity for tools. */
  readonly specSha256: string;
  /** The next step to run. */
  readonly t: number;
  /** Network.rules[i].enabled, in rule order. */
  readonly rulesEnabled: readonly boolean[];
  /** Network.controllers[i].enabled, in controller order. */
  readonly controllersEnabled: readonly boolean[];
  /** The arena layout: [name, kind, length] per array, in allocation order. */
  readonly layout: readonly (readonly [string, ArrayKind, number])[];
  readonly byteOrder: 'little-endian';
}

/** A checkpoint that passed every check that needs no network: header plus the state bytes. */
export interface ParsedCheckpoint {
  readonly formatVersion: number;
  readonly header: CheckpointHeader;
  /** The packed state (a view into the file bytes). */
  readonly state: Uint8Array;
}

const BYTES: Record<ArrayKind, number> = { f64: 8, f32: 4, i32: 4, u8: 1 };
const KINDS = new Set<string>(['f64', 'f32', 'i32', 'u8']);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------- save

/**
 * The checkpoint of `net` as file parts (prefix, header, one view per arena array — not copies —
 * and the CRC trailer). Valid until the network steps again.
 */
export function checkpointParts(net: Network): Uint8Array[] {
  if (!LITTLE_ENDIAN) throw new CheckpointError('endianness', '<network>', 'checkpoints are written little-endian; this host is big-endian');
  const layout = net.arena.layout.map((s) => [s.name, s.kind, s.length] as const);
  const header: CheckpointHeader = {
    spec: net.spec,
    specSha256: specHash(net.spec),
    t: net.t,
    rulesEnabled: net.rules.map((r) => r.enabled),
    controllersEnabled: net.controllers.map((c) => c.enabled),
    layout,
    byteOrder: 'little-endian',
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const arrays = net.arena.layout.map((s) => bytesOf(net.arena.get(s.name)));
  const stateBytes = arrays.reduce((n, a) => n + a.length, 0);
  const prefix = new Uint8Array(PREFIX);
  const dv = new DataView(prefix.buffer);
  for (let i = 0; i < 8; i++) prefix[i] = CHECKPOINT_MAGIC.charCodeAt(i);
  dv.setUint32(8, CHECKPOINT_FORMAT_VERSION, true);
  dv.setUint32(12, json.length, true);
  dv.setBigUint64(16, BigInt(stateBytes), true);
  const parts = [prefix, json, ...arrays];
  let crc = CRC_INIT;
  for (const p of parts) crc = crc32Update(crc, p);
  const trailer = new Uint8Array(TRAILER);
  new DataView(trailer.buffer).setUint32(0, crc32Final(crc), true);
  parts.push(trailer);
  return parts;
}

/** The checkpoint of `net` as one byte array. */
export function encodeCheckpoint(net: Network): Uint8Array {
  const parts = checkpointParts(net);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Writes `net`'s checkpoint to `path` atomically (temporary file + rename). */
export function saveCheckpoint(net: Network, path: string): void {
  writeFileAtomic(path, checkpointParts(net));
}

// ---------------------------------------------------------------- read

/** Reads and checks a checkpoint (magic, version, length, CRC, header) without a network. */
export function parseCheckpoint(bytes: Uint8Array, source = '<bytes>'): ParsedCheckpoint {
  const fail = (reason: CheckpointErrorReason, message: string): never => {
    throw new CheckpointError(reason, source, message);
  };
  const magicLen = Math.min(8, bytes.length);
  for (let i = 0; i < magicLen; i++) {
    if (bytes[i] !== CHECKPOINT_MAGIC.charCodeAt(i)) fail('not_checkpoint', `not a spikeflow checkpoint (no '${CHECKPOINT_MAGIC}' magic)`);
  }
  if (bytes.length < PREFIX + TRAILER) fail('truncated', `truncated: ${bytes.length} bytes, less than the ${PREFIX + TRAILER}-byte minimum`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== CHECKPOINT_FORMAT_VERSION) fail('version', `format version ${version}; this build reads version ${CHECKPOINT_FORMAT_VERSION}`);
  const H = dv.getUint32(12, true);
  const B = dv.getBigUint64(16, true);
  const declared = BigInt(PREFIX + H + TRAILER) + B;
  if (BigInt(bytes.length) < declared) fail('truncated', `truncated: ${bytes.length} bytes, its header declares ${declared}`);
  if (BigInt(bytes.length) > declared) fail('corrupt', `${BigInt(bytes.length) - declared} trailing bytes after the declared ${declared}`);
  const end = bytes.length - TRAILER;
  const stored = dv.getUint32(end, true);
  const computed = crc32Final(crc32Update(CRC_INIT, bytes.subarray(0, end)));
  if (stored !== computed) fail('corrupt', `checksum mismatch (stored CRC-32 ${hex(stored)}, computed ${hex(computed)}): the file is corrupt`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX, PREFIX + H))) as CheckpointHeader;
  } catch (e) {
    return fail('corrupt', `unreadable header: ${(e as Error).message}`);
  }
  checkHeader(header, Number(B), fail);
  if (!LITTLE_ENDIAN) fail('endianness', 'this host is big-endian; the checkpoint is little-endian');
  return { formatVersion: version, header, state: bytes.subarray(PREFIX + H, end) };
}

/** Reads a checkpoint file and checks it as parseCheckpoint does. */
export function readCheckpoint(path: string): ParsedCheckpoint {
  return parseCheckpoint(readBytes(path), path);
}

// ---------------------------------------------------------------- restore

/**
 * Restores a checkpoint into `net`, which must have been built from the same spec: the step
 * counter, the enabled flags and every arena byte. Everything is checked first; on any
 * CheckpointError the network is unchanged.
 */
export function restoreCheckpoint(net: Network, source: string | Uint8Array | ParsedCheckpoint): void {
  const name = typeof source === 'string' ? source : '<bytes>';
  const ck = typeof source === 'string' ? readCheckpoint(source) : source instanceof Uint8Array ? parseCheckpoint(source, name) : source;
  const fail = (reason: CheckpointErrorReason, message: string): never => {
    throw new CheckpointError(reason, name, message);
  };
  const h = ck.header;
  const diff = firstDifference(h.spec, net.spec, 'spec');
  if (diff) fail('spec', `saved from a different network spec: ${diff}`);
  const layout = net.arena.layout;
  if (layout.length !== h.layout.length) fail('layout', `the checkpoint has ${h.layout.length} state arrays, this network ${layout.length}`);
  for (let i = 0; i < layout.length; i++) {
    const [n, k, len] = h.layout[i]!;
    const s = layout[i]!;
    if (s.name !== n || s.kind !== k || s.length !== len) fail('layout', `state array ${i} is ${n} (${k}[${len}]) in the checkpoint but ${s.name} (${s.kind}[${s.length}]) in this network`);
  }
  if (h.rulesEnabled.length !== net.rules.length || h.controllersEnabled.length !== net.controllers.length) {
    fail('layout', `the checkpoint has ${h.rulesEnabled.length} rules and ${h.controllersEnabled.length} controllers, this network ${net.rules.length} and ${net.controllers.length}`);
  }
  // All checked: now write.
  let o = 0;
  for (const s of layout) {
    const dst = bytesOf(net.arena.get(s.name));
    dst.set(ck.state.subarray(o, o + dst.length));
    o += dst.length;
  }
  net.arena.clearScratch();
  net.t = h.t;
  net.rules.forEach((r, i) => (r.enabled = h.rulesEnabled[i]!));
  net.controllers.forEach((c, i) => (c.enabled = h.controllersEnabled[i]!));
}

/** Builds the network a checkpoint was saved from (its embedded spec) and restores it. */
export function loadCheckpoint(source: string | Uint8Array, options: BuildOptions = {}): Network {
  const ck = typeof source === 'string' ? readCheckpoint(source) : parseCheckpoint(source);
  const net = buildNetwork(ck.header.spec, options);
  restoreCheckpoint(net, ck);
  return net;
}

/** SHA-256 (hex) of a spec's canonical JSON (object keys sorted). */
export function specHash(spec: NetworkSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

// ---------------------------------------------------------------- helpers

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CheckpointError('io', path, (e as Error).message);
  }
}

function bytesOf(a: StateArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Shape checks on the parsed header; the state length must match the layout. */
function checkHeader(h: CheckpointHeader, stateBytes: number, fail: (r: CheckpointErrorReason, m: string) => never): void {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(h)) fail('corrupt', 'header is not a JSON object');
  if (!isObj(h.spec)) fail('corrupt', 'header has no spec');
  if (!Number.isSafeInteger(h.t) || h.t < 0) fail('corrupt', `header step counter t is ${String(h.t)}`);
  const bools = (v: unknown, f: string) => {
    if (!Array.isArray(v) || !v.every((b) => typeof b === 'boolean')) fail('corrupt', `header ${f} is not a list of booleans`);
  };
  bools(h.rulesEnabled, 'rulesEnabled');
  bools(h.controllersEnabled, 'controllersEnabled');
  if (h.byteOrder !== 'little-endian') fail('endianness', `byte order '${String(h.byteOrder)}' is not supported`);
  if (!Array.isArray(h.layout)) fail('corrupt', 'header has no layout');
  let total = 0;
  for (const e of h.layout) {
    if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'string' || !KINDS.has(e[1] as string) || !Number.isSafeInteger(e[2]) || e[2] < 0) {
      fail('corrupt', `bad layout entry ${JSON.stringify(e)}`);
    }
    total += (e[2] as number) * BYTES[e[1] as ArrayKind];
  }
  if (total !== stateBytes) fail('corrupt', `layout adds up to ${total} state bytes but ${stateBytes} are stored`);
  if (typeof h.specSha256 !== 'string' || h.specSha256 !== specHash(h.spec)) fail('corrupt', 'spec hash does not match the embedded spec');
}

/** JSON with object keys sorted, so equal specs give equal text. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The first place two JSON values differ, as "path is A in the checkpoint, B here", or undefined. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v).slice(0, 60));
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  // JSON round trip: what was saved is compared as JSON would have kept it.
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : `${path} is ${show(a)} in the checkpoint, ${show(b)} here`;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib's crc32.
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();
const CRC_INIT = 0xffffffff;

function crc32Update(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

function crc32Final(crc: number): number {
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 of some bytes (exported for tools and tests). */
export function crc32(bytes: Uint8Array): number {
  return crc32Final(crc32Update(CRC_INIT, bytes));
}
