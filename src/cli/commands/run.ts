/** `spikeflow run PIPELINE`: runs a pipeline file until its sources end or SIGINT/SIGTERM, with a live status. */
import { parseArgs, UsageError } from '../args.js';
import { loadPipelineFile, startPipeline, StatusReporter, statusLine, PipelineError, type LoadedPipeline } from '../../runtime/index.js';

export const runHelp = `spikeflow run PIPELINE [--set key=value ...] [--port N] [--resume CHECKPOINT] [--duration S] [--quiet]
  Runs a pipeline file (YAML or JSON, see 'spikeflow list' for node types). --set overrides a
  parameter by path (NODE.PARAM=VALUE, or a top-level key such as checkpoint.path=F). WebSocket sinks
  listen on --port (else the file's port, env PORT, then 8080; 0 = a free port) and their address is
  printed ("spikeflow: decisions at ws://HOST:PORT/decisions"). A one-line status (rates, latency,
  drops, accuracy) is redrawn on a terminal, printed every 5 s otherwise (--quiet: none).
  Ctrl-C / SIGTERM stop gracefully: sources stop, queues drain, the learned state is checkpointed when
  the pipeline has 'checkpoint:', sinks close. --resume starts the network from a checkpoint.
  --duration stops the run after S seconds. Prints a JSON summary at the end.`;

/** Options of `run` that `demo` shares. */
export interface RunCliOptions {
  readonly wsPort?: number;
  readonly resume?: string;
  readonly durationS?: number;
  readonly quiet?: boolean;
}

/** Parses --port, --resume, --duration, --quiet (and --set, returned in `sets`). */
export function parseRunOptions(argv: string[], extraValues: string[] = []): { positional: string[]; sets: string[]; run: RunCliOptions; options: Record<string, unknown> } {
  const args = parseArgs(argv, { values: ['port', 'resume', 'duration', ...extraValues], flags: ['quiet'] });
  let wsPort: number | undefined;
  if (args.options.port !== undefined) {
    wsPort = Number(args.options.port);
    if (!Number.isInteger(wsPort) || wsPort < 0 || wsPort > 65535) throw new UsageError(`--port must be a port number (0 = free), got '${String(args.options.port)}'`);
  }
  let durationS: number | undefined;
  if (args.options.duration !== undefined) {
    durationS = Number(args.options.duration);
    if (!(durationS > 0)) throw new UsageError(`--duration must be > 0 seconds, got '${String(args.options.duration)}'`);
  }
  return { positional: args.positional, sets: args.sets, options: args.options, run: { wsPort, durationS, resume: args.options.resume as string | undefined, quiet: Boolean(args.options.quiet) } };
}

export async function run(argv: string[], print: (s: string) => void): Promise<number> {
  const { positional, sets, run: o } = parseRunOptions(argv);
  if (positional.length !== 1) throw new UsageError(`run needs one PIPELINE file\n${runHelp}`);
  const loaded = loadReporting(positional[0]!, sets);
  return loaded ? runLoaded(loaded, o, print) : 1;
}

/** The pipeline file with `sets` applied; undefined after printing each problem (file:line: field: message) on stderr. */
export function loadReporting(file: string, sets: string[]): LoadedPipeline | undefined {
  try {
    return loadPipelineFile(file, sets);
  } catch (e) {
    if (e instanceof PipelineError) {
      for (const line of e.message.split('\n')) console.error(line);
      return undefined;
    }
    throw e;
  }
}

/** Runs a loaded pipeline until it ends or a signal stops it; prints the JSON summary; the exit code. */
export async function runLoaded(loaded: LoadedPipeline, o: RunCliOptions, print: (s: string) => void): Promise<number> {
  const running = await startPipeline(loaded.spec, { baseDir: loaded.baseDir, wsPort: o.wsPort, resume: o.resume, announce: print, print });
  const status = new StatusReporter(running.metrics, { label: loaded.spec.name ?? 'spikeflow' });
  if (!o.quiet) status.start();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // A second signal while draining means "now": leave at once.
    if (++signals > 1) process.exit(130);
    console.error(`\nspikeflow: ${sig}, stopping (draining, then closing)`);
    void running.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = o.durationS ? setTimeout(() => void running.stop(), o.durationS * 1000) : undefined;
  try {
    const r = await running.done;
    status.stop();
    const m = r.metrics;
    if (!o.quiet) console.error(`${loaded.spec.name ?? 'spikeflow'}: ${statusLine(m)}`);
    print(
      JSON.stringify({
        result: r.reason,
        ...(r.error ? { error: r.error.message } : {}),
        ...(r.checkpoint ? { checkpoint: r.checkpoint } : {}),
        wall_s: +m.wallS.toFixed(3),
        events: m.events,
        steps: m.steps,
        decisions: m.decisions,
        real_time_factor: +m.realTimeFactor.toFixed(2),
        latency_ms: { p50: +m.latency.p50Ms.toFixed(3), p99: +m.latency.p99Ms.toFixed(3), max: +m.latency.maxMs.toFixed(3) },
        dropped: m.dropped,
        ...(m.accuracy !== undefined ? { accuracy: +m.accuracy.toFixed(4), judged: m.judged } : {}),
      }),
    );
    if (r.error) console.error(`spikeflow run: ${r.error.message}`);
    return r.reason === 'error' ? 1 : 0;
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
