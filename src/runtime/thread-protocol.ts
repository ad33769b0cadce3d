/**
 * Messages between the runtime and a source's worker thread (thread-source.ts, thread-worker.ts).
 * Event packets travel in batches: one ArrayBuffer laid out as eventArrays() lays out a packet of the
 * batch's total length (t, then x, y, p), transferred, with each packet as a range of it. Labels ride
 * in the same list, so packets and labels arrive in the order the source gave them.
 */
import type { Geometry, SourceInfo } from '../events/packet.js';
import type { NodeSpec } from './pipeline.js';
import type { TruthLabel } from './label-timeline.js';

/** What the worker builds: the source node and the event operators it alone feeds, in order. */
export interface ThreadSetup {
  readonly source: NodeSpec;
  readonly ops: readonly NodeSpec[];
  readonly baseDir: string;
  readonly pipelineName: string;
  /** Recycle buffers inside the worker (RunOptions.recyclePackets). */
  readonly recycling: boolean;
  /** Batches posted and not yet taken by the runtime before the worker pauses its source. */
  readonly maxInFlight: number;
  /** The runtime recycles every packet the worker sends, so each batch's buffer comes back ('buffer'). */
  readonly buffersReturn: boolean;
}

export type BatchItem =
  /** `arrivedAt`: when the packet arrived in the worker (BuiltSource.arrivedAt, else when its source gave it), as performance.timeOrigin + performance.now() (ms). */
  | { readonly kind: 'packet'; readonly start: number; readonly length: number; readonly geometry: Geometry; readonly source: SourceInfo; readonly arrivedAt: number }
  | { readonly kind: 'label'; readonly label: TruthLabel };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  /** `buffer` holds eventArrays(capacity): t at 0, x at 8·capacity, y at 10·capacity, p at 12·capacity. */
  | { readonly type: 'batch'; readonly buffer: ArrayBuffer; readonly capacity: number; readonly items: readonly BatchItem[]; readonly stats: Record<string, number> }
  | { readonly type: 'announce'; readonly line: string }
  | { readonly type: 'print'; readonly line: string }
  /** The run failed in the worker; `message` names the node, as the runtime's own errors do. */
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'complete'; readonly stats: Record<string, number> };

export type ToWorker =
  | { readonly type: 'start' }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'taken' }
  /** A batch's buffer, transferred back once every packet of it was recycled, for the worker to fill again. */
  | { readonly type: 'buffer'; readonly buffer: ArrayBuffer }
  | { readonly type: 'stop' };
