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
interface KindArray {
  f64: Float64Array;
  f32: Float32Array;
  i32: Int32Array;
  u8: Uint8Array;
}

export interface ArraySlot {
  readonly name: string;
  readonly kind: ArrayKind;
  readonly length: number;
  readonly byteOffset: number;
}

const BYTES: Record<ArrayKind, number> = { f64: 8, f32: 4, i32: 4, u8: 1 };
const ALIGN = 16;

/**
 * Besides the state, an arena hands out scratch: working memory a fast kernel derives from the state
 * (say, per-step queues of arriving synapses). Scratch lies after every state array, is never
 * checkpointed, and is zeroed whenever the state is overwritten wholesale (`clearScratch`), so a
 * kernel must treat all-zero scratch as empty and rebuild it.
 */
export class StateArena {
  private readonly slots: ArraySlot[] = [];
  private readonly scratchViews: StateArray[] = [];
  private readonly views = new Map<string, StateArray>();
  private next: number;
  private scratchNext: number;
  private scratchTotal = ALIGN;
  /** Where the state must end (0: unchecked). */
  private readonly stateEnd: number;

  /**
   * @param buffer where to place arrays; omit for a sizing arena (each array gets its own buffer).
   * @param base byte offset in `buffer` where the arena starts (WASM kernels keep their own data below).
   * @param stateBytes with a buffer: the state's size (the sizing pass's byteLength); scratch starts after it.
   */
  constructor(
    readonly buffer?: ArrayBuffer,
    readonly base = 0,
    stateBytes = 0,
  ) {
    this.next = base;
    this.stateEnd = stateBytes > 0 ? base + stateBytes : 0;
    this.scratchNext = Math.ceil((base + stateBytes) / ALIGN) * ALIGN;
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

  /** A scratch array (see the class comment): in the buffer after the state, or on its own in a sizing arena. */
  scratch<K extends ArrayKind>(name: string, kind: K, length: number): KindArray[K] {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`StateArena: bad scratch length ${length} for '${name}'`);
    const bytes = length * BYTES[kind];
    this.scratchTotal += Math.ceil(bytes / ALIGN) * ALIGN;
    const buf = this.buffer;
    const at = this.scratchNext;
    if (buf && at + bytes > buf.byteLength) throw new RangeError(`StateArena: scratch '${name}' does not fit (${at + bytes} > ${buf.byteLength} bytes)`);
    const view = make(kind, buf ?? new ArrayBuffer(bytes), buf ? at : 0, length);
    this.scratchNext = Math.ceil((at + bytes) / ALIGN) * ALIGN;
    this.scratchViews.push(view);
    return view as KindArray[K];
  }

  /** Bytes the scratch arrays take after the state (alignment included): what a sizing arena reports for pass 2. */
  get scratchBytes(): number {
    return this.scratchTotal;
  }

  /** Zeroes every scratch array: the state was overwritten, so whatever kernels derived from it is stale. */
  clearScratch(): void {
    for (const v of this.scratchViews) v.fill(0);
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
    if (buf && this.stateEnd > 0 && byteOffset + bytes > this.stateEnd) throw new RangeError(`StateArena: '${name}' runs past the state size given (${this.stateEnd - this.base} bytes), into scratch`);
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
