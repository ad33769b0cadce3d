/**
 * MQTT source and sink against a real mosquitto 2 started here on a free loopback port: round trips of every
 * message kind in protobuf and JSON, wildcards, raw AER payloads, bad payloads among good ones, and broker
 * restarts (reconnect + resubscribe; QoS 1 + persistent session loses nothing).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { openMqttSink, type MqttSink } from '../../adapters/mqtt-sink.js';
import { concatPackets, packetsEqual } from '../../src/events/packet.js';
import { allEvents, decodeBuffer } from '../../src/formats/decode-all.js';
import { EnvelopeType } from '../../src/wire/schema.js';
import { encodeJson, encodeWire, type WireMessage } from '../../src/wire/index.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect, decision, eventPacket, metrics, sleep, spikes, waitFor } from '../helpers/mqtt.js';
import { readShared } from '../helpers/shared-data.js';

let broker: Mosquitto;
before(async () => {
  broker = await startMosquitto();
});
after(async () => {
  await broker.close();
});

/** Log lines are collected by `collect`; sinks drop theirs (their errors are asserted through stats). */
const quietLog = { sink: () => {} };

/** Publishes raw payloads with a plain mqtt.js client (QoS 1, one connection: order kept). */
async function publishRaw(url: string, items: Array<[string, Buffer | string]>): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5 });
  for (const [topic, payload] of items) await c.publishAsync(topic, payload, { qos: 1 });
  await c.endAsync();
}

function withoutSequence(m: WireMessage): Omit<WireMessage, 'sequence'> {
  const { sequence: _s, ...rest } = m;
  return rest;
}

for (const [payload, qos] of [['protobuf', 0], ['protobuf', 1], ['json', 0], ['json', 1]] as const) {
  // QoS 0 takes the sink's own framing (MQTT 5 here), QoS 1 goes through mqtt.js.
  test(`mosquitto ${payload} QoS ${qos}: decisions, spikes, metrics and event packets round-trip with per-topic sequence numbers`, async () => {
    const rx = await collect({ url: broker.url, topics: `rt-${payload}-${qos}/#`, payload, qos: 1, log: quietLog });
    const sink = await openMqttSink({ url: broker.url, topic: `rt-${payload}-${qos}/{kind}`, payload, qos, log: quietLog });
    await sink.ready;
    const sent = [decision(0), spikes(1), metrics(2), { kind: 'events' as const, packet: eventPacket(3000, 3) }, { kind: 'events' as const, packet: eventPacket(17, 4, true) }, decision(5)];
    for (const m of sent) sink.publish(m);
    sink.publish(eventPacket(1, 6)); // a bare EventPacket is an events message
    assert.equal(await sink.drain(), true);
    await waitFor(() => rx.got.length === 7, '7 messages');
    rx.stop();
    await sink.close();

    assert.deepEqual(
      rx.got.map((g) => [g.topic, g.message.kind, g.message.sequence]),
      [
        [`rt-${payload}-${qos}/decision`, 'decision', 1],
        [`rt-${payload}-${qos}/spikes`, 'spikes', 1],
        [`rt-${payload}-${qos}/metrics`, 'metrics', 1],
        [`rt-${payload}-${qos}/events`, 'events', 1],
        [`rt-${payload}-${qos}/events`, 'events', 2],
        [`rt-${payload}-${qos}/decision`, 'decision', 2],
        [`rt-${payload}-${qos}/events`, 'events', 3],
      ],
    );
    for (const [k, m] of sent.entries()) {
      const got = rx.got[k]!.message;
      if (m.kind === 'events') {
        assert.equal(got.kind, 'events');
        if (got.kind !== 'events') continue;
        assert.ok(packetsEqual(got.packet, m.packet), `packet ${k} equal`);
        assert.deepEqual(got.packet.t, m.packet.t);
        assert.deepEqual(got.packet.geometry, { width: 640, height: 480 });
        assert.equal(got.packet.source.uri, 'left-dvs');
      } else assert.deepEqual(withoutSequence(got), m);
    }
    const s = rx.source.stats;
    assert.equal(s.messages, 7);
    assert.equal(s.events, 3000 + 17 + 1);
    assert.equal(s.bad, 0);
    assert.equal(s.lost, 0);
    assert.equal(s.noDelay, true);
    assert.equal(s.byTopic[`rt-${payload}-${qos}/events`]!.messages, 3);
    assert.equal(sink.stats.published, 7);
    assert.equal(sink.stats.delivered, 7);
    assert.equal(sink.stats.noDelay, true);
    assert.equal(s.bytes, sink.stats.bytes);
  });
}

test('mosquitto wildcards: + and # select topics; others are not delivered', async () => {
  const rx = await collect({ url: broker.url, topics: ['wc/+/decision', 'wc/cam/#'], log: quietLog });
  const sink = await openMqttSink({ url: broker.url, qos: 1, log: quietLog });
  const topics = ['wc/a/decision', 'wc/b/decision', 'wc/a/metrics', 'wc/cam', 'wc/cam/left/events', 'wc/a/b/decision', 'other/a/decision'];
  for (const t of topics) sink.publish(decision(1), t);
  assert.equal(await sink.drain(), true);
  await waitFor(() => rx.got.length >= 4, '4 matching messages');
  await sleep(200); // anything wrongly matched would have arrived by now
  rx.stop();
  await sink.close();
  assert.deepEqual(rx.got.map((g) => g.topic).sort(), ['wc/a/decision', 'wc/b/decision', 'wc/cam', 'wc/cam/left/events']);
  assert.deepEqual(Object.keys(rx.source.stats.byTopic).sort(), ['wc/a/decision', 'wc/b/decision', 'wc/cam', 'wc/cam/left/events']);
});

test('mosquitto aer payloads: a real EVT3 recording in 997-byte messages decodes to the same events', async () => {
  const bytes = readShared('evt3_pedestrians_small.raw');
  const expected = allEvents(decodeBuffer(bytes, 'evt3'));
  const rx = await collect({ url: broker.url, topics: 'aer/+', payload: 'aer', format: 'evt3', log: quietLog });
  const items: Array<[string, Buffer]> = [];
  for (let o = 0; o < bytes.length; o += 997) items.push(['aer/left', Buffer.from(bytes.subarray(o, o + 997))]);
  await publishRaw(broker.url, items);
  await waitFor(() => rx.source.stats.messages === items.length, `${items.length} AER messages`);
  rx.stop();
  const got = concatPackets(rx.got.map((g) => (g.message.kind === 'events' ? g.message.packet : assert.fail('not events'))));
  assert.ok(expected.length > 1000);
  assert.equal(got.length, expected.length);
  assert.deepEqual(got.x, expected.x);
  assert.deepEqual(got.y, expected.y);
  assert.deepEqual(got.t, expected.t);
  assert.deepEqual(got.p, expected.p);
  assert.equal(rx.source.stats.events, expected.length);
  assert.equal(rx.source.stats.bad, 0);
});

test('mosquitto bad payloads: garbage, unknown wire version, oversize and bad JSON are counted and logged by topic; neighbours all arrive', async () => {
  const rx = await collect({ url: broker.url, topics: 'bad/#', maxPayloadBytes: 4096, log: { perWindow: 3, windowMs: 60_000 } });
  const lines = rx.logLines;
  const good = (i: number) => Buffer.from(encodeWire({ ...decision(i), sequence: i } as WireMessage));
  const v2 = Buffer.from(EnvelopeType.encode(EnvelopeType.fromObject({ version: 2, decision: { sequence: 99, label: 'future' } })).finish());
  const oversize = Buffer.from(encodeWire({ kind: 'events', sequence: 3, packet: eventPacket(1000, 1) }));
  const items: Array<[string, Buffer | string]> = [
    ['bad/a', good(1)],
    ['bad/a', Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x12])],
    ['bad/a', good(2)],
    ['bad/b', v2],
    ['bad/a', oversize],
    ['bad/a', good(4)],
    ['bad/c', encodeJson({ ...decision(0), sequence: 1 } as WireMessage)],
    ['bad/a', Buffer.alloc(0)],
    ['bad/a', good(5)],
  ];
  await publishRaw(broker.url, items);
  await waitFor(() => rx.source.stats.messages === items.length, 'all 9 messages');
  rx.stop();
  // The good ones, in order, none lost (sequence 3 was the oversize one and is counted lost).
  assert.deepEqual(
    rx.got.map((g) => [g.topic, g.message.sequence]),
    [
      ['bad/a', 1],
      ['bad/a', 2],
      ['bad/a', 4],
      ['bad/a', 5],
    ],
  );
  const s = rx.source.stats;
  assert.equal(s.bad, 5); // garbage, v2, oversize, JSON on a protobuf source, empty envelope
  assert.equal(s.oversize, 1);
  assert.equal(s.byTopic['bad/a']!.bad, 3);
  assert.equal(s.byTopic['bad/b']!.bad, 1);
  assert.equal(s.byTopic['bad/a']!.lost, 1);
  assert.equal(rx.errors.length, 5);
  assert.match(rx.errors.find((e) => /version 2/.test(e.message))!.message, /mqtt topic bad\/b: unsupported wire version 2/);
  assert.match(rx.errors.find((e) => /exceeds/.test(e.message))!.message, /mqtt topic bad\/a: payload of \d+ bytes exceeds the limit of 4096/);
  // Rate limited: 3 lines for 5 errors (the summary comes when the window ends or the source stops).
  assert.equal(lines.filter((l) => l.includes('mqtt topic')).length, 3);
  assert.ok(lines.every((l) => l.startsWith(`mqtt mqtt://127.0.0.1:${broker.port}: `)), lines.join('\n'));
  assert.ok(lines.some((l) => /2 more errors suppressed \(5 in total\)/.test(l)), lines.join('\n'));
});

test('mosquitto restart without persistence: the source reconnects and subscribes again, then receives', async () => {
  const b = await startMosquitto();
  try {
    const rx = await collect({ url: b.url, topics: 'rs/#', reconnect: { initialDelayMs: 50, maxDelayMs: 300 }, log: quietLog });
    const sink = await openMqttSink({ url: b.url, qos: 1, reconnect: { initialDelayMs: 50, maxDelayMs: 300 }, log: quietLog });
    sink.publish(decision(1), 'rs/x');
    await waitFor(() => rx.got.length === 1, 'the first message');
    await b.stop();
    await waitFor(() => !rx.source.stats.connected, 'the source to notice');
    await sleep(300);
    await b.start();
    await waitFor(() => rx.source.stats.subscribes === 2 && sink.stats.connected, 'resubscription');
    assert.equal(rx.source.stats.sessionPresent, false);
    sink.publish(decision(2), 'rs/x');
    await waitFor(() => rx.got.length === 2, 'a message after the restart');
    assert.deepEqual(
      rx.got.map((g) => g.message.sequence),
      [1, 2],
    );
    assert.ok(rx.source.stats.reconnects >= 1);
    assert.ok(rx.source.stats.disconnects >= 1);
    rx.stop();
    await sink.close();
  } finally {
    await b.close();
  }
});

test('mosquitto restart with persistence: QoS 1 + persistent session, a publisher going on across the restart, none lost', async () => {
  const b = await startMosquitto({ persistence: true });
  let rx: Awaited<ReturnType<typeof collect>> | undefined;
  let sink: MqttSink | undefined;
  try {
    const fast = { initialDelayMs: 50, maxDelayMs: 300 };
    rx = await collect({ url: b.url, topics: 'ps/+', qos: 1, clean: false, clientId: 'spikeflow-test-persistent-rx', sessionExpirySeconds: 600, reconnect: fast, log: quietLog });
    sink = await openMqttSink({ url: b.url, topic: 'ps/decision', qos: 1, clean: false, clientId: 'spikeflow-test-persistent-tx', sessionExpirySeconds: 600, reconnect: fast, log: quietLog });
    await sink.ready;
    const total = 3000;
    let published = 0;
    const publishSome = async (n: number) => {
      for (let k = 0; k < n; k++) {
        sink!.publish(decision(published++));
        if (k % 50 === 49) await sleep(2);
      }
    };
    await publishSome(1000);
    // Broker goes down in the middle of the stream; the publisher goes on while it is down.
    await b.stop();
    await publishSome(1000);
    await sleep(200);
    await b.start();
    await publishSome(total - 2000);
    assert.equal(await sink.drain(30_000), true, 'every QoS 1 publish acknowledged');
    await waitFor(() => new Set(rx!.got.map((g) => g.message.sequence)).size === total, `all ${total} sequence numbers`, 30_000);
    const seqs = new Set(rx.got.map((g) => g.message.sequence));
    for (let i = 1; i <= total; i++) assert.ok(seqs.has(i), `sequence ${i} received`);
    assert.ok(rx.source.stats.reconnects >= 1, 'the source reconnected');
    assert.equal(rx.source.stats.sessionPresent, true, 'the broker resumed the persistent session');
    assert.equal(rx.source.stats.lost, 0);
    assert.ok(rx.got.length >= total);
  } finally {
    rx?.stop();
    await sink?.close();
    await b.close();
  }
});

test('mosquitto persistent session: what is published while the source is away is delivered when it comes back', async () => {
  const session = { url: broker.url, topics: 'away/+', qos: 1 as const, clean: false, clientId: 'spikeflow-test-away-rx', sessionExpirySeconds: 600, log: quietLog };
  const first = await collect(session);
  const sink = await openMqttSink({ url: broker.url, topic: 'away/decision', qos: 1, log: quietLog });
  for (let i = 0; i < 100; i++) sink.publish(decision(i));
  assert.equal(await sink.drain(), true);
  await waitFor(() => first.got.length === 100, 'the first 100');
  first.stop();
  await waitFor(() => !first.source.stats.connected, 'the source to disconnect');
  await sleep(100);
  for (let i = 100; i < 600; i++) sink.publish(decision(i));
  assert.equal(await sink.drain(), true, 'the broker took them while the source was away');
  const second = await collect(session);
  await waitFor(() => second.got.length >= 500, 'the 500 queued while away');
  assert.equal(second.source.stats.sessionPresent, true);
  assert.deepEqual(
    second.got.map((g) => g.message.sequence),
    Array.from({ length: 500 }, (_, k) => 101 + k),
  );
  second.stop();
  await sink.close();
});

test('mosquitto QoS 0 burst: 20,000 decisions and 40 event packets published in one tick arrive complete and in order', async () => {
  // Several MB in one tick: the sink's framing arena fills and is replaced several times, large payloads go between.
  const rx = await collect({ url: broker.url, topics: 'burst/#', qos: 0, log: quietLog });
  const sink = await openMqttSink({ url: broker.url, topic: 'burst/{kind}', qos: 0, log: quietLog });
  await sink.ready;
  const packet = eventPacket(2000, 9);
  for (let i = 0; i < 20_000; i++) {
    sink.publish(decision(i));
    if (i % 500 === 0) sink.publish(packet);
  }
  assert.equal(await sink.drain(30_000), true);
  await waitFor(() => rx.got.length === 20_040, 'all 20,040 messages', 30_000);
  rx.stop();
  await sink.close();
  const seq = (kind: string) => rx.got.filter((g) => g.message.kind === kind).map((g) => g.message.sequence);
  assert.deepEqual(seq('decision'), Array.from({ length: 20_000 }, (_, k) => k + 1));
  assert.deepEqual(seq('events'), Array.from({ length: 40 }, (_, k) => k + 1));
  const d = rx.got.find((g) => g.message.kind === 'decision' && g.message.sequence === 12_345)!.message;
  assert.deepEqual(d, { ...decision(12_344), sequence: 12_345 });
  const ev = rx.got.find((g) => g.message.kind === 'events')!.message;
  assert.ok(ev.kind === 'events' && packetsEqual(ev.packet, packet));
  assert.equal(rx.source.stats.lost, 0);
  assert.equal(sink.stats.delivered, 20_040);
});
