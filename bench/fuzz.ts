/**
 * `npm run bench -- fuzz [--cases N] [--seed S] [--only TARGET] [--workers K] [--round R] [--hang-ms M]`
 *
 * Long fuzzing runs with the engine of the fuzz test (test/helpers/mutate.ts): N cases in total
 * (default 100,000; millions are fine; the seed defaults to the clock, so each run explores new
 * cases, and is printed for replay) spread over every recording and synthetic stream, plus a
 * tenth as many garbage streams per format, in rounds of R cases per target (each round re-plans
 * and builds its own oracle). Cases run in K worker threads (default 1) with the hang watchdog.
 * Prints progress with cases/s, every failure as it is found with the command that replays it,
 * and returns the totals.
 */
import { performance } from 'node:perf_hooks';
import { FuzzWorker, standardJobs, type FuzzFailure, type FuzzJob } from '../test/helpers/mutate.js';

interface Settings {
  cases: number;
  seed: number;
  only: string | undefined;
  workers: number;
  round: number;
  hangMs: number;
}

function parseArgs(args: string[]): Settings {
  const s: Settings = { cases: 100_000, seed: Date.now() % 2 ** 31, only: undefined, workers: 1, round: 500, hangMs: 60_000 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const num = () => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v)) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--cases') s.cases = Math.max(1, Math.round(num()));
    else if (a === '--seed') s.seed = num();
    else if (a === '--only') s.only = args[++i];
    else if (a === '--workers') s.workers = Math.max(1, Math.round(num()));
    else if (a === '--round') s.round = Math.max(1, Math.round(num()));
    else if (a === '--hang-ms') s.hangMs = Math.max(100, num());
    else throw new Error(`fuzz bench: unknown argument ${a} (use --cases N, --seed S, --only TARGET, --workers K, --round R, --hang-ms M)`);
  }
  return s;
}

/** Rounds of jobs, round-robin over the targets, until `total` cases are planned. */
function schedule(s: Settings): FuzzJob[] {
  const targets = standardJobs(1, s.seed).filter((j) => !s.only || j.target === s.only || j.target.startsWith(s.only));
  if (targets.length === 0) throw new Error(`fuzz bench: no target matches '${s.only}'`);
  const weight = (j: FuzzJob) => (j.kind === 'garbage' ? 0.1 : 1);
  const totalWeight = targets.reduce((a, j) => a + weight(j), 0);
  const jobs: FuzzJob[] = [];
  for (const t of targets) {
    const share = Math.max(1, Math.round((s.cases * weight(t)) / totalWeight));
    for (let from = 0; from < share; from += s.round) jobs.push({ kind: t.kind, target: t.target, seed: s.seed, from, cases: Math.min(s.round, share - from) });
  }
  // Interleave targets so that progress covers every format early.
  return jobs.sort((a, b) => (a.from ?? 0) - (b.from ?? 0));
}

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const s = parseArgs(args);
  const jobs = schedule(s);
  const planned = jobs.reduce((a, j) => a + j.cases, 0);
  console.log(`fuzz bench: ${planned} cases in ${jobs.length} rounds over ${new Set(jobs.map((j) => `${j.kind} ${j.target}`)).size} targets, seed ${s.seed}, ${s.workers} worker(s)`);
  const t0 = performance.now();
  let done = 0;
  let failureCount = 0;
  const failures: FuzzFailure[] = [];
  const perTarget: Record<string, { cases: number; ms: number; failures: number; skipped?: string }> = {};
  let lastPrint = t0;
  const queue = [...jobs];

  async function lane(): Promise<void> {
    const worker = new FuzzWorker(s.hangMs);
    try {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const r = await worker.run(job);
        const key = `${job.kind} ${job.target}`;
        const t = (perTarget[key] ??= { cases: 0, ms: 0, failures: 0 });
        if (r.skipped) {
          t.skipped = r.skipped;
          continue;
        }
        t.cases += r.cases;
        t.ms += r.ms;
        t.failures += r.failureCount;
        done += r.cases;
        failureCount += r.failureCount;
        for (const f of r.failures) {
          if (failures.length < 100) failures.push(f);
          console.log(`FAILURE ${key}: ${f.description}\n    ${f.message}`);
          if (f.caseIndex >= 0) console.log(`    replay: SPIKEFLOW_FUZZ_SEED=${s.seed} SPIKEFLOW_FUZZ_ONLY=${job.target}:${f.caseIndex} node --import tsx --test test/formats/fuzz.test.ts`);
        }
        const now = performance.now();
        if (now - lastPrint > 5000 || queue.length === 0) {
          lastPrint = now;
          const secs = (now - t0) / 1000;
          console.log(`[fuzz] ${done}/${planned} cases, ${Math.round(done / secs)} cases/s, ${failureCount} failure(s), ${secs.toFixed(0)} s`);
        }
      }
    } finally {
      await worker.close();
    }
  }

  await Promise.all(Array.from({ length: s.workers }, () => lane()));
  const seconds = (performance.now() - t0) / 1000;
  const targets: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(perTarget)) {
    targets[k] = t.skipped ? { skipped: t.skipped } : { cases: t.cases, casesPerSecond: Math.round(t.cases / Math.max(t.ms / 1000, 1e-9)), failures: t.failures };
  }
  console.log(`fuzz bench: ${done} cases in ${seconds.toFixed(1)} s (${Math.round(done / seconds)} cases/s), ${failureCount} failure(s)`);
  return { seed: s.seed, cases: done, seconds: Math.round(seconds * 10) / 10, casesPerSecond: Math.round(done / seconds), failureCount, failures, targets };
}
