/**
 * `spikeflow demo`: the main job — pipelines/motion-direction.yaml from the package, so it runs from
 * any directory with nothing installed beyond the npm packages. `--seconds` and `--fast` are
 * shorthands for the emulator's parameters; every `run` option passes through.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../args.js';
import { run } from './run.js';

export const demoHelp = `spikeflow demo [--port N] [--seconds S] [--fast] [--set key=value ...] [--quiet]
  The main job: pipelines/motion-direction.yaml. The emulator films textures moving at 12 directions
  × 3 speeds, a heterogeneous-delay layer learns the direction and speed online from the emulator's
  labels, and its decisions are served at ws://127.0.0.1:PORT/decisions (printed; port 8080 unless
  --port or PORT says otherwise, 0 = a free port). The status line shows the accuracy over the last
  100 decisions as it learns. Runs until Ctrl-C, or for --seconds of emulated time; --fast runs the
  emulator as fast as the network keeps up instead of at real time. Other options as for 'run'.`;

/** The pipeline file shipped with the package (dist/src/cli/commands or src/cli/commands). */
export function mainPipelinePath(): string {
  const candidates = ['../../../../pipelines/motion-direction.yaml', '../../../pipelines/motion-direction.yaml'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the main pipeline is missing (looked in ${candidates.join(', ')})`);
  return found;
}

export async function demo(argv: string[], print: (s: string) => void): Promise<number> {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--fast') args.push('--set', 'emu.params.realtime=false');
    else if (a === '--seconds') {
      const s = Number(argv[++i]);
      if (!(s > 0)) throw new UsageError(`--seconds must be > 0, got '${String(argv[i])}'\n${demoHelp}`);
      args.push('--set', `emu.params.durationUs=${Math.round(s * 1e6)}`);
    } else if (!a.startsWith('-') && (i === 0 || !['--set', '--port', '--resume', '--duration'].includes(argv[i - 1]!))) {
      throw new UsageError(`demo takes no pipeline file (it runs the main one; use 'spikeflow run FILE' for others)\n${demoHelp}`);
    } else args.push(a);
  }
  return run([mainPipelinePath(), ...args], print);
}
