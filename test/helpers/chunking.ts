/** Chunking-invariance checks: a decoder must give identical output for any chunk boundaries. */
import assert from 'node:assert/strict';
import { decodeBuffer, allEvents, type Decoded } from '../../src/formats/decode-all.js';
import type { DecoderOptions } from '../../src/formats/types.js';

/** Deterministic pseudo-random chunk sizes (xorshift), including 1-byte chunks. */
export function chunkSizes(seed: number, count: number, max: number): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(i % 7 === 0 ? 1 : 1 + (s % max));
  }
  return out;
}

/** FNV-1a over the event columns: a compact checksum for comparing whole decodes. */
export function eventChecksum(d: Decoded): string {
  const e = allEvents(d);
  let h = 0x811c9dc5;
  const mix = (v: number) => {
    h ^= v & 0xffff;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= (v / 65536) & 0xffff;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (let i = 0; i < e.length; i++) {
    mix(e.x[i]!);
    mix(e.y[i]!);
    mix(e.t[i]! % 4294967296);
    mix(Math.floor(e.t[i]! / 4294967296));
    mix(e.p[i]!);
  }
  return h.toString(16).padStart(8, '0');
}

/** Decode whole and in several random chunkings; assert identical events, side counts and errors. */
export function assertChunkingInvariant(bytes: Uint8Array, format: string, options: DecoderOptions = {}, seeds = [1, 2, 3]): Decoded {
  const whole = decodeBuffer(bytes, format, options);
  const ref = eventChecksum(whole);
  const refEvents = allEvents(whole).length;
  for (const seed of seeds) {
    const max = seed === 1 ? 7 : seed === 2 ? 333 : 65537;
    const chunked = decodeBuffer(bytes, format, { ...options, chunkSizes: chunkSizes(seed, 4096, max) });
    assert.equal(allEvents(chunked).length, refEvents, `event count differs with chunking seed ${seed}`);
    assert.equal(eventChecksum(chunked), ref, `events differ with chunking seed ${seed}`);
    assert.deepEqual(sideCounts(chunked), sideCounts(whole), `side streams differ with chunking seed ${seed}`);
    assert.deepEqual(chunked.errors.map((e) => e.offset), whole.errors.map((e) => e.offset), `errors differ with chunking seed ${seed}`);
  }
  return whole;
}

export function sideCounts(d: Decoded): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of d.side) c[s.kind] = (c[s.kind] ?? 0) + (s.kind === 'frame' ? 1 : s.length);
  return c;
}
