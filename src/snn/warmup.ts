/**
 * Warm-up: runs a network on synthetic input for a short while and then puts every byte of its
 * state back, so the JavaScript engine has compiled its step, threshold, delivery and learning
 * code (and tiered up the WebAssembly kernels) before the first live step. Without it the first
 * live decisions of a fresh process waited 30–80 ms on compilation (the main job, when σ and the
 * readout still ran in JavaScript); with the WASM kernels the cold first decisions take 0.7–1.1 ms
 * and 100 steps bring them to 0.5–0.7 ms, as 300 did, in 120 ms of start-up instead of 280.
 *
 * The network after `warmUp` is exactly the network before it (restoreCheckpoint: the step counter,
 * the enabled flags and every arena byte; scratch is cleared), so a warmed-up run gives the same
 * spikes, state and learning as a cold one (test/snn/warmup.test.ts).
 */
import { encodeCheckpoint, restoreCheckpoint } from './checkpoint.js';
import type { Network } from './network.js';
import type { StepSignals } from './runtime-types.js';
import type { LogisticPopulationRuntime } from './neurons/logistic.js';

export interface WarmUpOptions {
  /** Most steps to run. Default 100. */
  readonly steps?: number;
  /** Stop early after this much wall time (ms). Default 100. */
  readonly maxMs?: number;
  /** Fraction of each input population spiking per step. Default 0.02. */
  readonly inputRate?: number;
}

export interface WarmUpResult {
  readonly steps: number;
  readonly ms: number;
}

/** Runs up to `steps` synthetic steps (learning rules fed synthetic signals), then restores the network exactly. */
export function warmUp(net: Network, options: WarmUpOptions = {}): WarmUpResult {
  const steps = options.steps ?? 100;
  const maxMs = options.maxMs ?? 100;
  const rate = options.inputRate ?? 0.02;
  const saved = encodeCheckpoint(net);
  const t0 = performance.now();
  // A fixed LCG: the synthetic input does not depend on Math.random, and nothing of it survives anyway.
  let seed = 0x2545f491;
  const next = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const inputs = [...net.populations.values()].filter((p) => p.spec.model === 'input');
  const lists = inputs.map((p) => new Int32Array(p.size));
  const signalsOf = syntheticSignals(net, next);
  // Logistic populations' predictions too (what the snn operator snapshots after each step).
  const predictors = [...net.populations.values()].filter((p): p is LogisticPopulationRuntime => p.spec.model === 'logistic').map((p) => ({ p, out: new Float64Array(p.size) }));
  let done = 0;
  try {
    for (; done < steps && performance.now() - t0 < maxMs; done++) {
      const spikes: Record<string, Int32Array> = {};
      inputs.forEach((p, k) => {
        const list = lists[k]!;
        let n = 0;
        for (let i = 0; i < p.size; i++) if (next() < rate) list[n++] = i; // ascending, no repeats
        spikes[p.spec.name] = list.subarray(0, n);
      });
      net.step({ spikes, signals: signalsOf() });
      for (const { p, out } of predictors) p.predict(out);
    }
  } finally {
    restoreCheckpoint(net, saved);
  }
  return { steps: done, ms: performance.now() - t0 };
}

/** Per step: a label array for each readout rule (a few units labelled 0/1, the rest NaN), a ±1 value for each three-factor rule. */
function syntheticSignals(net: Network, next: () => number): () => StepSignals {
  const makers: [string, () => number | Float64Array][] = [];
  for (const r of net.rules) {
    const spec = r.spec;
    if (spec.rule === 'readout') {
      const size = net.projection(spec.projection).to.size;
      const y = new Float64Array(size);
      makers.push([
        spec.signal,
        () => {
          for (let i = 0; i < size; i++) {
            const u = next();
            y[i] = u < 0.01 ? 1 : u < 0.03 ? 0 : NaN;
          }
          return y;
        },
      ]);
    } else if (spec.rule === 'three_factor') makers.push([spec.signal, () => (next() < 0.5 ? -1 : 1)]);
  }
  return () => {
    const s: Record<string, number | Float64Array> = {};
    for (const [name, make] of makers) s[name] = make();
    return s;
  };
}
