/**
 * Synchronous chunked file reading for command-line tools that process a file start to end
 * (inspect, convert). Streaming sources for pipelines live in file-source.ts.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface FileChunk {
  /** Valid only until the next iteration: the buffer is reused. */
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly fileSize: number;
}

export function* readChunksSync(path: string, chunkSize = 1 << 20): Generator<FileChunk> {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const buf = new Uint8Array(chunkSize);
    let offset = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, chunkSize, offset);
      if (n <= 0) break;
      yield { bytes: buf.subarray(0, n), offset, fileSize };
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The first `size` bytes of a file (for format detection). */
export function readHeadSync(path: string, size = 65536): Uint8Array {
  for (const c of readChunksSync(path, size)) return c.bytes.slice();
  return new Uint8Array(0);
}
