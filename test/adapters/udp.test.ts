/**
 * Real loopback UDP: sendUdp writes a real recording as SPIF datagrams to 127.0.0.1 on an ephemeral port and
 * fromUdp receives them. Loss counting is shown by a sender (built here from SpifEncoder) that skips datagrams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { lastValueFrom, toArray } from 'rxjs';
import { fromUdp, type UdpSource, type UdpSourceOptions } from '../../adapters/udp-source.js';
import { sendUdp } from '../../adapters/udp-sender.js';
import { fromFile } from '../../adapters/file-source.js';
import { concatPackets, countOn, type EventPacket } from '../../src/events/packet.js';
import { decodeBuffer, allEvents } from '../../src/formats/decode-all.js';
import { SpifEncoder } from '../../src/formats/spif.js';
import { readShared, sharedPath } from '../helpers/shared-data.js';

interface Listening {
  source: UdpSource;
  port: number;
  /** All packets, once the source completes (it completes after `idleTimeoutMs` without datagrams). */
  received: Promise<EventPacket>;
}

/** Subscribe a source on an ephemeral port and wait until it is bound. */
function listen(options: Omit<UdpSourceOptions, 'port' | 'onListening'> = {}): Promise<Listening> {
  return new Promise((resolve, reject) => {
    let received: Promise<EventPacket[]> | undefined;
    const source = fromUdp({
      port: 0,
      idleTimeoutMs: 400,
      receiveBufferSize: 1 << 22,
      ...options,
      onListening: ({ port }) => resolve({ source, port, received: received!.then(concatPackets) }),
    });
    received = lastValueFrom(source.pipe(toArray()));
    received.catch(reject);
  });
}

const sparklers = decodeBuffer(readShared('evt2_sparklers.raw'), 'evt2');
const sparklerEvents = allEvents(sparklers);

test('evt2_sparklers.raw over loopback with timestamp words: all 521,252 events arrive with exact x, y, p and t', async () => {
  const rx = await listen({ geometry: { width: 640, height: 480 } });
  assert.ok(rx.port > 0 && rx.source.stats.port === rx.port);
  const sent = await sendUdp(sparklers.packets, { port: rx.port, timestamps: true, sequence: true });
  const got = await rx.received;
  assert.equal(sent.events, 521252);
  assert.equal(sent.sendErrors, 0);
  assert.equal(got.length, 521252);
  assert.deepEqual(got.x, sparklerEvents.x);
  assert.deepEqual(got.y, sparklerEvents.y);
  assert.deepEqual(got.p, sparklerEvents.p);
  assert.deepEqual(got.t, sparklerEvents.t);
  assert.equal(countOn(got), 185861);
  assert.deepEqual([got.x[0], got.y[0], got.t[0], got.p[0]], [35, 443, 913716224, 1]);
  assert.deepEqual(got.geometry, { width: 640, height: 480 });
  const s = rx.source.stats;
  assert.equal(s.datagrams, sent.datagrams);
  assert.equal(s.bytes, sent.bytes);
  assert.equal(s.sequenced, sent.datagrams);
  assert.equal(s.lost, 0);
  assert.equal(s.malformed, 0);
  // 63 events per 512-byte datagram (sequence word + 63 pairs)
  assert.equal(sent.datagrams, sparklers.packets.reduce((k, p) => k + Math.ceil(p.length / 63), 0));
});

test('plain SPIF words (no timestamps) from a file source: exact x, y, p; t is the arrival time in Unix µs', async () => {
  const rx = await listen();
  const before = (performance.timeOrigin + performance.now()) * 1000;
  const sent = await sendUdp(fromFile(sharedPath('evt2_sparklers.raw')), { port: rx.port });
  const got = await rx.received;
  const after = (performance.timeOrigin + performance.now()) * 1000;
  // 128 events per 512-byte datagram; a partial one ends each file packet.
  assert.ok(sent.datagrams >= Math.ceil(521252 / 128) && sent.datagrams < Math.ceil(521252 / 128) + 20);
  assert.equal(rx.source.stats.datagrams, sent.datagrams);
  assert.equal(got.length, 521252);
  assert.deepEqual(got.x, sparklerEvents.x);
  assert.deepEqual(got.y, sparklerEvents.y);
  assert.deepEqual(got.p, sparklerEvents.p);
  for (let i = 0; i < got.length; i += 997) {
    assert.ok(got.t[i]! >= before && got.t[i]! <= after, `arrival stamp ${got.t[i]} outside [${before}, ${after}]`);
    if (i > 0) assert.ok(got.t[i]! >= got.t[i - 997]!);
  }
  assert.equal(rx.source.stats.sequenced, 0);
  assert.equal(rx.source.stats.lost, 0);
});

test('datagrams skipped by the sender are counted as lost through the sequence-word extension', async () => {
  const rx = await listen();
  const encoder = new SpifEncoder({ sequence: true });
  const datagrams = sparklers.packets.slice(0, 2).flatMap((p) => encoder.encode(p));
  const skip = new Set([10, 11, 50, datagrams.length - 2]);
  const socket = createSocket('udp4');
  let expected = 0;
  for (let k = 0; k < datagrams.length; k++) {
    if (skip.has(k)) continue;
    expected += (datagrams[k]!.length >>> 2) - 1;
    await new Promise<void>((resolve, reject) => socket.send(datagrams[k]!, rx.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    if (k % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  await new Promise<void>((r) => socket.close(() => r()));
  const got = await rx.received;
  const s = rx.source.stats;
  assert.equal(s.lost, 4);
  assert.equal(s.datagrams, datagrams.length - 4);
  assert.equal(s.events, expected);
  assert.equal(got.length, expected);
  // the first 10 datagrams (127 events each) arrived intact, so the first 1,270 events match the recording
  assert.deepEqual(got.x.subarray(0, 1270), sparklerEvents.x.subarray(0, 1270));
});

test('paced sending at speed 10 of a 100 ms recording takes ≥ 8 ms and delivers every event', async () => {
  const decoded = decodeBuffer(readShared('dat_tonic_sample_ncars.dat'), 'dat');
  const want = allEvents(decoded);
  assert.equal(want.length, 2009);
  const rx = await listen();
  const started = performance.now();
  const sent = await sendUdp(decoded.packets, { port: rx.port, timestamps: true, pace: { speed: 10 } });
  const wall = performance.now() - started;
  const got = await rx.received;
  assert.ok(wall >= 8, `paced send took ${wall.toFixed(1)} ms (span ${(want.t[2008]! - want.t[0]!) / 1000} ms / 10)`);
  assert.equal(sent.events, 2009);
  assert.deepEqual(got.t, want.t);
  assert.deepEqual(got.x, want.x);
});

test('unsubscribing closes the socket (the port can be bound again); sending to a closed port counts errors', async () => {
  const source = fromUdp({ port: 0 });
  let port = 0;
  const subscription = await new Promise<{ unsubscribe(): void }>((resolve) => {
    const sub = fromUdp({ port: 0, onListening: (a) => ((port = a.port), resolve(sub)) }).subscribe();
  });
  assert.ok(port > 0);
  assert.equal(source.stats.port, 0, 'a source not subscribed binds nothing');
  subscription.unsubscribe();
  await new Promise((r) => setImmediate(r));
  const again = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.bind(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((r) => again.close(() => r()));
  const sent = await sendUdp(sparklers.packets.slice(0, 1), { port, burst: 4 });
  assert.ok(sent.datagrams > 0);
  assert.ok(sent.sendErrors > 0, 'ECONNREFUSED from the closed port is counted');
});
