/**
 * Loads the WebAssembly decode kernels (compiled from src/wasm/*.as.ts into dist/wasm/ by
 * `npm run build`, which `npm ci` runs) and reports which kernel each format uses. When a kernel
 * file is missing the decoders use their TypeScript loops, and `kernelInfo()` says why.
 *
 * Every kernel has the same shape ("staging kernel"): the decoder copies input words into
 * `input`, calls `decodeBlock(i, end)` over at most `stage` units (words or records), copies the
 * staged events out of `x/y/t/p`, and handles the unit at `stoppedAt()` itself when the kernel
 * stopped early (a rare or bad word that the TypeScript reference decodes). Two numbers of
 * decoder state travel in and out through setState/stateA/stateB.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface StagingKernel {
  readonly stage: number;
  /** Input capacity in 32-bit words. */
  readonly inCapacity: number;
  readonly input: Uint8Array;
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly t: Float64Array;
  readonly p: Uint8Array;
  setState(a: number, b: number): void;
  stateA(): number;
  stateB(): number;
  decodeBlock(i: number, end: number): number;
  stoppedAt(): number;
}

export type KernelName = 'evt2' | 'dat';
const KERNELS: readonly KernelName[] = ['evt2', 'dat'];

const status: Partial<Record<KernelName, string>> = {};
const loaded = new Map<KernelName, StagingKernel | null>();

/** Where each compiled kernel is looked for: beside dist/src/formats (built) or from src/formats (tsx). */
function kernelPath(name: string): string | undefined {
  for (const rel of [`../../wasm/${name}.wasm`, `../../dist/wasm/${name}.wasm`]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

const addr = (v: unknown): number => (typeof v === 'number' ? v : Number((v as WebAssembly.Global).value));

function load(name: KernelName): StagingKernel | null {
  const path = kernelPath(name);
  if (!path) {
    status[name] = `js (dist/wasm/${name}.wasm not built: run npm run build)`;
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
    const buf = (ex.memory as WebAssembly.Memory).buffer;
    const stage = addr(ex.STAGE);
    const inCapacity = addr(ex.IN_CAPACITY);
    status[name] = 'wasm';
    return {
      stage,
      inCapacity,
      input: new Uint8Array(buf, addr(ex.IN_WORDS), inCapacity * 4),
      x: new Uint16Array(buf, addr(ex.SX), stage),
      y: new Uint16Array(buf, addr(ex.SY), stage),
      t: new Float64Array(buf, addr(ex.ST), stage),
      p: new Uint8Array(buf, addr(ex.SP), stage),
      setState: ex.setState as (a: number, b: number) => void,
      stateA: ex.stateA as () => number,
      stateB: ex.stateB as () => number,
      decodeBlock: ex.decodeBlock as (i: number, end: number) => number,
      stoppedAt: ex.stoppedAt as () => number,
    };
  } catch (e) {
    status[name] = `js (${path} failed to load: ${(e as Error).message})`;
    return null;
  }
}

/** The kernel, or null when unavailable. One instance per process: decoders use it synchronously, a block at a time. */
export function kernel(name: KernelName): StagingKernel | null {
  if (!loaded.has(name)) loaded.set(name, load(name));
  return loaded.get(name)!;
}

/** Resolve a decoder's `kernel` option ('auto' | 'wasm' | 'js'): 'wasm' demands the kernel (error naming why it is missing). */
export function chooseKernel(name: KernelName, choice: unknown = 'auto'): StagingKernel | null {
  if (choice === 'js') return null;
  if (choice !== 'auto' && choice !== 'wasm') throw new Error(`kernel must be 'auto', 'wasm' or 'js', got '${String(choice)}'`);
  const k = kernel(name);
  if (!k && choice === 'wasm') throw new Error(`the ${name} WASM kernel is unavailable: ${status[name]}`);
  return k;
}

/** Which kernel each format uses in this process, and why not WASM where it is not. */
export function kernelInfo(): Record<string, string> {
  for (const k of KERNELS) kernel(k);
  return { ...status } as Record<string, string>;
}
