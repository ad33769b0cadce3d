/**
 * `npm run bench -- snn [--seconds N] [--backends cpu,wasm] [--cases plain,stdp] [--no-brian2] [--repeat N] [--phases]`
 *
 * The standard network of issue 3: 10,000 Poisson inputs at 10 Hz → 1,000 LIF neurons, 10 % random
 * connectivity (≈1 M synapses), delays uniform 0–15 ms, dt 1 ms, 10 s simulated (10,000 steps), in
 * two cases: (a) plain LIF, (b) ALIF (adaptive threshold) with additive STDP on every synapse. For
 * each backend (cpu = TypeScript reference, wasm) and for Brian2 2.5.1 (Cython target, one thread,
 * bench/brian2_standard.py), measured in the same run: synaptic events per second (Σ over steps of
 * arrivals: a spike of input i at step s counts once per synapse of i with s + delay < steps), steps
 * per second and wall time of the run (network building and Brian2's compilation excluded, reported
 * apart), and the ratio ours/Brian2. Both simulators get the very same input spikes (drawn here,
 * seeded; Brian2 through a SpikeGeneratorGroup) and the very same synapses.
 *
 * The engine draws the random weights as float32 values (uniform in [0, w_max], rounded), which
 * Brian2 receives as the same float64 numbers; in case (a) no rule changes them, so the table keeps
 * its compact copy (u16 target, f32 weight per synapse) that the wasm backend delivers from, exactly.
 *
 * Checks on the way: in case (a) Brian2's output spikes must equal ours exactly (same float64
 * arithmetic, compared by count and checksum); every backend must give the same spikes as the
 * reference in both cases; Brian2's event count must equal ours. Case (b) in Brian2 uses its usual
 * event-driven traces (exp(−Δt/τ) at each event), so its spikes need not equal ours (in the runs
 * so far they did; the bench reports whether they match).
 *
 * --repeat N runs every measured run N times, ours and Brian2's alike (each on a freshly built
 * network, every repeat checked to give the same spikes), and reports the best wall and the best CPU
 * time of each: on a shared machine the other processes only ever add time, so the best of a few is
 * the steadier figure, and both sides get the same treatment.
 *
 * --phases adds, per case, one more run of each backend whose kernels are wrapped in timers: the
 * time per step in delivery, the neuron update (integrate, threshold), the STDP kernels, and the rest
 * (Network.step's own work, input and reset in TypeScript, this loop). The timers cost a little, so
 * these runs are not the ones reported above.
 *
 * SNN_BENCH_KEEP=1 keeps the directory of files handed to Brian2 (its path is printed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildNetwork, type Network } from '../src/snn/network.js';
import { backendByName } from '../src/snn/backends/select.js';
import type { SnnBackend, SnnKernels } from '../src/snn/backend.js';
import { Rng } from '../src/emulator/rng.js';

const INPUTS = 10_000;
const NEURONS = 1_000;
const RATE_HZ = 10;
const P_CONNECT = 0.1;
const MAX_DELAY = 15;
const DT_MS = 1;
const TAU_MS = 20;
const V_TH = 1;
const W_MAX = 0.0125;
const THETA = { tau_ms: 100, plus: 0.05 };
const STDP = { tau_pre_ms: 20, tau_post_ms: 20, a_pre: 0.01 * W_MAX, a_post: -0.0105 * W_MAX, w_min: 0, w_max: W_MAX };

type Case = 'plain' | 'stdp';
/**
 * Default simulated time: the full 10 s for plain LIF, 1 s with STDP, whose Brian2 run alone takes
 * about a minute per simulated second on this shared 2-core machine (`--seconds 10` runs both in full).
 */
const DEFAULT_SECONDS: Record<Case, number> = { plain: 10, stdp: 1 };

interface Settings {
  /** Simulated seconds per case. */
  seconds: Record<Case, number>;
  backends: string[];
  cases: Case[];
  brian2: boolean;
  /** Runs per measurement (best time kept). */
  repeat: number;
  phases: boolean;
}

function parseArgs(args: string[]): Settings {
  const s: Settings = { seconds: { ...DEFAULT_SECONDS }, backends: ['cpu', 'wasm'], cases: ['plain', 'stdp'], brian2: true, repeat: 1, phases: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seconds' || a === '--stdp-seconds') {
      const v = Number(value());
      if (!(v > 0)) throw new Error(`${a} must be positive`);
      if (a === '--seconds') s.seconds = { plain: v, stdp: v };
      else s.seconds.stdp = v;
    } else if (a === '--backends') s.backends = value().split(',');
    else if (a === '--cases') s.cases = value().split(',') as Case[];
    else if (a === '--no-brian2') s.brian2 = false;
    else if (a === '--repeat') {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error('--repeat must be a positive integer');
      s.repeat = v;
    } else if (a === '--phases') s.phases = true;
    else throw new Error(`snn bench: unknown argument ${a} (use --seconds N, --stdp-seconds N, --backends cpu,wasm, --cases plain,stdp, --no-brian2, --repeat N, --phases)`);
  }
  for (const c of s.cases) if (c !== 'plain' && c !== 'stdp') throw new Error(`snn bench: unknown case '${c}' (plain, stdp)`);
  return s;
}

function specOf(c: Case): unknown {
  const dt = DT_MS;
  return {
    dt_ms: dt,
    seed: 3,
    populations: [
      { name: 'input', model: 'input', size: INPUTS },
      c === 'plain'
        ? { name: 'neurons', model: 'lif', size: NEURONS, decay: Math.exp(-dt / TAU_MS), v_th: V_TH, v_reset: 0 }
        : { name: 'neurons', model: 'alif', size: NEURONS, decay: Math.exp(-dt / TAU_MS), v_th: V_TH, v_reset: 0, adaptation: { decay: Math.exp(-dt / THETA.tau_ms), plus: THETA.plus } },
    ],
    projections: [{ name: 'syn', kind: 'random', from: 'input', to: 'neurons', p: P_CONNECT, weight: { min: 0, max: W_MAX }, delay_steps: { min: 0, max: MAX_DELAY } }],
    plasticity:
      c === 'stdp'
        ? [{ rule: 'stdp', projection: 'syn', decay_pre: Math.exp(-dt / STDP.tau_pre_ms), decay_post: Math.exp(-dt / STDP.tau_post_ms), a_pre: STDP.a_pre, a_post: STDP.a_post, w_min: STDP.w_min, w_max: STDP.w_max, mode: 'additive', symmetric: false }]
        : [],
    homeostasis: [],
  };
}

/** Poisson input spikes, seeded: per step, ascending indices (gaps drawn geometrically, ~1 draw per spike). */
function poissonInput(steps: number): { index: Int32Array; start: Int32Array } {
  const rng = new Rng(11, 1);
  const p = (RATE_HZ * DT_MS) / 1000;
  const logq = Math.log1p(-p);
  const start = new Int32Array(steps + 1);
  let index = new Int32Array(Math.ceil(steps * INPUTS * p * 1.2) + 16);
  let n = 0;
  for (let t = 0; t < steps; t++) {
    start[t] = n;
    for (let i = Math.floor(Math.log(1 - rng.uniform()) / logq); i < INPUTS; i += 1 + Math.floor(Math.log(1 - rng.uniform()) / logq)) {
      if (n === index.length) {
        const b = new Int32Array(index.length * 2);
        b.set(index);
        index = b;
      }
      index[n++] = i;
    }
  }
  start[steps] = n;
  return { index: index.slice(0, n), start };
}

/** Σ over steps of arrivals: a spike (t, i) counts the synapses of i with delay d < steps − t. */
function synapticEvents(net: Network, input: { index: Int32Array; start: Int32Array }, steps: number): number {
  const table = net.projection('syn').table!;
  const D = table.delaySlots;
  const gs = table.groupStart;
  let events = 0;
  for (let t = 0; t < steps; t++) {
    const dEnd = Math.min(D, steps - t);
    for (let k = input.start[t]!; k < input.start[t + 1]!; k++) {
      const g = input.index[k]! * D;
      events += gs[g + dEnd]! - gs[g]!;
    }
  }
  return events;
}

interface RunResult {
  buildS: number;
  runS: number;
  /** Process CPU time of the run (user + system): robust to other processes taking the cores. */
  cpuS: number;
  outputSpikes: number;
  checksum: number;
  spikes: Int32Array;
  meanWeight: number;
  net: Network;
}

async function runOurs(c: Case, backendName: string, input: { index: Int32Array; start: Int32Array }, steps: number, wrap?: (b: SnnBackend) => SnnBackend): Promise<RunResult> {
  const chosen = await backendByName(backendName);
  const backend = wrap ? wrap(chosen) : chosen;
  const t0 = performance.now();
  const net = buildNetwork(specOf(c), { backend });
  const buildS = (performance.now() - t0) / 1000;
  // Output spikes as (step·N + neuron), kept to compare backends and Brian2.
  let out = new Int32Array(1 << 16);
  let n = 0;
  const given = { input: input.index.subarray(0, 0) };
  const step = { spikes: given };
  const c1 = process.cpuUsage();
  const t1 = performance.now();
  for (let t = 0; t < steps; t++) {
    given.input = input.index.subarray(input.start[t]!, input.start[t + 1]!);
    net.step(step);
    const s = net.spikes('neurons', t);
    if (n + s.length > out.length) {
      const b = new Int32Array(out.length * 2);
      b.set(out);
      out = b;
    }
    for (let k = 0; k < s.length; k++) out[n++] = t * NEURONS + s[k]!;
  }
  const runS = (performance.now() - t1) / 1000;
  const c2 = process.cpuUsage(c1);
  // The checksum (as Brian2's, computed after its run too) from the kept spikes, outside the timing.
  let checksum = 0;
  for (let k = 0; k < n; k++) {
    const t = Math.floor(out[k]! / NEURONS);
    checksum += (t * 1000003 + (out[k]! - t * NEURONS)) % 2147483647;
  }
  const cpuS = (c2.user + c2.system) / 1e6;
  const w = net.projection('syn').table!.weight;
  let sum = 0;
  for (let s = 0; s < w.length; s++) sum += w[s]!;
  return { buildS, runS, cpuS, outputSpikes: n, checksum: checksum % 2147483647, spikes: out.slice(0, n), meanWeight: sum / w.length, net };
}

/** Writes the synapses (user order) and input spikes for bench/brian2_standard.py; runs it; returns its JSON. */
function runBrian2(net: Network, input: { index: Int32Array; start: Int32Array }, steps: number, caseSteps: Partial<Record<Case, number>>, repeat: number): Record<string, any> {
  const dir = mkdtempSync(join(tmpdir(), 'spikeflow-bench-snn-'));
  try {
    const table = net.projection('syn').table!;
    const pre = new Int32Array(table.count);
    const post = new Int32Array(table.count);
    for (let s = 0; s < table.count; s++) {
      pre[table.id[s]!] = table.pre[s]!;
      post[table.id[s]!] = table.post[s]!;
    }
    const stepOf = new Int32Array(input.index.length);
    for (let t = 0; t < steps; t++) stepOf.fill(t, input.start[t]!, input.start[t + 1]!);
    const raw = (name: string, a: Int32Array | Float64Array) => writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    raw('pre.i32', pre);
    raw('post.i32', post);
    raw('weight.f64', table.weightsInUserOrder());
    raw('delay.i32', table.delaysInUserOrder());
    raw('spike_index.i32', input.index);
    raw('spike_step.i32', stepOf);
    const spec = specOf('stdp') as { populations: [unknown, { decay: number; adaptation: { decay: number; plus: number } }] };
    writeFileSync(
      join(dir, 'params.json'),
      JSON.stringify({ dt_ms: DT_MS, steps, inputs: INPUTS, neurons: NEURONS, decay: spec.populations[1].decay, v_th: V_TH, v_reset: 0, adaptation: spec.populations[1].adaptation, stdp: STDP, case_steps: caseSteps, repeat }),
    );
    const script = fileURLToPath(new URL('./brian2_standard.py', import.meta.url));
    const r = spawnSync('/usr/bin/python3', [script, dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore' },
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`brian2_standard.py failed (status ${r.status})`);
    const last = r.stdout.trim().split('\n').pop()!;
    return JSON.parse(last) as Record<string, any>;
  } finally {
    if (!process.env.SNN_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

/**
 * One more run with each kernel the backend supplies wrapped in a timer; returns µs per step per
 * phase, and 'other' for the rest of the run (what runs in TypeScript: Network.step, the reference
 * kernels a backend does not replace, the input population, resets, this bench's loop).
 */
async function phaseRun(c: Case, backendName: string, input: { index: Int32Array; start: Int32Array }, steps: number): Promise<Record<string, number>> {
  const spent: Record<string, number> = {};
  const wrap = (b: SnnBackend): SnnBackend => {
    const kernels: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(b.kernels) as [string, (...a: unknown[]) => unknown][]) {
      spent[name] = 0;
      kernels[name] = (...a: unknown[]) => {
        const t0 = performance.now();
        const r = f(...a);
        spent[name]! += performance.now() - t0;
        return r;
      };
    }
    return { ...b, kernels: kernels as SnnKernels };
  };
  const r = await runOurs(c, backendName, input, steps, wrap);
  const us = (ms: number) => Math.round((ms * 1000) / steps * 10) / 10;
  const out: Record<string, number> = {};
  let inKernels = 0;
  for (const [name, ms] of Object.entries(spent)) {
    out[name] = us(ms);
    inKernels += ms;
  }
  out.other = us(r.runS * 1000 - inKernels);
  out.total = us(r.runS * 1000);
  return out;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const s = parseArgs(args);
  const stepsOf = (c: Case) => Math.round((s.seconds[c] * 1000) / DT_MS);
  const steps = Math.max(...s.cases.map(stepsOf));
  // Input spikes are drawn step by step, so a shorter case gets a prefix of the same input.
  const input = poissonInput(steps);
  console.log(`snn bench: ${INPUTS} Poisson inputs at ${RATE_HZ} Hz → ${NEURONS} LIF, p = ${P_CONNECT}, delays 0–${MAX_DELAY} ms, dt ${DT_MS} ms; ${s.cases.map((c) => `${c} ${s.seconds[c]} s (${stepsOf(c)} steps)`).join(', ')}`);
  const cases: Record<string, Record<string, unknown>> = {};
  let reference: Network | undefined;
  const ours: Record<string, Record<string, RunResult>> = {};
  const events: Partial<Record<Case, number>> = {};
  const phases: Record<string, Record<string, Record<string, number>>> = {};
  for (const c of s.cases) {
    ours[c] = {};
    for (const b of s.backends) {
      let r = await runOurs(c, b, input, stepsOf(c));
      for (let k = 1; k < s.repeat; k++) {
        const again = await runOurs(c, b, input, stepsOf(c));
        if (again.checksum !== r.checksum || again.outputSpikes !== r.outputSpikes) throw new Error(`${c}: backend ${b} gave other spikes on repeat ${k + 1}`);
        r = { ...r, runS: Math.min(r.runS, again.runS), cpuS: Math.min(r.cpuS, again.cpuS) };
      }
      ours[c]![b] = r;
      reference ??= r.net;
      const first = Object.values(ours[c]!)[0]!;
      // Every backend must compute the same network (bit-identical kernels): same spikes.
      if (r.outputSpikes !== first.outputSpikes || Buffer.compare(Buffer.from(r.spikes.buffer), Buffer.from(first.spikes.buffer)) !== 0) {
        throw new Error(`${c}: backend ${b} spikes differ from ${Object.keys(ours[c]!)[0]}`);
      }
      console.log(`${c} ${b}: build ${r1(r.buildS)} s, run ${r.runS.toFixed(2)} s (CPU ${r.cpuS.toFixed(2)} s)${s.repeat > 1 ? `, best of ${s.repeat}` : ''}, ${r.outputSpikes} output spikes (${r1(r.outputSpikes / NEURONS / s.seconds[c])} Hz)`);
    }
    if (s.phases) {
      phases[c] = {};
      for (const b of s.backends) {
        const p = await phaseRun(c, b, input, stepsOf(c));
        phases[c]![b] = p;
        console.log(`${c} ${b} phases (µs/step): ${Object.entries(p).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
    }
    if (reference) {
      events[c] = synapticEvents(reference, input, stepsOf(c));
      console.log(`${c}: ${events[c]} synaptic events (${r1(events[c]! / stepsOf(c))} per step)`);
    }
  }
  let brian: Record<string, any> | undefined;
  if (s.brian2) {
    if (!reference) throw new Error('Brian2 comparison needs at least one of our backends to build the network');
    brian = runBrian2(reference, input, steps, Object.fromEntries(s.cases.map((c) => [c, stepsOf(c)])), s.repeat);
  }
  for (const c of s.cases) {
    const row: Record<string, unknown> = {};
    const n = stepsOf(c);
    const ev = events[c] ?? 0;
    const b2 = brian?.cases?.[c] as
      | { run_s: number; cpu_s: number; warmup_s: number; build_s: number; prepare_s: number; output_spikes: number; checksum: number; events: number; mean_weight: number }
      | undefined;
    if (b2 && b2.events !== ev) throw new Error(`${c}: Brian2 counted ${b2.events} synaptic events, we ${ev}`);
    for (const [b, r] of Object.entries(ours[c]!)) {
      row[b] = {
        wallS: r3(r.runS),
        cpuS: r3(r.cpuS),
        buildS: r3(r.buildS),
        stepsPerS: Math.round(n / r.runS),
        eventsPerS: Math.round(ev / r.runS),
        eventsPerCpuS: Math.round(ev / r.cpuS),
        outputSpikes: r.outputSpikes,
        meanWeight: r.meanWeight,
        // Ratios of throughput (= inverse ratios of time), wall and CPU.
        ...(b2 ? { vsBrian2: r2(b2.run_s / r.runS), vsBrian2Cpu: r2(b2.cpu_s / r.cpuS) } : {}),
      };
    }
    if (b2) {
      const first = Object.values(ours[c]!)[0]!;
      const identical = b2.output_spikes === first.outputSpikes && b2.checksum === first.checksum;
      if (c === 'plain' && !identical) throw new Error(`plain: Brian2's output spikes differ from ours (${b2.output_spikes} vs ${first.outputSpikes}); the comparison is not of the same computation`);
      row.brian2 = {
        wallS: r3(b2.run_s),
        cpuS: r3(b2.cpu_s),
        buildS: r3(b2.build_s),
        warmupS: r3(b2.warmup_s),
        prepareS: r3(b2.prepare_s),
        stepsPerS: Math.round(n / b2.run_s),
        eventsPerS: Math.round(ev / b2.run_s),
        eventsPerCpuS: Math.round(ev / b2.cpu_s),
        outputSpikes: b2.output_spikes,
        meanWeight: b2.mean_weight,
        spikesIdenticalToOurs: identical,
      };
    }
    cases[c] = { seconds: s.seconds[c], steps: n, synapticEvents: ev, ...row, ...(phases[c] ? { phasesUsPerStep: phases[c] } : {}) };
    const line = Object.entries(row)
      .map(([k, v]) => {
        const o = v as { eventsPerS: number; eventsPerCpuS: number; wallS: number; vsBrian2?: number; vsBrian2Cpu?: number };
        return `${k} ${r1(o.eventsPerS / 1e6)} M/s wall, ${r1(o.eventsPerCpuS / 1e6)} M/s CPU (${o.wallS} s${o.vsBrian2 !== undefined ? `; ×${o.vsBrian2} Brian2 wall, ×${o.vsBrian2Cpu} CPU` : ''})`;
      })
      .join(' | ');
    console.log(`${c === 'plain' ? '(a) plain LIF' : '(b) ALIF + STDP'}: ${line}`);
  }
  return {
    repeat: s.repeat,
    network: { inputs: INPUTS, neurons: NEURONS, rateHz: RATE_HZ, p: P_CONNECT, delaysMs: [0, MAX_DELAY], dtMs: DT_MS, synapses: reference?.synapseCount },
    // Whether each case's table kept the compact copy (frozen float32 weights) the wasm delivery reads.
    compactTable: Object.fromEntries(Object.entries(ours).map(([c, r]) => [c, Object.values(r)[0]?.net.projection('syn').table?.compact !== undefined])),
    brian2: brian ? { version: brian.brian2, target: brian.target, threads: 1, input: brian.input, stdp: 'event-driven traces' } : 'not run',
    cases,
  };
}
