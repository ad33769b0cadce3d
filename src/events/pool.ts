/**
 * PacketPool: recycles the typed arrays behind packets so a steady stream does not churn the GC.
 *
 * Buffers have one fixed capacity. Several packets may be views of one buffer (a PacketBuilder
 * hands out consecutive slices of the buffer it fills), so the pool counts holders per buffer:
 * `retain` for each packet handed out, `release(packet)` when its consumer is done. A buffer
 * returns to the free list only when no holder remains. Releasing is optional: an unreleased
 * buffer is simply garbage-collected.
 */

import type { EventPacket } from './packet.js';

export interface EventBuffers {
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly t: Float64Array;
  readonly p: Uint8Array;
}

export class PacketPool {
  private readonly free: EventBuffers[] = [];
  // Weak: a buffer whose packets are never released must stay collectable (release is optional).
  private readonly holders = new WeakMap<ArrayBufferLike, { buffers: EventBuffers; count: number }>();
  /** Buffers handed out that came from the free list (for tests and metrics). */
  reused = 0;
  allocated = 0;

  constructor(
    readonly capacity: number,
    /** At most this many idle buffers are kept. */
    readonly maxIdle = 16,
  ) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`PacketPool: capacity must be a positive integer, got ${capacity}`);
  }

  /** Full-capacity buffers, held once by the caller (give them back with `drop`). */
  acquire(): EventBuffers {
    let b = this.free.pop();
    if (b) this.reused++;
    else {
      this.allocated++;
      const c = this.capacity;
      b = { x: new Uint16Array(c), y: new Uint16Array(c), t: new Float64Array(c), p: new Uint8Array(c) };
    }
    this.holders.set(b.x.buffer, { buffers: b, count: 1 });
    return b;
  }

  /** One more holder of the buffers behind `x` (a packet view handed to a consumer). */
  retain(x: Uint16Array): void {
    const h = this.holders.get(x.buffer);
    if (h) h.count++;
  }

  /** One holder fewer; the buffers go back to the free list when none remains. */
  drop(x: Uint16Array): boolean {
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
