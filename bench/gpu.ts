/**
 * `npm run bench -- gpu [--streams 1,16,64,256] [--steps N] [--chunk N] [--small] [--no-torch] [--no-cpu]`
 *
 * The standard network (bench/standard-network.ts) on the WebGPU backend, B independent streams
 * (instances) stepped together: steps per second (per stream and for all streams) and synaptic
 * events per second, with two chunks in flight. In the same run, for comparison: our best CPU
 * backend on one stream, and the same step written in PyTorch (bench/torch_snn_step.py, when a
 * python3 with torch and a GPU is there). Goal (issue 6): ≥ 2× PyTorch and ≥ 10× our CPU backend at
 * ≥ 64 streams, on an NVIDIA H100/H200. On a software adapter (lavapipe) use --small.
 */
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildNetwork } from '../src/snn/network.js';
import { backendByName } from '../src/snn/backends/select.js';
import { GpuNetwork, type InstanceInput } from '../src/snn/backends/webgpu/gpu-network.js';
import { STANDARD, poissonPool, standardSpec, type StandardSizes } from './standard-network.js';

interface Settings {
  streams: number[];
  steps: number;
  chunk: number;
  sizes: StandardSizes;
  torch: boolean;
  cpu: boolean;
}

function parse(args: string[]): Settings {
  const s: Settings = { streams: [1, 16, 64, 256], steps: 1000, chunk: 50, sizes: STANDARD, torch: true, cpu: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--streams') s.streams = args[++i]!.split(',').map(Number);
    else if (a === '--steps') s.steps = Number(args[++i]);
    else if (a === '--chunk') s.chunk = Number(args[++i]);
    else if (a === '--small') s.sizes = { ...STANDARD, inputs: 1000, neurons: 100 };
    else if (a === '--no-torch') s.torch = false;
    else if (a === '--no-cpu') s.cpu = false;
    else throw new Error(`bench gpu: unknown option ${a}`);
  }
  return s;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export async function main(args: string[]): Promise<Record<string, unknown>> {
  const s = parse(args);
  const spec = standardSpec(s.sizes, false);
  const template = buildNetwork(spec);
  const table = template.projection('in->out').table!;
  // Fan-out per input, to count synaptic events (arrivals) from the input spikes alone.
  const fanout = new Int32Array(s.sizes.inputs);
  for (let k = 0; k < table.count; k++) fanout[table.pre[k]!]!++;
  const pool = poissonPool(s.sizes, 500, 7);
  const eventsOf = (list: Int32Array) => list.reduce((a, i) => a + fanout[i]!, 0);
  const poolEvents = pool.map(eventsOf);
  console.log(`gpu bench: ${s.sizes.inputs} → ${s.sizes.neurons}, ${table.count} synapses, ${s.steps} steps per run, chunks of ${s.chunk}`);

  const results: Record<string, unknown>[] = [];
  let adapter = '';
  for (const B of s.streams) {
    const gpu = await GpuNetwork.create(buildNetwork(spec), { instances: B, chunkSteps: s.chunk, inputCapacity: 1024, outputCapacity: 1 << 20 });
    adapter = gpu.gpu.adapter;
    const stepInputs = (t: number): InstanceInput[] => Array.from({ length: B }, (_, b) => ({ in: pool[(t + 37 * b) % pool.length]! }));
    const chunkOf = (t0: number) => Array.from({ length: s.chunk }, (_, k) => stepInputs(t0 + k));
    await gpu.runChunk(chunkOf(0)); // warm-up: pipelines, first upload
    const chunks = Math.max(1, Math.round(s.steps / s.chunk));
    let events = 0;
    let spikes = 0;
    const started = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let c = 1; c <= chunks; c++) {
      const t0 = c * s.chunk;
      for (let k = 0; k < s.chunk; k++) for (let b = 0; b < B; b++) events += poolEvents[(t0 + k + 37 * b) % pool.length]!;
      if (inFlight.length >= 2) await inFlight.shift();
      inFlight.push(gpu.runChunk(chunkOf(t0)).then((got) => got.get('out')!.forEach((row) => row.forEach((l) => (spikes += l.length)))));
    }
    await Promise.all(inFlight);
    const secs = (performance.now() - started) / 1000;
    gpu.destroy();
    const r = { streams: B, steps: chunks * s.chunk, seconds: round(secs, 3), stepsPerSecond: round((chunks * s.chunk) / secs), streamStepsPerSecond: round((B * chunks * s.chunk) / secs), synapticEventsPerSecond: Math.round(events / secs), outputSpikes: spikes };
    console.log(`  webgpu ${B} streams: ${r.stepsPerSecond} steps/s, ${(r.synapticEventsPerSecond / 1e6).toFixed(1)} M syn events/s (${r.seconds} s)`);
    results.push(r);
  }

  let cpu: Record<string, unknown> | null = null;
  if (s.cpu) {
    let backendName = 'wasm';
    let backend;
    try {
      backend = await backendByName('wasm');
    } catch {
      backendName = 'cpu';
      backend = await backendByName('cpu');
    }
    const net = buildNetwork(spec, { backend });
    const steps = Math.min(s.steps, 2000);
    let events = 0;
    const started = performance.now();
    for (let t = 0; t < steps; t++) {
      net.step({ spikes: { in: pool[t % pool.length]! } });
      events += poolEvents[t % pool.length]!;
    }
    const secs = (performance.now() - started) / 1000;
    cpu = { backend: backendName, streams: 1, steps, stepsPerSecond: round(steps / secs), synapticEventsPerSecond: Math.round(events / secs) };
    console.log(`  cpu (${backendName}) 1 stream: ${cpu.stepsPerSecond} steps/s, ${(events / secs / 1e6).toFixed(1)} M syn events/s`);
  }

  let torch: Record<string, unknown> | null = null;
  if (s.torch) {
    const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_snn_step.py');
    const r = spawnSync(process.env.PYTHON ?? 'python3', [script, '--inputs', String(s.sizes.inputs), '--neurons', String(s.sizes.neurons), '--p', String(s.sizes.p), '--max-delay', String(s.sizes.maxDelay), '--rate-hz', String(s.sizes.rateHz), '--steps', String(s.steps), '--streams', s.streams.join(',')], { encoding: 'utf8', timeout: 1_200_000 });
    const line = r.stdout?.trim().split('\n').at(-1) ?? '';
    if (r.status === 0 && line.startsWith('{')) {
      torch = JSON.parse(line);
      console.log(`  pytorch: ${JSON.stringify(torch)}`);
    } else {
      torch = { unavailable: (r.stderr || r.error?.message || 'no output').trim().split('\n').slice(-2).join(' ') };
      console.log(`  pytorch unavailable: ${torch.unavailable}`);
    }
  }

  const ratios = results.map((g) => {
    const tr = (torch?.results as { streams: number; stepsPerSecond: number }[] | undefined)?.find((x) => x.streams === g.streams);
    return {
      streams: g.streams,
      vsCpu: cpu ? round((g.synapticEventsPerSecond as number) / (cpu.synapticEventsPerSecond as number), 2) : null,
      vsTorch: tr ? round((g.stepsPerSecond as number) / tr.stepsPerSecond, 2) : null,
    };
  });
  for (const r of ratios) console.log(`  ${r.streams} streams: ${r.vsCpu ?? '-'}× our CPU, ${r.vsTorch ?? '-'}× PyTorch`);
  return { adapter, synapses: table.count, sizes: s.sizes, webgpu: results, cpu, torch, ratios };
}
