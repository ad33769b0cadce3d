// Compiles the AssemblyScript kernels in src/wasm/*.as.ts to dist/wasm/*.wasm (nothing to do when there are none).
// The decode kernels (layout.ts) import one shared memory of 64 MiB (1024 pages: layout.ts MEMORY_PAGES),
// created by src/formats/wasm-kernels.ts; the LZ4 kernel has its own fixed 2 MiB; the SNN kernels and the
// event filters import theirs, sized to each network or filter.
import { readdirSync, mkdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const srcDir = join(root, 'src', 'wasm');
const outDir = join(root, 'dist', 'wasm');
const DECODE_MEMORY = ['--importMemory', '--initialMemory', '1024', '--maximumMemory', '1024'];
const MEMORY = {
  'snn.as.ts': ['--importMemory', '--initialMemory', '1'],
  'pixels.as.ts': ['--importMemory', '--initialMemory', '1'],
  'evt2.as.ts': DECODE_MEMORY,
  'evt21.as.ts': DECODE_MEMORY,
  'evt3.as.ts': DECODE_MEMORY,
  'dat.as.ts': DECODE_MEMORY,
  'times.as.ts': DECODE_MEMORY,
};
const FIXED_MEMORY = ['--initialMemory', '32', '--maximumMemory', '32'];
const kernels = existsSync(srcDir) ? readdirSync(srcDir).filter((f) => f.endsWith('.as.ts')) : [];
if (kernels.length) mkdirSync(outDir, { recursive: true });
for (const k of kernels) {
  const out = join(outDir, k.replace(/\.as\.ts$/, '.wasm'));
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), join(srcDir, k), '-O3', '--runtime', 'stub', '--enable', 'simd', '--noAssert', ...(MEMORY[k] ?? FIXED_MEMORY), '-o', out], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log(`build-wasm: ${k} -> ${out}`);
}
