/**
 * `npm run bench -- motion [--quick] [--train-seeds N] [--rounds N] [--eval-seeds N] [--eval-steps N]
 *   [--directions N] [--speeds a,b,c] [--size PX] [--kernel K] [--delays D] [--stride S] [--segment-steps N]
 *   [--sgd | --adam] [--softmax] [--no-count-term] [--vote p|logit] [--lr X] [--seed N] [--average-from F]
 *   [--finetune-seeds N] [--finetune-lr X]`
 *
 * Motion direction × speed after Grimaldi & Perrinet 2023 (src/tasks/motion-direction.ts): a
 * heterogeneous-delay conv layer (classes × 2 polarities × D delays × K × K shared weights) with
 * logistic units, trained online by the readout rule (SGD) on emulated DVS textures (MotionClouds-
 * like) with spike-triggered labels, on `--train-seeds` seeds (1000, 1001, …; default 24) ×
 * `--rounds` balanced rounds (default 2); then scored on held-out emulator seeds (9000, 9001, …;
 * default 8 seeds, 288 segments: new texture, new pixel mismatch, never trained on) with learning
 * off, one decision per segment.
 *
 * The kernel is 11×11 × 12 delays (104,544 weights) with the count term (one weight per class on
 * the input spikes in the patch, holding each class kernel's mean once trained: centreMotionKernel)
 * by default: how much of the kernel pruning can cut depends on its size, and at this scale 1/30 of
 * it holds more than 90 % of peak. The main job's 7×7 × 10 (35,280 weights: `--kernel 7 --delays
 * 10`, ~3× less work per step) keeps 74–80 % of peak at 1/30 (1,152 weights).
 * The trained parameters are the mean over the segments after the first `--average-from` fraction
 * of the training seeds (Polyak averaging).
 *
 * Then pruning, at 1/4, 1/10, 1/30, 652 (the paper's figure) and 1/100 of the weights, two ways:
 * - one-shot: the trained kernel keeps its `keep` largest |w|, no fine-tune (the baseline);
 * - gradual (pruneMotionGradually): from the previous level's kernel, training goes on at
 *   `--finetune-lr` (default 0.003) on `--finetune-seeds` fresh seeds per level (5000, 5001, …;
 *   default 2; 0 = off) while each class's kernel is cut step by step (cubic schedule) to its share
 *   ⌊keep / classes⌋, then the survivors are fine-tuned and averaged.
 * Both are scored on the same held-out segments. "≥ 90 % of peak at 1/30" takes the better of the
 * two. The fine-tuning segments are training budget too and are printed.
 *
 * The sensor is small (default 32×32, emulated at that size, no downsampling) to fit a run of a
 * few minutes on a 2-core machine (longer when it is loaded); `--quick` trains and scores on fewer
 * segments.
 */
import { wasmBackend } from '../src/snn/backends/wasm.js';
import { centreMotionKernel, createMotionModel, nonZeroWeights, pruneMotionGradually, pruneMotionKernel, runMotion, snapshotMotion, trainMotion, type MotionDirectionOptions } from '../src/tasks/motion-direction.js';

interface Settings {
  trainSeeds: number;
  rounds: number;
  evalSeeds: number;
  evalSteps: number;
  averageFrom: number;
  finetuneSeeds: number;
  finetuneLr: number;
  vote: 'p' | 'logit';
  model: MotionDirectionOptions;
}

function parseArgs(args: string[]): Settings {
  const s: Settings = { trainSeeds: 24, rounds: 2, evalSeeds: 8, evalSteps: 40, averageFrom: 0.25, finetuneSeeds: 2, finetuneLr: 0.003, vote: 'p', model: {} };
  const m: Record<string, unknown> = { kernelSize: 11, delays: 12, countTerm: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--quick') Object.assign(s, { trainSeeds: 4, rounds: 2, evalSeeds: 1 });
    else if (a === '--average-from') {
      s.averageFrom = Number(value());
      if (!(s.averageFrom >= 0 && s.averageFrom <= 1)) throw new Error(`${a} needs a fraction in [0, 1]`);
    }
    else if (a === '--finetune-seeds') {
      s.finetuneSeeds = Number(value());
      if (!Number.isInteger(s.finetuneSeeds) || s.finetuneSeeds < 0) throw new Error(`${a} needs an integer ≥ 0`);
    }
    else if (a === '--finetune-lr') {
      s.finetuneLr = Number(value());
      if (!(s.finetuneLr > 0)) throw new Error(`${a} needs a positive number`);
    }
    else if (a === '--sgd') m.optimizer = 'sgd';
    else if (a === '--adam') m.optimizer = 'adam';
    else if (a === '--softmax') m.loss = 'softmax';
    else if (a === '--count-term') m.countTerm = true;
    else if (a === '--no-count-term') m.countTerm = false;
    else if (a === '--vote') {
      const v = value();
      if (v !== 'p' && v !== 'logit') throw new Error(`${a} needs p or logit`);
      s.vote = v;
    }
    else if (a === '--train-seeds') s.trainSeeds = int();
    else if (a === '--rounds') s.rounds = int();
    else if (a === '--eval-seeds') s.evalSeeds = int();
    else if (a === '--eval-steps') s.evalSteps = int();
    else if (a === '--directions') m.directions = int();
    else if (a === '--speeds') m.speeds = value().split(',').map(Number);
    else if (a === '--size') m.size = int();
    else if (a === '--kernel') m.kernelSize = int();
    else if (a === '--delays') m.delays = int();
    else if (a === '--stride') m.stride = int();
    else if (a === '--segment-steps') m.segmentSteps = int();
    else if (a === '--lr') m.learningRate = Number(value());
    else if (a === '--seed') m.seed = int();
    else throw new Error(`motion bench: unknown argument ${a} (see the header of bench/motion.ts)`);
  }
  s.model = m as MotionDirectionOptions;
  return s;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const s = parseArgs(args);
  // The WASM backend: bit-identical to the reference (test/snn/wasm-conv.test.ts), ~2.5× faster here.
  const model = createMotionModel(s.model, wasmBackend());
  const o = model.options;
  const nc = model.classes.count;
  const totalWeights = model.kernel.length;
  console.log(
    `motion: ${o.directions} directions × ${o.speeds.length} speeds (${o.speeds.join(', ')} px/s) = ${nc} classes; ${o.size}×${o.size} sensor, ` +
      `step ${o.stepUs / 1000} ms, kernel ${nc}×2×${o.delays}×${o.kernelSize}×${o.kernelSize} = ${totalWeights} weights, stride ${o.stride}`,
  );
  const t0 = performance.now();
  const trainSeeds = Array.from({ length: s.trainSeeds }, (_, k) => 1000 + k);
  let trainSteps = 0;
  let trainSegments = 0;
  trainMotion(model, {
    seeds: trainSeeds,
    rounds: s.rounds,
    averageFrom: s.averageFrom,
    onSeed: (seed, r) => {
      trainSteps += r.steps;
      trainSegments += r.segments.length;
      console.log(`  train seed ${seed}: ${r.segments.length} segments, in-training accuracy ${pct(r.accuracy)}, ${Math.round((r.steps / r.wallMs) * 1000)} steps/s`);
    },
  });
  const trainMs = performance.now() - t0;
  // Count term: each class kernel's mean moves into its count weight (the same network), so pruning
  // cuts deviations from the mean; the count weights are counted against every level's budget.
  if (o.countTerm) centreMotionKernel(model);
  const countWeights = model.count.length;
  const restore = snapshotMotion(model);
  const evalSeeds = Array.from({ length: s.evalSeeds }, (_, k) => 9000 + k);
  const score = (): number => runMotion(model, { seeds: evalSeeds, rounds: 1, learn: false, segmentSteps: s.evalSteps, vote: s.vote }).accuracy;
  const chance = 1 / nc;
  const t1 = performance.now();
  const full = score();
  const evalMs = performance.now() - t1;
  console.log(`held-out: ${pct(full)} over ${evalSeeds.length * nc} segments of ${s.evalSteps} steps (chance ${pct(chance)}); trained on ${trainSegments} segments, ${trainSteps} steps, ${(trainMs / 1000).toFixed(0)} s`);

  const levels: { label: string; keep: number }[] = [
    { label: '1/4', keep: Math.round(totalWeights / 4) },
    { label: '1/10', keep: Math.round(totalWeights / 10) },
    { label: '1/30', keep: Math.round(totalWeights / 30) },
    { label: '652', keep: 652 },
    { label: '1/100', keep: Math.round(totalWeights / 100) },
  ]
    .filter((l) => l.keep < totalWeights && l.keep > 0)
    .sort((a, b) => b.keep - a.keep); // descending, for the gradual pruning
  // Two prunings per level: one-shot magnitude pruning of the trained kernel (no fine-tune), and
  // gradual pruning (src/tasks/motion-direction.ts pruneMotionGradually): from the previous level's
  // kernel, training goes on at a low learning rate on `--finetune-seeds` fresh seeds per level
  // (never the held-out ones) while each class's kernel is cut step by step to its share of the
  // level, then the survivors are fine-tuned and averaged. Pruned weights are masked: they stay zero.
  const pruning: { label: string; keep: number; kept: number; accuracy: number; gradual?: number; gradualKept?: number }[] = [{ label: 'all', keep: totalWeights, kept: nonZeroWeights(model), accuracy: full }];
  let gradualFrom = restore;
  let finetuneSegments = 0;
  let nextSeed = 5000;
  for (const l of levels) {
    restore();
    const kernelKeep = l.keep - countWeights;
    pruneMotionKernel(model, kernelKeep, o.countTerm === true);
    const kept = nonZeroWeights(model);
    const accuracy = score();
    let gradual: number | undefined;
    let gradualKept: number | undefined;
    if (s.finetuneSeeds > 0) {
      gradualFrom();
      const seeds = Array.from({ length: s.finetuneSeeds }, () => nextSeed++);
      pruneMotionGradually(model, { keep: kernelKeep, seeds, rounds: s.rounds, learningRate: s.finetuneLr, onSeed: (_, r) => (finetuneSegments += r.segments.length) });
      gradualKept = nonZeroWeights(model);
      gradual = score();
      gradualFrom = snapshotMotion(model);
    }
    pruning.push({ label: l.label, keep: l.keep, kept, accuracy, ...(gradual === undefined ? {} : { gradual, gradualKept }) });
    console.log(`  ${l.label} (${l.keep} weights): one-shot ${pct(accuracy)}${gradual === undefined ? '' : `; gradual, per class (${gradualKept} kept, ${finetuneSegments} fine-tuning segments so far): ${pct(gradual)}`}`);
  }
  restore();
  const pruneMs = performance.now() - t1 - evalMs;
  const best = (p: { accuracy: number; gradual?: number }): number => Math.max(p.accuracy, p.gradual ?? 0);
  const peak = Math.max(...pruning.map(best));
  const at30 = pruning.find((p) => p.label === '1/30');
  const holds = at30 ? best(at30) >= 0.9 * peak : false;
  const goal = 0.91;
  console.log(
    `chance ${pct(chance)}, peak ${pct(peak)} (goal ${pct(goal)}: ${peak >= goal ? 'met' : 'NOT met'}); ` +
      `1/30 of the weights: ${at30 ? pct(best(at30)) : 'n/a'} → ≥ 90 % of peak ${holds ? 'holds' : 'does NOT hold'}`,
  );
  return {
    task: `${o.directions} directions × ${o.speeds.length} speeds`,
    classes: nc,
    sensor: `${o.size}x${o.size}`,
    stepMs: o.stepUs / 1000,
    kernel: { delays: o.delays, size: o.kernelSize, stride: o.stride, weights: totalWeights },
    optimizer: o.optimizer,
    learningRate: o.learningRate,
    averageFrom: s.averageFrom,
    train: { seeds: trainSeeds.length, segments: trainSegments, steps: trainSteps, segmentSteps: o.segmentSteps, seconds: Math.round(trainMs / 1000) },
    eval: { seeds: evalSeeds.length, segments: evalSeeds.length * nc, segmentSteps: s.evalSteps, seconds: Math.round(evalMs / 1000) },
    pruneSeconds: Math.round(pruneMs / 1000),
    finetune: { seedsPerLevel: s.finetuneSeeds, learningRate: s.finetuneLr, perClass: true, segments: finetuneSegments },
    chance,
    accuracy: full,
    peak,
    pruning,
    holdsAt1of30: holds,
    goalMet: peak >= goal,
  };
}
