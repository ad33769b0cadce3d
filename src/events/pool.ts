/**
 * PacketPool: recycles the typed arrays behind packets so a steady stream does not churn the GC.
 *
 * Buffers have one fixed capacity. Several packets may be views of one buffer (a PacketBuilder
 * hands out consecutive slices of the buffer it fills), so the pool counts holders per buffer:
 * `retain` for each packet handed out, `release(packet)` when its consumer is done. A buffer
 * returns to the free list only when no holder remains. Releasing is optional: an unreleased
 * buffer is simply garbage-collected.
 *
 * A pool may take its buffers from a SlabArena (`new PacketPool(capacity, maxIdle, arena)`): a fixed
 * region of one ArrayBuffer, such as the WASM decode kernels' memory, which the kernels then write
 * into directly (no copy out of their staging area). Arena buffers follow the same holder counting,
 * with one difference: they are never garbage-collected, since every view of the region keeps the
 * whole region alive. An arena buffer goes back to the arena only when all its holders have released
 * it; one whose packets are never released stays taken. When the arena has no free buffer of the
 * pool's capacity, the pool allocates ordinary ones, so a consumer that does not release loses
 * nothing but the speed-up. Use an arena pool only where packets are released.
 */

import { eventArrays, type EventPacket } from './packet.js';

export interface EventBuffers {
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly t: Float64Array;
  readonly p: Uint8Array;
}

/** One arena buffer: where it lies and who holds it. */
interface Slab {
  readonly buffers: EventBuffers;
  readonly capacity: number;
  /** Arena it goes back to (sub-arenas share their parent's index). */
  readonly arena: SlabArena;
  /** The pool that handed it out (null while free), and its holders there. */
  owner: PacketPool | null;
  count: number;
}

/** Slabs start on multiples of this many bytes, so a view's byteOffset finds its slab in one lookup. */
const GRANULE_BITS = 12;

/** Slab lookup shared by an arena and the sub-arenas split from it (they carve the same buffer). */
interface SlabIndex {
  readonly slabs: Slab[];
  /** Per granule of the buffer: 1 + index of the slab covering it, 0 for none. */
  readonly granules: Int32Array;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Packet buffers carved from bytes [start, end) of `buffer`, which must never detach (a WASM memory
 * that never grows). A slab holds one EventBuffers of some capacity: x, y (u16), t (f64), p (u8),
 * each 16-byte aligned. Slabs are carved on demand and, once free again, kept for the next request of
 * the same capacity; the region is never compacted.
 */
export class SlabArena {
  private next: number;
  private readonly index: SlabIndex;
  private readonly free = new Map<number, Slab[]>();

  constructor(
    readonly buffer: ArrayBufferLike,
    start: number,
    readonly end: number,
    index?: SlabIndex,
  ) {
    if (!(start >= 0 && start <= end && end <= buffer.byteLength)) throw new RangeError(`SlabArena: bad region [${start}, ${end}) of a ${buffer.byteLength}-byte buffer`);
    this.next = align(start, 1 << GRANULE_BITS);
    this.index = index ?? { slabs: [], granules: new Int32Array(Math.ceil(buffer.byteLength / (1 << GRANULE_BITS))) };
  }

  /** Bytes one slab of `capacity` events takes (before rounding up to the granule). */
  static slabBytes(capacity: number): number {
    return align(2 * capacity, 16) * 2 + align(8 * capacity, 16) + capacity;
  }

  /** Bytes not yet carved into slabs. */
  get uncarved(): number {
    return Math.max(0, this.end - this.next);
  }

  /**
   * A slab of `capacity` events for `owner` (holder count 1), or null when none is free and the
   * region has no room left for one. `fresh` tells whether it was newly carved.
   */
  take(capacity: number, owner: PacketPool): { buffers: EventBuffers; fresh: boolean } | null {
    let s = this.free.get(capacity)?.pop();
    const fresh = s === undefined;
    if (!s) {
      const bytes = SlabArena.slabBytes(capacity);
      let at = this.next;
      let id = 0;
      if (at + bytes <= this.end) this.next = align(at + bytes, 1 << GRANULE_BITS);
      else {
        // No room left to carve: re-carve the smallest free slab of another capacity that is big enough.
        const old = this.reusable(bytes);
        if (!old) return null;
        at = old.buffers.x.byteOffset;
        id = this.index.granules[at >>> GRANULE_BITS]!;
      }
      const yAt = at + align(2 * capacity, 16);
      const tAt = yAt + align(2 * capacity, 16);
      const pAt = tAt + align(8 * capacity, 16);
      const buffers: EventBuffers = {
        x: new Uint16Array(this.buffer, at, capacity),
        y: new Uint16Array(this.buffer, yAt, capacity),
        t: new Float64Array(this.buffer, tAt, capacity),
        p: new Uint8Array(this.buffer, pAt, capacity),
      };
      s = { buffers, capacity, arena: this, owner: null, count: 0 };
      if (id > 0) this.index.slabs[id - 1] = s; // the same granules, now this slab's
      else this.index.granules.fill(this.index.slabs.push(s), at >>> GRANULE_BITS, (at + bytes + (1 << GRANULE_BITS) - 1) >>> GRANULE_BITS);
    }
    s.owner = owner;
    s.count = 1;
    return { buffers: s.buffers, fresh };
  }

  /**
   * A sub-arena of `bytes` carved from this one's free region (for a pool that must not take more than
   * that, e.g. in tests); null when there is not that much room left.
   */
  split(bytes: number): SlabArena | null {
    const at = this.next;
    if (at + bytes > this.end) return null;
    this.next = align(at + bytes, 1 << GRANULE_BITS);
    return new SlabArena(this.buffer, at, at + bytes, this.index);
  }

  /** The slab that `x` (a slab's x array or a view inside it) belongs to, if it lies in this buffer's slabs. */
  slabOf(x: Uint16Array): Slab | undefined {
    if (x.buffer !== this.buffer) return undefined;
    const id = this.index.granules[x.byteOffset >>> GRANULE_BITS]!;
    return id > 0 ? this.index.slabs[id - 1] : undefined;
  }

  /** Free slabs kept for reuse (for tests and metrics). */
  get idle(): number {
    let n = 0;
    for (const list of this.free.values()) n += list.length;
    return n;
  }

  /** Takes the smallest free slab (of any capacity) of at least `bytes` off its free list. */
  private reusable(bytes: number): Slab | undefined {
    let best: number | undefined;
    for (const [capacity, list] of this.free) {
      if (list.length > 0 && SlabArena.slabBytes(capacity) >= bytes && (best === undefined || capacity < best)) best = capacity;
    }
    return best === undefined ? undefined : this.free.get(best)!.pop();
  }

  /** Back to the free list of its capacity (its pool has no holder left). */
  give(s: Slab): void {
    s.owner = null;
    s.count = 0;
    const list = this.free.get(s.capacity);
    if (list) list.push(s);
    else this.free.set(s.capacity, [s]);
  }
}

export class PacketPool {
  private readonly free: EventBuffers[] = [];
  // Weak: a buffer whose packets are never released must stay collectable (release is optional).
  private readonly holders = new WeakMap<ArrayBufferLike, { buffers: EventBuffers; count: number }>();
  /** The arena's buffer (undefined without an arena): views into it are looked up in the arena. */
  private readonly arenaBuffer: ArrayBufferLike | undefined;
  /** Buffers handed out that came from the free list (for tests and metrics). */
  reused = 0;
  allocated = 0;
  /** Buffers handed out from the arena (newly carved or reused), and ordinary ones allocated because it had none free. */
  fromArena = 0;
  arenaMisses = 0;

  constructor(
    readonly capacity: number,
    /** At most this many idle buffers are kept (arena buffers go back to the arena instead). */
    readonly maxIdle = 16,
    /** Take buffers from this arena while it has room (see the module comment: release what you take). */
    readonly arena?: SlabArena,
  ) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`PacketPool: capacity must be a positive integer, got ${capacity}`);
    this.arenaBuffer = arena?.buffer;
  }

  /** Full-capacity buffers, held once by the caller (give them back with `drop`). */
  acquire(): EventBuffers {
    if (this.arena) {
      const s = this.arena.take(this.capacity, this);
      if (s) {
        this.fromArena++;
        if (s.fresh) this.allocated++;
        else this.reused++;
        return s.buffers;
      }
      this.arenaMisses++;
    }
    let b = this.free.pop();
    if (b) this.reused++;
    else {
      this.allocated++;
      b = eventArrays(this.capacity);
    }
    this.holders.set(b.x.buffer, { buffers: b, count: 1 });
    return b;
  }

  /** One more holder of the buffers behind `x` (a packet view handed to a consumer). */
  retain(x: Uint16Array): void {
    if (x.buffer === this.arenaBuffer) {
      const s = this.arena!.slabOf(x);
      if (s && s.owner === this) s.count++;
      return;
    }
    const h = this.holders.get(x.buffer);
    if (h) h.count++;
  }

  /** One holder fewer; the buffers go back to the free list (or the arena) when none remains. */
  drop(x: Uint16Array): boolean {
    if (x.buffer === this.arenaBuffer) {
      const s = this.arena!.slabOf(x);
      if (!s || s.owner !== this) return false;
      if (--s.count === 0) s.arena.give(s);
      return true;
    }
    const h = this.holders.get(x.buffer);
    if (!h) return false;
    if (--h.count > 0) return true;
    this.holders.delete(x.buffer);
    if (this.free.length < this.maxIdle) this.free.push(h.buffers);
    return true;
  }

  /** The consumer of `packet` is done with it. Packets not built on this pool are ignored (false). */
  release(packet: EventPacket): boolean {
    return this.drop(packet.x);
  }

  get idle(): number {
    return this.free.length;
  }
}
