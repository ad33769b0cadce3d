/**
 * PacketBuilder: the write side of a decoder. Hot loops write straight into `x/y/t/p` at index `n`
 * (after `reserve`), then `take()` returns the filled prefix as a packet and starts fresh buffers.
 *
 *   b.reserve(k);              // room for k more events
 *   const i = b.n; b.x[i] = …; b.y[i] = …; b.t[i] = …; b.p[i] = …; b.n = i + 1;
 */

import { packetOf, type EventPacket, type Geometry, type SourceInfo } from './packet.js';
import { PacketPool, type EventBuffers } from './pool.js';

export class PacketBuilder {
  x!: Uint16Array;
  y!: Uint16Array;
  t!: Float64Array;
  p!: Uint8Array;
  /** Events written so far into the current buffers. */
  n = 0;
  private readonly full: EventPacket[] = [];

  constructor(
    public geometry: Geometry,
    public source: SourceInfo,
    /** Maximum events per emitted packet; also the buffer capacity. */
    readonly pool: PacketPool = new PacketPool(65536),
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
  }

  /**
   * Make room for `count` more events (count <= capacity). When the current buffers cannot hold
   * them, the filled part is set aside as a finished packet and fresh buffers are taken.
   */
  reserve(count: number): void {
    if (this.n + count > this.x.length) this.seal();
  }

  /** Append one event (convenient, slower than writing the arrays in a loop). */
  push(x: number, y: number, t: number, p: number): void {
    if (this.n >= this.x.length) this.seal();
    const i = this.n;
    this.x[i] = x;
    this.y[i] = y;
    this.t[i] = t;
    this.p[i] = p;
    this.n = i + 1;
  }

  private seal(): void {
    if (this.n === 0) return;
    const n = this.n;
    this.full.push(packetOf(this.x.subarray(0, n), this.y.subarray(0, n), this.t.subarray(0, n), this.p.subarray(0, n), this.geometry, this.source));
    this.adopt(this.pool.acquire());
  }

  /** All packets completed since the last call, including the current partial one. */
  take(): EventPacket[] {
    this.seal();
    if (this.full.length === 0) return [];
    return this.full.splice(0, this.full.length);
  }

  /** Events written and not yet taken. */
  get pending(): number {
    let k = this.n;
    for (const f of this.full) k += f.length;
    return k;
  }
}
