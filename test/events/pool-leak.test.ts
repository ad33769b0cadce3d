// Releasing packets is optional: decoding without ever releasing must not grow memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, sharedPath } from '../helpers/shared-data.js';

test('unreleased packets from the shared pool are garbage-collected (no leak over 40 decodes)', () => {
  const script = `
    import { readFileSync } from 'node:fs';
    import { decodeBuffer } from './src/formats/decode-all.ts';
    const bytes = new Uint8Array(readFileSync(${JSON.stringify(sharedPath('evt2_sparklers.raw'))}));
    // V8 frees collected ArrayBuffers' memory on a background thread: let it run before counting
    // (on a loaded machine a lone gc() then an immediate count saw up to 70 MiB not yet freed).
    const mb = async () => { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); globalThis.gc(); return process.memoryUsage().arrayBuffers / 2 ** 20; };
    for (let i = 0; i < 5; i++) decodeBuffer(bytes, 'evt2');
    const before = await mb();
    for (let i = 0; i < 40; i++) decodeBuffer(bytes, 'evt2');
    console.log(JSON.stringify({ before, after: await mb() }));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout.trim().split('\n').pop()!);
  // 40 decodes of 521k events would hold ~250 MiB if buffers leaked.
  assert.ok(after - before < 40, `array buffers grew from ${before.toFixed(1)} to ${after.toFixed(1)} MiB`);
});
