/**
 * StateArena: every array of a network's state (membranes, thresholds, traces, weights, delays,
 * spike histories) lives in one ArrayBuffer, named and 16-byte aligned. A compute backend can
 * place that buffer in WASM linear memory or mirror it on a GPU with one copy, and a checkpoint is
 * the layout plus the bytes.
 *
 * Building is two-pass: the network is first built with a sizing arena (each array separate, the
 * layout recorded), then again into one buffer of exactly the recorded size.
 */

export type ArrayKind = 'f64' | 'f32' | 'i32' | 'u8';
export type StateArray = Float64Array | Float32Array | Int32Array | Uint8Array;

export interface ArraySlot {
  readonly name: string;
  readonly kind: ArrayKind;
  readonly length: number;
  readonly byteOffset: number;
}

/**
 * Working memory a fast kernel derives from the state (say, per-step queues of arriving synapses):
 * placed after every state array, never checkpointed, and zeroed whenever the state is overwritten
 * wholesale (`clearScratch`), so a kernel must treat an all-zero area as empty and rebuild it.
 */
export interface ScratchArea {
  readonly name: string;
  readonly bytes: number;
  /** Set once the network is built (`placeScratch`). */
  view: Uint8Array | undefined;
}

const BYTES: Record<ArrayKind, number> = { f64: 8, f32: 4, i32: 4, u8: 1 };
const ALIGN = 16;

export class StateArena {
  private readonly slots: ArraySlot[] = [];
  private readonly scratchAreas: ScratchArea[] = [];
  private readonly views = new Map<string, StateArray>();
  private next: number;

  /**
   * @param buffer where to place arrays; omit for a sizing arena (each array gets its own buffer).
   * @param base byte offset in `buffer` where the arena starts (WASM kernels keep their own data below).
   */
  constructor(
    readonly buffer?: ArrayBuffer,
    readonly base = 0,
  ) {
    this.next = base;
  }

  /** Total bytes used so far, from `base`. */
  get byteLength(): number {
    return this.next - this.base;
  }

  get layout(): readonly ArraySlot[] {
    return this.slots;
  }

  f64(name: string, length: number): Float64Array {
    return this.alloc(name, 'f64', length) as Float64Array;
  }
  f32(name: string, length: number): Float32Array {
    return this.alloc(name, 'f32', length) as Float32Array;
  }
  i32(name: string, length: number): Int32Array {
    return this.alloc(name, 'i32', length) as Int32Array;
  }
  u8(name: string, length: number): Uint8Array {
    return this.alloc(name, 'u8', length) as Uint8Array;
  }

  /** Reserves a scratch area of `bytes`, placed by `placeScratch` after all state arrays. */
  scratch(name: string, bytes: number): ScratchArea {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`StateArena: bad scratch size ${bytes} for '${name}'`);
    const area: ScratchArea = { name, bytes, view: undefined };
    this.scratchAreas.push(area);
    return area;
  }

  /** Bytes the scratch areas need after the state (alignment included). */
  get scratchBytes(): number {
    return this.scratchAreas.reduce((sum, a) => sum + Math.ceil(a.bytes / ALIGN) * ALIGN, ALIGN);
  }

  /** Places the scratch areas after the last state array (call once every array is allocated). */
  placeScratch(): void {
    let at = Math.ceil(this.next / ALIGN) * ALIGN;
    for (const a of this.scratchAreas) {
      if (this.buffer && at + a.bytes > this.buffer.byteLength) throw new RangeError(`StateArena: scratch '${a.name}' does not fit (${at + a.bytes} > ${this.buffer.byteLength} bytes)`);
      a.view = this.buffer ? new Uint8Array(this.buffer, at, a.bytes) : new Uint8Array(a.bytes);
      at += Math.ceil(a.bytes / ALIGN) * ALIGN;
    }
  }

  /** Zeroes every scratch area: the state was overwritten, so whatever kernels derived from it is stale. */
  clearScratch(): void {
    for (const a of this.scratchAreas) a.view?.fill(0);
  }

  get(name: string): StateArray {
    const v = this.views.get(name);
    if (!v) throw new Error(`StateArena: no array named '${name}'`);
    return v;
  }

  private alloc(name: string, kind: ArrayKind, length: number): StateArray {
    if (this.views.has(name)) throw new Error(`StateArena: array '${name}' allocated twice`);
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`StateArena: bad length ${length} for '${name}'`);
    const byteOffset = Math.ceil(this.next / ALIGN) * ALIGN;
    const bytes = length * BYTES[kind];
    const buf = this.buffer;
    if (buf && byteOffset + bytes > buf.byteLength) throw new RangeError(`StateArena: '${name}' does not fit (${byteOffset + bytes} > ${buf.byteLength} bytes)`);
    const view = make(kind, buf ?? new ArrayBuffer(bytes), buf ? byteOffset : 0, length);
    this.next = byteOffset + bytes;
    this.slots.push({ name, kind, length, byteOffset });
    this.views.set(name, view);
    return view;
  }
}

function make(kind: ArrayKind, buffer: ArrayBuffer, offset: number, length: number): StateArray {
  switch (kind) {
    case 'f64':
      return new Float64Array(buffer, offset, length);
    case 'f32':
      return new Float32Array(buffer, offset, length);
    case 'i32':
      return new Int32Array(buffer, offset, length);
    case 'u8':
      return new Uint8Array(buffer, offset, length);
  }
}
