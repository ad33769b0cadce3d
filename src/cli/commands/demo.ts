/**
 * `spikeflow demo`: the main job — pipelines/motion-direction.yaml from the package, so it runs from
 * any directory with nothing installed beyond the npm packages. `--seconds` and `--fast` are
 * shorthands for the emulator's parameters, `--input` puts a recording in the emulator's place, and
 * the learned state is checkpointed to `--checkpoint` (in the working directory) when the run ends.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBuffer } from '../../formats/decode-all.js';
import type { LoadedPipeline, NodeSpec } from '../../runtime/index.js';
import { UsageError } from '../args.js';
import { loadReporting, parseRunOptions, runLoaded } from './run.js';

export const demoHelp = `spikeflow demo [--port N] [--seconds S] [--fast] [--input REC] [--checkpoint F] [--resume F] [--set key=value ...] [--quiet]
  The main job: pipelines/motion-direction.yaml. The emulator films textures moving at 12 directions
  × 3 speeds, a heterogeneous-delay layer learns the direction and speed online from the emulator's
  labels, and its decisions are served at ws://127.0.0.1:PORT/decisions (printed; port 8080 unless
  --port or PORT says otherwise, 0 = a free port). The status line shows the accuracy over the last
  100 decisions as it learns. Runs until Ctrl-C, or for --seconds of emulated time; --fast runs the
  emulator as fast as the network keeps up instead of at real time. The learned state is saved to
  --checkpoint (default ./motion-direction.ckpt) at the end. --input REC replays a recording
  (any format; downsampled to the network's 32×32 input) instead of the emulator, at real time
  (--fast: as fast as possible), without labels: start it from a trained state with --resume.
  Other options as for 'run'.`;

/** The pipeline file shipped with the package (dist/src/cli/commands or src/cli/commands). */
export function mainPipelinePath(): string {
  const candidates = ['../../../../pipelines/motion-direction.yaml', '../../../pipelines/motion-direction.yaml'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the main pipeline is missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** Sensor geometry of a recording, from its header or the events of its first MiB. */
export function recordingGeometry(path: string): { width: number; height: number } {
  const head = new Uint8Array(1 << 20);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const d = decodeBuffer(head.subarray(0, n), 'auto', { fileName: path });
  let { width, height } = d.decoder.geometry;
  if (!(width > 0 && height > 0)) {
    for (const p of d.packets) for (let i = 0; i < p.length; i++) ((width = Math.max(width, p.x[i]! + 1)), (height = Math.max(height, p.y[i]! + 1)));
  }
  if (!(width > 0 && height > 0)) throw new Error(`${path}: no sensor size in its header and no events in its first MiB`);
  return { width, height };
}

/** The main pipeline with a recording in place of the emulator: downsampled to fit, no labels. */
export function withRecording(loaded: LoadedPipeline, path: string, fast: boolean): LoadedPipeline {
  const { width, height } = recordingGeometry(path);
  const emu = loaded.spec.nodes.find((n) => n.id === 'emu')!;
  const side = Number((emu.params as { width?: number }).width ?? 32);
  const factor = Math.ceil(Math.max(width, height) / side);
  const nodes: NodeSpec[] = [
    { id: 'rec', source: 'file', params: { path, pace: fast ? 'fast' : 1 } },
    { id: 'fit', op: 'downsample', input: 'rec', params: { factor } },
  ];
  for (const n of loaded.spec.nodes) {
    if (n.id === 'emu' || n.id === 'labels') continue;
    if (n.input === 'emu') nodes.push({ ...n, input: 'fit' });
    else if (n.input === 'labels') nodes.push({ ...n, input: 'bins' });
    else if (n.id === 'decide') {
      const { truth: _truth, ...params } = (n.params ?? {}) as Record<string, unknown>;
      nodes.push({ ...n, params });
    } else nodes.push(n);
  }
  return { ...loaded, spec: { ...loaded.spec, description: `${path} (÷${factor}) → the motion-direction network`, nodes } };
}

export async function demo(argv: string[], print: (s: string) => void): Promise<number> {
  const fast = argv.includes('--fast');
  const { positional, sets, run: o, options } = parseRunOptions(
    argv.filter((a) => a !== '--fast'),
    ['seconds', 'input', 'checkpoint'],
  );
  if (positional.length) throw new UsageError(`demo takes no pipeline file (it runs the main one; use 'spikeflow run FILE' for others)\n${demoHelp}`);
  const input = options.input as string | undefined;
  const extra: string[] = [`checkpoint.path=${resolve((options.checkpoint as string | undefined) ?? 'motion-direction.ckpt')}`];
  if (fast) extra.push('emu.params.realtime=false');
  if (options.seconds !== undefined) {
    const s = Number(options.seconds);
    if (!(s > 0)) throw new UsageError(`--seconds must be > 0, got '${String(options.seconds)}'\n${demoHelp}`);
    if (input) throw new UsageError('--seconds applies to the emulator; with --input the recording ends the run');
    extra.push(`emu.params.durationUs=${Math.round(s * 1e6)}`);
  }
  if (input && !existsSync(input)) throw new UsageError(`--input: no such file: ${input}`);
  const loaded = loadReporting(mainPipelinePath(), [...extra, ...sets]);
  if (!loaded) return 1;
  return runLoaded(input ? withRecording(loaded, resolve(input), fast) : loaded, o, print);
}
