/**
 * Loads the WebAssembly decode kernels (compiled from src/wasm/*.as.ts into dist/wasm/ by
 * `npm run build`, which `npm ci` runs) and reports which kernel each format uses. When a kernel
 * file is missing the decoders use their TypeScript loops, and `kernelInfo()` says why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Evt2Kernel {
  readonly stage: number;
  readonly inCapacity: number;
  /** Input words (little-endian u32) as bytes: copy chunk words here before decodeBlock. */
  readonly input: Uint8Array;
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly t: Float64Array;
  readonly p: Uint8Array;
  setBase(b: number): void;
  getBase(): number;
  decodeBlock(i: number, end: number): number;
  stoppedAt(): number;
}

export type KernelChoice = 'auto' | 'wasm' | 'js';

const status: Record<string, string> = {};

/** Where each compiled kernel is looked for: beside dist/src/formats (built) or from src/formats (tsx). */
function kernelPath(name: string): string | undefined {
  for (const rel of [`../../wasm/${name}.wasm`, `../../dist/wasm/${name}.wasm`]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

function instantiate(name: string): WebAssembly.Instance | undefined {
  const path = kernelPath(name);
  if (!path) {
    status[name] = `js (dist/wasm/${name}.wasm not built: run npm run build)`;
    return undefined;
  }
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {
      env: {
        abort: () => {
          throw new Error(`${name} kernel aborted`);
        },
      },
    });
    status[name] = 'wasm';
    return instance;
  } catch (e) {
    status[name] = `js (${path} failed to load: ${(e as Error).message})`;
    return undefined;
  }
}

const addr = (v: unknown): number => (typeof v === 'number' ? v : Number((v as WebAssembly.Global).value));

let evt2: Evt2Kernel | null | undefined;

/** The EVT 2.0 kernel, or null when it is unavailable (see kernelInfo). One instance per process: decoders use it synchronously, one block at a time. */
export function evt2Kernel(): Evt2Kernel | null {
  if (evt2 !== undefined) return evt2;
  const inst = instantiate('evt2');
  if (!inst) return (evt2 = null);
  const ex = inst.exports as Record<string, unknown>;
  const buf = (ex.memory as WebAssembly.Memory).buffer;
  const stage = addr(ex.STAGE);
  const inCapacity = addr(ex.IN_CAPACITY);
  return (evt2 = {
    stage,
    inCapacity,
    input: new Uint8Array(buf, addr(ex.IN_WORDS), inCapacity * 4),
    x: new Uint16Array(buf, addr(ex.SX), stage),
    y: new Uint16Array(buf, addr(ex.SY), stage),
    t: new Float64Array(buf, addr(ex.ST), stage),
    p: new Uint8Array(buf, addr(ex.SP), stage),
    setBase: ex.setBase as (b: number) => void,
    getBase: ex.getBase as () => number,
    decodeBlock: ex.decodeBlock as (i: number, end: number) => number,
    stoppedAt: ex.stoppedAt as () => number,
  });
}

/** Resolve a decoder's `kernel` option: 'wasm' demands the kernel (error naming why it is missing). */
export function chooseEvt2Kernel(choice: unknown = 'auto'): Evt2Kernel | null {
  if (choice === 'js') return null;
  if (choice !== 'auto' && choice !== 'wasm') throw new Error(`kernel must be 'auto', 'wasm' or 'js', got '${String(choice)}'`);
  const k = evt2Kernel();
  if (!k && choice === 'wasm') throw new Error(`the evt2 WASM kernel is unavailable: ${status.evt2}`);
  return k;
}

/** Which kernel each format uses in this process, and why not WASM where it is not. */
export function kernelInfo(): Record<string, string> {
  evt2Kernel();
  return { ...status };
}
