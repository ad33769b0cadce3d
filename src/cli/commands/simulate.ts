/** `spikeflow simulate --net NET.json --input SPIKES.json --out OUT.json`: run a network on a spike file. */
import { readFileSync } from 'node:fs';
import { parseArgs, UsageError } from '../args.js';
import { AtomicFile } from '../write-atomic.js';
import { jobFrom, runJob } from '../../snn/exchange.js';
import { SpecError } from '../../snn/spec-error.js';
import { backendByName, BACKEND_NAMES } from '../../snn/backends/select.js';
import { GpuUnavailableError } from '../../snn/backends/webgpu/device.js';
import { GpuUnsupportedError } from '../../snn/backends/webgpu/gpu-plan.js';
import { TfjsUnavailableError } from '../../snn/backends/tfjs/load.js';
import { TfjsUnsupportedError } from '../../snn/backends/tfjs/tfjs-plan.js';

const ALL_BACKENDS = [...BACKEND_NAMES, 'webgpu', 'tfjs', 'auto'];

export const simulateHelp = `spikeflow simulate --net NET.json --input SPIKES.json --out OUT.json [--steps N] [--backend ${ALL_BACKENDS.join('|')}]
  Runs a network on input spikes and writes the output spikes, final weights and thresholds.
  NET.json is the simulator exchange format (one input group -> one LIF group, see README) or a
  full spikeflow network spec (then --steps is required). Exits 1 on an invalid file, naming the field.
  --backend webgpu runs on the GPU (WebGPU through Dawn) and exits 1 when no adapter can run the
  network; --backend auto tries the GPU and falls back to the CPU, saying why.
  --backend tfjs runs the dense formulation through TensorFlow.js (the optional peer dependency:
  @tensorflow/tfjs-node-gpu, else tfjs-node, else @tensorflow/tfjs; SPIKEFLOW_TFJS=<package> picks
  one) and exits 1 when none is installed or the network has what it does not run.`;

export async function simulate(argv: string[], print: (s: string) => void): Promise<number> {
  const args = parseArgs(argv, { values: ['net', 'input', 'out', 'steps', 'backend'], flags: ['progress'] });
  const net = args.options.net as string | undefined;
  const input = args.options.input as string | undefined;
  const out = args.options.out as string | undefined;
  if (!net || !input || !out || args.positional.length) throw new UsageError(`simulate needs --net, --input and --out\n${simulateHelp}`);
  let steps: number | undefined;
  if (args.options.steps !== undefined) {
    steps = Number(args.options.steps);
    if (!Number.isInteger(steps) || steps < 0) throw new UsageError(`--steps must be a non-negative integer, got '${String(args.options.steps)}'`);
  }
  const backendName = (args.options.backend as string | undefined) ?? 'cpu';
  if (!ALL_BACKENDS.includes(backendName)) throw new UsageError(`unknown --backend '${backendName}' (available: ${ALL_BACKENDS.join(', ')})`);
  const job = withFile(net, () => jobFrom(readJson(net), readJson(input), steps), input);
  const started = performance.now();
  const progress = args.options.progress ? (done: number, total: number) => process.stderr.write(`\rsimulate: step ${done}/${total}`) : undefined;
  let result: Record<string, unknown> | undefined;
  let used = backendName;
  let synapses = 0;
  if (backendName === 'webgpu' || backendName === 'auto') {
    try {
      const { runJobOnGpu } = await import('../../snn/backends/webgpu/run-job.js');
      const r = await runJobOnGpu(job, 64, progress);
      result = r.out;
      synapses = r.synapses;
      used = `webgpu (${r.adapter})`;
    } catch (e) {
      if (!(e instanceof GpuUnavailableError || e instanceof GpuUnsupportedError)) throw e;
      if (backendName === 'webgpu') throw new Error(`the webgpu backend was asked for but cannot run this network: ${e.message}`);
      console.error(`spikeflow simulate: webgpu unavailable (${e.message}); running on the cpu backend`);
      used = 'cpu';
    }
  }
  if (backendName === 'tfjs') {
    try {
      const { runJobOnTfjs } = await import('../../snn/backends/tfjs/run-job.js');
      const r = await runJobOnTfjs(job, 256, progress);
      for (const why of r.skipped) console.error(`spikeflow simulate: tfjs: skipped ${why}`);
      result = r.out;
      synapses = r.synapses;
      used = `tfjs (${r.backend})`;
    } catch (e) {
      if (!(e instanceof TfjsUnavailableError || e instanceof TfjsUnsupportedError)) throw e;
      throw new Error(`the tfjs backend was asked for but cannot run this network: ${e.message}`);
    }
  }
  if (!result) {
    const { network, out: r } = runJob(job, { backend: await backendByName(used) }, progress);
    result = r;
    synapses = network.synapseCount;
  }
  if (progress) process.stderr.write('\n');
  const file = new AtomicFile(out);
  try {
    file.write(Buffer.from(JSON.stringify(result)));
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
  const ms = performance.now() - started;
  print(JSON.stringify({ out, steps: job.steps, synapses, backend: used, wall_ms: Math.round(ms) }));
  return 0;
}

function readJson(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Prefixes a SpecError with the file it came from (the net file, unless the field is the spikes'). */
function withFile<T>(netPath: string, f: () => T, spikesPath: string): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SpecError) throw new Error(`${e.field.startsWith('spikes') ? spikesPath : netPath}: ${e.message}`);
    throw e;
  }
}
