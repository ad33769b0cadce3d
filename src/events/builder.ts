/**
 * PacketBuilder: the write side of a decoder. Hot loops write straight into `x/y/t/p` at index `n`
 * (after `reserve`), then `take()` returns what was written since the last take as packets.
 *
 *   b.reserve(k);              // room for k more events
 *   let i = b.n; b.x[i] = …; b.y[i] = …; b.t[i] = …; b.p[i] = …; b.n = i + 1;
 *
 * `take()` hands out views of the buffer being filled and keeps filling it after them (views never
 * overlap later writes), so many small takes cost no allocation; a new buffer is taken from the
 * pool only when the current one is full.
 */

import { packetOf, type EventPacket, type Geometry, type SourceInfo } from './packet.js';
import { PacketPool, type EventBuffers } from './pool.js';

export class PacketBuilder {
  x!: Uint16Array;
  y!: Uint16Array;
  t!: Float64Array;
  p!: Uint8Array;
  /** Write index into the current buffers. */
  n = 0;
  /** First index not yet handed out. */
  private start = 0;
  private readonly full: EventPacket[] = [];

  constructor(
    public geometry: Geometry,
    public source: SourceInfo,
    /** Maximum events per emitted packet; also the buffer capacity. Default: one pool shared process-wide. */
    readonly pool: PacketPool = sharedPool(),
  ) {
    this.adopt(pool.acquire());
  }

  get capacity(): number {
    return this.pool.capacity;
  }

  private adopt(b: EventBuffers): void {
    this.x = b.x;
    this.y = b.y;
    this.t = b.t;
    this.p = b.p;
    this.n = 0;
    this.start = 0;
  }

  /**
   * Make room for `count` more events (count <= capacity). When the current buffers cannot hold
   * them, the written part is set aside as a finished packet and fresh buffers are taken.
   */
  reserve(count: number): void {
    if (this.n + count > this.x.length) {
      this.cut();
      this.pool.drop(this.x);
      this.adopt(this.pool.acquire());
    }
  }

  /** Append one event (convenient, slower than writing the arrays in a loop). */
  push(x: number, y: number, t: number, p: number): void {
    if (this.n >= this.x.length) this.reserve(1);
    const i = this.n;
    this.x[i] = x;
    this.y[i] = y;
    this.t[i] = t;
    this.p[i] = p;
    this.n = i + 1;
  }

  /** Set aside [start, n) as a packet view. */
  private cut(): void {
    const s = this.start;
    const e = this.n;
    if (e === s) return;
    this.full.push(packetOf(this.x.subarray(s, e), this.y.subarray(s, e), this.t.subarray(s, e), this.p.subarray(s, e), this.geometry, this.source));
    this.pool.retain(this.x);
    this.start = e;
  }

  /** All packets completed since the last call, including the current partial one. */
  take(): EventPacket[] {
    this.cut();
    if (this.full.length === 0) return [];
    return this.full.splice(0, this.full.length);
  }

  /**
   * End of stream: the remaining packets, and the builder lets go of its buffer so the pool can
   * recycle it once those packets are released. The builder must not be written to afterwards.
   */
  finish(): EventPacket[] {
    const out = this.take();
    this.pool.drop(this.x);
    this.x = this.y = NO_U16;
    this.t = NO_F64;
    this.p = NO_U8;
    this.n = this.start = 0;
    return out;
  }

  /** Events written and not yet taken. */
  get pending(): number {
    let k = this.n - this.start;
    for (const f of this.full) k += f.length;
    return k;
  }
}

// What a finished builder holds: empty (never written, so they can be shared).
const NO_U16 = new Uint16Array(0);
const NO_F64 = new Float64Array(0);
const NO_U8 = new Uint8Array(0);

let shared: PacketPool | undefined;

/** The pool builders use when none is given: 65,536-event buffers, shared by all decoders. */
export function sharedPool(): PacketPool {
  return (shared ??= new PacketPool(65536, 32));
}
