/**
 * `npm run bench -- operators [--runs N] [--min-ms M] [--file NAME] [--quick]`
 *
 * Throughput of each stream operator on one core, in million input events per second (by CPU time
 * of the process, and by wall time), on a real
 * recording (default evt2_sparklers.raw, 521,252 events, 640×480, in the decoder's own packets of up
 * to 65,536 events): the decoded packets are replayed through `from(packets).pipe(op)` with a
 * counting subscriber, so the figure includes RxJS's per-packet cost (a `map(identity)` baseline is
 * reported beside them). Warm-up first, then `runs` timed runs of enough repetitions to last
 * `min-ms` each; the figure is the median run. Each repetition builds the operator afresh (new
 * per-pixel state: for the WASM filters, a new instance). refractory and denoise run twice: with
 * their WASM loops and with `kernel: 'js'`; and again as a long stream (`streaming:` rows), one
 * operator whose state carries over while the recording is sent again and again, times moved on.
 */
import { performance } from 'node:perf_hooks';
import { from, identity, map, Subject, type OperatorFunction } from 'rxjs';
import { concatPackets, type EventPacket } from '../src/events/packet.js';
import { decodeBuffer } from '../src/formats/decode-all.js';
import { readShared } from '../test/helpers/shared-data.js';
import { binSteps, countWindows, denoise, downsample, flip, hotPixels, mergeByTime, polarity, refractory, roi, rotate, tapMetrics, transpose } from '../operators/index.js';

interface Settings {
  runs: number;
  minMs: number;
  file: string;
}

function parseArgs(args: string[]): Settings {
  const s: Settings = { runs: 5, minMs: 300, file: 'evt2_sparklers.raw' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') s.runs = Math.max(1, Number(value()));
    else if (a === '--min-ms') s.minMs = Math.max(1, Number(value()));
    else if (a === '--file') s.file = value();
    else if (a === '--quick') {
      s.runs = 3;
      s.minMs = 100;
    } else throw new Error(`operators bench: unknown argument ${a} (use --runs N, --min-ms M, --file NAME, --quick)`);
  }
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Same-machine reference: the cheapest filter body there is (copy every event into fresh arrays
 * sized to the packet), so figures can be compared across machines and loads as a ratio to it.
 */
function plainCopy(packet: EventPacket): EventPacket {
  const n = packet.length;
  const x = new Uint16Array(n);
  const y = new Uint16Array(n);
  const t = new Float64Array(n);
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = packet.x[i]!;
    y[i] = packet.y[i]!;
    t[i] = packet.t[i]!;
    p[i] = packet.p[i]!;
  }
  return { ...packet, x, y, t, p };
}

/** One pass of the packets through a fresh pipeline; returns output items (checked non-zero). */
function pass(packets: readonly EventPacket[], make: () => OperatorFunction<EventPacket, unknown>): number {
  let items = 0;
  from(packets)
    .pipe(make())
    .subscribe(() => items++);
  return items;
}

/**
 * One operator for the whole measurement, as in a live stream: each call sends the recording again
 * with its times moved on by its span (in place, counted in the figure as in the shift-only baseline),
 * so per-pixel state carries over and never sees time go back.
 */
function streaming(packets: readonly EventPacket[], span: number, make: () => OperatorFunction<EventPacket, unknown>): () => number {
  const input = new Subject<EventPacket>();
  let items = 0;
  input.pipe(make()).subscribe(() => items++);
  const own = packets.map((p) => ({ ...p, t: p.t.slice() }));
  return () => {
    const before = items;
    for (const p of own) {
      const t = p.t;
      for (let i = 0; i < t.length; i++) t[i] = t[i]! + span;
      input.next(p);
    }
    return items - before;
  };
}

/** CPU time of this process (all its threads, GC included), ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Median Mev/s over the runs, by CPU time and by wall time. On a shared, loaded machine the wall
 * figure mostly measures waiting for a core; CPU time is the operator's own cost.
 */
function measure(events: number, settings: Settings, once: () => number): { cpu: number; wall: number } {
  // Warm-up: let V8 optimise the loops before timing.
  const warmEnd = performance.now() + settings.minMs;
  while (performance.now() < warmEnd) once();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < settings.runs; r++) {
    let reps = 0;
    const t0 = performance.now();
    const c0 = cpuMs();
    let t1 = t0;
    do {
      if (once() === 0) throw new Error('operator produced nothing');
      reps++;
      t1 = performance.now();
    } while (t1 - t0 < settings.minMs);
    const c1 = cpuMs();
    cpu.push((events * reps) / ((c1 - c0) / 1000) / 1e6);
    wall.push((events * reps) / ((t1 - t0) / 1000) / 1e6);
  }
  return { cpu: median(cpu), wall: median(wall) };
}

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const settings = parseArgs(args);
  const decoded = decodeBuffer(readShared(settings.file), 'auto', { fileName: settings.file });
  const packets = decoded.packets;
  const all = concatPackets(packets);
  const events = all.length;
  const g = all.geometry;
  const t0 = all.t[0]!;
  const span = all.t[events - 1]! - t0 + 1;
  const hot = Array.from({ length: 20 }, (_, k) => ({ x: (k * 31) % g.width, y: (k * 17) % g.height }));
  // A second sensor for the merge: the same events 1 ms later.
  const shifted = packets.map((p) => ({ ...p, t: p.t.map((t) => t + 1000) }));

  const cases: [string, () => number][] = [
    ['baseline map(identity)', () => pass(packets, () => map(identity))],
    ['baseline plain copy loop', () => pass(packets, () => map(plainCopy))],
    // The WASM loops (default when built), then the TypeScript ones (kernel: 'js').
    ['denoise 5 ms r1', () => pass(packets, () => denoise({ windowUs: 5000 }))],
    ['denoise 5 ms r1 (js)', () => pass(packets, () => denoise({ windowUs: 5000, kernel: 'js' }))],
    ['denoise 5 ms r2', () => pass(packets, () => denoise({ windowUs: 5000, radius: 2 }))],
    ['denoise 5 ms r2 (js)', () => pass(packets, () => denoise({ windowUs: 5000, radius: 2, kernel: 'js' }))],
    ['refractory 1 ms', () => pass(packets, () => refractory({ refractoryUs: 1000 }))],
    ['refractory 1 ms (js)', () => pass(packets, () => refractory({ refractoryUs: 1000, kernel: 'js' }))],
    // A long stream: one operator, its state carried over (the WASM instance is made once).
    ['streaming: shift only', streaming(packets, span, () => map(identity))],
    ['streaming: refractory 1 ms', streaming(packets, span, () => refractory({ refractoryUs: 1000 }))],
    ['streaming: refractory 1 ms (js)', streaming(packets, span, () => refractory({ refractoryUs: 1000, kernel: 'js' }))],
    ['streaming: denoise 5 ms r1', streaming(packets, span, () => denoise({ windowUs: 5000 }))],
    ['streaming: denoise 5 ms r1 (js)', streaming(packets, span, () => denoise({ windowUs: 5000, kernel: 'js' }))],
    ['hotPixels list', () => pass(packets, () => hotPixels({ pixels: hot }))],
    ['hotPixels calibrate 20 ms hold', () => pass(packets, () => hotPixels({ calibrationUs: 20_000, thresholdHz: 5000 }))],
    ['roi half', () => pass(packets, () => roi({ x: g.width / 4, y: g.height / 4, width: g.width / 2, height: g.height / 2 }))],
    ['downsample 4', () => pass(packets, () => downsample({ factor: 4 }))],
    ['polarity on', () => pass(packets, () => polarity('on'))],
    ['flip x', () => pass(packets, () => flip('x'))],
    ['rotate 90', () => pass(packets, () => rotate(90))],
    ['transpose', () => pass(packets, () => transpose())],
    ['binSteps 1 ms', () => pass(packets, () => binSteps({ dtUs: 1000 }))],
    ['binSteps 1 ms y-x', () => pass(packets, () => binSteps({ dtUs: 1000, layout: 'y-x' }))],
    ['binSteps 10 ms + frames', () => pass(packets, () => binSteps({ dtUs: 10_000, frames: true }))],
    ['countWindows 10k', () => pass(packets, () => countWindows(10_000))],
    ['tapMetrics', () => pass(packets, () => tapMetrics({ intervalMs: 1000, report: () => undefined }))],
  ];
  // Merge: input events of both sensors per second.
  cases.push([
    'mergeByTime 2 sensors 5 ms',
    () => {
      let items = 0;
      mergeByTime([from(packets), from(shifted)], { reorderWindowUs: 5000 }).subscribe(() => items++);
      return items;
    },
  ]);
  const mevs: Record<string, number> = {};
  const mevsWall: Record<string, number> = {};
  console.log(`${'operator'.padEnd(32)} ${'CPU Mev/s'.padStart(10)} ${'wall Mev/s'.padStart(11)}`);
  for (const [name, once] of cases) {
    const inputEvents = name.startsWith('mergeByTime') ? 2 * events : events;
    const m = measure(inputEvents, settings, once);
    mevs[name] = Number(m.cpu.toFixed(1));
    mevsWall[name] = Number(m.wall.toFixed(1));
    console.log(`${name.padEnd(32)} ${m.cpu.toFixed(1).padStart(10)} ${m.wall.toFixed(1).padStart(11)}`);
  }
  return { recording: settings.file, events, packets: packets.length, spanMs: (all.t[events - 1]! - t0) / 1000, runs: settings.runs, minMs: settings.minMs, mevs, mevsWall };
}
