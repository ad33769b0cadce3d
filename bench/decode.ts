/**
 * `npm run bench -- decode [--runs N] [--min-ms M] [--chunk BYTES] [--only TEXT] [--pool kernel|heap] [--quick]`
 *
 * Decode throughput on one core: each shared recording is decoded into packets many times, the
 * whole file pushed in large chunks as a file reader would (default 1 MiB), packets counted and
 * given back to the pool as a streaming consumer would. Warm-up first, then `runs` timed runs of
 * enough iterations to last `min-ms` each; the figure is the median run. Reported per recording and
 * per format in Mev/s and MB/s, by wall time and by process CPU time (the latter less disturbed by other
 * processes on a shared machine). The fixed cost per stream (decoding the header alone: decoder
 * creation, header parsing, first packet buffers) is reported too, since it dominates on the small
 * recordings (a few KB); the "steady" figure repeats a small recording's body to 8 MiB instead.
 *
 * The consumer releases every packet, so by default its pool takes its buffers from the WASM kernels'
 * memory (kernelPacketPool: the kernels write events in place, no copy out of their staging area);
 * `--pool heap` measures with an ordinary PacketPool instead (staging area copied into the packets).
 *
 * Two comparisons per format:
 *  - the expelliarmus C decoder (gcc -O2, decode only), measured on this machine class:
 *    EVT2 365, EVT3 107, DAT 408 Mev/s (fixed numbers; other machines will differ);
 *  - a deliberately naive plain-JS loop measured in this same process (per-word DataView reads,
 *    events pushed into JS arrays) for EVT2, EVT3 and DAT: a same-machine baseline. The naive loops
 *    also re-count the events independently of the product decoders.
 */
import { performance } from 'node:perf_hooks';
import { PacketPool } from '../src/events/pool.js';
import { getFormat } from '../src/formats/registry.js';
import { kernelPacketPool } from '../src/formats/wasm-kernels.js';
import type { DecoderOptions } from '../src/formats/types.js';
import { cutStructure, decoderAvailable } from '../test/helpers/mutate.js';
import { RECORDINGS, type Recording } from '../test/helpers/recordings.js';
import { readShared } from '../test/helpers/shared-data.js';

/** expelliarmus C decoder, gcc -O2, decode only, Mev/s on this machine class. */
const C_REFERENCE_MEVS: Readonly<Record<string, number>> = { evt2: 365, evt3: 107, dat: 408 };

interface Settings {
  runs: number;
  minMs: number;
  chunk: number;
  only: string | undefined;
  /** Where the consumer's pool takes its buffers: the kernels' memory, or the JS heap. */
  pool: 'kernel' | 'heap';
}

function parseArgs(args: string[]): Settings {
  const s: Settings = { runs: 7, minMs: 300, chunk: 1 << 20, only: undefined, pool: 'kernel' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') s.runs = Math.max(1, Number(value()));
    else if (a === '--min-ms') s.minMs = Math.max(1, Number(value()));
    else if (a === '--chunk') s.chunk = Math.max(1, Number(value()));
    else if (a === '--only') s.only = value();
    else if (a === '--pool') {
      const v = value();
      if (v !== 'kernel' && v !== 'heap') throw new Error(`--pool must be kernel or heap, got ${v}`);
      s.pool = v;
    }
    else if (a === '--quick') {
      s.runs = 3;
      s.minMs = 100;
    } else throw new Error(`decode bench: unknown argument ${a} (use --runs N, --min-ms M, --chunk BYTES, --only TEXT, --pool kernel|heap, --quick)`);
  }
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Time `fn` (which returns its event count): warm up, calibrate, then `runs` runs; median ms per call. */
function measure(fn: () => number, s: Settings): { msPerCall: number; cpuMsPerCall: number; events: number; runsMs: number[] } {
  let events = 0;
  const warmStart = performance.now();
  let warm = 0;
  while (warm < 5 || performance.now() - warmStart < Math.min(1000, 2 * s.minMs)) {
    events = fn();
    warm++;
  }
  const perCall = (performance.now() - warmStart) / warm;
  const iterations = Math.max(1, Math.ceil(s.minMs / Math.max(perCall, 1e-3)));
  const runsMs: number[] = [];
  const cpuMs: number[] = [];
  for (let r = 0; r < s.runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    runsMs.push((performance.now() - t0) / iterations);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000 / iterations);
  }
  return { msPerCall: median(runsMs), cpuMsPerCall: median(cpuMs), events, runsMs };
}

/**
 * Our decoder: chunks of `chunk` bytes, packets counted then released to the pool, one pool reused
 * across decodes. A decoder that never hands its last buffer back (PacketBuilder.finish) would make
 * that pool allocate one more buffer per decode and keep it: after 20 decodes this is detected and
 * each later decode gets a fresh pool instead (so the bench does not grow without bound), and
 * `keepsBuffers` says so.
 */
function productDecode(rec: Recording, bytes: Uint8Array, chunk: number, poolKind: Settings['pool']): { decode: () => number; keepsBuffers: () => boolean } {
  const desc = getFormat(rec.format);
  const shared = poolKind === 'kernel' ? kernelPacketPool(65536) : new PacketPool(65536);
  let calls = 0;
  let keeps = false;
  const decode = () => {
    if (!keeps && calls === 20 && shared.allocated > 12) keeps = true;
    calls++;
    const pool = keeps ? new PacketPool(65536) : shared;
    const d = desc.createDecoder({ ...rec.options, pool });
    let n = 0;
    for (let o = 0; o < bytes.length; o += chunk) {
      for (const p of d.push(bytes.subarray(o, o + chunk)).events) {
        n += p.length;
        pool.release(p);
      }
    }
    for (const p of d.end().events) {
      n += p.length;
      pool.release(p);
    }
    return n;
  };
  return { decode, keepsBuffers: () => keeps };
}

/** Record size of the formats whose body can be repeated record-aligned to make a long stream. */
const REPEATABLE_RECORD_BYTES: Readonly<Record<string, number>> = { evt2: 4, evt3: 2, dat: 8, nmnist: 5, cochlea: 6 };
const STEADY_BYTES = 8 << 20;

/**
 * The recording's header followed by its body repeated up to ~8 MiB: a long stream with the same
 * event statistics, to measure the rate once the fixed cost per stream no longer counts (the small
 * recordings are a few KB; those of 1 MiB or more are long enough as they are). Time steps back at
 * each seam, which these decoders accept as jitter.
 */
function steadyStream(rec: Recording, bytes: Uint8Array): Uint8Array | undefined {
  const record = REPEATABLE_RECORD_BYTES[rec.format];
  if (!record || bytes.length >= 1 << 20) return undefined;
  const start = cutStructure(rec.format, bytes, rec.options).dataStart;
  const body = bytes.subarray(start, start + Math.floor((bytes.length - start) / record) * record);
  if (body.length === 0) return undefined;
  const copies = Math.ceil(STEADY_BYTES / body.length);
  const out = new Uint8Array(start + copies * body.length);
  out.set(bytes.subarray(0, start), 0);
  for (let i = 0; i < copies; i++) out.set(body, start + i * body.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Naive plain-JS baselines: straightforward per-word DataView reads into growing JS arrays.

interface NaiveEvents {
  x: number[];
  y: number[];
  t: number[];
  p: number[];
}

function skipPercentHeader(b: Uint8Array, needSpace: boolean): number {
  let i = 0;
  while (b[i] === 0x25 && (!needSpace || b[i + 1] === 0x20)) i = b.indexOf(0x0a, i) + 1;
  return i;
}

function naiveEvt2(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const e: NaiveEvents = { x: [], y: [], t: [], p: [] };
  let base = -1;
  for (let i = skipPercentHeader(b, true); i + 4 <= b.length; i += 4) {
    const w = dv.getUint32(i, true);
    const type = w >>> 28;
    if (type === 0x8) base = (w & 0x0fffffff) * 64;
    else if ((type === 0 || type === 1) && base >= 0) {
      e.x.push((w >>> 11) & 0x7ff);
      e.y.push(w & 0x7ff);
      e.t.push(base + ((w >>> 22) & 0x3f));
      e.p.push(type);
    }
  }
  return e.x.length;
}

function naiveEvt3(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const e: NaiveEvents = { x: [], y: [], t: [], p: [] };
  let high = -1;
  let low = 0;
  let y = 0;
  let baseX = 0;
  let pol = 0;
  for (let i = skipPercentHeader(b, true); i + 2 <= b.length; i += 2) {
    const w = dv.getUint16(i, true);
    const type = w >>> 12;
    if (type === 0x8) high = (w & 0xfff) << 12;
    if (high < 0) continue;
    if (type === 0x6) low = w & 0xfff;
    else if (type === 0x0) y = w & 0x7ff;
    else if (type === 0x2) {
      e.x.push(w & 0x7ff);
      e.y.push(y);
      e.t.push(high + low);
      e.p.push((w >>> 11) & 1);
    } else if (type === 0x3) {
      baseX = w & 0x7ff;
      pol = (w >>> 11) & 1;
    } else if (type === 0x4 || type === 0x5) {
      const bits = type === 0x4 ? 12 : 8;
      for (let k = 0; k < bits; k++) {
        if ((w >>> k) & 1) {
          e.x.push(baseX + k);
          e.y.push(y);
          e.t.push(high + low);
          e.p.push(pol);
        }
      }
      baseX += bits;
    }
  }
  return e.x.length;
}

function naiveDat(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const e: NaiveEvents = { x: [], y: [], t: [], p: [] };
  for (let i = skipPercentHeader(b, false) + 2; i + 8 <= b.length; i += 8) {
    const d = dv.getUint32(i + 4, true);
    e.t.push(dv.getUint32(i, true));
    e.x.push(d & 0x3fff);
    e.y.push((d >>> 14) & 0x3fff);
    e.p.push(d >>> 28);
  }
  return e.x.length;
}

const NAIVE: Readonly<Record<string, (b: Uint8Array) => number>> = { evt2: naiveEvt2, evt3: naiveEvt3, dat: naiveDat };

// ---------------------------------------------------------------------------------------------

interface RecordingFigures {
  format: string;
  events: number;
  bytes: number;
  mevs: number;
  mbs: number;
  msPerDecode: number;
  /** The same by process CPU time (less sensitive than wall time to other processes on a shared machine). */
  cpuMevs: number;
  cpuMsPerDecode: number;
  /** Decoding the header alone (decoder creation, header parsing, first buffers): the fixed cost per stream. */
  setupUs: number;
  setupCpuUs: number;
  /** Rate on the body repeated to ~8 MiB (formats with fixed-size words/records, small recordings). */
  steadyMevs?: number;
  steadyCpuMevs?: number;
  naiveMevs?: number;
  naiveEvents?: number;
  countOk: boolean;
  keepsBuffers: boolean;
}

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const s = parseArgs(args);
  const recordings: Record<string, RecordingFigures> = {};
  const placeholders: string[] = [];
  const problems: string[] = [];
  console.log(`decode bench: ${s.runs} runs of >= ${s.minMs} ms, ${s.chunk}-byte chunks, ${s.pool === 'kernel' ? 'packet buffers in the kernels\' memory' : 'packet buffers on the JS heap'}, median run reported, one core`);
  for (const rec of RECORDINGS) {
    if (s.only && rec.format !== s.only && !rec.file.startsWith(s.only)) continue;
    const desc = getFormat(rec.format);
    if (!decoderAvailable(desc)) {
      if (!placeholders.includes(rec.format)) placeholders.push(rec.format);
      console.log(`${rec.file}: skipped, the ${rec.format} decoder is a placeholder`);
      continue;
    }
    const bytes = readShared(rec.file);
    const product = productDecode(rec, bytes, s.chunk, s.pool);
    const ours = measure(product.decode, s);
    const header = bytes.subarray(0, cutStructure(rec.format, bytes, rec.options).dataStart);
    const setup = measure(productDecode(rec, header, s.chunk, s.pool).decode, { ...s, minMs: Math.min(s.minMs, 100) });
    const f: RecordingFigures = {
      format: rec.format,
      events: ours.events,
      bytes: bytes.length,
      mevs: round(ours.events / ours.msPerCall / 1000),
      mbs: round(bytes.length / ours.msPerCall / 1000),
      msPerDecode: round(ours.msPerCall, 5),
      cpuMevs: round(ours.events / ours.cpuMsPerCall / 1000),
      cpuMsPerDecode: round(ours.cpuMsPerCall, 5),
      setupUs: round(setup.msPerCall * 1000),
      setupCpuUs: round(setup.cpuMsPerCall * 1000),
      countOk: ours.events === rec.events,
      keepsBuffers: product.keepsBuffers(),
    };
    if (f.keepsBuffers) problems.push(`${rec.file}: the ${rec.format} decoder keeps a pool buffer per stream (no PacketBuilder.finish at end): measured with a fresh pool per decode`);
    const steady = steadyStream(rec, bytes);
    if (steady) {
      const m = measure(productDecode(rec, steady, s.chunk, s.pool).decode, s);
      f.steadyMevs = round(m.events / m.msPerCall / 1000);
      f.steadyCpuMevs = round(m.events / m.cpuMsPerCall / 1000);
    }
    if (!f.countOk) problems.push(`${rec.file}: decoded ${ours.events} events, README says ${rec.events}`);
    const naive = NAIVE[rec.format];
    if (naive) {
      const base = measure(() => naive(bytes), s);
      f.naiveMevs = round(base.events / base.msPerCall / 1000);
      f.naiveEvents = base.events;
      if (base.events !== rec.events) problems.push(`${rec.file}: the naive ${rec.format} loop counts ${base.events} events, README says ${rec.events}`);
    }
    recordings[rec.file] = f;
    const spread = ours.runsMs.map((m) => round(ours.events / m / 1000)).join(' ');
    console.log(
      `${rec.file}: ${f.mevs} Mev/s (CPU time: ${f.cpuMevs}), ${f.mbs} MB/s (${f.events} events, ${f.msPerDecode} ms/decode; runs ${spread}; setup ${f.setupUs} µs, CPU ${f.setupCpuUs} µs)` +
        (f.steadyMevs !== undefined ? `; body repeated to 8 MiB: ${f.steadyMevs} Mev/s (CPU time: ${f.steadyCpuMevs})` : '') +
        (f.naiveMevs !== undefined ? `; naive JS ${f.naiveMevs} Mev/s` : '') +
        (f.countOk ? '' : `  [COUNT MISMATCH: README ${rec.events}]`),
    );
  }

  // Per format: all its recordings together (total events / total median time).
  const formats: Record<string, Record<string, number | null>> = {};
  const byFormat = new Map<string, RecordingFigures[]>();
  for (const f of Object.values(recordings)) byFormat.set(f.format, [...(byFormat.get(f.format) ?? []), f]);
  console.log('');
  console.log('format   Mev/s    MB/s  steady   C ref  ours/C  steady/C  naive JS  ours/naive   cpu  cpu steady');
  for (const [format, list] of byFormat) {
    const events = list.reduce((a, f) => a + f.events, 0);
    const ms = list.reduce((a, f) => a + f.msPerDecode, 0);
    const bytes = list.reduce((a, f) => a + f.bytes, 0);
    const mevs = round(events / ms / 1000);
    const c = C_REFERENCE_MEVS[format];
    // Long-stream rate: the largest recording's own figure, or its repeated body when it is small.
    const largest = list.reduce((a, f) => (f.bytes > a.bytes ? f : a));
    const steadyMevs = largest.steadyMevs ?? largest.mevs;
    const naiveMs = list.every((f) => f.naiveMevs) ? list.reduce((a, f) => a + f.events / f.naiveMevs! / 1000, 0) : undefined;
    const naiveMevs = naiveMs ? round(events / naiveMs / 1000) : undefined;
    const cpuMevs = round(events / list.reduce((a, f) => a + f.cpuMsPerDecode, 0) / 1000);
    const steadyCpuMevs = largest.steadyCpuMevs ?? largest.cpuMevs;
    formats[format] = {
      mevs,
      mbs: round(bytes / ms / 1000),
      cReferenceMevs: c ?? null,
      ratioToC: c ? round(mevs / c, 2) : null,
      steadyMevs,
      steadyRatioToC: c ? round(steadyMevs / c, 2) : null,
      naiveJsMevs: naiveMevs ?? null,
      ratioToNaive: naiveMevs ? round(mevs / naiveMevs, 2) : null,
      cpuMevs,
      steadyCpuMevs,
    };
    const g = formats[format]!;
    const cell = (v: number | null | undefined, w: number) => (v === null || v === undefined ? '-' : String(v)).padStart(w);
    console.log(
      `${format.padEnd(7)}${cell(g.mevs, 7)}${cell(g.mbs, 8)}${cell(g.steadyMevs, 8)}${cell(g.cReferenceMevs, 8)}${cell(g.ratioToC, 8)}${cell(g.steadyRatioToC, 10)}${cell(g.naiveJsMevs, 10)}${cell(g.ratioToNaive, 12)}${cell(g.cpuMevs, 6)}${cell(g.steadyCpuMevs, 12)}`,
    );
  }
  console.log('(steady: the largest recording, its body repeated to 8 MiB when it is small; C: expelliarmus, gcc -O2, measured on this machine class; cpu: the same by process CPU time instead of wall time)');
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  return {
    settings: { runs: s.runs, minMs: s.minMs, chunkBytes: s.chunk, pool: s.pool },
    cReferenceMevs: C_REFERENCE_MEVS,
    cReferenceNote: 'expelliarmus C decoder, gcc -O2, decode only, measured on this machine class (not in this process)',
    formats,
    recordings,
    placeholders,
    problems,
  };
}
