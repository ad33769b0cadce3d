/**
 * Fuzz test for every decoder: seeded damage to each shared recording (bit flips, truncations,
 * splices, 0x00/0xFF runs, misaligning deletions/insertions, header damage), a synthetic stream for
 * formats with an encoder but no recording, and garbage (random bytes, other formats' files) for all.
 * The checks and the hang watchdog live in test/helpers/mutate.ts.
 *
 * Size: SPIKEFLOW_FUZZ_CASES cases per recording (default 200); SPIKEFLOW_FUZZ_SEED changes the
 * cases; SPIKEFLOW_FUZZ_ONLY=<file or format>:<case> replays one case.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { FuzzWorker, standardJobs, type FuzzJob, type FuzzReport } from '../helpers/mutate.js';

const CASES = Math.max(1, Number(process.env.SPIKEFLOW_FUZZ_CASES ?? 200));
const SEED = Number(process.env.SPIKEFLOW_FUZZ_SEED ?? 20240601);
const ONLY = process.env.SPIKEFLOW_FUZZ_ONLY;

const worker = new FuzzWorker(Number(process.env.SPIKEFLOW_FUZZ_HANG_MS ?? 30_000));
after(() => worker.close());

function formatFailures(r: FuzzReport): string {
  const lines = r.failures.map((f) => `  - ${f.caseIndex >= 0 ? f.description : f.target}\n      ${f.message}`);
  const more = r.failureCount > r.failures.length ? `\n  … and ${r.failureCount - r.failures.length} more` : '';
  const replay = r.failures[0] && r.failures[0].caseIndex >= 0 ? `\n  replay: SPIKEFLOW_FUZZ_SEED=${SEED} SPIKEFLOW_FUZZ_ONLY=${r.job.target}:${r.failures[0].caseIndex}` : '';
  return `${r.failureCount} failure(s) in ${r.cases} cases of ${r.job.kind} ${r.job.target}:\n${lines.join('\n')}${more}${replay}`;
}

let jobs: FuzzJob[] = standardJobs(CASES, SEED);
if (ONLY) {
  const at = ONLY.lastIndexOf(':');
  const target = ONLY.slice(0, at);
  const only = Number(ONLY.slice(at + 1));
  jobs = jobs.filter((j) => j.target === target).map((j) => ({ ...j, only }));
}

for (const job of jobs) {
  test(`fuzz ${job.kind} ${job.target} (${job.only !== undefined ? `case ${job.only}` : `${job.cases} cases`})`, async (t) => {
    const r = await worker.run(job);
    if (r.skipped) {
      t.skip(r.skipped);
      return;
    }
    for (const n of r.notes) t.diagnostic(n);
    t.diagnostic(`${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s ${JSON.stringify(r.kinds)}`);
    assert.ok(r.cases > 0 || r.failureCount > 0, 'no case ran');
    assert.equal(r.failureCount, 0, formatFailures(r));
  });
}
