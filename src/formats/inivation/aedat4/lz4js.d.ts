/**
 * Types for the parts of `lz4js` (CommonJS, ships no types) that the AEDAT4 codec uses.
 * Imported from ESM as the default export (module.exports).
 */
declare module 'lz4js' {
  interface Lz4js {
    /** Compress `src` into one LZ4 frame (version 1, 4 MiB blocks, no checksums). */
    compress(src: Uint8Array, maxSize?: number): Uint8Array;
    /** Decode one LZ4 block src[sIndex, sIndex+sLength) into dst at dIndex; returns the new dIndex. No bounds checks. */
    compressBound(n: number): number;
    compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  }
  const lz4js: Lz4js;
  export default lz4js;
}

declare module 'lz4js/xxh32.js' {
  interface Xxh32 {
    /** xxHash32 of src[index, index+length) with `seed` (returned as a signed or unsigned 32-bit number). */
    hash(seed: number, src: Uint8Array, index: number, length: number): number;
  }
  const xxh32: Xxh32;
  export default xxh32;
}
