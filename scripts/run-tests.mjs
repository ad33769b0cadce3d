// Runs every test/**/*.test.ts file with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk(join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`run-tests: no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// Tests that run the CLI or load the WASM kernels use dist/: build it first when a source is newer,
// so a stale build (or a WASM build that failed) is never what gets tested.
const newest = (dir) => {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) t = Math.max(t, newest(p));
    else if (name.endsWith('.ts') || name.endsWith('.mjs')) t = Math.max(t, st.mtimeMs);
  }
  return t;
};
const builtAt = () => {
  const outputs = [join(root, 'dist', 'src', 'index.js')];
  for (const f of readdirSync(join(root, 'src', 'wasm'))) if (f.endsWith('.as.ts')) outputs.push(join(root, 'dist', 'wasm', f.replace(/\.as\.ts$/, '.wasm')));
  return outputs.every((f) => existsSync(f)) ? Math.min(...outputs.map((f) => statSync(f).mtimeMs)) : 0;
};
const sourcesAt = Math.max(...['src', 'operators', 'adapters', 'scripts'].map((d) => newest(join(root, d))));
if (sourcesAt > builtAt()) {
  console.error('run-tests: dist/ is older than the sources: npm run build');
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) {
    console.error('run-tests: the build failed; not testing a stale dist/');
    process.exit(b.status ?? 1);
  }
}

const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
