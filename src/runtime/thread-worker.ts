/**
 * Worker-thread side of a source with `thread: true` (thread-source.ts): builds the source and the
 * event operators it alone feeds with the same builders the runtime uses, runs packets through them,
 * and posts what comes out in batches (thread-protocol.ts). Within the worker it recycles as the
 * runtime does: the source's buffers once its packet went through the chain, an operator's output
 * once it is copied into the batch. It pauses the source while the runtime has paused it (its edge
 * queue is full) or while `maxInFlight` batches are posted and not yet taken, so memory stays bounded.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NEVER, Subject, type Observable, type Subscription } from 'rxjs';
import { eventArrays, eventArraysIn, type EventPacket } from '../events/packet.js';
import { PacketPool } from '../events/pool.js';
// Only the node types that can run here: a worker need not load the SNN, the sinks or their adapters.
import './nodes/sources.js';
import './nodes/event-ops.js';
import { opBuilders, sourceBuilders, type BuildContext, type BuiltSource } from './node-types.js';
import { packetsRecyclable, typeNameOf, type PipelineSpec } from './pipeline.js';
import type { BatchItem, FromWorker, ThreadSetup, ToWorker } from './thread-protocol.js';
import type { TruthLabel } from './label-timeline.js';

/** Events a batch holds before it is posted; smaller batches go at the end of each turn of the event loop. */
const BATCH_EVENTS = 65536;
/**
 * Longest a batch's first item waits before the batch is posted (ms): a source that has fallen
 * behind its pace emits a whole chunk's slices without yielding, and the turn's end would hold them all.
 */
const BATCH_WAIT_MS = 0.5;

const port = parentPort!;
const setup = workerData as ThreadSetup;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function context(id: string, outputPool: PacketPool | undefined, outputReleased = true): BuildContext {
  return {
    id,
    baseDir: setup.baseDir,
    announce: (line) => post({ type: 'announce', line }),
    print: (line) => post({ type: 'print', line }),
    // Only event operators run here: none reads labels.
    labelsOf: (): Observable<TruthLabel> => NEVER,
    inputKinds: ['events'],
    pipelineName: setup.pipelineName,
    outputReleased,
    ...(outputPool ? { outputPool } : {}),
  };
}

/** The batch being filled: packets copied in as they come out of the chain, labels in between. */
class Batch {
  private arrays = eventArrays(BATCH_EVENTS);
  private capacity = BATCH_EVENTS;
  private n = 0;
  private items: BatchItem[] = [];
  private scheduled = false;
  /** Full-size buffers the runtime gave back (every packet of their batch recycled), to fill again. */
  private readonly spares: ArrayBuffer[] = [];
  /** When the batch's first item came (performance.now()). */
  private since = 0;
  inFlight = 0;

  constructor(
    private readonly stats: () => Record<string, number>,
    private readonly onFull: () => void,
  ) {}

  /** A buffer given back: kept for the next batch when it is full size (a few at most). */
  giveBack(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 13 * BATCH_EVENTS && this.spares.length < setup.maxInFlight) this.spares.push(buffer);
  }

  label(label: TruthLabel): void {
    this.items.push({ kind: 'label', label });
    this.schedule();
  }

  packet(pk: EventPacket, arrivedAt: number): void {
    if (pk.length === 0) return;
    if (this.n + pk.length > this.capacity) this.flush();
    if (pk.length > this.capacity) {
      this.arrays = eventArrays(pk.length);
      this.capacity = pk.length;
    }
    const a = this.arrays;
    a.x.set(pk.x, this.n);
    a.y.set(pk.y, this.n);
    a.t.set(pk.t, this.n);
    a.p.set(pk.p, this.n);
    this.items.push({ kind: 'packet', start: this.n, length: pk.length, geometry: pk.geometry, source: pk.source, arrivedAt });
    this.n += pk.length;
    this.schedule();
  }

  /**
   * Posts what is held: the whole buffer when it is at least half full or comes back once used (the
   * runtime recycles the packets, setup.buffersReturn), else a copy of the part used (a mostly empty
   * buffer that never came back would make every flush allocate a full one).
   */
  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    let buffer: ArrayBuffer;
    let capacity = this.capacity;
    if (2 * this.n >= this.capacity || (setup.buffersReturn && this.capacity === BATCH_EVENTS)) {
      buffer = this.arrays.t.buffer as ArrayBuffer;
      const spare = this.spares.pop();
      this.arrays = spare ? eventArraysIn(spare, BATCH_EVENTS) : eventArrays(BATCH_EVENTS);
      this.capacity = BATCH_EVENTS;
    } else {
      const small = eventArrays(this.n);
      small.x.set(this.arrays.x.subarray(0, this.n));
      small.y.set(this.arrays.y.subarray(0, this.n));
      small.t.set(this.arrays.t.subarray(0, this.n));
      small.p.set(this.arrays.p.subarray(0, this.n));
      buffer = small.t.buffer as ArrayBuffer;
      capacity = this.n;
    }
    post({ type: 'batch', buffer, capacity, items: this.items, stats: this.stats() }, [buffer]);
    this.items = [];
    this.n = 0;
    this.inFlight++;
    if (this.inFlight >= setup.maxInFlight) this.onFull();
  }

  private schedule(): void {
    if (this.scheduled) {
      if (performance.now() - this.since >= BATCH_WAIT_MS) this.flush();
      return;
    }
    this.scheduled = true;
    this.since = performance.now();
    setImmediate(() => this.scheduled && this.flush());
  }
}

interface Stage {
  readonly id: string;
  readonly type: string;
  readonly operator: (source: Observable<unknown>) => Observable<unknown>;
  /** Its output buffers, taken back once the next stage (or the batch) is done with them. */
  readonly pool: PacketPool | undefined;
}

async function main(): Promise<void> {
  const { source, ops } = setup;
  const sourceType = typeNameOf(source);
  // The worker's part of the graph; the batch after the last op copies what it takes (releases it).
  const chain: PipelineSpec = { nodes: [source, ...ops] };
  let built: BuiltSource;
  const stages: Stage[] = [];
  try {
    const { thread: _thread, ...params } = source.params ?? {};
    const buildSource = sourceBuilders.get(sourceType);
    if (!buildSource) throw new Error(`only the built-in sources can run in a worker thread, not '${sourceType}'`);
    // Its packets are recycled below when the runtime recycles (the batch copies what the chain gives it).
    built = await buildSource(params, context(source.id, undefined, setup.recycling && packetsRecyclable(chain, source.id)));
    for (const op of ops) {
      const type = typeNameOf(op);
      // Its output buffers can be reused once the next op or the batch (which copies) is done with them.
      const pool = setup.recycling && packetsRecyclable(chain, op.id) ? new PacketPool(65536, 4) : undefined;
      const buildOp = opBuilders.get(type);
      try {
        if (!buildOp) throw new Error('only the built-in event operators can run in a worker thread');
        stages.push({ id: op.id, type, operator: (await buildOp(op.params ?? {}, context(op.id, pool))).operator, pool });
      } catch (e) {
        // Named, as the runtime names the source around it: "node 'cam' (source file): node 'hot' (op …): …".
        throw new Error(`node '${op.id}' (op ${type}): ${describe(e)}`);
      }
    }
  } catch (e) {
    post({ type: 'failed', message: describe(e) });
    return;
  }

  const subs: Subscription[] = [];
  let failed = false;
  const stop = (): void => {
    for (const s of subs) s.unsubscribe();
    subs.length = 0;
  };
  const fail = (message: string): void => {
    if (failed) return;
    failed = true;
    post({ type: 'error', message });
    stop();
  };

  let pausedByRuntime = false;
  let pausedByFlow = false;
  const applyPause = (): void => (pausedByRuntime || pausedByFlow ? built.pause?.() : built.resume?.());
  const batch = new Batch(built.stats, () => {
    pausedByFlow = true;
    applyPause();
  });

  let arrivedAt = 0;
  // input → each stage → the batch; synchronous, so when input.next returns the packet is through.
  const input = new Subject<unknown>();
  let upstream: Observable<unknown> = input;
  for (const s of stages) {
    const out = new Subject<unknown>();
    subs.push(
      upstream.pipe(s.operator).subscribe({
        next: (v) => {
          out.next(v);
          s.pool?.release(v as EventPacket);
        },
        error: (e: unknown) => fail(`node '${s.id}' (op ${s.type}): ${describe(e)}`),
        complete: () => out.complete(),
      }),
    );
    upstream = out;
  }
  subs.push(
    upstream.subscribe({
      next: (v) => batch.packet(v as EventPacket, arrivedAt),
      complete: () => {
        batch.flush();
        post({ type: 'complete', stats: built.stats() });
      },
    }),
  );
  const recycle = setup.recycling && packetsRecyclable(chain, source.id) ? built.recycle : undefined;

  port.on('message', (m: ToWorker) => {
    if (m.type === 'start') {
      if (built.labels) subs.push(built.labels.subscribe((l) => batch.label(l)));
      subs.push(
        built.stream.subscribe({
          next: (pk) => {
            // Latency counts from here, as for a source on the main thread (clocks compared by timeOrigin).
            arrivedAt = performance.timeOrigin + (built.arrivedAt?.(pk) ?? performance.now());
            input.next(pk);
            recycle?.(pk);
          },
          error: (e: unknown) => fail(`node '${source.id}' (source ${sourceType}): ${describe(e)}`),
          complete: () => input.complete(),
        }),
      );
    } else if (m.type === 'pause' || m.type === 'resume') {
      pausedByRuntime = m.type === 'pause';
      applyPause();
    } else if (m.type === 'taken') {
      batch.inFlight--;
      if (pausedByFlow && batch.inFlight < setup.maxInFlight) {
        pausedByFlow = false;
        applyPause();
      }
    } else if (m.type === 'buffer') {
      batch.giveBack(m.buffer);
    } else if (m.type === 'stop') {
      stop();
      port.close();
    }
  });
  post({ type: 'ready' });
}

void main();
