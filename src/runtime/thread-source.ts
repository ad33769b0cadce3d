/**
 * `thread: true` on a source: the source, and the event operators that only it feeds (a chain of
 * registry `threadable` ops, each the single consumer of the one before), run in a worker thread
 * (thread-worker.ts); `thread: N` takes only the first N of those ops along (0: the source alone),
 * so the two threads can be given about equal work. Decoding and filtering then overlap with what
 * the main thread does (the SNN, the frames, the sockets). The runtime keeps every node of the
 * graph: the source node becomes this proxy, which emits the chain's output (its packets arrive as
 * views of transferred batches) and the source's labels in their order, and the offloaded
 * operators become pass-throughs. Its edge queue pauses the worker's source as it would pause the
 * source itself.
 */
import { Worker } from 'node:worker_threads';
import { Observable, Subject } from 'rxjs';
import { packetOf, type EventPacket } from '../events/packet.js';
import type { TruthLabel } from './label-timeline.js';
import type { BuildContext, BuiltSource } from './nodes.js';
import { inputsOf, roleOf, typeNameOf, type NodeSpec, type PipelineSpec } from './pipeline.js';
import { nodeType } from './registry.js';
import type { FromWorker, ThreadSetup, ToWorker } from './thread-protocol.js';

/** An error raised in a worker whose message already names its node (the runtime adds no prefix). */
export class NodeError extends Error {}

/**
 * The ops a threaded source takes along, in order, at most `limit`: as long as the node fed is the
 * only consumer of the one before and a threadable op, the chain goes on.
 */
export function threadChain(spec: PipelineSpec, sourceId: string, limit = Infinity): NodeSpec[] {
  const chain: NodeSpec[] = [];
  let from = sourceId;
  while (chain.length < limit) {
    const consumers = spec.nodes.filter((n) => inputsOf(n).includes(from));
    const next = consumers.length === 1 ? consumers[0]! : undefined;
    if (!next || roleOf(next) !== 'op' || !nodeType('op', typeNameOf(next))?.threadable) break;
    chain.push(next);
    from = next.id;
  }
  return chain;
}

/** A source's `thread` param: how many of the ops after it go to its worker (undefined: no worker). */
export function threadLimit(thread: unknown): number | undefined {
  if (thread === true) return Infinity;
  return typeof thread === 'number' ? thread : undefined;
}

/**
 * A worker running thread-worker.js beside this file; from the TypeScript sources (tests, benches run
 * by tsx), thread-worker.ts after registering tsx's hooks in the worker (tsx registers them only on
 * the main thread).
 */
function startWorker(setup: ThreadSetup): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./thread-worker.js', import.meta.url), { workerData: setup });
  const entry = new URL('./thread-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: setup });
}

/** Starts the worker and waits until it has built the source and its chain (build errors reject, as a source's own would). */
export async function threadSource(setup: ThreadSetup, ctx: Pick<BuildContext, 'announce' | 'print'>): Promise<BuiltSource> {
  const worker = startWorker(setup);
  const post = (m: ToWorker, transfer: ArrayBuffer[] = []): void => worker.postMessage(m, transfer);
  const labels = new Subject<TruthLabel>();
  // When each packet arrived in the worker (BuiltSource.arrivedAt), on this thread's clock.
  const arrived = new WeakMap<EventPacket, number>();
  // The batch each packet is a view of, with how many of its packets are not yet recycled: a batch
  // whose packets all were goes back to the worker, which fills it again instead of allocating.
  const batchOf = new WeakMap<EventPacket, { readonly buffer: ArrayBuffer; left: number }>();
  let stats: Record<string, number> = {};
  let batches = 0;
  let buffersReturned = 0;
  let ended = false;
  // Set while the stream is subscribed.
  let emit: ((m: FromWorker) => void) | undefined;
  let fault: ((e: Error) => void) | undefined;
  let failure: Error | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'announce') ctx.announce(m.line);
      else if (m.type === 'print') ctx.print(m.line);
      else if (m.type === 'ready') resolve();
      else if (m.type === 'failed') {
        ended = true;
        void worker.terminate();
        reject(new Error(m.message));
      } else emit?.(m);
    });
    // A failure before the stream is subscribed waits for the subscription (fault is set then).
    const fail = (err: Error): void => {
      failure ??= err;
      reject(err);
      fault?.(err);
    };
    worker.on('error', (e) => fail(new Error(`its worker thread failed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (!ended) fail(new Error(`its worker thread exited (code ${code}) before the source ended`));
    });
  });
  await ready;

  const stream = new Observable<EventPacket>((sub) => {
    if (failure) {
      sub.error(failure);
      return;
    }
    fault = (e) => sub.error(e);
    emit = (m) => {
      if (m.type === 'batch') {
        batches++;
        stats = m.stats;
        const c = m.capacity;
        const t = new Float64Array(m.buffer, 0, c);
        const x = new Uint16Array(m.buffer, 8 * c, c);
        const y = new Uint16Array(m.buffer, 10 * c, c);
        const p = new Uint8Array(m.buffer, 12 * c, c);
        // Counted before any packet goes out: a queue may drop (and so recycle) one as it is pushed.
        const batch = { buffer: m.buffer, left: 0 };
        for (const it of m.items) if (it.kind === 'packet') batch.left++;
        for (const it of m.items) {
          if (it.kind === 'label') labels.next(it.label);
          else {
            const e = it.start + it.length;
            const pk = packetOf(x.subarray(it.start, e), y.subarray(it.start, e), t.subarray(it.start, e), p.subarray(it.start, e), it.geometry, it.source);
            arrived.set(pk, it.arrivedAt - performance.timeOrigin);
            batchOf.set(pk, batch);
            sub.next(pk);
          }
        }
        // Taken once in the edge queue, which bounds what waits from here: after any 'pause' the
        // queue sent while taking it, so the worker never resumes in between.
        post({ type: 'taken' });
      } else if (m.type === 'error') {
        ended = true;
        void worker.terminate();
        sub.error(new NodeError(m.message));
      } else if (m.type === 'complete') {
        ended = true;
        stats = m.stats;
        void worker.terminate();
        labels.complete();
        sub.complete();
      }
    };
    post({ type: 'start' });
    return () => {
      emit = undefined;
      fault = undefined;
      if (!ended) {
        ended = true;
        post({ type: 'stop' });
        void worker.terminate();
      }
    };
  });
  return {
    stream,
    labels,
    pause: () => post({ type: 'pause' }),
    resume: () => post({ type: 'resume' }),
    recycle: (item) => {
      const batch = batchOf.get(item as EventPacket);
      if (!batch) return;
      batchOf.delete(item as EventPacket);
      if (--batch.left === 0 && !ended) {
        post({ type: 'buffer', buffer: batch.buffer }, [batch.buffer]);
        buffersReturned++;
      }
    },
    stats: () => ({ ...stats, threadBatches: batches, threadBuffersReturned: buffersReturned }),
    eventsRead: () => stats.events ?? 0,
    arrivedAt: (item) => arrived.get(item as EventPacket),
  };
}
