/**
 * Runs a validated pipeline: builds every node, wires the graph with RxJS subjects (hot, subscribed
 * downstream-first so nothing is missed), puts a bounded EdgeQueue on each source's edge, and starts
 * the sources last.
 *
 * Lifecycle. The run ends by itself when every source has completed and its queue has drained; or
 * `stop()` (SIGINT/SIGTERM in the CLI) ends it gracefully: sources are unsubscribed (files closed,
 * sockets left), what is queued is processed, the operators are completed (so the open step and the
 * pending decision flush), the learned state is checkpointed if the pipeline says so, and the sinks
 * are closed (each delivers what it holds first, bounded). An operator error stops the run the same
 * way and is reported as its result.
 *
 * Metrics: events and steps per second, decisions, event-to-decision latency (from the moment the
 * packet that completed the decision arrived — left its source, or for a paced replay or emulator
 * was due, however late the busy pipeline let the source emit it: BuiltSource.arrivedAt — through
 * queueing and processing, to the decision reaching the sinks), drops and queue high-water per source edge, and accuracy when a
 * decide node names a labelled source as `truth`.
 */
import { Subject, type Observable, type Subscription } from 'rxjs';
import type { EventPacket } from '../events/packet.js';
import { PacketPool } from '../events/pool.js';
import { restoreCheckpoint, saveCheckpoint } from '../snn/checkpoint.js';
import type { Network } from '../snn/network.js';
import type { Decision } from '../wire/messages.js';
import { EdgeQueue, type EdgeQueueStats, type QueuePolicy } from './edge-queue.js';
import { opBuilders, sinkBuilders, sourceBuilders, type BuildContext, type BuiltSink, type BuiltSource } from './nodes.js';
import { checkpointNode, inputsOf, packetsRecyclable, producedKind, roleOf, topoOrder, typeNameOf, validatePipeline, type NodeSpec, type PipelineSpec } from './pipeline.js';

export { packetsRecyclable };
import { NodeError, threadChain, threadLimit, threadSource } from './thread-source.js';
import { nodeType, type StreamKind } from './registry.js';
import { LabelTimeline, type TruthLabel } from './label-timeline.js';
import { isAbsolute, resolve } from 'node:path';

export interface RunOptions {
  /** Relative paths of the pipeline (files, checkpoint) resolve against this (default: cwd). */
  readonly baseDir?: string;
  /** WebSocket sinks listen here (overrides their `port`). */
  readonly wsPort?: number;
  /** Start the snn node of the checkpoint from this checkpoint file. */
  readonly resume?: string;
  /** Lines for the user: where decisions are served, broker addresses. Default: stdout. */
  readonly announce?: (line: string) => void;
  /** Data lines of the 'log' sink. Default: stdout. */
  readonly print?: (line: string) => void;
  /** Default queue on a source edge: capacity (default 256 items). */
  readonly queueCapacity?: number;
  /**
   * Recycle packet buffers once they are delivered, where every node they can reach releases its
   * input (default true; see packetsRecyclable): a file source's decoded buffers, and the output
   * buffers of the event ops that take a pool (denoise, refractory, downsample). false: leave them
   * all to the collector.
   */
  readonly recyclePackets?: boolean;
}

export interface LatencyFigures {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface PipelineMetrics {
  readonly wallS: number;
  /** Events the sources read (a threaded source's edge may carry fewer: see thread-source.ts). */
  readonly events: number;
  readonly steps: number;
  readonly decisions: number;
  /** Event time covered so far (µs, last − first event seen). */
  readonly eventSpanUs: number;
  /** Event time per wall time, from the first to the latest packet processed. */
  readonly realTimeFactor: number;
  readonly latency: LatencyFigures;
  readonly dropped: number;
  readonly queues: Readonly<Record<string, EdgeQueueStats>>;
  /** Decisions judged against ground truth, and how many were right. */
  readonly judged: number;
  readonly correct: number;
  readonly accuracy?: number;
  /** Accuracy over the last `recentJudged` (at most 100) judged decisions: learning progress. */
  readonly recentAccuracy?: number;
  readonly recentJudged?: number;
  readonly sources: Readonly<Record<string, Record<string, number>>>;
  readonly sinks: Readonly<Record<string, Record<string, number>>>;
}

export interface RunResult {
  readonly reason: 'completed' | 'stopped' | 'error';
  readonly error?: Error;
  readonly metrics: PipelineMetrics;
  /** The checkpoint written at the end, if any. */
  readonly checkpoint?: string;
}

export interface RunningPipeline {
  /** Settles when the run has ended and every sink is closed. */
  readonly done: Promise<RunResult>;
  /** Graceful stop (idempotent); resolves like `done`. */
  stop(): Promise<RunResult>;
  metrics(): PipelineMetrics;
  /** Networks of the snn nodes, by node id. */
  readonly networks: ReadonlyMap<string, Network>;
}

/**
 * Batches a threaded source may have posted and not yet handed over before its worker pauses. The
 * main thread takes them between its drain loop's runs, so with too few the worker waits on a busy
 * main thread (4: 9.9-11.2x over the packets on 16 s of filtered sparklers, 8: 11.1-12.8x).
 */
export const THREAD_BATCHES_IN_FLIGHT = 8;
/** What an op that runs in its source's worker is on the main thread. */
const passThrough = (s: Observable<unknown>): Observable<unknown> => s;

type QueueItem = { readonly item: unknown; readonly at: number; readonly label?: TruthLabel };

/** Judged decisions the recent accuracy is over. */
const RECENT = 100;

/** Latencies kept for percentiles: a bounded reservoir (uniform sample of the whole run). */
class LatencySample {
  private readonly values: number[] = [];
  count = 0;
  max = 0;
  constructor(private readonly size = 20000) {}
  add(ms: number): void {
    this.count++;
    if (ms > this.max) this.max = ms;
    if (this.values.length < this.size) this.values.push(ms);
    else {
      const j = Math.floor(Math.random() * this.count);
      if (j < this.size) this.values[j] = ms;
    }
  }
  figures(): LatencyFigures {
    const v = [...this.values].sort((a, b) => a - b);
    const q = (p: number) => (v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))]! : 0);
    return { count: this.count, p50Ms: q(0.5), p90Ms: q(0.9), p99Ms: q(0.99), maxMs: this.max };
  }
}

export async function startPipeline(specIn: PipelineSpec, options: RunOptions = {}): Promise<RunningPipeline> {
  const baseDir = options.baseDir ?? process.cwd();
  const spec = validatePipeline(specIn, baseDir);
  const announce = options.announce ?? ((l: string) => console.log(l));
  const print = options.print ?? ((l: string) => console.log(l));
  const order = topoOrder(spec);
  const outputs = new Map<string, Subject<unknown>>();
  const labelSubjects = new Map<string, Subject<TruthLabel>>();
  const networks = new Map<string, Network>();
  const built = new Map<string, BuiltSource>();
  const sinks = new Map<string, BuiltSink>();
  const queues = new Map<string, EdgeQueue<QueueItem>>();
  const subs: Subscription[] = [];
  const started = performance.now();
  let events = 0;
  let steps = 0;
  let decisions = 0;
  let firstT = NaN;
  let lastT = NaN;
  // Wall times of the first and latest delivered packet: the real-time factor is over processing,
  // not start-up or closing.
  let firstWall = NaN;
  let lastWall = NaN;
  let arrival = 0;
  let judged = 0;
  let correct = 0;
  const latency = new LatencySample();
  const recycling = options.recyclePackets !== false;
  const truthOf = new Map<string, LabelTimeline>();
  // The last RECENT judgements (1 = right), for the learning progress on the status line.
  const recent = new Uint8Array(RECENT);
  let recentCount = 0;

  const kindOf = (id: string): StreamKind => producedKind(spec.nodes.find((n) => n.id === id)!)!;
  const labelsOf = (id: string): Subject<TruthLabel> => {
    let s = labelSubjects.get(id);
    if (!s) labelSubjects.set(id, (s = new Subject<TruthLabel>()));
    return s;
  };

  let finish!: (r: RunResult) => void;
  const done = new Promise<RunResult>((r) => (finish = r));
  let ending: Promise<RunResult> | undefined;
  let failure: Error | undefined;
  const closeAll = async () => {
    for (const s of sinks.values()) await s.close().catch(() => undefined);
  };

  // Sources with thread: true, and the ops that run with them in their worker (pass-throughs here).
  const threadChains = new Map<string, NodeSpec[]>();
  for (const n of spec.nodes) {
    const limit = roleOf(n) === 'source' ? threadLimit(n.params?.thread) : undefined;
    if (limit !== undefined) threadChains.set(n.id, threadChain(spec, n.id, limit));
  }
  const offloaded = new Set([...threadChains.values()].flat().map((n) => n.id));

  try {
    for (const n of order) {
      const role = roleOf(n);
      const type = typeNameOf(n);
      const params = (n.params ?? {}) as Record<string, unknown>;
      // A node whose outputs nothing downstream keeps may reuse their buffers: an events op gets a
      // pool for them (released below once each is delivered), the snn op reuses its snapshots, a
      // file source decodes into the WASM kernels' memory (its packets are recycled below).
      const outputReleased = recycling && role !== 'sink' && packetsRecyclable(spec, n.id);
      const outputPool = outputReleased && role === 'op' && producedKind(n) === 'events' && !offloaded.has(n.id) ? new PacketPool(65536, 4) : undefined;
      const ctx: BuildContext = { id: n.id, baseDir, wsPort: options.wsPort, announce, print, labelsOf, inputKinds: inputsOf(n).map(kindOf), pipelineName: spec.name ?? '', outputReleased, ...(outputPool ? { outputPool } : {}) };
      const where = (e: unknown) => new Error(`node '${n.id}' (${role} ${type}): ${(e as Error).message}`);
      if (role === 'source') {
        try {
          const chain = threadChains.get(n.id);
          const setup = chain && { source: n, ops: chain, baseDir, pipelineName: spec.name ?? '', recycling, maxInFlight: THREAD_BATCHES_IN_FLIGHT, buffersReturn: outputReleased };
          built.set(n.id, setup ? await threadSource(setup, ctx) : await sourceBuilders.get(type)!(params, ctx));
        } catch (e) {
          throw where(e);
        }
        const out = new Subject<unknown>();
        outputs.set(n.id, out);
      } else if (role === 'op') {
        let b;
        try {
          b = offloaded.has(n.id) ? { operator: passThrough } : await opBuilders.get(type)!(params, ctx);
        } catch (e) {
          throw where(e);
        }
        if (b.network) networks.set(n.id, b.network);
        const out = new Subject<unknown>();
        outputs.set(n.id, out);
        const input = outputs.get(inputsOf(n)[0]!)!;
        const kind = kindOf(n.id);
        // Steps are counted where they are made (a binner), not again by each step-to-step op.
        const makesSteps = kind === 'steps' && kindOf(inputsOf(n)[0]!) !== 'steps';
        const truth = type === 'decide' ? (params.truth as string | undefined) : undefined;
        if (truth && !truthOf.has(truth)) {
          const timeline = new LabelTimeline();
          truthOf.set(truth, timeline);
          subs.push(labelsOf(truth).subscribe((l) => timeline.push(l)));
        }
        subs.push(
          input.pipe(b.operator).subscribe({
            next: (v) => {
              if (makesSteps) steps++;
              else if (kind === 'decisions') {
                decisions++;
                latency.add(performance.now() - arrival);
                // Judged against the class in force when the decision's last step ended.
                const d = v as Decision;
                const t = truth ? truthOf.get(truth)!.at(d.timeUs - 1) : undefined;
                if (t) {
                  const right = d.classIndex === t.classIndex;
                  recent[judged % RECENT] = right ? 1 : 0;
                  judged++;
                  recentCount = Math.min(RECENT, recentCount + 1);
                  if (right) correct++;
                }
              }
              out.next(v);
              if (outputPool) outputPool.release(v as EventPacket);
            },
            error: (e: unknown) => {
              failure ??= where(e);
              void end('error');
            },
            complete: () => out.complete(),
          }),
        );
      } else {
        let s: BuiltSink;
        try {
          s = await sinkBuilders.get(type)!(params, ctx);
        } catch (e) {
          throw where(e);
        }
        sinks.set(n.id, s);
        for (const i of inputsOf(n)) {
          const k = kindOf(i);
          subs.push(outputs.get(i)!.subscribe({ next: (v) => s.write(v, k), error: () => undefined }));
        }
      }
    }
    const ckNode = checkpointNode(spec);
    if (options.resume) {
      const net = ckNode ? networks.get(ckNode) : undefined;
      if (!net) throw new Error(`--resume: the pipeline has no snn node to resume (set checkpoint.node)`);
      restoreCheckpoint(net, options.resume);
    }
  } catch (e) {
    await closeAll();
    throw e;
  }

  const sourceSubs: Subscription[] = [];
  let pending = 0;
  const pathOf = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

  const metrics = (): PipelineMetrics => {
    const wallS = (performance.now() - started) / 1000;
    const span = Number.isNaN(firstT) ? 0 : lastT - firstT;
    const q = Object.fromEntries([...queues].map(([id, x]) => [id, { ...x.stats }]));
    return {
      wallS,
      // A threaded source's edge carries what its worker's operators kept: count what it read.
      events: events + [...built.values()].reduce((a, b) => a + (b.eventsRead?.() ?? 0), 0),
      steps,
      decisions,
      eventSpanUs: span,
      realTimeFactor: lastWall > firstWall ? span / 1e3 / (lastWall - firstWall) : 0,
      latency: latency.figures(),
      dropped: Object.values(q).reduce((a, x) => a + x.dropped, 0),
      queues: q,
      judged,
      correct,
      ...(judged ? { accuracy: correct / judged, recentAccuracy: recent.subarray(0, recentCount).reduce((a, x) => a + x, 0) / recentCount, recentJudged: recentCount } : {}),
      sources: Object.fromEntries([...built].map(([id, b]) => [id, b.stats()])),
      sinks: Object.fromEntries([...sinks].map(([id, s]) => [id, s.stats()])),
    };
  };

  async function end(reason: RunResult['reason']): Promise<RunResult> {
    if (ending) return ending;
    ending = (async () => {
      for (const s of sourceSubs) s.unsubscribe();
      if (reason !== 'error') await Promise.all([...queues.values()].map((q) => q.idle()));
      for (const q of queues.values()) q.close();
      // Completing the source subjects flushes the operators (open step, pending decision).
      if (reason !== 'error') for (const [id] of built) outputs.get(id)!.complete();
      let checkpoint: string | undefined;
      const ckNode = checkpointNode(spec);
      if (spec.checkpoint && ckNode && networks.has(ckNode)) {
        checkpoint = pathOf(spec.checkpoint.path);
        try {
          saveCheckpoint(networks.get(ckNode)!, checkpoint);
        } catch (e) {
          failure ??= new Error(`checkpoint ${checkpoint}: ${(e as Error).message}`);
          checkpoint = undefined;
        }
      }
      for (const s of subs) s.unsubscribe();
      await closeAll();
      const r: RunResult = { reason: failure ? 'error' : reason, ...(failure ? { error: failure } : {}), metrics: metrics(), ...(checkpoint ? { checkpoint } : {}) };
      finish(r);
      return r;
    })();
    return ending;
  }

  // Start the sources last: everything downstream is subscribed.
  for (const n of spec.nodes) {
    if (roleOf(n) !== 'source') continue;
    const b = built.get(n.id)!;
    const out = outputs.get(n.id)!;
    const info = nodeType('source', typeNameOf(n))!;
    const recycle = recycling && b.recycle && packetsRecyclable(spec, n.id) ? b.recycle : undefined;
    const policy: QueuePolicy = n.queue?.policy ?? (info.pausable && b.pause ? 'pause' : 'drop-oldest');
    const labels = labelSubjects.get(n.id);
    const queue = new EdgeQueue<QueueItem>({
      capacity: n.queue?.capacity ?? options.queueCapacity ?? 256,
      policy,
      pause: b.pause,
      resume: b.resume,
      deliver: (q) => {
        if (q.label !== undefined) {
          labels?.next(q.label);
          return;
        }
        arrival = q.at;
        const pk = q.item as EventPacket;
        if (pk.length) {
          if (!b.eventsRead) events += pk.length;
          if (Number.isNaN(firstT)) {
            firstT = pk.t[0]!;
            firstWall = performance.now();
          }
          lastT = pk.t[pk.length - 1]!;
          lastWall = performance.now();
        }
        out.next(pk);
        // Every consumer ran during next() and kept nothing of the packet: its buffers may be reused.
        recycle?.(pk);
      },
      // A packet dropped, or still queued when the run stops, reaches no one: its buffers too.
      discard: (q) => {
        if (q.item !== undefined) recycle?.(q.item);
      },
    });
    queues.set(n.id, queue);
    pending++;
    if (b.labels) sourceSubs.push(b.labels.subscribe((l) => queue.push({ item: undefined, at: performance.now(), label: l })));
    sourceSubs.push(
      b.stream.subscribe({
        next: (item) => {
          // From when it was due, or when it came if that is earlier (a worker's clock is another thread's).
          const now = performance.now();
          queue.push({ item, at: Math.min(b.arrivedAt?.(item) ?? now, now) });
        },
        error: (e: unknown) => {
          failure ??= e instanceof NodeError ? e : new Error(`node '${n.id}' (source ${typeNameOf(n)}): ${(e as Error).message}`);
          void end('error');
        },
        complete: () => {
          void queue.idle().then(() => {
            out.complete();
            if (--pending === 0) void end('completed');
          });
        },
      }),
    );
  }

  return { done, stop: () => end('stopped'), metrics, networks };
}
