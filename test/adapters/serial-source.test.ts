/**
 * fromSerial over real pseudo-terminals from socat: the test writes frames on one end as a device
 * would, fromSerial reads the other. Covers every framing end to end, garbage bursts on the line,
 * and unplug/replug (socat killed mid-stream and restarted on the same paths).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromSerial } from '../../adapters/serial-source.js';
import { concatPackets, type EventPacket } from '../../src/events/packet.js';
import { encodeFrame } from '../../src/formats/serial/deframer.js';
import { AerWordEncoder } from '../../src/formats/serial/aer-words.js';
import { encodeWire } from '../../src/wire/protobuf-codec.js';
import { packetFromArrays } from '../../src/events/packet.js';
import { PtyPair, openRaw, writeRaw, closeRaw, until, sleep } from '../helpers/socat.js';

const quiet = { sink: () => undefined };
const fast = { initialDelayMs: 20, maxDelayMs: 200 };

/** Events i = 0..n-1 with distinct, checkable fields. */
function events(from: number, n: number, tBase = 0): EventPacket {
  const x: number[] = [];
  const y: number[] = [];
  const t: number[] = [];
  const p: number[] = [];
  for (let i = from; i < from + n; i++) {
    x.push(i % 640);
    y.push((i * 7) % 480);
    t.push(tBase + i * 10);
    p.push(i & 1);
  }
  return packetFromArrays({ x, y, t, p });
}

function wireFrame(packet: EventPacket, sequence: number, crc: 'none' | 'crc16' | 'crc32' = 'crc32'): Uint8Array {
  return encodeFrame('cobs', encodeWire({ kind: 'events', sequence, packet }), crc);
}

function collect(source: ReturnType<typeof fromSerial>) {
  const got: EventPacket[] = [];
  let error: unknown;
  let completed = false;
  const sub = source.subscribe({ next: (p) => got.push(p), error: (e) => (error = e), complete: () => (completed = true) });
  return {
    got,
    sub,
    count: () => got.reduce((n, p) => n + p.length, 0),
    all: () => concatPackets(got),
    status: () => ({ error, completed }),
  };
}

test('COBS+CRC-32 wire frames written on one pty arrive as packets on the other, in order, with stats', async () => {
  const pty = new PtyPair();
  await pty.start();
  const errors: Error[] = [];
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'cobs', crc: 'crc32' }, reconnect: fast, log: quiet, onError: (e) => errors.push(e) });
  const c = collect(source);
  try {
    await until(() => source.stats.connected, 'source connected');
    const dev = await openRaw(pty.b);
    const want = events(0, 2000);
    // 20 frames of 100 events, written in uneven pieces.
    const bytes: Uint8Array[] = [];
    for (let k = 0; k < 20; k++) bytes.push(wireFrame(events(k * 100, 100), k));
    const all = Buffer.concat(bytes);
    for (let o = 0; o < all.length; o += 777) await writeRaw(dev, all.subarray(o, o + 777));
    await until(() => c.count() === 2000, '2000 events');
    const got = c.all();
    assert.deepEqual(got.x, want.x);
    assert.deepEqual(got.y, want.y);
    assert.deepEqual(got.t, want.t);
    assert.deepEqual(got.p, want.p);
    assert.equal(got.source.format, 'serial-cobs');
    assert.equal(source.stats.frames, 20);
    assert.equal(source.stats.events, 2000);
    assert.equal(source.stats.bytes, all.length);
    assert.ok(source.stats.packets >= 1 && source.stats.packets <= 20, `packets ${source.stats.packets}: batches per read, not per event`);
    assert.deepEqual(source.stats.badFrames, { crc: 0, framing: 0, parse: 0 });
    assert.deepEqual(errors, []);
    await closeRaw(dev);
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});

test('garbage bursts between frames are counted and reported with their offset; every valid frame before and after arrives', async () => {
  const pty = new PtyPair();
  await pty.start();
  const errors: Error[] = [];
  const lines: string[] = [];
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'cobs', crc: 'crc16' }, reconnect: fast, log: { sink: (l) => lines.push(l) }, onError: (e) => errors.push(e) });
  const c = collect(source);
  try {
    await until(() => source.stats.connected, 'source connected');
    const dev = await openRaw(pty.b);
    const garbageWithZero = Uint8Array.from([0x13, 0x37, 0x00, 0xff, 0x12, 0x00]); // two junk frames: delimiters inside
    const garbageNoZero = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 5) % 255 + 1); // runs into the next frame
    const parts = [
      wireFrame(events(0, 10), 0, 'crc16'),
      garbageWithZero,
      wireFrame(events(10, 10), 1, 'crc16'),
      garbageNoZero,
      encodeFrame('cobs', encodeWire({ kind: 'events', sequence: 2, packet: events(20, 10) }), 'crc16', 'little', false), // no leading delimiter: recovered via CRC
      wireFrame(events(30, 10), 3, 'crc16'),
    ];
    const offsetOfNoZero = parts[0]!.length + parts[1]!.length + parts[2]!.length;
    await writeRaw(dev, Buffer.concat(parts));
    await until(() => c.count() === 40, '40 events');
    assert.deepEqual(c.all().x, events(0, 40).x);
    assert.deepEqual(c.all().t, events(0, 40).t);
    // 0x13 0x37 → COBS code 0x13 past the end; 0xff 0x12 → code 0xff past the end; the 40 bytes → a CRC
    // mismatch whose valid tail is recovered.
    assert.equal(source.stats.badFrames.framing + source.stats.badFrames.crc, 3);
    assert.equal(source.stats.frames, 4);
    assert.equal(errors.length, 3);
    assert.ok(errors.every((e) => /at byte offset \d+/.test(e.message)));
    assert.ok(errors.some((e) => e.message.includes(`at byte offset ${offsetOfNoZero}`)), errors.map((e) => e.message).join('\n'));
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => l.startsWith(`serial ${pty.a}: serial-cobs: `)), `log lines name the port once: ${lines.join('\n')}`);
    await closeRaw(dev);
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});

test('unplug mid-stream and replug on the same path: the loss is reported, the source retries while the path is missing and resumes by itself', async () => {
  const pty = new PtyPair();
  await pty.start();
  const errors: Error[] = [];
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'slip', crc: 'crc32' }, reconnect: fast, log: quiet, onError: (e) => errors.push(e) });
  const c = collect(source);
  const frame = (from: number, n: number, seq: number) => encodeFrame('slip', encodeWire({ kind: 'events', sequence: seq, packet: events(from, n) }), 'crc32');
  try {
    await until(() => source.stats.connected, 'source connected');
    let dev = await openRaw(pty.b);
    await writeRaw(dev, Buffer.concat([frame(0, 50, 0), frame(50, 50, 1)]));
    // Half a frame, then the device disappears: the cut frame must not be glued to later bytes.
    const cut = frame(100, 50, 2);
    await writeRaw(dev, cut.subarray(0, cut.length >> 1));
    await until(() => c.count() === 100, 'events before the unplug');
    await closeRaw(dev);
    await pty.stop();
    await until(() => !source.stats.connected && source.stats.disconnects === 1, 'loss noticed');
    assert.ok(errors.some((e) => e.message.includes(`serial ${pty.a}: device lost`)), errors.map((e) => e.message).join('\n'));
    // Away for a while: several failed opens (path missing), all counted.
    await until(() => source.stats.openFailures >= 3, 'failed reopen attempts');
    assert.ok(errors.some((e) => /cannot open .*retrying in \d+ ms/.test(e.message)));
    assert.equal(c.status().error, undefined);
    assert.equal(c.status().completed, false);

    await pty.start();
    await until(() => source.stats.connected, 'reconnected');
    assert.equal(source.stats.reconnects, 1);
    assert.equal(source.stats.connections, 2);
    dev = await openRaw(pty.b);
    await writeRaw(dev, Buffer.concat([frame(100, 50, 2), frame(150, 50, 3)]));
    await until(() => c.count() === 200, 'events after the replug');
    const got = c.all();
    assert.deepEqual(got.x, events(0, 200).x);
    assert.deepEqual(got.t, events(0, 200).t);
    assert.deepEqual(source.stats.badFrames, { crc: 0, framing: 0, parse: 0 });

    // A second unplug/replug cycle works the same way.
    await closeRaw(dev);
    await pty.stop();
    await until(() => source.stats.disconnects === 2, 'second loss');
    await sleep(100);
    await pty.start();
    await until(() => source.stats.reconnects === 2, 'second reconnect');
    dev = await openRaw(pty.b);
    await writeRaw(dev, frame(200, 10, 4));
    await until(() => c.count() === 210, 'events after the second replug');
    assert.equal(c.status().error, undefined);
    await closeRaw(dev);
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});

test('socat killed with SIGKILL (links left dangling, no clean hangup): the loss is still noticed and the source resumes after the restart', async () => {
  const pty = new PtyPair();
  await pty.start();
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'text' }, reconnect: fast, log: quiet, presenceCheckMs: 100 });
  const c = collect(source);
  try {
    await until(() => source.stats.connected, 'connected');
    let dev = await openRaw(pty.b);
    await writeRaw(dev, Buffer.from('1,1\n2,2\n'));
    await until(() => c.count() === 2, 'two events');
    await closeRaw(dev);
    await pty.stop('SIGKILL');
    await until(() => source.stats.disconnects === 1, 'loss noticed');
    await pty.start();
    await until(() => source.stats.reconnects === 1, 'reconnected');
    dev = await openRaw(pty.b);
    await writeRaw(dev, Buffer.from('3,3\n'));
    await until(() => c.count() === 3, 'event after the restart');
    assert.deepEqual([...c.all().x], [1, 2, 3]);
    assert.equal(c.status().error, undefined);
    await closeRaw(dev);
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});

test('a path that does not exist yet: the source waits and connects when the device appears', async () => {
  const pty = new PtyPair();
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'text' }, reconnect: fast, log: quiet });
  const c = collect(source);
  try {
    await until(() => source.stats.openFailures >= 2, 'failed opens');
    assert.equal(source.stats.connected, false);
    await pty.start();
    await until(() => source.stats.connected, 'connected');
    assert.equal(source.stats.reconnects, 0);
    const dev = await openRaw(pty.b);
    await writeRaw(dev, Buffer.from('100,5,1\r\n200,70000\n# comment\nnot,a,line\n300,1,2,0\n400,9\n'));
    await until(() => c.count() === 3, 'three text events');
    const got = c.all();
    assert.deepEqual([...got.t], [100, 300, 400]);
    assert.deepEqual([...got.x], [5, 1, 9]);
    assert.deepEqual([...got.y], [0, 2, 0]);
    assert.deepEqual([...got.p], [1, 0, 1]);
    assert.deepEqual(source.stats.badFrames, { crc: 0, framing: 0, parse: 2 }); // address beyond 65535, non-numeric line
    assert.equal(source.stats.frames, 3);
    await closeRaw(dev);
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});

test('pause() stops emissions while the bytes wait in the OS buffer; resume() delivers them', async () => {
  const pty = new PtyPair();
  await pty.start();
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'aer', layout: 'xytp64' }, reconnect: fast, log: quiet });
  const c = collect(source);
  try {
    await until(() => source.stats.connected, 'connected');
    const dev = await openRaw(pty.b);
    const enc = new AerWordEncoder('xytp64');
    await writeRaw(dev, enc.encode(events(0, 100)));
    await until(() => c.count() === 100, 'first events');
    source.pause();
    assert.equal(source.stats.paused, true);
    await writeRaw(dev, enc.encode(events(100, 100)));
    await sleep(300);
    assert.equal(c.count(), 100, 'nothing emitted while paused');
    source.resume();
    await until(() => c.count() === 200, 'events after resume');
    const got = c.all();
    assert.deepEqual(got.x, events(0, 200).x);
    assert.deepEqual(got.y, events(0, 200).y);
    assert.deepEqual(got.t, events(0, 200).t);
    await closeRaw(dev);
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});

test('raw AER words with a sync nibble: a garbage burst mid-stream is skipped and counted, the words after it decode', async () => {
  const pty = new PtyPair();
  await pty.start();
  const errors: Error[] = [];
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'aer', layout: 'xytp64' }, reconnect: fast, log: quiet, onError: (e) => errors.push(e) });
  const c = collect(source);
  try {
    await until(() => source.stats.connected, 'connected');
    const dev = await openRaw(pty.b);
    const enc = new AerWordEncoder('xytp64');
    const before = enc.encode(events(0, 50));
    const garbage = Uint8Array.from([1, 2, 3, 0x55, 0x66]); // 5 bytes: misaligns everything after it
    await writeRaw(dev, Buffer.concat([before, garbage, enc.encode(events(50, 50))]));
    await until(() => c.count() === 100, '100 events');
    assert.deepEqual(c.all().x, events(0, 100).x);
    assert.deepEqual(c.all().t, events(0, 100).t);
    assert.equal(source.stats.badFrames.framing, 1);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, new RegExp(`5 bytes skipped .* at byte offset ${before.length}$`));
    await closeRaw(dev);
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});

test('analog sample lines through a send-on-delta encoder become up/down spikes', async () => {
  const pty = new PtyPair();
  await pty.start();
  const source = fromSerial({
    path: pty.a,
    baudRate: 115200,
    framing: { kind: 'analog', encoder: { kind: 'delta', channels: 2, threshold: 0.5, interpolate: false } },
    reconnect: fast,
    log: quiet,
  });
  const c = collect(source);
  try {
    await until(() => source.stats.connected, 'connected');
    const dev = await openRaw(pty.b);
    await writeRaw(dev, Buffer.from('0,0,10\n1000,1.2,10\n2000,0.1,9.4\nbad\n3000,0.1\n'));
    await until(() => c.count() === 4 && source.stats.badFrames.parse === 2, 'four spikes and two bad lines');
    const got = c.all();
    // ch0: 0 → 1.2 crosses 0.5 and 1.0 (two UP at 1000 µs); 1.2 → 0.1 crosses back to 0.5 only (one DOWN).
    // ch1: 10 → 9.4 crosses 9.5 (one DOWN). 'bad' and the line with one value are parse errors.
    assert.deepEqual([...got.t], [1000, 1000, 2000, 2000]);
    assert.deepEqual([...got.x], [0, 0, 0, 1]);
    assert.deepEqual([...got.p], [1, 1, 0, 0]);
    assert.equal(source.stats.frames, 3);
    await closeRaw(dev);
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});

test('reconnect: false — an unplug errors the observable instead of retrying', async () => {
  const pty = new PtyPair();
  await pty.start();
  const source = fromSerial({ path: pty.a, baudRate: 115200, framing: { kind: 'text' }, reconnect: false, log: quiet });
  const c = collect(source);
  try {
    await until(() => source.stats.connected, 'connected');
    await pty.stop();
    await until(() => c.status().error !== undefined, 'error');
    assert.match(String(c.status().error), /device lost/);
    await sleep(100);
    assert.equal(source.stats.openFailures, 0, 'no retry');
  } finally {
    c.sub.unsubscribe();
    await pty.dispose();
  }
});
