/**
 * Loads the WebAssembly decode kernels (AssemblyScript in src/wasm/*.as.ts, compiled into dist/wasm/
 * by `npm run build`, which `npm ci` runs) and reports which kernel each format uses. When a kernel
 * file is missing or fails to load, the decoders use their TypeScript loops and `kernelInfo()` says why.
 *
 * Every kernel has the same shape ("staging kernel", memory map in src/wasm/layout.ts): the decoder
 * copies whole input words into `input`, keeps its state in `state` (f64 slots, meaning per kernel),
 * calls `decodeBlock(i, end)` over units (words, or records for DAT) and copies the staged events out
 * of `x/y/t/p` (views of the kernel's memory) into its packets. EVT 2.0 and DAT stage at most one
 * event per unit, so their calls cover at most `stage` units; the vector formats (EVT 2.1, 3.0) stop
 * by themselves when their staging area is nearly full. When `stoppedAt()`
 * is below `end`, the kernel left the unit there unconsumed — a rare word (trigger, monitoring, IMU,
 * unknown type) or, for vector formats, a full staging area — and the TypeScript reference loop
 * decodes that one unit before the kernel resumes after it. So the output is the reference's,
 * bit for bit, and the kernels only have to be fast on the common words.
 *
 * Memory never grows (fixed 2 MiB), so the views made at load time stay valid. One instance per
 * kernel per process: decoders use it synchronously, one block at a time, and hand their state in
 * before every call.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PacketBuilder } from '../events/builder.js';
import { lz4DecodeBlock } from './lz4-block.js';
import { emitStaged } from './prophesee/timebase.js';

export interface StagingKernel {
  readonly name: KernelName;
  /** Staging capacity in events (EVT 2.0 and DAT: also the most units one decodeBlock call may cover). */
  readonly stage: number;
  /** Input capacity in 32-bit words (1 MiB). */
  readonly inCapacity: number;
  readonly input: Uint8Array;
  /** The same input as 32-bit and 16-bit words (for the sync scan and the rare words decoded in JS). */
  readonly input32: Int32Array;
  readonly input16: Uint16Array;
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly t: Float64Array;
  readonly p: Uint8Array;
  /** Decoder state slots read and written by decodeBlock (see the kernel's doc comment). */
  readonly state: Float64Array;
  /** Decode units [i, end) of `input`; returns the number of events staged. */
  decodeBlock(i: number, end: number): number;
  /** The unit the last decodeBlock stopped at, unconsumed (== end when it ran through). */
  stoppedAt(): number;
}

export type KernelName = 'evt2' | 'evt21' | 'evt3' | 'dat';
const KERNELS: readonly KernelName[] = ['evt2', 'evt21', 'evt3', 'dat'];

const status: Partial<Record<KernelName | 'lz4', string>> = {};
const loaded = new Map<KernelName, StagingKernel | null>();

/**
 * Where each compiled kernel is looked for: dist/wasm/ beside the compiled dist/src/formats, or from
 * src/formats run by tsx; only in $SPIKEFLOW_WASM_DIR when that is set (tests use it to check the fallback).
 */
function kernelPath(name: string): string | undefined {
  const dir = process.env['SPIKEFLOW_WASM_DIR'];
  const candidates = dir ? [join(dir, `${name}.wasm`)] : [`../../wasm/${name}.wasm`, `../../dist/wasm/${name}.wasm`].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((p) => existsSync(p));
}

const addr = (v: unknown): number => (typeof v === 'number' ? v : Number((v as WebAssembly.Global).value));

/** Number of f64 state slots every kernel reserves (layout.ts). */
const STATE_SLOTS = 8;
/** src/wasm/layout.ts ABI: a kernel file built from older or newer sources is not used. */
const KERNEL_ABI = 1;

/**
 * Instantiate dist/wasm/NAME.wasm and check its ABI export (`abiExport` must equal `abi`); null, with
 * the reason in status[name], when the file is missing or unusable.
 */
function instantiate(name: KernelName | 'lz4', abiExport: string, abi: number): Record<string, unknown> | null {
  const path = kernelPath(name);
  if (!path) {
    const where = process.env['SPIKEFLOW_WASM_DIR'] ? join(process.env['SPIKEFLOW_WASM_DIR'], `${name}.wasm`) : `dist/wasm/${name}.wasm`;
    status[name] = `js (${where} not found: run npm run build)`;
    return null;
  }
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {
      env: {
        abort: () => {
          throw new Error(`${name} kernel aborted`);
        },
      },
    });
    const ex = inst.exports as Record<string, unknown>;
    const got = ex[abiExport];
    if (got === undefined || addr(got) !== abi) throw new Error(`built from other sources (ABI ${got === undefined ? 'none' : addr(got)}, expected ${abi}): run npm run build`);
    status[name] = 'wasm';
    return ex;
  } catch (e) {
    status[name] = `js (${path} failed to load: ${(e as Error).message})`;
    return null;
  }
}

function load(name: KernelName): StagingKernel | null {
  const ex = instantiate(name, 'ABI', KERNEL_ABI);
  if (!ex) return null;
  const buf = (ex.memory as WebAssembly.Memory).buffer;
  const stage = addr(ex.STAGE);
  const inCapacity = addr(ex.IN_CAPACITY);
  const state = new Float64Array(buf, addr(ex.STATE), STATE_SLOTS);
  const kernel: StagingKernel = {
    name,
    stage,
    inCapacity,
    input: new Uint8Array(buf, addr(ex.IN_WORDS), inCapacity * 4),
    input32: new Int32Array(buf, addr(ex.IN_WORDS), inCapacity),
    input16: new Uint16Array(buf, addr(ex.IN_WORDS), inCapacity * 2),
    x: new Uint16Array(buf, addr(ex.SX), stage),
    y: new Uint16Array(buf, addr(ex.SY), stage),
    t: new Float64Array(buf, addr(ex.ST), stage),
    p: new Uint8Array(buf, addr(ex.SP), stage),
    state,
    decodeBlock: ex.decodeBlock as (i: number, end: number) => number,
    stoppedAt: ex.stoppedAt as () => number,
  };
  return kernel;
}

/** The kernel, or null when unavailable. */
export function kernel(name: KernelName): StagingKernel | null {
  if (!loaded.has(name)) loaded.set(name, load(name));
  return loaded.get(name)!;
}

/** Resolve a decoder's `kernel` option ('auto' | 'wasm' | 'js'): 'wasm' demands the kernel (an error names why it is missing). */
export function chooseKernel(name: KernelName, choice: unknown = 'auto'): StagingKernel | null {
  if (choice === 'js') return null;
  if (choice !== 'auto' && choice !== 'wasm') throw new Error(`kernel must be 'auto', 'wasm' or 'js', got '${String(choice)}'`);
  const k = kernel(name);
  if (!k && choice === 'wasm') throw new Error(`the ${name} WASM kernel is unavailable: ${status[name]}`);
  return k;
}

/** Which kernel each format (and LZ4, for AEDAT 4.0) uses in this process: 'wasm', or 'js (why not wasm)'. */
export function kernelInfo(): Record<KernelName | 'lz4', string> {
  for (const k of KERNELS) kernel(k);
  lz4Kernel();
  return { ...status } as Record<KernelName | 'lz4', string>;
}

/** Copy `count` events staged by the kernel into the builder (TypedArray.set over views of its memory). */
export function emitKernelStaged(b: PacketBuilder, k: StagingKernel, count: number): void {
  if (count > 0) emitStaged(b, k.x, k.y, k.t, k.p, count);
}

/** DAT decoder state the record loop carries across calls (dat.ts keeps one per stream). */
export interface DatWrapState {
  /** Wraps so far × 2^32 (µs). */
  base: number;
  /** Previous raw 32-bit timestamp. */
  last: number;
}

/**
 * The DAT CD record loop with the WASM kernel: decodes the whole 8-byte records in `records`
 * (`records.length` a multiple of 8) into `builder`, updating `state` in place. A record whose
 * polarity field is above 1 is not decoded: `onBadRecord(index)` is called with its record index in
 * `records`, in order, and decoding goes on after it — exactly what dat.ts's TypeScript loop does.
 * `records` may have any alignment (it is copied into the kernel's memory): no u32View is needed.
 */
export function decodeDatRecordsWasm(
  k: StagingKernel,
  records: Uint8Array,
  builder: PacketBuilder,
  state: DatWrapState,
  onBadRecord: (index: number) => void,
): void {
  if (k.name !== 'dat') throw new Error(`decodeDatRecordsWasm needs the dat kernel, got ${k.name}`);
  const n = records.length >>> 3;
  const perSlice = k.inCapacity >>> 1;
  const s = k.state;
  for (let r0 = 0; r0 < n; r0 += perSlice) {
    const rn = Math.min(perSlice, n - r0);
    k.input.set(records.subarray(r0 * 8, (r0 + rn) * 8));
    let i = 0;
    while (i < rn) {
      const end = Math.min(rn, i + k.stage);
      s[0] = state.base;
      s[1] = state.last;
      const count = k.decodeBlock(i, end);
      state.base = s[0]!;
      state.last = s[1]!;
      emitKernelStaged(builder, k, count);
      i = k.stoppedAt();
      if (i < end) {
        onBadRecord(r0 + i);
        i++;
      }
    }
  }
}

/** The LZ4 block kernel (src/wasm/lz4.as.ts): its own memory map, not a staging kernel. */
export interface Lz4Kernel {
  /** The whole kernel memory as bytes (fixed size, never grows). */
  readonly memory: Uint8Array;
  readonly in: number;
  readonly inCapacity: number;
  readonly out: number;
  readonly outCapacity: number;
  readonly historyMax: number;
  /** Decode IN[0, srcLen) to OUT with `history` earlier output bytes before OUT; output length or -1. */
  decode(srcLen: number, history: number, outCap: number): number;
}

let lz4: Lz4Kernel | null | undefined;

/** The LZ4 block kernel, or null when unavailable (kernelInfo().lz4 says why). */
export function lz4Kernel(): Lz4Kernel | null {
  if (lz4 !== undefined) return lz4;
  const ex = instantiate('lz4', 'LZ4_ABI', 1);
  lz4 = ex && {
    memory: new Uint8Array((ex.memory as WebAssembly.Memory).buffer),
    in: addr(ex.IN),
    inCapacity: addr(ex.IN_CAPACITY),
    out: addr(ex.OUT),
    outCapacity: addr(ex.OUT_CAPACITY),
    historyMax: addr(ex.HISTORY_MAX),
    decode: ex.decode as (srcLen: number, history: number, outCap: number) => number,
  };
  return lz4;
}

/**
 * lz4DecodeBlock (same arguments, result and errors) with the WASM kernel when it is built and the
 * block fits it: the block and up to 64 KiB of the output before dStart (what linked blocks' matches
 * may reach) are copied in, the output copied out. Whenever the kernel fails — a malformed block, or
 * one that needs more room than it has — the TypeScript reference decodes the block instead, so the
 * output and the errors are the reference's. `k` defaults to the loaded kernel; null forces the reference.
 */
export function lz4DecodeBlockFast(src: Uint8Array, sStart: number, sLength: number, dst: Uint8Array, dStart: number, k: Lz4Kernel | null = lz4Kernel()): number {
  if (k && sLength <= k.inCapacity && sStart + sLength <= src.length && dStart <= dst.length) {
    const history = Math.min(dStart, k.historyMax);
    const mem = k.memory;
    mem.set(src.subarray(sStart, sStart + sLength), k.in);
    if (history > 0) mem.set(dst.subarray(dStart - history, dStart), k.out - history);
    const n = k.decode(sLength, history, Math.min(dst.length - dStart, k.outCapacity));
    if (n >= 0) {
      dst.set(mem.subarray(k.out, k.out + n), dStart);
      return dStart + n;
    }
  }
  return lz4DecodeBlock(src, sStart, sLength, dst, dStart);
}
