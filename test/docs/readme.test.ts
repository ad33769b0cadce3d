// The README's TypeScript examples run as written (against the built package, imported by name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../helpers/shared-data.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts( no-run)?\n([\s\S]*?)```/g)];
const dir = join(REPO_ROOT, 'tmp', 'readme-examples');

test('the README has TypeScript examples', () => {
  assert.ok(blocks.filter((b) => !b[1]).length >= 4);
});

blocks.forEach((b, i) => {
  if (b[1]) return; // marked no-run: needs a live peer (e.g. a DV camera)
  const code = b[2]!;
  test(`README example ${i + 1} runs: ${code.split('\n')[0]}`, () => {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `example-${i + 1}.ts`);
    // The examples use ../shared/data relative to the repository root.
    writeFileSync(file, code);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `example ${i + 1} failed:\n${r.stderr}\n${r.stdout}`);
    assert.ok(r.stdout.trim().length > 0, 'prints something');
    for (const m of code.matchAll(/\/\/ ([^\n]*\d[^\n]*)$/gm)) {
      // comments that state printed numbers: each number must appear in the output
      for (const n of m[1]!.match(/\b\d{3,}\b/g) ?? []) assert.ok(r.stdout.includes(n), `example ${i + 1}: output lacks ${n}:\n${r.stdout}`);
    }
  });
});
