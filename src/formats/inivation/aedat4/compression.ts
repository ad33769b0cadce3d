/**
 * Packet payload (de)compression for AEDAT 4.0. Each compressed packet is exactly ONE frame:
 *
 *   LZ4 (LZ4, LZ4_HIGH): frame format v1 — magic 04 22 4D 18 | FLG | BD | [content size 8]
 *       | [dict id 4] | HC | { u32 block size (bit 31: stored) | data | [checksum 4] }* | 0 | [checksum 4].
 *       DV writes 64 KiB *linked* blocks: a block may copy from the previous ones, so all blocks are
 *       decoded into one contiguous output. The frame is walked and checked here (header checksum,
 *       block sizes inside the payload, end mark exactly at the payload end, output bound per
 *       block); the blocks themselves are decoded by our bounds-checked `lz4-block.ts`, or by the
 *       same decoder compiled to WebAssembly (src/wasm/lz4.as.ts, through `lz4DecodeBlockFast`), which
 *       hands every block it cannot decode to `lz4-block.ts`, so output and errors are the same.
 *   ZSTD (ZSTD, ZSTD_HIGH): decoded by `fzstd`.
 *
 * Writing supports NONE and LZ4 (lz4js); ZSTD only through a caller-supplied compressor, since
 * no ZSTD compressor is a runtime dependency.
 */

import lz4js from 'lz4js';
import xxh32 from 'lz4js/xxh32.js';
import { lz4DecodeBlockFast } from '../../wasm-kernels.js';
import { decompress as zstdDecompress } from 'fzstd';
import { Compression, COMPRESSION_NAMES } from './schema.js';

export class CodecError extends Error {}

const LZ4_MAGIC = 0x184d2204;
const BLOCK_MAX: Record<number, number> = { 4: 0x10000, 5: 0x40000, 6: 0x100000, 7: 0x400000 };

function u32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** Decode one complete LZ4 frame that fills `src` exactly. Throws CodecError when malformed. */
export function lz4DecompressFrame(src: Uint8Array): Uint8Array {
  const fail = (what: string): never => {
    throw new CodecError(`LZ4 frame: ${what}`);
  };
  if (src.length < 7 || u32(src, 0) !== LZ4_MAGIC) fail('bad magic number');
  const flg = src[4]!;
  const bd = src[5]!;
  if (flg >> 6 !== 1) fail(`unsupported version ${flg >> 6}`);
  if (flg & 0x01) fail('needs a dictionary');
  const blockChecksum = (flg & 0x10) !== 0;
  const contentSizeFlag = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const blockMax = BLOCK_MAX[(bd >> 4) & 7] ?? fail(`bad block size code ${(bd >> 4) & 7}`);
  let s = 6;
  let contentSize = -1;
  if (contentSizeFlag) {
    if (src.length < s + 9) fail('truncated header');
    contentSize = u32(src, s) + u32(src, s + 4) * 4294967296;
    s += 8;
  }
  if (((xxh32.hash(0, src, 4, s - 4) >>> 8) & 0xff) !== src[s]) fail('header checksum mismatch');
  s += 1;

  // First pass: walk the blocks to bound the output and check that they fill the payload exactly.
  let bound = 0;
  const walkStart = s;
  for (;;) {
    if (s + 4 > src.length) fail('truncated (no end mark)');
    const word = u32(src, s);
    s += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax) fail(`block of ${size} bytes exceeds the ${blockMax}-byte maximum`);
    bound += word & 0x80000000 ? size : blockMax;
    s += size + (blockChecksum ? 4 : 0);
    if (s > src.length) fail('block runs past the end of the packet');
  }
  if (contentChecksum) s += 4;
  if (s !== src.length) fail(`${src.length - s} bytes after the end mark`);
  if (contentSize >= 0) {
    if (contentSize > bound) fail(`content size ${contentSize} exceeds what the blocks can hold`);
    bound = contentSize;
  }

  const dst = new Uint8Array(bound);
  let d = 0;
  s = walkStart;
  for (;;) {
    const word = u32(src, s);
    s += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const before = d;
    if (word & 0x80000000) {
      dst.set(src.subarray(s, s + size), d);
      d += size;
    } else {
      try {
        d = lz4DecodeBlockFast(src, s, size, dst, d);
      } catch (e) {
        fail((e as Error).message);
      }
    }
    if (d - before > blockMax || d > bound) fail('block decodes to more bytes than allowed (corrupt block)');
    s += size + (blockChecksum ? 4 : 0);
  }
  if (contentSize >= 0 && d !== contentSize) fail(`decoded ${d} bytes, header says ${contentSize}`);
  if (contentChecksum && xxh32.hash(0, dst, 0, d) >>> 0 !== u32(src, src.length - 4)) fail('content checksum mismatch (corrupt data)');
  return d === bound ? dst : dst.subarray(0, d);
}

/** One LZ4 frame holding `src`. */
export function lz4CompressFrame(src: Uint8Array): Uint8Array {
  return lz4js.compress(src);
}

/** Decompress one packet payload according to the IOHeader compression code. */
export function decompressPayload(compression: number, payload: Uint8Array): Uint8Array {
  switch (compression) {
    case Compression.NONE:
      return payload;
    case Compression.LZ4:
    case Compression.LZ4_HIGH:
      return lz4DecompressFrame(payload);
    case Compression.ZSTD:
    case Compression.ZSTD_HIGH:
      try {
        return zstdDecompress(payload);
      } catch (e) {
        throw new CodecError(`ZSTD frame: ${(e as Error).message}`);
      }
    default:
      throw new CodecError(`unknown compression ${compression}`);
  }
}

export function compressionName(code: number): string {
  return COMPRESSION_NAMES[code] ?? `unknown(${code})`;
}
