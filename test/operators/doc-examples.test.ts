// Every operator's doc-comment @example runs as written (package imports mapped to this checkout).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/shared-data.js';

const dir = join(REPO_ROOT, 'operators');
const all = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'support.ts');
// The stream operators' examples are complete programs; snn's and decide's need a network and a
// step stream around them, so they are only required to exist.
const files = [
  'bin-steps.ts', 'count-windows.ts', 'denoise.ts', 'downsample.ts', 'encode.ts', 'flip.ts', 'hot-pixels.ts',
  'merge-by-time.ts', 'polarity.ts', 'refractory.ts', 'roi.ts', 'rotate.ts', 'tap-metrics.ts', 'transpose.ts',
];

test('every operator file has an example', () => {
  for (const f of files) assert.ok(all.includes(f), `${f} exists`);
  for (const f of all) assert.match(readFileSync(join(dir, f), 'utf8'), /@example\n/, f);
});

const run = promisify(execFile);

// Concurrent: each example is a fresh Node + tsx process, mostly start-up time.
describe('operator examples', { concurrency: 4 }, () => {
for (const f of files) {
  test(`the ${f} example runs`, async () => {
    const text = readFileSync(join(dir, f), 'utf8');
    const block = /@example\n((?: \* {3}.*\n| \*\n)+)/.exec(text);
    assert.ok(block, `${f}: no @example block`);
    const code = block[1]!
      .split('\n')
      .map((l) => l.replace(/^ \* {0,3}/, ''))
      .join('\n')
      .replaceAll("'spikeflow/operators'", `'${join(REPO_ROOT, 'operators', 'index.ts')}'`)
      // The examples only take openEmulator from the adapters: importing its file alone skips
      // loading every network adapter's dependencies (seconds per example).
      .replaceAll("import { openEmulator } from 'spikeflow/adapters'", `import { openEmulator } from '${join(REPO_ROOT, 'adapters', 'emulator-source.ts')}'`);
    assert.ok(!code.includes('spikeflow/adapters'), `${f}: the example imports more than openEmulator from the adapters`);
    const out = join(REPO_ROOT, 'tmp', 'operator-examples');
    mkdirSync(out, { recursive: true });
    const file = join(out, f);
    writeFileSync(file, code);
    // execFile rejects (failing the test with its stderr) on a non-zero exit or the timeout.
    const r = await run(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
    assert.ok(r.stdout.trim().length > 0, `${f} example prints something`);
  });
}
});
