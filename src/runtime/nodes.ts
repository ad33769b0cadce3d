/**
 * The built-in node types: their parameter schemas (registered in registry.ts, so validation and
 * `spikeflow list` see them) and their builders (sources opened, operators made, sinks opened).
 * Builders get already-validated params; what only the adapters can judge (a serial framing, an
 * emulator scene) they check themselves, and the runtime names the node in the error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { map, Observable, type OperatorFunction } from 'rxjs';
import { openEmulator } from '../../adapters/emulator-source.js';
// The socket, serial and MQTT adapters are imported by their builders, when a pipeline uses them:
// loading them all took about 200 ms of every start (and of every source worker thread).
import type { MqttSink } from '../../adapters/mqtt-sink.js';
import { binSteps, type StepBatch } from '../../operators/bin-steps.js';
import { decide } from '../../operators/decide.js';
import { denoise } from '../../operators/denoise.js';
import { downsample } from '../../operators/downsample.js';
import { flip, type FlipAxis } from '../../operators/flip.js';
import { hotPixels } from '../../operators/hot-pixels.js';
import { polarity, type PolarityChoice } from '../../operators/polarity.js';
import { refractory } from '../../operators/refractory.js';
import { roi } from '../../operators/roi.js';
import { rotate, type RotationDeg } from '../../operators/rotate.js';
import { snn, type SnnStep } from '../../operators/snn.js';
import { transpose } from '../../operators/transpose.js';
import { triggeredLabels } from '../../operators/triggered-labels.js';
import type { TruthLabel } from './label-timeline.js';
import { packetOf, type EventPacket, type Geometry } from '../events/packet.js';
import { backendByName } from '../snn/backends/select.js';
import { buildNetwork, type Network } from '../snn/network.js';
import { warmUp } from '../snn/warmup.js';
import type { NetworkSpec } from '../snn/spec.js';
import { SpecError } from '../snn/spec-error.js';
import { validateSpec } from '../snn/validate.js';
import type { Decision, SpikeBatch, WireMessage } from '../wire/messages.js';
import { resolveEmulatorConfig, type EmulatorConfig } from '../emulator/emulator.js';
import { EmulatorConfigError } from '../emulator/config-error.js';
import { SerialDecoder } from '../formats/serial/decoder.js';
import { SerialFrameEncoder } from '../formats/serial/frame-encoder.js';
import { pausableFile } from './file-reader.js';
import type { PacketPool } from '../events/pool.js';
import { registerNodeCheck } from './pipeline.js';
import { networkPreset, registerNodeType, type NodeTypeInfo, type StreamKind } from './registry.js';
import { bool, field, int, json, num, str, type FieldSchema, type Issue, type ParamSchema } from './schema.js';

type Params = Record<string, unknown>;

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

const numStats = (o: object): Record<string, number> => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
const pathIn = (ctx: { baseDir: string }, p: string): string => (isAbsolute(p) ? p : resolve(ctx.baseDir, p));
const geometryParams: Record<string, FieldSchema> = {
  width: field(int({ ge: 1, le: 65535 }), 'sensor width (for sources that carry no geometry)'),
  height: field(int({ ge: 1, le: 65535 }), 'sensor height'),
};
const geometryOf = (p: Params): Geometry | undefined => (p.width !== undefined && p.height !== undefined ? { width: p.width as number, height: p.height as number } : undefined);
const threadParam = field(
  { type: 'oneOf', options: [bool, int({ ge: 0 })], describe: 'true, false or a number ≥ 0' },
  'run in a worker thread, with the event operators it alone feeds (true), or the first N of them (default false)',
);
const pace: ParamSchema = { type: 'oneOf', options: [str(['fast']), num({ gt: 0 })], describe: "'fast' or a real-time speed factor > 0" };

// ------------------------------------------------------------------------------------ sources

defineSource(
  {
    name: 'file',
    doc: 'A recorded event file (any registry format), paced or as fast as possible; pausable.',
    produces: 'events',
    pausable: true,
    threadable: true,
    params: {
      thread: threadParam,
      path: field(str(), 'the recording (relative to the pipeline file)', true),
      format: field(str(), "registry format name or 'auto' (default)"),
      pace: field(pace, "'fast' (default) or real time × this factor"),
      passes: field(int({ ge: 1 }), 'times the file is replayed, times kept increasing (default 1)'),
      chunkSize: field(int({ ge: 4096 }), 'bytes per read (default 1 MiB, 64 KiB when paced)'),
      maxEvents: field(int({ ge: 1 }), 'largest packet sent downstream (default 8192 events; views, no copy)'),
      ...geometryParams,
    },
  },
  (p, ctx) => {
    const f = pausableFile(pathIn(ctx, p.path as string), {
      geometry: geometryOf(p),
      format: p.format as string | undefined,
      pace: p.pace === undefined || p.pace === 'fast' ? 'fast' : { speed: p.pace as number },
      passes: p.passes as number | undefined,
      chunkSize: p.chunkSize as number | undefined,
      maxEvents: p.maxEvents as number | undefined,
    });
    return { stream: f.stream, pause: f.pause, resume: f.resume, recycle: (item) => f.recycle(item as EventPacket), arrivedAt: (item) => f.dueAt(item as EventPacket), stats: () => numStats(f.stats) };
  },
);
registerNodeCheck('source', 'file', (p, path, ctx) =>
  typeof p.path === 'string' && !existsSync(pathIn(ctx, p.path)) ? [{ path: `${path}.path`, message: `no such file: ${pathIn(ctx, p.path)}` }] : [],
);

defineSource(
  {
    name: 'emulator',
    doc: 'The DVS emulator (moving scenes) with ground-truth motion labels; pausable.',
    produces: 'events',
    labels: true,
    pausable: true,
    threadable: true,
    params: {
      thread: threadParam,
      ...geometryParams,
      seed: field(int(), 'random seed'),
      stepUs: field(int({ gt: 0 }), 'render step in µs'),
      durationUs: field(num({ gt: 0 }), 'stop after this much emulated time'),
      realtime: field(bool, 'pace at real time × speed'),
      speed: field(num({ gt: 0 }), 'real-time factor'),
      scene: field(json, 'scene template (see the emulator docs)'),
      schedule: field(json, 'motion schedule'),
      dvs: field(json, 'DVS pixel model parameters'),
    },
  },
  (p) => {
    const config = Object.fromEntries(['width', 'height', 'seed', 'stepUs', 'scene', 'schedule', 'dvs'].filter((k) => p[k] !== undefined).map((k) => [k, p[k]]));
    const em = openEmulator(config, { realtime: p.realtime as boolean | undefined, speed: p.speed as number | undefined, durationUs: p.durationUs as number | undefined });
    let events = 0;
    let packets = 0;
    const stream = em.events.pipe(
      map((pk) => {
        events += pk.length;
        packets++;
        return pk;
      }),
    );
    return {
      stream,
      pause: () => em.pause(),
      resume: () => em.resume(),
      labels: em.labels.pipe(map((l) => ({ classIndex: l.class_index, tStartUs: l.t_start_us }))),
      arrivedAt: (item) => em.dueAt(item as EventPacket),
      stats: () => ({ events, packets }),
    };
  },
);

defineSource(
  {
    name: 'udp',
    doc: 'SPIF/AER words over UDP (live; cannot pause: bounded queue with drops).',
    produces: 'events',
    params: { port: field(int({ ge: 0, le: 65535 }), 'UDP port', true), host: field(str(), 'bind address (default 127.0.0.1)'), ...geometryParams },
  },
  async (p) => {
    const { fromUdp } = await import('../../adapters/udp-source.js');
    const s = fromUdp({ port: p.port as number, host: p.host as string | undefined, geometry: geometryOf(p) });
    return { stream: s, stats: () => numStats(s.stats) };
  },
);

defineSource(
  {
    name: 'dv-tcp',
    doc: 'A DV (iniVation) TCP output server, reconnecting; pausable.',
    produces: 'events',
    pausable: true,
    params: { port: field(int({ ge: 1, le: 65535 }), 'TCP port', true), host: field(str(), 'host (default 127.0.0.1)') },
  },
  async (p) => {
    const { fromDvTcp } = await import('../../adapters/dv-tcp-source.js');
    const s = fromDvTcp({ port: p.port as number, host: p.host as string | undefined });
    return { stream: s, pause: () => s.pause(), resume: () => s.resume(), stats: () => numStats(s.stats) };
  },
);

defineSource(
  {
    name: 'serial',
    doc: 'A serial device (AER words, COBS/SLIP frames, text event lines); pausable.',
    produces: 'events',
    pausable: true,
    params: {
      path: field(str(), 'device path, e.g. /dev/ttyACM0', true),
      baudRate: field(int({ gt: 0 }), 'baud rate (default 115200)'),
      framing: field(json, "framing, e.g. {kind: text} or {kind: cobs, crc: crc16} (adapters/serial-*.ts)", true),
      rtscts: field(bool, 'hardware flow control'),
      ...geometryParams,
    },
  },
  async (p) => {
    const { fromSerial } = await import('../../adapters/serial-source.js');
    const s = fromSerial({
      path: p.path as string,
      baudRate: (p.baudRate as number | undefined) ?? 115200,
      framing: p.framing as never,
      rtscts: p.rtscts as boolean | undefined,
      geometry: geometryOf(p),
    });
    return { stream: s, pause: () => s.pause(), resume: () => s.resume(), stats: () => numStats(s.stats) };
  },
);

defineSource(
  {
    name: 'mqtt',
    doc: 'MQTT topics carrying events or spike batches (embedded broker when no url).',
    produces: 'events',
    params: {
      url: field(str(), 'broker URL; absent: the embedded broker'),
      brokerPort: field(int({ ge: 1, le: 65535 }), 'embedded broker port (default 1883)'),
      topics: field({ type: 'oneOf', options: [str(), { type: 'array', items: str(), minItems: 1 }], describe: 'a topic filter or a list of them' }, 'topic filters', true),
      payload: field(str(['protobuf', 'json', 'aer']), 'payload encoding (default protobuf)'),
      format: field(str(), "for payload 'aer': the word format"),
      qos: field(int({ ge: 0, le: 2 }), 'subscription QoS (default 1)'),
      ...geometryParams,
    },
  },
  async (p, ctx) => {
    if (p.url === undefined) ctx.announce(`spikeflow: ${ctx.id} subscribes on the embedded MQTT broker at mqtt://127.0.0.1:${(p.brokerPort as number | undefined) ?? 1883}`);
    const { fromMqtt } = await import('../../adapters/mqtt-source.js');
    const s = fromMqtt({
      url: p.url as string | undefined,
      ...(p.brokerPort ? { embedded: { port: p.brokerPort as number } } : {}),
      topics: p.topics as string | string[],
      payload: p.payload as 'protobuf' | undefined,
      format: p.format as never,
      qos: p.qos as 0 | undefined,
    });
    const geometry = geometryOf(p);
    let spikes = 0;
    let other = 0;
    // Spike batches become events (neuron → x, y = 0) so the same binning feeds an input population.
    const stream = new Observable<EventPacket>((sub) =>
      s.subscribe({
        next: (m) => {
          const pk = packetOfMessage(m.message, geometry);
          if (pk) {
            if (m.message.kind === 'spikes') spikes += pk.length;
            sub.next(pk);
          } else other++;
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      }),
    );
    return { stream, stats: () => ({ ...numStats(s.stats), spikes, otherMessages: other }) };
  },
);

defineSource(
  {
    name: 'websocket',
    doc: 'A WebSocket endpoint clients push event packets to (live; drops when full).',
    produces: 'events',
    params: { port: field(int({ ge: 0, le: 65535 }), 'port (0 = free)', true), host: field(str(), 'bind address (default 127.0.0.1)'), path: field(str(), "path (default '/')") },
  },
  async (p, ctx) => {
    const { fromWs } = await import('../../adapters/ws-source.js');
    const s = fromWs({ port: p.port as number, host: p.host as string | undefined, path: p.path as string | undefined, onListening: (a) => ctx.announce(`spikeflow: ${ctx.id} accepts events at ${a.url}`) });
    return { stream: s, stats: () => numStats(s.stats) };
  },
);

/** Events of a wire message: event packets as they are, spike batches as one event per spike. */
export function packetOfMessage(m: WireMessage, geometry?: Geometry): EventPacket | undefined {
  if (m.kind === 'events') return geometry ? { ...m.packet, geometry } : m.packet;
  if (m.kind !== 'spikes') return undefined;
  const n = m.neuron.length;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = m.timeStartUs + m.stepOffset[i]! * m.dtUs;
  const x = Uint16Array.from(m.neuron);
  // Spike batches are ordered by neuron within a step offset: sort by time for binning.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => t[a]! - t[b]!);
  const pk = packetOf(
    Uint16Array.from(order, (i) => x[i]!),
    new Uint16Array(n),
    Float64Array.from(order, (i) => t[i]!),
    new Uint8Array(n).fill(1),
    geometry ?? { width: 0, height: 0 },
    { format: 'spikes', uri: `${m.source}/${m.layer}` },
  );
  return pk;
}

// What only the adapters know how to check, checked at validation time so `validate` reports it
// with a line: the emulator config, serial framings.
const emulatorKeys = ['width', 'height', 'seed', 'stepUs', 'scene', 'schedule', 'dvs'];
registerNodeCheck('source', 'emulator', (p, path) => {
  try {
    resolveEmulatorConfig(Object.fromEntries(emulatorKeys.filter((k) => p[k] !== undefined).map((k) => [k, p[k]])) as EmulatorConfig);
    return [];
  } catch (e) {
    if (e instanceof EmulatorConfigError) return [{ path: `${path}.${e.field}`, message: e.message.slice(`emulator config: ${e.field} `.length) }];
    return [{ path, message: (e as Error).message }];
  }
});
const framingCheck =
  (make: (f: never) => unknown): ((p: Params, path: string) => Issue[]) =>
  (p, path) => {
    try {
      make(p.framing as never);
      return [];
    } catch (e) {
      return [{ path: `${path}.framing`, message: (e as Error).message }];
    }
  };
registerNodeCheck('source', 'serial', framingCheck((f) => new SerialDecoder(f)));
registerNodeCheck('sink', 'serial', framingCheck((f) => new SerialFrameEncoder(f)));

// ------------------------------------------------------------------------------------ operators

// Each of these maps a packet to a new one (or passes it on) during the call and keeps nothing of it
// (releasesInput), except hotPixels, which holds packets while it calibrates.
const eventOp = (name: string, doc: string, params: Record<string, FieldSchema>, build: (p: Params, pool: PacketPool | undefined) => OperatorFunction<EventPacket, EventPacket>, releasesInput = true): void =>
  defineOp({ name, doc, params, accepts: ['events'], produces: 'events', releasesInput, threadable: true }, (p, ctx) => ({ operator: build(p, ctx.outputPool) as OperatorFunction<unknown, unknown> }));

eventOp('denoise', 'Drops events without a recent neighbour (background activity filter).', { windowUs: field(num({ gt: 0 }), 'support window (µs)', true), radius: field(int({ ge: 1 }), 'neighbourhood radius (default 1)') }, (p, pool) =>
  denoise({ windowUs: p.windowUs as number, radius: p.radius as number | undefined, pool }),
);
eventOp('refractory', 'Drops events of a pixel within its refractory period.', { refractoryUs: field(num({ gt: 0 }), 'period (µs)', true), perPolarity: field(bool, 'separate periods per polarity') }, (p, pool) =>
  refractory({ refractoryUs: p.refractoryUs as number, perPolarity: p.perPolarity as boolean | undefined, pool }),
);
eventOp(
  'hotPixels',
  'Removes hot pixels (given, or found in a calibration window).',
  {
    pixels: field({ type: 'array', items: { type: 'object', fields: { x: field(int({ ge: 0 }), 'x', true), y: field(int({ ge: 0 }), 'y', true) } } }, 'known hot pixels'),
    calibrationUs: field(num({ gt: 0 }), 'calibration window (µs)'),
    thresholdHz: field(num({ gt: 0 }), 'rate above which a pixel is hot'),
  },
  (p) => hotPixels({ pixels: p.pixels as { x: number; y: number }[] | undefined, calibrationUs: p.calibrationUs as number | undefined, thresholdHz: p.thresholdHz as number | undefined }),
  false,
);
eventOp(
  'roi',
  'Keeps a rectangle (coordinates shifted to it).',
  { x: field(int({ ge: 0 }), 'left', true), y: field(int({ ge: 0 }), 'top', true), width: field(int({ ge: 1 }), 'width', true), height: field(int({ ge: 1 }), 'height', true) },
  (p) => roi({ x: p.x as number, y: p.y as number, width: p.width as number, height: p.height as number }),
);
eventOp('downsample', 'Divides coordinates by a factor.', { factor: field(int({ ge: 1 }), 'both axes'), factorX: field(int({ ge: 1 }), 'x'), factorY: field(int({ ge: 1 }), 'y') }, (p, pool) =>
  downsample({ factor: p.factor as number | undefined, factorX: p.factorX as number | undefined, factorY: p.factorY as number | undefined, pool }),
);
eventOp('polarity', 'Keeps one polarity.', { keep: field(str(['on', 'off']), 'on or off', true) }, (p) => polarity(p.keep as PolarityChoice));
eventOp('flip', 'Mirrors x, y or both.', { axis: field(str(['x', 'y', 'xy']), 'axis', true) }, (p) => flip(p.axis as FlipAxis));
eventOp('rotate', 'Rotates by 90, 180 or 270 degrees.', { degrees: field({ type: 'oneOf', options: [90, 180, 270].map((d) => num({ ge: d, le: d })), describe: '90, 180 or 270' }, 'angle', true) }, (p) =>
  rotate(p.degrees as RotationDeg),
);
eventOp('transpose', 'Swaps x and y.', {}, () => transpose());

defineOp(
  {
    name: 'binSteps',
    doc: 'Cuts events into simulation steps of dtUs of event time (active input indices).',
    accepts: ['events'],
    produces: 'steps',
    releasesInput: true, // copies the events into its own step arrays
    params: {
      dtUs: field(num({ gt: 0 }), 'step length (µs of event time)', true),
      layout: field(str(['p-y-x', 'y-x-p', 'y-x']), "input index layout (default 'p-y-x')"),
      originUs: field(num(), 'time of step 0 (default: first event, rounded down)'),
      ...geometryParams,
    },
  },
  (p) => ({
    operator: binSteps({ dtUs: p.dtUs as number, layout: p.layout as 'y-x' | undefined, originUs: p.originUs as number | undefined, geometry: geometryOf(p) }) as OperatorFunction<unknown, unknown>,
  }),
);

defineOp(
  {
    name: 'triggeredLabels',
    doc: "Labels a conv readout's class maps at the positions whose centre spiked (spike-triggered targets).",
    accepts: ['steps'],
    produces: 'steps',
    params: {
      truth: field(str(), 'id of a labelled source (the class in force at each step)', true),
      classes: field(int({ ge: 1 }), 'class maps of the readout population', true),
      kernelSize: field(int({ ge: 1 }), 'conv kernel side', true),
      stride: field(int({ ge: 1 }), 'conv stride', true),
      warmupSteps: field(int({ ge: 0 }), 'steps after each label left unlabelled (default 0)'),
      every: field(int({ ge: 1 }), 'label every n-th eligible step (default 1)'),
      signal: field(str(), "readout signal name (default 'label')"),
    },
  },
  (p, ctx) => ({
    operator: triggeredLabels({
      labels: ctx.labelsOf(p.truth as string),
      classes: p.classes as number,
      kernelSize: p.kernelSize as number,
      stride: p.stride as number,
      warmupSteps: p.warmupSteps as number | undefined,
      every: p.every as number | undefined,
      signal: p.signal as string | undefined,
    }) as OperatorFunction<unknown, unknown>,
  }),
);

const networkSchema: ParamSchema = {
  type: 'object',
  fields: {
    preset: field(str(), 'a registered preset name (spikeflow list)'),
    params: field(json, "the preset's parameters"),
    path: field(str(), 'a network spec JSON file (relative to the pipeline file)'),
    spec: field(json, 'the network spec inline'),
  },
};

defineOp(
  {
    name: 'snn',
    doc: 'Runs a spiking network, one step per step batch, learning online.',
    accepts: ['steps'],
    produces: 'snn',
    params: {
      network: field(networkSchema, 'exactly one of preset (+ params), path, spec', true),
      input: field(str(), 'input population (default: the first input population)'),
      outputs: field({ type: 'array', items: str() }, 'populations whose spikes are emitted (default: all non-input)'),
      backend: field(str(['cpu', 'wasm']), "engine backend (default 'cpu')"),
      learning: field(bool, 'learning on (default true)'),
      snapshot: field({ type: 'array', items: str() }, 'populations whose state goes with each step (LIF membranes, logistic probabilities)'),
      warmup: field(bool, 'before the first step, run the network briefly on synthetic input and restore it exactly, so the first live steps do not wait on compilation (default true)'),
    },
  },
  async (p, ctx) => {
    const spec = resolveNetwork(p.network as Params, ctx.baseDir);
    const network = buildNetwork(spec, { backend: await backendByName((p.backend as string | undefined) ?? 'cpu') });
    if (p.learning === false) network.setLearning(false);
    if (p.warmup !== false) warmUp(network);
    const input = (p.input as string | undefined) ?? spec.populations.find((q) => q.model === 'input')!.name;
    return { operator: snn({ network, input, outputs: p.outputs as string[] | undefined, snapshot: p.snapshot as string[] | undefined, reuseState: ctx.outputReleased === true }) as OperatorFunction<unknown, unknown>, network };
  },
);

/** The validated network spec a `network:` param names; throws SpecError (field relative to the network param). */
export function resolveNetwork(n: Params, baseDir: string): NetworkSpec {
  const given = ['preset', 'path', 'spec'].filter((k) => n[k] !== undefined);
  if (given.length !== 1) throw new SpecError('', given.length ? `give only one of preset, path, spec (got ${given.join(', ')})` : 'give one of preset, path, spec');
  if (n.params !== undefined && n.preset === undefined) throw new SpecError('params', 'only a preset takes params');
  if (n.preset !== undefined) {
    const pr = networkPreset(n.preset as string);
    if (!pr) throw new SpecError('preset', `unknown network preset '${String(n.preset)}' (see 'spikeflow list')`);
    try {
      return validateSpec(pr.build((n.params as Params | undefined) ?? {}));
    } catch (e) {
      if (e instanceof SpecError) throw e;
      throw new SpecError('params', (e as Error).message);
    }
  }
  if (n.path !== undefined) {
    const file = pathIn({ baseDir }, n.path as string);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new SpecError('path', `cannot read network spec ${file}: ${(e as Error).message}`);
    }
    try {
      return validateSpec(raw);
    } catch (e) {
      if (e instanceof SpecError) throw new SpecError('path', `${file}: ${e.message}`);
      throw e;
    }
  }
  try {
    return validateSpec(n.spec);
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(e.field ? `spec.${e.field}` : 'spec', e.message.slice(e.field.length + 2) || e.message);
    throw e;
  }
}

registerNodeCheck('op', 'snn', (p, path, ctx): Issue[] => {
  const np = `${path}.network`;
  let spec: NetworkSpec;
  try {
    spec = resolveNetwork(p.network as Params, ctx.baseDir);
  } catch (e) {
    if (e instanceof SpecError) return [{ path: e.field ? `${np}.${e.field}` : np, message: e.field ? e.message.slice(e.field.length + 2) : e.message }];
    return [{ path: np, message: (e as Error).message }];
  }
  const out: Issue[] = [];
  const inputs = spec.populations.filter((q) => q.model === 'input').map((q) => q.name);
  if (p.input !== undefined && !inputs.includes(p.input as string)) out.push({ path: `${path}.input`, message: `'${String(p.input)}' is not an input population of the network (inputs: ${inputs.join(', ') || 'none'})` });
  if (p.input === undefined && inputs.length === 0) out.push({ path: np, message: 'the network has no input population' });
  const names = spec.populations.map((q) => q.name);
  ((p.outputs as string[] | undefined) ?? []).forEach((o, i) => {
    if (!names.includes(o)) out.push({ path: `${path}.outputs[${i}]`, message: `no population '${o}' in the network` });
  });
  return out;
});

defineOp(
  {
    name: 'decide',
    doc: 'Turns output spikes into decisions (Dynamic Confidence, window or count).',
    accepts: ['snn'],
    produces: 'decisions',
    releasesInput: true, // sums the step's spikes or state into its own counts
    params: {
      population: field(str(), 'the readout population', true),
      classes: field({ type: 'oneOf', options: [int({ ge: 1 }), { type: 'array', items: int({ ge: 0 }), minItems: 1 }], describe: 'a class count or a class per neuron' }, 'classes', true),
      labels: field({ type: 'array', items: str() }, 'class names'),
      mode: field(str(['confidence', 'window', 'count']), "default 'confidence'"),
      confidence: field(num({ gt: 0, lt: 1 }), 'confidence threshold (default 0.9)'),
      beta: field(num({ gt: 0 }), 'softmax inverse temperature (default 1)'),
      windowSteps: field(int({ ge: 1 }), "mode 'window': steps per decision"),
      evidence: field(str(['spikes', 'state']), "what is summed per class: spikes (default) or the snapshot state (the snn node's snapshot)"),
      settleSteps: field(int({ ge: 0 }), "mode 'window': first steps of each window not counted (default 0)"),
      aligned: field(bool, "mode 'window': windows on the step clock's periods (default false: from the first active step)"),
      minSpikes: field(int({ ge: 1 }), "mode 'count': spikes for a decision"),
      maxSteps: field(int({ ge: 1 }), 'give up after this many steps without a decision'),
      region: field(str(), 'region / sensor name on the decisions (default: the node id)'),
      truth: field(str(), 'id of a labelled source: accuracy, and threshold calibration with targetAccuracy'),
      targetAccuracy: field(num({ gt: 0, le: 1 }), 'calibrate the confidence threshold to this accuracy (needs truth)'),
    },
  },
  (p, ctx) => {
    const truth = p.truth as string | undefined;
    return {
      operator: decide({
        population: p.population as string,
        classes: p.classes as number,
        labels: p.labels as string[] | undefined,
        mode: p.mode as 'confidence' | undefined,
        confidence: p.confidence as number | undefined,
        beta: p.beta as number | undefined,
        windowSteps: p.windowSteps as number | undefined,
        aligned: p.aligned as boolean | undefined,
        evidence: p.evidence as 'state' | undefined,
        settleSteps: p.settleSteps as number | undefined,
        minSpikes: p.minSpikes as number | undefined,
        maxSteps: p.maxSteps as number | undefined,
        region: (p.region as string | undefined) ?? ctx.id,
        pipeline: ctx.pipelineName,
        ...(truth && p.targetAccuracy !== undefined ? { calibrate: { labels: ctx.labelsOf(truth).pipe(map((l) => l.classIndex)), targetAccuracy: p.targetAccuracy as number } } : {}),
      }) as OperatorFunction<unknown, unknown>,
    };
  },
);

// ------------------------------------------------------------------------------------ sinks

/** Spike batches of one snn step, one per output population that spiked. */
export function spikeBatches(s: SnnStep, source: string, seq: Map<string, number>): SpikeBatch[] {
  const out: SpikeBatch[] = [];
  for (const [layer, neurons] of Object.entries(s.spikes)) {
    if (neurons.length === 0) continue;
    const n = (seq.get(layer) ?? 0) + 1;
    seq.set(layer, n);
    out.push({ sequence: n, source, layer, stepStart: s.step, timeStartUs: s.tStartUs, dtUs: s.dtUs, neuron: Uint32Array.from(neurons), stepOffset: new Uint32Array(neurons.length) });
  }
  return out;
}

defineSink(
  {
    name: 'websocket',
    doc: 'WebSocket server on localhost publishing events (and frames), spikes and decisions.',
    accepts: ['events', 'snn', 'decisions'],
    multiInput: true,
    releasesInput: true, // encodes (and adds to frames) during the call
    params: {
      port: field(int({ ge: 0, le: 65535 }), 'port (default: --port, env PORT, else 8080; 0 = free)'),
      host: field(str(), 'bind address (default 127.0.0.1)'),
      frameWindowUs: field(num({ gt: 0 }), 'frame accumulation window (µs of event time)'),
      queueBytes: field(int({ ge: 1024 }), 'per-client queue before dropping the oldest'),
    },
  },
  async (p, ctx) => {
    const envPort = process.env.PORT !== undefined && /^\d+$/.test(process.env.PORT) ? Number(process.env.PORT) : undefined;
    const port = ctx.wsPort ?? (p.port as number | undefined) ?? envPort ?? 8080;
    const { startWsServer } = await import('../../adapters/ws-server.js');
    const server = await startWsServer({ port, host: p.host as string | undefined, frameWindowUs: p.frameWindowUs as number | undefined, queueBytes: p.queueBytes as number | undefined });
    const seq = new Map<string, number>();
    let decisions = 0;
    let published = 0;
    const streamOf: Record<StreamKind, string> = { events: 'events', snn: 'spikes', decisions: 'decisions', steps: '' };
    for (const k of new Set(ctx.inputKinds)) ctx.announce(`spikeflow: ${streamOf[k]} at ${server.url}/${streamOf[k]}`);
    if (ctx.inputKinds.includes('events')) ctx.announce(`spikeflow: frames at ${server.url}/frames`);
    return {
      write(item, kind) {
        if (kind === 'events') server.publish('events', item as EventPacket);
        else if (kind === 'decisions') {
          decisions++;
          server.publish('decisions', { ...(item as Decision), sequence: decisions });
        } else if (kind === 'snn') for (const b of spikeBatches(item as SnnStep, ctx.id, seq)) server.publish('spikes', b);
        published++;
      },
      async close() {
        server.flushFrames();
        await server.close();
      },
      stats: () => ({ published, clients: server.stats.clients, dropped: server.stats.dropped, sent: server.stats.sent }),
    };
  },
);

defineSink(
  {
    name: 'mqtt',
    doc: 'Publishes events, spikes and decisions to MQTT (embedded broker when no url).',
    accepts: ['events', 'snn', 'decisions'],
    multiInput: true,
    params: {
      url: field(str(), 'broker URL; absent: the embedded broker'),
      brokerPort: field(int({ ge: 1, le: 65535 }), 'embedded broker port (default 1883)'),
      topic: field(str(), "topic or template with {kind} (default 'spikeflow/{kind}')"),
      payload: field(str(['protobuf', 'json']), 'default protobuf'),
      qos: field(int({ ge: 0, le: 2 }), 'default 0'),
    },
  },
  async (p, ctx) => {
    const { openMqttSink } = await import('../../adapters/mqtt-sink.js');
    const s: MqttSink = await openMqttSink({
      url: p.url as string | undefined,
      ...(p.brokerPort ? { embedded: { port: p.brokerPort as number } } : {}),
      topic: p.topic as string | undefined,
      payload: p.payload as 'json' | undefined,
      qos: p.qos as 0 | undefined,
    });
    if (p.url === undefined) ctx.announce(`spikeflow: ${ctx.id} publishes on the embedded MQTT broker at mqtt://127.0.0.1:${(p.brokerPort as number | undefined) ?? 1883}`);
    const seq = new Map<string, number>();
    return {
      write(item, kind) {
        if (kind === 'events') s.publish(item as EventPacket);
        else if (kind === 'decisions') {
          const { sequence: _s, ...d } = item as Decision;
          s.publish({ kind: 'decision', ...d });
        } else for (const b of spikeBatches(item as SnnStep, ctx.id, seq)) {
          const { sequence: _s, ...rest } = b;
          s.publish({ kind: 'spikes', ...rest });
        }
      },
      close: () => s.close(),
      stats: () => numStats(s.stats),
    };
  },
);

defineSink(
  {
    name: 'serial',
    doc: 'Writes decisions, spikes or events to a serial device (COBS/SLIP/text/AER).',
    accepts: ['events', 'snn', 'decisions'],
    multiInput: true,
    params: {
      path: field(str(), 'device path', true),
      baudRate: field(int({ gt: 0 }), 'default 115200'),
      framing: field(json, 'sink framing, e.g. {kind: cobs} or {kind: text}', true),
    },
  },
  async (p, ctx) => {
    const { openSerialSink } = await import('../../adapters/serial-sink.js');
    const s = openSerialSink({ path: p.path as string, baudRate: (p.baudRate as number | undefined) ?? 115200, framing: p.framing as never });
    const seq = new Map<string, number>();
    return {
      write(item, kind) {
        if (kind === 'events') s.sendEvents(item as EventPacket);
        else if (kind === 'decisions') s.sendDecision(item as Decision);
        else for (const b of spikeBatches(item as SnnStep, ctx.id, seq)) s.sendSpikes(b);
      },
      async close() {
        await s.drain().catch(() => undefined);
        await s.close();
      },
      stats: () => numStats(s.stats),
    };
  },
);

defineSink(
  {
    name: 'log',
    doc: 'Prints decisions (or a summary of other items) as JSON lines on stdout.',
    accepts: ['events', 'steps', 'snn', 'decisions'],
    multiInput: true,
    releasesInput: true,
    params: { every: field(int({ ge: 1 }), 'print every n-th item (default 1)') },
  },
  (p, ctx) => {
    const every = (p.every as number | undefined) ?? 1;
    let n = 0;
    return {
      write(item, kind) {
        if (n++ % every !== 0) return;
        if (kind === 'decisions') ctx.print(JSON.stringify({ decision: item }));
        else if (kind === 'events') ctx.print(JSON.stringify({ events: (item as EventPacket).length, t: (item as EventPacket).t[0] }));
        else if (kind === 'steps') ctx.print(JSON.stringify({ step: (item as StepBatch).step, active: (item as StepBatch).active.length }));
        else ctx.print(JSON.stringify({ step: (item as SnnStep).step, spikes: Object.fromEntries(Object.entries((item as SnnStep).spikes).map(([k, v]) => [k, v.length])) }));
      },
      close: async () => undefined,
      stats: () => ({ printed: n }),
    };
  },
);
