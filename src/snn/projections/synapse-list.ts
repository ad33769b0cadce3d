/**
 * Sparse, random and dense projections: each compiles to a SynapseList (in the user's synapse
 * order), then to a SynapseTable delivered event-driven.
 */
import type { Init, SynapseListProjectionSpec } from '../spec.js';
import { Rng } from '../../emulator/rng.js';
import type { BuildContext, PopulationRuntime, ProjectionRuntime } from '../runtime-types.js';
import { SynapseTable, type SynapseList } from './synapse-table.js';
import { deliverTable } from './deliver.js';

/** Draws from an Init: a constant, or uniform in [min, max] (integers inclusive when `integer`). */
export function drawInit(init: Init, rng: Rng, integer: boolean): number {
  if (typeof init === 'number') return init;
  if (integer) return init.min + Math.floor(rng.uniform() * (init.max - init.min + 1));
  return init.min + rng.uniform() * (init.max - init.min);
}

/**
 * A drawn weight, rounded to the nearest float32 when that stays in [min, max] (it nearly always
 * does): float32-exact weights let a table keep a compact copy (SynapseTable.compact) that fast
 * backends deliver from bit-identically. Constants and given arrays are kept as they are.
 */
export function drawWeight(init: Init, rng: Rng): number {
  const w = drawInit(init, rng, false);
  if (typeof init === 'number') return w;
  const f = Math.fround(w);
  return f >= init.min && f <= init.max ? f : w;
}

export function synapseListOf(spec: SynapseListProjectionSpec, preSize: number, postSize: number, seed: number): SynapseList {
  const rng = new Rng(spec.kind === 'sparse' ? 0 : spec.seed ?? seed, hashName(spec.name));
  switch (spec.kind) {
    case 'sparse':
      return {
        pre: Int32Array.from(spec.pre),
        post: Int32Array.from(spec.post),
        weight: Float64Array.from(spec.weight),
        delay: Int32Array.from(spec.delay_steps),
      };
    case 'random': {
      // Pre-major order; the expected count sizes the first allocation.
      let cap = Math.max(16, Math.ceil(preSize * postSize * spec.p * 1.1));
      let pre: Int32Array<ArrayBuffer> = new Int32Array(cap);
      let post: Int32Array<ArrayBuffer> = new Int32Array(cap);
      let n = 0;
      for (let i = 0; i < preSize; i++) {
        for (let j = 0; j < postSize; j++) {
          if (rng.uniform() >= spec.p) continue;
          if (n === cap) {
            cap *= 2;
            pre = grow(pre, cap);
            post = grow(post, cap);
          }
          pre[n] = i;
          post[n++] = j;
        }
      }
      const weight = new Float64Array(n);
      const delay = new Int32Array(n);
      for (let s = 0; s < n; s++) {
        weight[s] = drawWeight(spec.weight, rng);
        delay[s] = drawInit(spec.delay_steps, rng, true);
      }
      return { pre: pre.slice(0, n), post: post.slice(0, n), weight, delay };
    }
    case 'dense': {
      const n = preSize * postSize;
      const pre = new Int32Array(n);
      const post = new Int32Array(n);
      const weight = new Float64Array(n);
      const delay = new Int32Array(n);
      for (let s = 0; s < n; s++) {
        pre[s] = Math.floor(s / postSize);
        post[s] = s % postSize;
        weight[s] = Array.isArray(spec.weight) ? (spec.weight as number[])[s]! : drawWeight(spec.weight as Init, rng);
        delay[s] = Array.isArray(spec.delay_steps) ? (spec.delay_steps as number[])[s]! : drawInit(spec.delay_steps as Init, rng, true);
      }
      return { pre, post, weight, delay };
    }
  }
}

export function createSynapseListProjection(
  spec: SynapseListProjectionSpec,
  from: PopulationRuntime,
  to: PopulationRuntime,
  ctx: BuildContext,
  reserveDelay: number,
): ProjectionRuntime {
  const list = synapseListOf(spec, from.size, to.size, ctx.spec.seed);
  const table = new SynapseTable(ctx.arena, spec.name, from.size, to.size, list, reserveDelay, weightsFrozen(spec.name, spec.to, ctx));
  const queueBytes = table.compact ? (ctx.backend.arrivalQueueBytes?.(table.count, table.delaySlots) ?? 0) : 0;
  if (queueBytes > 0) table.arrivals = ctx.arena.scratch(`${spec.name}.arrivals`, 'u8', queueBytes);
  const deliver = ctx.backend.kernels.deliver ?? deliverTable;
  return {
    spec,
    from,
    to,
    table,
    synapseCount: table.count,
    deliver(t) {
      deliver(table, from.history, t, to.input);
    },
  };
}

/**
 * Whether nothing can ever change this projection's weights: no learning rule on it and no
 * controller but 'threshold' (which moves thresholds only) on its target population.
 */
function weightsFrozen(projection: string, to: string, ctx: BuildContext): boolean {
  if (ctx.spec.plasticity.some((r) => r.projection === projection)) return false;
  return !ctx.spec.homeostasis.some((h) => h.population === to && h.controller !== 'threshold');
}

function grow(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/** A stable stream number per projection name, so two random projections draw independently. */
export function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
