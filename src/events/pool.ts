/**
 * PacketPool: recycles the typed arrays behind packets so a steady stream does not churn the GC.
 *
 * Buffers have one fixed capacity. `acquire()` hands out full-capacity arrays; a packet built on
 * them (usually a prefix view) may be given back with `release(packet)` once its consumer is done.
 * Releasing is optional: an unreleased buffer is simply garbage-collected.
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

  acquire(): EventBuffers {
    const b = this.free.pop();
    if (b) {
      this.reused++;
      return b;
    }
    this.allocated++;
    const c = this.capacity;
    return { x: new Uint16Array(c), y: new Uint16Array(c), t: new Float64Array(c), p: new Uint8Array(c) };
  }

  /** Give back the buffers behind a packet. Packets not built on this pool's buffers are ignored. */
  release(packet: EventPacket): boolean {
    const c = this.capacity;
    const { x, y, t, p } = packet;
    if (x.buffer.byteLength !== 2 * c || y.buffer.byteLength !== 2 * c || t.buffer.byteLength !== 8 * c || p.buffer.byteLength !== c) return false;
    if (this.free.length >= this.maxIdle) return false;
    this.free.push({
      x: new Uint16Array(x.buffer as ArrayBuffer),
      y: new Uint16Array(y.buffer as ArrayBuffer),
      t: new Float64Array(t.buffer as ArrayBuffer),
      p: new Uint8Array(p.buffer as ArrayBuffer),
    });
    return true;
  }

  get idle(): number {
    return this.free.length;
  }
}
