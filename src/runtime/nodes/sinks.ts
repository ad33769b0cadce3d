/** The built-in sinks: WebSocket server, MQTT, serial port, log. */
import type { MqttSink } from '../../../adapters/mqtt-sink.js';
import type { StepBatch } from '../../../operators/bin-steps.js';
import type { SnnStep } from '../../../operators/snn.js';
import type { EventPacket } from '../../events/packet.js';
import type { Decision, SpikeBatch } from '../../wire/messages.js';
import { SerialFrameEncoder } from '../../formats/serial/frame-encoder.js';
import { registerNodeCheck } from '../pipeline.js';
import type { StreamKind } from '../registry.js';
import { field, int, json, num, str } from '../schema.js';
import { numStats, defineSink, framingCheck } from '../node-types.js';

registerNodeCheck('sink', 'serial', framingCheck((f) => new SerialFrameEncoder(f)));

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
    const { startWsServer } = await import('../../../adapters/ws-server.js');
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
    const { openMqttSink } = await import('../../../adapters/mqtt-sink.js');
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
    const { openSerialSink } = await import('../../../adapters/serial-sink.js');
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
