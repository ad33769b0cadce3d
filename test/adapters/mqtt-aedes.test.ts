/**
 * MQTT source and sink against the embedded aedes broker (MQTT 3.1.1): the default broker started when no URL
 * is configured, round trips of every kind, wildcards, bad payloads, a broker restart (reconnect + resubscribe:
 * aedes keeps sessions in memory, so the subscription must be made again), and a clean close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import mqtt from 'mqtt';
import { acquireDefaultBroker, startBroker } from '../../adapters/mqtt-broker.js';
import { openMqttSink } from '../../adapters/mqtt-sink.js';
import { concatPackets, packetsEqual } from '../../src/events/packet.js';
import { SpifEncoder } from '../../src/formats/spif.js';
import { encodeWire, type WireMessage } from '../../src/wire/index.js';
import { freePort } from '../helpers/mosquitto.js';
import { collect, decision, eventPacket, metrics, sleep, spikes, waitFor } from '../helpers/mqtt.js';

const quietLog = { sink: () => {} };

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

for (const [payload, qos] of [['protobuf', 0], ['json', 1]] as const) {
  // QoS 0 takes the sink's own framing (MQTT 3.1.1 here), QoS 1 goes through mqtt.js.
  test(`embedded broker (no URL) ${payload} QoS ${qos}: every kind round-trips; the shared broker closes with its last user`, async () => {
    const port = await freePort();
    const embedded = { port };
    const rx = await collect({ embedded, topics: 'sf/#', payload, log: quietLog });
    const sink = await openMqttSink({ embedded, topic: 'sf/{kind}', payload, qos, log: quietLog });
    await sink.ready;
    assert.equal(await portIsFree(port), false, 'the embedded broker listens on the configured port');
    const sent = [decision(1), spikes(2), metrics(3), { kind: 'events' as const, packet: eventPacket(2500, 4) }];
    for (const m of sent) sink.publish(m);
    assert.equal(await sink.drain(), true);
    await waitFor(() => rx.got.length === 4, '4 messages');
    assert.deepEqual(
      rx.got.map((g) => [g.topic, g.message.kind, g.message.sequence]),
      [
        ['sf/decision', 'decision', 1],
        ['sf/spikes', 'spikes', 1],
        ['sf/metrics', 'metrics', 1],
        ['sf/events', 'events', 1],
      ],
    );
    const ev = rx.got[3]!.message;
    assert.ok(ev.kind === 'events' && packetsEqual(ev.packet, (sent[3] as { packet: typeof ev.packet }).packet));
    const d = rx.got[0]!.message;
    assert.ok(d.kind === 'decision');
    assert.equal(d.label, 'class-1');
    assert.equal(d.confidence, 0.01);
    assert.equal(rx.source.stats.events, 2500);
    assert.equal(rx.source.stats.noDelay, true);

    rx.stop();
    await sleep(50);
    assert.equal(await portIsFree(port), false, 'still held by the sink');
    await sink.close();
    await waitFor(() => false === rx.source.stats.connected, 'source disconnect');
    // Released by both: the broker is closed and the port is free again.
    const deadline = Date.now() + 5000;
    while (!(await portIsFree(port))) {
      assert.ok(Date.now() < deadline, 'port freed after the last release');
      await sleep(20);
    }
  });
}

test('embedded broker: wildcards and bad payloads (counted, topic named, neighbours kept)', async () => {
  const broker = await startBroker({ port: 0 });
  try {
    assert.ok(broker.port > 0);
    assert.equal(broker.url, `mqtt://127.0.0.1:${broker.port}`);
    const rx = await collect({ url: broker.url, protocolVersion: 4, topics: ['w/+/decision', 'w/cam/#'] });
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const good = (i: number) => Buffer.from(encodeWire({ ...decision(i), sequence: i } as WireMessage));
    await c.publishAsync('w/a/decision', good(1), { qos: 1 });
    await c.publishAsync('w/a/metrics', good(2), { qos: 1 }); // not subscribed
    await c.publishAsync('w/b/decision', Buffer.from('not protobuf at all \xff'), { qos: 1 });
    await c.publishAsync('w/cam/left', good(3), { qos: 1 });
    await c.publishAsync('w/b/decision', good(4), { qos: 1 });
    await c.endAsync();
    await waitFor(() => rx.source.stats.messages === 4, '4 matching messages');
    rx.stop();
    assert.deepEqual(
      rx.got.map((g) => [g.topic, g.message.sequence]),
      [
        ['w/a/decision', 1],
        ['w/cam/left', 3],
        ['w/b/decision', 4],
      ],
    );
    assert.equal(rx.source.stats.bad, 1);
    assert.equal(rx.source.stats.byTopic['w/b/decision']!.bad, 1);
    assert.equal(rx.errors.length, 1);
    assert.match(rx.logLines[0]!, /^mqtt mqtt:\/\/127\.0\.0\.1:\d+: mqtt topic w\/b\/decision: not a spikeflow protobuf envelope/);
  } finally {
    await broker.close();
  }
});

test('embedded broker aer/spif payloads: two interleaved topics, each its own decoder; a skipped datagram is counted lost on its topic', async () => {
  const broker = await startBroker({ port: 0 });
  try {
    const rx = await collect({ url: broker.url, protocolVersion: 4, topics: 'spif/+', payload: 'aer', format: 'spif', log: quietLog });
    const left = eventPacket(600, 1);
    const right = eventPacket(500, 2);
    // Timestamps and sequence words on: event times survive, and a gap in the sequence is loss.
    const encode = (p: typeof left) => new SpifEncoder({ timestamps: true, sequence: true }).encode(p);
    const l = encode(left);
    const r = encode(right);
    assert.ok(l.length > 3 && r.length > 3);
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    for (let k = 0; k < Math.max(l.length, r.length); k++) {
      if (k < l.length) await c.publishAsync('spif/left', Buffer.from(l[k]!), { qos: 1 });
      if (k < r.length && k !== 2) await c.publishAsync('spif/right', Buffer.from(r[k]!), { qos: 1 }); // datagram 2 "lost"
    }
    await c.endAsync();
    await waitFor(() => rx.source.stats.messages === l.length + r.length - 1, 'all datagrams');
    rx.stop();
    const of = (topic: string) => concatPackets(rx.got.filter((g) => g.topic === topic).map((g) => (g.message.kind === 'events' ? g.message.packet : assert.fail())));
    const gotLeft = of('spif/left');
    assert.deepEqual([gotLeft.x, gotLeft.y, gotLeft.p], [left.x, left.y, left.p]);
    assert.deepEqual(Array.from(gotLeft.t, (t) => t % 2 ** 32), Array.from(left.t, (t) => t % 2 ** 32));
    const gotRight = of('spif/right');
    const perDatagram = (r[0]!.length - 4) / 8;
    assert.equal(gotRight.length, right.length - perDatagram);
    assert.equal(rx.source.stats.byTopic['spif/right']!.lost, 1);
    assert.equal(rx.source.stats.byTopic['spif/left']!.lost, 0);
    assert.equal(rx.source.stats.events, left.length + right.length - perDatagram);
    assert.equal(rx.source.stats.bad, 0);
  } finally {
    await broker.close();
  }
});

test('embedded broker restart on the same port: source and sink reconnect, the source subscribes again', async () => {
  let broker = await startBroker({ port: 0 });
  const port = broker.port;
  const fast = { initialDelayMs: 50, maxDelayMs: 300 };
  const rx = await collect({ url: broker.url, protocolVersion: 4, topics: 'r/#', reconnect: fast, log: quietLog });
  const sink = await openMqttSink({ url: broker.url, protocolVersion: 4, qos: 1, reconnect: fast, log: quietLog });
  try {
    sink.publish(decision(1), 'r/x');
    await waitFor(() => rx.got.length === 1, 'first message');
    await broker.close();
    await waitFor(() => !rx.source.stats.connected && !sink.stats.connected, 'both to notice the broker is gone');
    await sleep(200);
    broker = await startBroker({ port });
    await waitFor(() => rx.source.stats.subscribes === 2 && sink.stats.connected, 'reconnection and resubscription');
    sink.publish(decision(2), 'r/x');
    await waitFor(() => rx.got.length === 2, 'a message after the restart');
    assert.deepEqual(
      rx.got.map((g) => g.message.sequence),
      [1, 2],
    );
    assert.ok(rx.source.stats.reconnects >= 1 && sink.stats.reconnects >= 1);
  } finally {
    rx.stop();
    await sink.close();
    await broker.close();
  }
});

test('embedded broker: a busy port is refused with a clear error; close is idempotent; default broker refcount', async () => {
  const a = await startBroker({ port: 0 });
  await assert.rejects(startBroker({ port: a.port }), new RegExp(`embedded MQTT broker: cannot listen on 127\\.0\\.0\\.1:${a.port}`));
  await a.close();
  await a.close();
  assert.equal(await portIsFree(a.port), true);

  const port = await freePort();
  const one = await acquireDefaultBroker({ port });
  const two = await acquireDefaultBroker({ port });
  assert.equal(one.broker, two.broker, 'same host:port → one shared broker');
  await one.release();
  await one.release(); // a second release by the same user does not count
  assert.equal(await portIsFree(port), false);
  await two.release();
  assert.equal(await portIsFree(port), true);
});

test('a wildcard over many topics keeps at most maxTopics topic states (the oldest dropped, counted); messages all arrive', async () => {
  const port = await freePort();
  const embedded = { port };
  const rx = await collect({ embedded, topics: 'many/#', payload: 'protobuf', log: quietLog, maxTopics: 3 });
  const sink = await openMqttSink({ embedded, topic: 'many/x', log: quietLog });
  await sink.ready;
  for (let k = 0; k < 5; k++) sink.publish(decision(k + 1), `many/${k}`);
  assert.equal(await sink.drain(), true);
  await waitFor(() => rx.got.length === 5, '5 messages');
  assert.deepEqual(rx.got.map((g) => g.topic), ['many/0', 'many/1', 'many/2', 'many/3', 'many/4']);
  assert.deepEqual(Object.keys(rx.source.stats.byTopic), ['many/2', 'many/3', 'many/4']);
  assert.equal(rx.source.stats.evictedTopics, 2);
  assert.equal(rx.source.stats.messages, 5);
  rx.stop();
  await sink.close();
});
