/**
 * Big-endian unsigned reads from byte arrays, for the jAER-style [address, timestamp] records of
 * AEDAT 1.0/2.0 and cochlea files (network byte order, at any alignment, so no typed-array views).
 * Tiny on purpose: V8 inlines them in record loops. Callers keep `at` within bounds.
 */

/** Unsigned 16-bit big-endian value at `at`. */
export function u16be(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/** Unsigned 32-bit big-endian value at `at`. */
export function u32be(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
