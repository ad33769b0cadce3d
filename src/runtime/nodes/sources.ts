/** The built-in sources: files, the emulator, UDP, DV TCP, serial ports, MQTT, WebSocket clients. */
import { existsSync } from 'node:fs';
import { map, Observable } from 'rxjs';
import { openEmulator } from '../../../adapters/emulator-source.js';
import { packetOf, type EventPacket, type Geometry } from '../../events/packet.js';
import type { WireMessage } from '../../wire/messages.js';
import { resolveEmulatorConfig, type EmulatorConfig } from '../../emulator/emulator.js';
import { EmulatorConfigError } from '../../emulator/config-error.js';
import { SerialDecoder } from '../../formats/serial/decoder.js';
import { pausableFile } from '../file-reader.js';
import { registerNodeCheck } from '../pipeline.js';
import { bool, field, int, json, num, str } from '../schema.js';
import { numStats, pathIn, geometryParams, geometryOf, threadParam, pace, defineSource, framingCheck } from '../node-types.js';

// ------------------------------------------------------------------------------------ sources

defineSource(
  {
    name: 'file',
    doc: 'A recorded event file (any registry format), paced or as fast as possible; pausable.',
    produces: 'events',
    pausable: true,
    threadable: true,
    params: {
      path: field(str(), 'the recording (relative to the pipeline file)', true),
      format: field(str(), "registry format name or 'auto' (default)"),
      pace: field(pace, "'fast' (default) or real time × this factor"),
      passes: field(int({ ge: 1 }), 'times the file is replayed, times kept increasing (default 1)'),
      chunkSize: field(int({ ge: 4096 }), 'bytes per read (default 1 MiB, 64 KiB when paced)'),
      maxEvents: field(int({ ge: 1 }), 'largest packet sent downstream (default 8192 events; views, no copy)'),
      ...geometryParams,
      thread: threadParam,
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
      // The runtime recycles every packet when nothing downstream keeps one.
      kernelBuffers: ctx.outputReleased === true,
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
      ...geometryParams,
      seed: field(int(), 'random seed'),
      stepUs: field(int({ gt: 0 }), 'render step in µs'),
      durationUs: field(num({ gt: 0 }), 'stop after this much emulated time'),
      realtime: field(bool, 'pace at real time × speed'),
      speed: field(num({ gt: 0 }), 'real-time factor'),
      scene: field(json, 'scene template (see the emulator docs)'),
      schedule: field(json, 'motion schedule'),
      dvs: field(json, 'DVS pixel model parameters'),
      thread: threadParam,
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
    const { fromUdp } = await import('../../../adapters/udp-source.js');
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
    const { fromDvTcp } = await import('../../../adapters/dv-tcp-source.js');
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
    const { fromSerial } = await import('../../../adapters/serial-source.js');
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
    const { fromMqtt } = await import('../../../adapters/mqtt-source.js');
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
    const { fromWs } = await import('../../../adapters/ws-source.js');
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
registerNodeCheck('source', 'serial', framingCheck((f) => new SerialDecoder(f)));
