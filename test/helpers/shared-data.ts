/** Locates the real recordings in ../shared/data (or $SPIKEFLOW_SHARED_DATA) and reads them. */
import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DATA = process.env.SPIKEFLOW_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');

export function sharedPath(name: string): string {
  const p = resolve(SHARED_DATA, name);
  if (!existsSync(p)) throw new Error(`shared recording ${p} not found: tests need ../shared/data beside the repository`);
  return p;
}

export function readShared(name: string): Uint8Array {
  const b = readFileSync(sharedPath(name));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export const REPO_ROOT = repoRoot;
