/**
 * Atomic file output: bytes go to a temporary file beside the target, which is renamed over the
 * target on `commit()`; `abort()` (or any failure) removes it, so a reader never sees half a file.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

export class AtomicFile {
  private readonly tmp: string;
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
  }

  write(bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.path}: write after commit/abort`);
    if (bytes.length) writeSync(this.fd, bytes);
  }

  commit(): void {
    if (this.fd === undefined) throw new Error(`${this.path}: already closed`);
    closeSync(this.fd);
    this.fd = undefined;
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } finally {
      this.fd = undefined;
      rmSync(this.tmp, { force: true });
    }
  }
}

export function writeFileAtomic(path: string, parts: readonly Uint8Array[]): void {
  const f = new AtomicFile(path);
  try {
    for (const p of parts) f.write(p);
    f.commit();
  } finally {
    f.abort();
  }
}
