/**
 * Loads the WebAssembly decode kernels (AssemblyScript in src/wasm/*.as.ts, compiled into dist/wasm/
 * by `npm run build`, which `npm ci` runs) and reports which kernel each format uses. When a kernel
 * file is missing or fails to load, the decoders use their TypeScript loops and `kernelInfo()` says why.
 *
 * Every decode kernel has the same shape (memory map in src/wasm/layout.ts): the decoder copies whole
 * input words into `input`, keeps its state in `state` (f64 slots, meaning per kernel) and calls
 * `decodeInto(kernel, builder, i, end)` over units (words, or records for DAT). The events go straight
 * into the builder's packet buffer when that buffer lies in the kernels' memory (a PacketPool on
 * `kernelArena()`, e.g. `kernelPacketPool()`), else into the kernel's staging area (`x/y/t/p`), which is
 * then copied into the builder's buffer. EVT 2.0 and DAT give at most one event per unit, so a call
 * covers at most as many units as there is room for events; the vector formats (EVT 2.1, 3.0) stop by
 * themselves when the room is nearly used. When `stoppedAt()` is below the end that decodeInto returned,
 * the kernel left the unit there unconsumed — a rare word (trigger, monitoring, IMU, unknown type) or,
 * for vector formats, a full output area — and the TypeScript reference loop decodes that one unit
 * before the kernel resumes after it. So the output is the reference's, bit for bit, and the kernels
 * only have to be fast on the common words.
 *
 * All four decode kernels import one memory (64 MiB, fixed: it never grows, so views of it stay
 * valid): 2 MiB of input, state and staging shared by the kernels (they run synchronously, one call at
 * a time, with the state handed in before each call), and a packet-buffer arena for the rest. One
 * instance per kernel per process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PacketBuilder } from '../events/builder.js';
import { PacketPool, SlabArena } from '../events/pool.js';
import { lz4DecodeBlock } from './lz4-block.js';
import { emitStaged } from './prophesee/timebase.js';

export interface StagingKernel {
  readonly name: KernelName;
  /** The kernels' shared memory (never detaches: the memory never grows). */
  readonly buffer: ArrayBuffer;
  /** At most one event per unit (EVT 2.0, DAT): a call covers at most as many units as there is room for events. */
  readonly onePerUnit: boolean;
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
  /** Decode units [i, end) of `input` into the arrays at byte addresses ox, oy, ot, op, room for `room` events; returns the number written. */
  decodeBlock(i: number, end: number, ox: number, oy: number, ot: number, op: number, room: number): number;
  /** The unit the last decodeBlock stopped at, unconsumed (== end when it ran through). */
  stoppedAt(): number;
}

export type KernelName = 'evt2' | 'evt21' | 'evt3' | 'dat';
const KERNELS: readonly KernelName[] = ['evt2', 'evt21', 'evt3', 'dat'];

const status: Partial<Record<KernelName | 'lz4' | 'times', string>> = {};
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
const KERNEL_ABI = 2;
/** layout.ts MEMORY_PAGES and ARENA: the shared memory's size and where its packet-buffer arena starts. */
const MEMORY_PAGES = 1024;
const ARENA_START = 2 << 20;

let decodeMemory: WebAssembly.Memory | null | undefined;
let memoryProblem = '';
let arena: SlabArena | null | undefined;

/** A kernel's status when the shared memory could not be allocated. */
const noMemory = (): string => `js (the kernels' ${MEMORY_PAGES / 16} MiB memory could not be allocated: ${memoryProblem})`;

/** The memory the decode kernels share (created on first use, fixed size), or null when it cannot be had. */
function sharedMemory(): WebAssembly.Memory | null {
  if (decodeMemory === undefined) {
    try {
      decodeMemory = new WebAssembly.Memory({ initial: MEMORY_PAGES, maximum: MEMORY_PAGES });
    } catch (e) {
      decodeMemory = null;
      memoryProblem = (e as Error).message;
    }
  }
  return decodeMemory;
}

/**
 * The packet-buffer arena in the decode kernels' memory (62 MiB): buffers of a PacketPool on it are
 * written by the kernels directly. It exists even when the kernels are not built (the TypeScript loops
 * write into its buffers as into any other; it is then only not faster); null when the memory could not
 * be allocated.
 */
export function kernelArena(): SlabArena | null {
  if (arena === undefined) {
    const memory = sharedMemory();
    arena = memory && new SlabArena(memory.buffer, ARENA_START, MEMORY_PAGES * 65536);
  }
  return arena;
}

/**
 * A PacketPool whose buffers lie in the kernels' memory while it has room (`capacity` events each:
 * 65,536 take 832 KiB, so about 75 fit), for consumers that release every packet (pool.release):
 * decoders using it write events in place, without the copy out of the staging area. Packets that
 * are never released keep their buffer taken (it cannot be garbage-collected); once the arena is
 * used up, the pool hands out ordinary buffers and the decoders copy again (see PacketPool). An
 * ordinary pool when the kernels' memory could not be allocated.
 */
export function kernelPacketPool(capacity = 65536, maxIdle = 16): PacketPool {
  return new PacketPool(capacity, maxIdle, kernelArena() ?? undefined);
}

/**
 * dist/wasm/NAME.wasm compiled (see kernelPath), or why it cannot be, as a kernel status says it:
 * 'js (… not found: run npm run build)' or 'js (… failed to load: …)'.
 */
export function compileKernel(name: string): { module: WebAssembly.Module; path: string } | string {
  const path = kernelPath(name);
  if (!path) {
    const where = process.env['SPIKEFLOW_WASM_DIR'] ? join(process.env['SPIKEFLOW_WASM_DIR'], `${name}.wasm`) : `dist/wasm/${name}.wasm`;
    return `js (${where} not found: run npm run build)`;
  }
  try {
    return { module: new WebAssembly.Module(readFileSync(path)), path };
  } catch (e) {
    return `js (${path} failed to load: ${(e as Error).message})`;
  }
}

/**
 * Instantiate dist/wasm/NAME.wasm and check its ABI export (`abiExport` must equal `abi`); null, with
 * the reason in status[name], when the file is missing or unusable.
 */
function instantiate(name: KernelName | 'lz4' | 'times', abiExport: string, abi: number, memory?: WebAssembly.Memory): Record<string, unknown> | null {
  const compiled = compileKernel(name);
  if (typeof compiled === 'string') {
    status[name] = compiled;
    return null;
  }
  const { module, path } = compiled;
  try {
    const ex0 = WebAssembly.Module.exports(module).some((e) => e.name === abiExport);
    const wantsMemory = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
    if (!ex0 || wantsMemory !== (memory !== undefined)) throw new Error(`built from other sources (expected ABI ${abi}): run npm run build`);
    const env: Record<string, unknown> = {
      abort: () => {
        throw new Error(`${name} kernel aborted`);
      },
    };
    if (memory) env['memory'] = memory;
    const inst = new WebAssembly.Instance(module, { env } as WebAssembly.Imports);
    const ex = inst.exports as Record<string, unknown>;
    const got = ex[abiExport];
    if (got === undefined || addr(got) !== abi) throw new Error(`built from other sources (ABI ${got === undefined ? 'none' : addr(got)}, expected ${abi}): run npm run build`);
    if (memory && (addr(ex.MEMORY_PAGES) !== MEMORY_PAGES || addr(ex.ARENA) !== ARENA_START)) throw new Error(`built for another memory map: run npm run build`);
    status[name] = 'wasm';
    return ex;
  } catch (e) {
    status[name] = `js (${path} failed to load: ${(e as Error).message})`;
    return null;
  }
}

function load(name: KernelName): StagingKernel | null {
  const memory = sharedMemory();
  if (!memory) {
    status[name] = noMemory();
    return null;
  }
  const ex = instantiate(name, 'ABI', KERNEL_ABI, memory);
  if (!ex) return null;
  const buf = memory.buffer;
  const stage = addr(ex.STAGE);
  const inCapacity = addr(ex.IN_CAPACITY);
  const state = new Float64Array(buf, addr(ex.STATE), STATE_SLOTS);
  const kernel: StagingKernel = {
    name,
    buffer: buf,
    onePerUnit: name === 'evt2' || name === 'dat',
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
    decodeBlock: ex.decodeBlock as StagingKernel['decodeBlock'],
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

/**
 * One kernel call over units [i, end) into the builder: in place, at the builder's write index, when
 * its buffer lies in the kernels' memory (a full one is first sealed and replaced), else into the
 * staging area and copied from there. Returns the end the call was given: `end`, or less for the
 * one-event-per-unit kernels when fewer events fit. The caller hands the state in before and reads
 * it back after, and decodes the unit at `k.stoppedAt()` itself when that is below the returned end.
 */
export function decodeInto(k: StagingKernel, b: PacketBuilder, i: number, end: number): number {
  if (b.x.buffer === k.buffer && b.n === b.x.length) b.reserve(b.x.length);
  const x = b.x;
  if (x.buffer === k.buffer) {
    const n = b.n;
    const room = x.length - n;
    const e = k.onePerUnit && end - i > room ? i + room : end;
    b.n = n + k.decodeBlock(i, e, x.byteOffset + 2 * n, b.y.byteOffset + 2 * n, b.t.byteOffset + 8 * n, b.p.byteOffset + n, room);
    return e;
  }
  const e = k.onePerUnit && end - i > k.stage ? i + k.stage : end;
  const count = k.decodeBlock(i, e, k.x.byteOffset, k.y.byteOffset, k.t.byteOffset, k.p.byteOffset, k.stage);
  if (count > 0) emitStaged(b, k.x, k.y, k.t, k.p, count);
  return e;
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
    s[0] = state.base;
    s[1] = state.last;
    let i = 0;
    while (i < rn) {
      const end = decodeInto(k, builder, i, rn);
      i = k.stoppedAt();
      if (i < end) {
        onBadRecord(r0 + i);
        i++;
      }
    }
    state.base = s[0]!;
    state.last = s[1]!;
  }
}

let times: ((at: number, n: number, shift: number) => void) | null | undefined;

/** The times kernel (src/wasm/times.as.ts) on the kernels' memory, or null (status.times says why). */
function timesKernel(): ((at: number, n: number, shift: number) => void) | null {
  if (times === undefined) {
    const memory = sharedMemory();
    if (!memory) status.times = noMemory();
    const ex = memory && instantiate('times', 'ABI', KERNEL_ABI, memory);
    times = ex ? (ex.addToTimes as (at: number, n: number, shift: number) => void) : null;
  }
  return times;
}

/**
 * t[from … to) += shift: in WASM (src/wasm/times.as.ts, two times an instruction) when `t` lies in the
 * kernels' memory, as the buffers of a kernelPacketPool do, else in a TypeScript loop. The same sums.
 */
export function addToTimes(t: Float64Array, from: number, to: number, shift: number): void {
  const k = timesKernel();
  if (k && t.buffer === decodeMemory?.buffer) {
    if (to > from) k(t.byteOffset + 8 * from, to - from, shift);
    return;
  }
  for (let i = from; i < to; i++) t[i] = t[i]! + shift;
}

/** 'wasm' when addToTimes runs in WASM for buffers in the kernels' memory, else 'js (why)'. */
export function timesKernelStatus(): string {
  timesKernel();
  return status.times!;
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
