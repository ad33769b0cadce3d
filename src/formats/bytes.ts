/**
 * Byte helpers shared by decoders and encoders: joining a partial word left from the previous chunk
 * with the next chunk, aligned little-endian word views, and concatenation.
 */

/** The parts as one array (the only part itself when there is one; no copy then). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Carries the incomplete tail of one chunk into the next. `join(chunk)` returns the bytes to decode
 * now (whole records of `recordSize`), keeping any new incomplete tail.
 * Copies only when a tail exists (at most recordSize-1 bytes plus the chunk).
 */
export class RecordCarry {
  private tail: Uint8Array = new Uint8Array(0);
  /** Absolute stream offset of the first byte returned by the last `join`. */
  offset = 0;
  private consumed = 0;

  constructor(readonly recordSize: number) {}

  join(chunk: Uint8Array): Uint8Array {
    let data = chunk;
    if (this.tail.length > 0) {
      data = new Uint8Array(this.tail.length + chunk.length);
      data.set(this.tail, 0);
      data.set(chunk, this.tail.length);
    }
    this.offset = this.consumed - this.tail.length;
    const whole = data.length - (data.length % this.recordSize);
    this.tail = data.slice(whole);
    this.consumed += chunk.length;
    return data.subarray(0, whole);
  }

  /** Bytes left over (an incomplete record) — non-zero at end of stream means truncation. */
  get pending(): number {
    return this.tail.length;
  }

  /** Absolute offset of the pending tail. */
  get pendingOffset(): number {
    return this.consumed - this.tail.length;
  }
}

/**
 * A Uint32Array over `bytes` (little-endian host assumed, as on x86/ARM). Copies when the byte
 * offset is not 4-aligned, since typed-array views require alignment.
 */
export function u32View(bytes: Uint8Array): Uint32Array {
  const n = bytes.length >>> 2;
  if ((bytes.byteOffset & 3) === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  const copy = new Uint8Array(n * 4);
  copy.set(bytes.subarray(0, n * 4));
  return new Uint32Array(copy.buffer, 0, n);
}

export function u16View(bytes: Uint8Array): Uint16Array {
  const n = bytes.length >>> 1;
  if ((bytes.byteOffset & 1) === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  const copy = new Uint8Array(n * 2);
  copy.set(bytes.subarray(0, n * 2));
  return new Uint16Array(copy.buffer, 0, n);
}

export const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const latin1 = new TextDecoder('latin1');
export function ascii(bytes: Uint8Array): string {
  return latin1.decode(bytes);
}
