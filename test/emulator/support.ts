/** Helpers shared by the emulator tests: flattening packets, a checksum, a least-squares slope. */
import type { EventPacket } from '../../src/events/packet.js';

export interface Flat {
  x: number[];
  y: number[];
  t: number[];
  p: number[];
}

export function flatten(packets: readonly EventPacket[]): Flat {
  const f: Flat = { x: [], y: [], t: [], p: [] };
  for (const pk of packets) {
    for (let i = 0; i < pk.length; i++) {
      f.x.push(pk.x[i]!);
      f.y.push(pk.y[i]!);
      f.t.push(pk.t[i]!);
      f.p.push(pk.p[i]!);
    }
  }
  return f;
}

/** FNV-1a over (x, y, t, p) of every event, in order. */
export function checksum(packets: readonly EventPacket[]): string {
  let h = 0x811c9dc5;
  const mix = (v: number): void => {
    h ^= v & 0xffff;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= (v / 65536) & 0xffff;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (const pk of packets) {
    for (let i = 0; i < pk.length; i++) {
      mix(pk.x[i]!);
      mix(pk.y[i]!);
      mix(pk.t[i]! % 4294967296);
      mix(pk.p[i]!);
    }
  }
  return h.toString(16).padStart(8, '0');
}

export function eventCount(packets: readonly EventPacket[]): number {
  let n = 0;
  for (const pk of packets) n += pk.length;
  return n;
}

/** Least-squares slope of v against u. */
export function slope(u: readonly number[], v: readonly number[]): number {
  const n = u.length;
  let mu = 0;
  let mv = 0;
  for (let i = 0; i < n; i++) {
    mu += u[i]!;
    mv += v[i]!;
  }
  mu /= n;
  mv /= n;
  let suv = 0;
  let suu = 0;
  for (let i = 0; i < n; i++) {
    suv += (u[i]! - mu) * (v[i]! - mv);
    suu += (u[i]! - mu) ** 2;
  }
  return suv / suu;
}
