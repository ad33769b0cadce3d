/**
 * What a node type is made of: the build context, what builders return, the builder tables the
 * runtime looks types up in, `defineSource` / `defineOp` / `defineSink`, and the parameter helpers
 * the built-in types share. The built-in types themselves are in nodes/ (nodes.ts loads them all).
 */
import { isAbsolute, resolve } from 'node:path';
import type { Observable, OperatorFunction } from 'rxjs';
import type { TruthLabel } from './label-timeline.js';
import type { Geometry } from '../events/packet.js';
import type { Network } from '../snn/network.js';
import type { PacketPool } from '../events/pool.js';
import { registerNodeType, type NodeTypeInfo, type StreamKind } from './registry.js';
import { bool, field, int, num, str, type FieldSchema, type Issue, type ParamSchema } from './schema.js';

export type Params = Record<string, unknown>;

export interface BuildContext {
  readonly id: string;
  /** Relative paths in params are resolved against this. */
  readonly baseDir: string;
  /** The WebSocket port given on the command line (--port / PORT), when any. */
  readonly wsPort?: number;
  /** One line for the user (the ws address, the embedded broker). */
  readonly announce: (line: string) => void;
  /** Prints a data line (the 'log' sink). */
  readonly print: (line: string) => void;
  /** Ground truth of a labelled source: each class with the event time it holds from. */
  readonly labelsOf: (sourceId: string) => Observable<TruthLabel>;
  /** Kinds arriving on the node's inputs (sinks publish per kind). */
  readonly inputKinds: readonly StreamKind[];
  /** The pipeline's name (put on decisions). */
  readonly pipelineName: string;
  /**
   * For an events op whose output packets nothing downstream keeps: a pool for its output buffers,
   * which the runtime releases each packet to once it is delivered (ops that take a `pool` use it).
   */
  readonly outputPool?: PacketPool;
  /** Every consumer of the node's output is done with each item when its call returns (registry releasesInput). */
  readonly outputReleased?: boolean;
}

export interface BuiltSource {
  readonly stream: Observable<unknown>;
  readonly pause?: () => void;
  readonly resume?: () => void;
  /** Ground truth (labelled sources): each class index with the event time it holds from. */
  readonly labels?: Observable<TruthLabel>;
  readonly stats: () => Record<string, number>;
  /** The runtime is done with a delivered item (every consumer releases its input): its buffers may be reused. */
  readonly recycle?: (item: unknown) => void;
  /** Events read so far, for a source whose edge carries fewer (a threaded source: its operators ran in its worker). */
  readonly eventsRead?: () => number;
  /**
   * When the item arrived, if that is earlier than its push into the edge queue (performance.now()
   * ms): for a paced replay, when it was due (a live sensor would have delivered it then, however
   * busy the pipeline); for a threaded source, when its worker got it. Event-to-decision latency
   * counts from here.
   */
  readonly arrivedAt?: (item: unknown) => number | undefined;
}

export interface BuiltOp {
  readonly operator: OperatorFunction<unknown, unknown>;
  readonly network?: Network;
}

export interface BuiltSink {
  write(item: unknown, kind: StreamKind): void;
  /** Delivers what is pending (bounded), then closes. */
  close(): Promise<void>;
  readonly stats: () => Record<string, number>;
}

type SourceBuilder = (p: Params, ctx: BuildContext) => BuiltSource | Promise<BuiltSource>;
type OpBuilder = (p: Params, ctx: BuildContext) => BuiltOp | Promise<BuiltOp>;
type SinkBuilder = (p: Params, ctx: BuildContext) => BuiltSink | Promise<BuiltSink>;

export const sourceBuilders = new Map<string, SourceBuilder>();
export const opBuilders = new Map<string, OpBuilder>();
export const sinkBuilders = new Map<string, SinkBuilder>();

/** Registers a source type (schema + builder); the built-in ones below use the same call. */
export function defineSource(info: Omit<NodeTypeInfo, 'role'>, build: SourceBuilder): void {
  registerNodeType({ ...info, role: 'source' });
  sourceBuilders.set(info.name, build);
}
export function defineOp(info: Omit<NodeTypeInfo, 'role'>, build: OpBuilder): void {
  registerNodeType({ ...info, role: 'op' });
  opBuilders.set(info.name, build);
}
export function defineSink(info: Omit<NodeTypeInfo, 'role'>, build: SinkBuilder): void {
  registerNodeType({ ...info, role: 'sink' });
  sinkBuilders.set(info.name, build);
}

export const numStats = (o: object): Record<string, number> => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
export const pathIn = (ctx: { baseDir: string }, p: string): string => (isAbsolute(p) ? p : resolve(ctx.baseDir, p));
export const geometryParams: Record<string, FieldSchema> = {
  width: field(int({ ge: 1, le: 65535 }), 'sensor width (for sources that carry no geometry)'),
  height: field(int({ ge: 1, le: 65535 }), 'sensor height'),
};
export const geometryOf = (p: Params): Geometry | undefined => (p.width !== undefined && p.height !== undefined ? { width: p.width as number, height: p.height as number } : undefined);
export const threadParam = field(
  { type: 'oneOf', options: [bool, int({ ge: 0 })], describe: 'true, false or a number ≥ 0' },
  'run in a worker thread, with the event operators it alone feeds (true), or the first N of them (default false)',
);
export const pace: ParamSchema = { type: 'oneOf', options: [str(['fast']), num({ gt: 0 })], describe: "'fast' or a real-time speed factor > 0" };

/** A check of a `framing` param: the framing's own constructor judges it (serial source and sink). */
export const framingCheck =
  (make: (f: never) => unknown): ((p: Params, path: string) => Issue[]) =>
  (p, path) => {
    try {
      make(p.framing as never);
      return [];
    } catch (e) {
      return [{ path: `${path}.framing`, message: (e as Error).message }];
    }
  };
