/**
 * openSerialSink over real pseudo-terminals from socat: decisions, spikes and events written by the
 * sink are read on the other end — by fromSerial, or byte-exact by the test playing the microcontroller —
 * and the sink survives socat being killed and restarted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SerialPort } from 'serialport';
import { Subject } from 'rxjs';
import { openSerialSink } from '../../adapters/serial-sink.js';
import { fromSerial } from '../../adapters/serial-source.js';
import { concatPackets, packetFromArrays, type EventPacket } from '../../src/events/packet.js';
import { Deframer } from '../../src/formats/serial/deframer.js';
import { decodeCompactDecision } from '../../src/formats/serial/compact-decision.js';
import type { Decision, WireMessage } from '../../src/wire/messages.js';
import { PtyPair, PtyToSocket, openRaw, closeRaw, until, writeRaw } from '../helpers/socat.js';
import { SerialDecoder } from '../../src/formats/serial/decoder.js';
import { createServer } from 'node:net';

const quiet = { sink: () => undefined };
const fast = { initialDelayMs: 20, maxDelayMs: 200 };

function decision(k: number): Decision {
  return { sequence: k, pipeline: 'gesture', region: 'left', label: k % 2 ? 'wave, big' : 'fist', classIndex: k % 5, confidence: 0.5 + k / 100, timeUs: 1000 * k, latencySteps: k, latencyUs: 10 * k, emittedUnixMs: 1700000000000 + k };
}

/** Everything the device end receives. */
function record(port: SerialPort): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  port.on('data', (c: Buffer) => chunks.push(c));
  return { bytes: () => Buffer.concat(chunks) };
}

test('decisions, spikes and events as COBS+CRC-16 wire frames arrive at fromSerial on the other pty', async () => {
  const pty = new PtyPair();
  await pty.start();
  const wire: WireMessage[] = [];
  const source = fromSerial({ path: pty.b, baudRate: 115200, framing: { kind: 'cobs', crc: 'crc16' }, reconnect: fast, log: quiet, onWire: (m) => wire.push(m) });
  const got: EventPacket[] = [];
  const sub = source.subscribe((p) => got.push(p));
  const sink = openSerialSink({ path: pty.a, baudRate: 115200, framing: { kind: 'cobs', crc: 'crc16', maxEventsPerFrame: 64 }, reconnect: fast, log: quiet });
  try {
    await sink.connected();
    await until(() => source.stats.connected, 'source connected');
    const packet = packetFromArrays({ x: Array.from({ length: 300 }, (_, i) => i), y: Array.from({ length: 300 }, (_, i) => 299 - i), t: Array.from({ length: 300 }, (_, i) => 5000 + i), p: Array.from({ length: 300 }, (_, i) => i % 2) });
    assert.equal(sink.sendDecision(decision(1)), true);
    assert.equal(sink.sendEvents(packet), true);
    assert.equal(sink.sendSpikes({ source: 'snn', layer: 'out', stepStart: 0, timeStartUs: 1e6, dtUs: 1000, neuron: Uint32Array.from([3, 1, 4]), stepOffset: Uint32Array.from([0, 2, 5]) }), true);
    assert.equal(sink.send({ kind: 'metrics', sequence: 9, pipeline: 'p', timeUnixMs: 0, values: {} }), false, 'metrics are not carried');
    await until(() => got.reduce((n, p) => n + p.length, 0) === 303 && wire.length === 1, 'everything received');
    const all = concatPackets(got);
    assert.deepEqual([...all.x.subarray(0, 300)], [...packet.x]);
    assert.deepEqual([...all.y.subarray(0, 300)], [...packet.y]);
    assert.deepEqual([...all.t.subarray(0, 300)], [...packet.t]);
    assert.deepEqual([...all.x.subarray(300)], [3, 1, 4]);
    assert.deepEqual([...all.t.subarray(300)], [1e6, 1e6 + 2000, 1e6 + 5000]);
    assert.deepEqual(wire[0], { kind: 'decision', ...decision(1) });
    assert.equal(sink.stats.frames, 1 + 5 + 1); // 300 events in frames of 64
    assert.equal(sink.stats.decisions, 1);
    assert.equal(sink.stats.dropped, 1);
    assert.equal(source.stats.frames, 7);
    assert.deepEqual(source.stats.badFrames, { crc: 0, framing: 0, parse: 0 });
  } finally {
    sub.unsubscribe();
    await sink.close();
    await pty.dispose();
  }
});

test('compact binary decisions in SLIP frames and text lines reach the device byte-exact', async () => {
  const pty = new PtyPair();
  await pty.start();
  const dev = await openRaw(pty.b);
  const rec = record(dev);
  const slip = openSerialSink({ path: pty.a, baudRate: 115200, framing: { kind: 'slip', payload: 'compact', crc: 'crc32' }, reconnect: fast, log: quiet });
  try {
    await slip.connected();
    for (let k = 0; k < 5; k++) slip.sendDecision(decision(k));
    await until(() => rec.bytes().length >= 5 * 18, 'five SLIP frames');
    const frames: Uint8Array[] = [];
    const d = new Deframer('slip', { crc: 'crc32' });
    d.push(rec.bytes(), { frame: (f) => frames.push(f), bad: (r, o, m) => assert.fail(`${r} at ${o}: ${m}`) });
    assert.equal(frames.length, 5);
    frames.forEach((f, k) => {
      const c = decodeCompactDecision(f);
      assert.ok(typeof c !== 'string', String(c));
      assert.deepEqual({ ...c, confidence: Math.round(c.confidence * 1e4) / 1e4 }, { classIndex: k % 5, confidence: 0.5 + k / 100, latencySteps: k, sequence: k, timeUs: 1000 * k });
    });
  } finally {
    await slip.close();
  }
  const before = rec.bytes().length;
  const text = openSerialSink({ path: pty.a, baudRate: 115200, framing: { kind: 'text' }, reconnect: fast, log: quiet });
  try {
    await text.connected();
    text.sendDecision(decision(3));
    text.sendEvents(packetFromArrays({ x: [1, 2], y: [3, 4], t: [10, 20], p: [1, 0] }));
    const want = 'D,3,3000,3,0.5300,wave  big\n10,1,3,1\n20,2,4,0\n';
    await until(() => rec.bytes().length >= before + want.length, 'text lines');
    assert.equal(rec.bytes().subarray(before).toString('latin1'), want);
  } finally {
    await text.close();
    await closeRaw(dev);
    await pty.dispose();
  }
});

test('socat killed while the sink is open: messages sent meanwhile are queued (bounded, oldest dropped) and delivered after the restart', async () => {
  // The device end is a unix socket server that outlives socat, so it sees every byte after the restart.
  const pty = new PtyToSocket();
  const wire: WireMessage[] = [];
  const decoder = new SerialDecoder({ kind: 'cobs' }, { onWire: (m) => wire.push(m) });
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.on('data', (chunk) => decoder.push(chunk));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(pty.socket, () => r()));
  await pty.start();
  const errors: Error[] = [];
  const sink = openSerialSink({ path: pty.path, baudRate: 115200, framing: { kind: 'cobs' }, reconnect: fast, log: quiet, onError: (e) => errors.push(e), maxQueueBytes: 300 });
  const decisions = new Subject<WireMessage>();
  sink.attach(decisions);
  try {
    await sink.connected();
    decisions.next({ kind: 'decision', ...decision(0) });
    await until(() => wire.length === 1, 'first decision');
    await pty.stop();
    await until(() => !sink.stats.connected && sink.stats.disconnects === 1, 'sink noticed the loss');
    assert.ok(errors.some((e) => e.message.startsWith(`serial ${pty.path}: device lost`)));
    // Away: 10 decisions of ~72 bytes each against a 300-byte queue → the oldest are dropped.
    for (let k = 1; k <= 10; k++) decisions.next({ kind: 'decision', ...decision(k) });
    assert.ok(sink.stats.dropped > 0 && sink.stats.queuedBytes <= 300, `dropped ${sink.stats.dropped}, queued ${sink.stats.queuedBytes}`);
    const kept = 10 - sink.stats.dropped;
    await until(() => sink.stats.openFailures >= 2, 'failed reopen attempts while away');
    await pty.start();
    await until(() => sink.stats.connected, 'sink reconnected');
    await until(() => wire.length === 1 + kept, 'queued decisions delivered');
    assert.deepEqual(
      wire.slice(1).map((m) => (m.kind === 'decision' ? m.sequence : -1)),
      Array.from({ length: kept }, (_, i) => 11 - kept + i),
      'the newest decisions survive, in order',
    );
    decisions.next({ kind: 'decision', ...decision(11) });
    await until(() => wire.length === 2 + kept, 'live again');
    assert.equal(sink.stats.reconnects, 1);
    assert.equal(sink.stats.queuedBytes, 0);
    assert.equal(connections, 2);
    assert.deepEqual(decoder.stats.badFrames, { crc: 0, framing: 0, parse: 0 });
  } finally {
    await sink.close();
    await pty.dispose();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('a source and a sink on the same path share one port: events in and decisions out on one device, across an unplug', async () => {
  const pty = new PtyPair();
  await pty.start();
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'text' }, reconnect: fast, log: quiet });
  const got: EventPacket[] = [];
  const sub = source.subscribe((p) => got.push(p));
  const sink = openSerialSink({ path: pty.a, baudRate: 115200, framing: { kind: 'text' }, reconnect: fast, log: quiet });
  assert.throws(() => openSerialSink({ path: pty.a, baudRate: 9600, framing: { kind: 'text' } }), /already open at 115200 baud/);
  const count = () => got.reduce((n, p) => n + p.length, 0);
  try {
    await sink.connected();
    await until(() => source.stats.connected, 'source connected');
    let dev = await openRaw(pty.b);
    let rec = record(dev);
    await writeRaw(dev, Buffer.from('1,1\n2,2\n'));
    await until(() => count() === 2, 'events from the device');
    sink.sendDecision(decision(0));
    await until(() => rec.bytes().length > 0 && rec.bytes().includes(0x0a), 'decision at the device');
    assert.equal(rec.bytes().toString('latin1'), 'D,0,0,0,0.5000,fist\n');

    await closeRaw(dev);
    await pty.stop();
    await until(() => source.stats.disconnects === 1 && sink.stats.disconnects === 1, 'both saw the loss');
    await pty.start();
    await until(() => source.stats.reconnects === 1 && sink.stats.reconnects === 1, 'both reconnected');
    dev = await openRaw(pty.b);
    rec = record(dev);
    await writeRaw(dev, Buffer.from('3,3\n'));
    await until(() => count() === 3, 'events after the replug');
    sink.sendDecision(decision(1));
    await until(() => rec.bytes().includes(0x0a), 'decision after the replug');
    assert.match(rec.bytes().toString('latin1'), /^D,1,1000,1,0\.5100,wave  big\n$/);
    await closeRaw(dev);
  } finally {
    sub.unsubscribe();
    await sink.close();
    await pty.dispose();
  }
});
