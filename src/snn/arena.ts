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

const BYTES: Record<ArrayKind, number> = { f64: 8, f32: 4, i32: 4, u8: 1 };
const ALIGN = 16;

export class StateArena {
  private readonly slots: ArraySlot[] = [];
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
