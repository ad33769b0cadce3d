import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../src/cli/main.js';
import { RECORDINGS } from '../helpers/recordings.js';
import { sharedPath, REPO_ROOT } from '../helpers/shared-data.js';
import { decodeBuffer, allEvents } from '../../src/formats/decode-all.js';
import { packetsEqual } from '../../src/events/packet.js';

/** Run the CLI in-process, capturing what it prints and its exit code. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const errLines: string[] = [];
  const origError = console.error;
  console.error = (...a: unknown[]) => void errLines.push(a.join(' '));
  try {
    const code = await main(argv, (s) => lines.push(s));
    return { code, out: lines.join('\n'), err: errLines.join('\n') };
  } finally {
    console.error = origError;
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'spikeflow-cli-'));

for (const r of RECORDINGS) {
  test(`inspect ${r.file}: auto-detected, every key present, counts as published`, async () => {
    const { code, out } = await cli('inspect', sharedPath(r.file));
    assert.equal(code, 0);
    const j = JSON.parse(out);
    for (const k of ['format', 'width', 'height', 'events', 't_first_us', 't_last_us', 'on', 'off', 'side_streams', 'errors']) assert.ok(k in j, `key ${k}`);
    assert.equal(j.format, r.format);
    assert.equal(j.events, r.events);
    assert.equal(j.on + j.off, r.events);
    assert.ok(j.on > 0 && j.off > 0);
    if (r.geometry) assert.deepEqual([j.width, j.height], [r.geometry.width, r.geometry.height]);
    assert.deepEqual(j.errors, []);
    assert.ok(j.t_last_us >= j.t_first_us);
  });
}

test('inspect reports the published time spans and side streams', async () => {
  const evt3 = JSON.parse((await cli('inspect', sharedPath('evt3_expelliarmus_sample.raw'))).out);
  assert.equal(evt3.t_last_us, 11_727_457);
  const ped = JSON.parse((await cli('inspect', sharedPath('evt3_pedestrians_small.raw'))).out);
  assert.equal(ped.t_last_us, 5_885_714);
  const davis = JSON.parse((await cli('inspect', sharedPath('aedat4_aestream_davis.aedat4'))).out);
  assert.deepEqual(davis.side_streams, { trigger: 15, imu: 130, frame: 3 });
  const nmnist = JSON.parse((await cli('inspect', sharedPath('nmnist_tonic_sample.bin'))).out);
  assert.equal(nmnist.t_last_us - nmnist.t_first_us, 310_521);
});

test('inspect --format overrides detection, and a wrong format gives errors, not a crash', async () => {
  const { code, out } = await cli('inspect', sharedPath('evt2_sparklers.raw'), '--format', 'evt3');
  const j = JSON.parse(out);
  assert.equal(j.format, 'evt3');
  assert.ok(code === 0 || code === 1);
  assert.ok(j.errors.length > 0 || j.events !== 521_252, 'decoding EVT2 bytes as EVT3 cannot go unnoticed');
});

test('inspect exits 1 with a message naming the file when it cannot be decoded at all', async () => {
  const junk = join(tmp, 'junk.xyz');
  writeFileSync(junk, new Uint8Array(4096).fill(0xff));
  const r = await cli('inspect', junk);
  assert.equal(r.code, 1);
  assert.match(r.err, /junk\.xyz/);
  assert.match(r.err, /--format/);
});

test('inspect of a truncated recording keeps earlier events and reports format and offset', async () => {
  const bytes = readFileSync(sharedPath('evt3_expelliarmus_sample.raw'));
  const cut = join(tmp, 'cut.raw');
  writeFileSync(cut, bytes.subarray(0, 300_001));
  const { code, out } = await cli('inspect', cut);
  assert.equal(code, 0);
  const j = JSON.parse(out);
  assert.ok(j.events > 100_000 && j.events < 219_596);
  assert.equal(j.errors.length, 1);
  assert.equal(j.errors[0].format, 'evt3');
  assert.equal(j.errors[0].offset, 300_000);
});

test('usage errors exit 2 and name the problem', async () => {
  assert.equal((await cli('inspect')).code, 2);
  const r = await cli('inspect', 'a', '--bogus');
  assert.equal(r.code, 2);
  assert.match(r.err, /--bogus/);
  assert.equal((await cli('frobnicate')).code, 2);
  const c = await cli('convert', sharedPath('evt2_sparklers.raw'), join(tmp, 'x.unknown'));
  assert.equal(c.code, 2);
  assert.match(c.err, /--to/);
});

for (const [to, ext] of [['evt3', 'raw'], ['aedat4', 'aedat4'], ['csv', 'csv']] as const) {
  test(`convert evt2 → ${to} keeps every event exactly`, async () => {
    const out = join(tmp, `sparklers.${ext}`);
    const r = await cli('convert', sharedPath('evt2_sparklers.raw'), out);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).events, 521_252);
    const original = allEvents(decodeBuffer(readFileSync(sharedPath('evt2_sparklers.raw')), 'evt2'));
    const back = allEvents(decodeBuffer(readFileSync(out), to));
    assert.ok(packetsEqual(back, original));
    assert.ok(!readdirSync(tmp).some((f) => f.includes('.tmp-')), 'no temporary file left behind');
  });
}

test('convert carries AEDAT4 side streams into AEDAT4', async () => {
  const out = join(tmp, 'davis.aedat4');
  assert.equal((await cli('convert', sharedPath('aedat4_aestream_davis.aedat4'), out)).code, 0);
  const j = JSON.parse((await cli('inspect', out)).out);
  assert.equal(j.events, 117_667);
  assert.deepEqual(j.side_streams, { trigger: 15, imu: 130, frame: 3 });
});

test('emulate emulates, records and reads back the same events', async () => {
  const dir = join(tmp, 'demo');
  const r = await cli('emulate', '--out', dir, '--seconds', '0.5', '--seed', '3');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.events_written > 1000);
  assert.equal(j.inspect.events, j.events_written);
  assert.equal(j.inspect.format, 'evt3');
  const labels = JSON.parse(readFileSync(join(dir, 'demo.labels.json'), 'utf8')).labels;
  assert.equal(labels.length, 2, '0.5 s of 250 ms segments');
  assert.ok(labels.every((l: { direction_deg: number }) => Number.isFinite(l.direction_deg)));
});

test('the installed bin runs (npx spikeflow): inspect prints JSON, exit codes propagate', () => {
  const bin = join(REPO_ROOT, 'bin', 'spikeflow.js');
  assert.ok(existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is built by npm ci (prepare)');
  const ok = spawnSync(process.execPath, [bin, 'inspect', sharedPath('nmnist_tonic_sample.bin')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).events, 4325);
  const bad = spawnSync(process.execPath, [bin, 'inspect', '/nonexistent/file.raw'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /nonexistent\/file\.raw/);
});
