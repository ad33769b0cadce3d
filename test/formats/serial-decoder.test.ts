/**
 * SerialDecoder for every framing (text lines, analog lines, COBS/SLIP with wire or AER payloads) and
 * the SerialFrameEncoder → SerialDecoder round trip; chunking invariance and bad-frame accounting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialDecoder, type SerialFraming } from '../../src/formats/serial/decoder.js';
import { SerialFrameEncoder, type SerialSinkFraming } from '../../src/formats/serial/frame-encoder.js';
import { decodeCompactDecision, encodeCompactDecision, decisionLine } from '../../src/formats/serial/compact-decision.js';
import { encodeFrame } from '../../src/formats/serial/deframer.js';
import { concatPackets, packetFromArrays, type EventPacket } from '../../src/events/packet.js';
import { encodeWire } from '../../src/wire/protobuf-codec.js';
import type { Decision, WireMessage } from '../../src/wire/messages.js';
import { chunkSizes } from '../helpers/chunking.js';

function decode(framing: SerialFraming, data: Uint8Array, sizes?: number[], arrival = 0, onWire?: (m: WireMessage) => void) {
  const d = new SerialDecoder(framing, { onWire });
  const packets: EventPacket[] = [];
  const errors: string[] = [];
  const take = (r: { packets: EventPacket[]; errors: Error[] }) => {
    packets.push(...r.packets);
    errors.push(...r.errors.map((e) => e.message));
  };
  if (!sizes) take(d.push(data, arrival));
  else for (let o = 0, k = 0; o < data.length; o += sizes[k++ % sizes.length]!) take(d.push(data.subarray(o, o + sizes[k % sizes.length]!), arrival));
  take(d.end());
  const all = concatPackets(packets);
  return { events: { x: [...all.x], y: [...all.y], t: [...all.t], p: [...all.p] }, errors, stats: d.stats, packets };
}

const text = (s: string) => new TextEncoder().encode(s);

test('text lines: t,address[,p] and t,x,y,p; comments, CRLF, bad lines counted with their byte offset; any chunking', () => {
  const src = '# header comment\r\n10,5\r\n20,6,0\n30,1,2,1\n\n40,x,1\n50,1,2,3,4\n60,7,-1\n70,3\n';
  const data = text(src);
  const r = decode({ kind: 'text', addressWidth: 4 }, data);
  assert.deepEqual(r.events, { x: [1, 2, 1, 3, 3], y: [1, 1, 2, 1, 0], t: [10, 20, 30, 60, 70], p: [1, 0, 1, 0, 1] });
  assert.deepEqual(r.stats.badFrames, { crc: 0, framing: 0, parse: 2 });
  assert.equal(r.stats.frames, 5);
  assert.equal(r.errors.length, 2);
  assert.ok(r.errors[0]!.endsWith(`at byte offset ${src.indexOf('40,x')}`), r.errors[0]);
  assert.ok(r.errors[1]!.endsWith(`at byte offset ${src.indexOf('50,1')}`), r.errors[1]);
  for (const seed of [1, 2]) {
    const c = decode({ kind: 'text', addressWidth: 4 }, data, chunkSizes(seed, 200, 7));
    assert.deepEqual([c.events, c.errors], [r.events, r.errors]);
  }
  // Fixed columns and a time unit; a line of binary noise longer than the limit is one framing error.
  const ms = decode({ kind: 'text', columns: 'x,y,t,p', timeUnit: 'ms', maxLineBytes: 32 }, Buffer.concat([text('1,2,0.5,1\n'), new Uint8Array(100).fill(0xee), text('\n3,4,1.25,0\n')]));
  assert.deepEqual(ms.events, { x: [1, 3], y: [2, 4], t: [500, 1250], p: [1, 0] });
  assert.deepEqual(ms.stats.badFrames, { crc: 0, framing: 1, parse: 0 });
  assert.match(ms.errors[0]!, /line longer than 32 bytes.* at byte offset 10$/);
  // Without a t column, events get the arrival time of their bytes.
  assert.deepEqual(decode({ kind: 'text', columns: 'address,p' }, text('9,1\n'), undefined, 777).events, { x: [9], y: [0], t: [777], p: [1] });
  assert.throws(() => new SerialDecoder({ kind: 'text', columns: 't,x,address' }), /either address or x,y/);
});

test('analog lines through the rate encoder (regular): spikes from sample lines, bad lines leave the encoder untouched', () => {
  const lines = ['0,0.5,1', '1000,0.5,1', 'oops', '2000,0.5', '3000,0.5,1', '2500,1,1', ''].join('\n');
  const framing: SerialFraming = { kind: 'analog', encoder: { kind: 'rate', channels: 2, maxRateHz: 2000, mode: 'regular' } };
  const r = decode(framing, text(lines));
  // ch0 at 1 kHz → spikes every 1000 µs; ch1 at 2 kHz → every 500 µs; the line going back in time is refused.
  assert.deepEqual(r.events.t, [500, 1000, 1000, 1500, 2000, 2000, 2500, 3000, 3000]);
  assert.deepEqual(r.events.x, [1, 0, 1, 1, 0, 1, 1, 0, 1]);
  assert.deepEqual(r.stats.badFrames, { crc: 0, framing: 0, parse: 3 });
  assert.equal(r.stats.frames, 3);
  const chunked = decode(framing, text(lines), [1]);
  assert.deepEqual(chunked.events, r.events);
});

test('analog lines with arrival times and the latency encoder: held spikes are flushed at end of stream', () => {
  const framing: SerialFraming = { kind: 'analog', time: 'arrival', encoder: { kind: 'latency', channels: 3, windowUs: 1000 } };
  const d = new SerialDecoder(framing);
  const a = d.push(text('1,0.5,0\n'), 10000);
  assert.deepEqual([...concatPackets(a.packets).t], [10000]);
  const b = d.end();
  assert.deepEqual([...concatPackets(b.packets).t], [10500]);
  assert.deepEqual([...concatPackets(b.packets).x], [1]);
});

test('COBS frames with wire Envelopes: events and spikes become events, decisions go to onWire, garbage and a bad Envelope are counted', () => {
  const packet = packetFromArrays({ x: [1, 2, 3], y: [4, 5, 6], t: [100, 200, 300], p: [1, 0, 1] });
  const decision: Decision = { sequence: 7, pipeline: 'p', region: 'r', label: 'cat', classIndex: 2, confidence: 0.9, timeUs: 123, latencySteps: 4, latencyUs: 40, emittedUnixMs: 5 };
  const parts = [
    encodeFrame('cobs', encodeWire({ kind: 'events', sequence: 0, packet }), 'crc16'),
    encodeFrame('cobs', Uint8Array.from([0xff, 0xff, 0xff]), 'crc16'), // intact frame, not an Envelope
    encodeFrame('cobs', encodeWire({ kind: 'decision', ...decision }), 'crc16'),
    Uint8Array.from([9, 9, 9, 0]),
    encodeFrame('cobs', encodeWire({ kind: 'spikes', sequence: 1, source: 's', layer: 'l', stepStart: 10, timeStartUs: 1000, dtUs: 100, neuron: Uint32Array.from([5, 6]), stepOffset: Uint32Array.from([0, 3]) }), 'crc16'),
  ];
  const wire: WireMessage[] = [];
  const data = Buffer.concat(parts);
  const r = decode({ kind: 'cobs', crc: 'crc16' }, data, undefined, 0, (m) => wire.push(m));
  assert.deepEqual(r.events, { x: [1, 2, 3, 5, 6], y: [4, 5, 6, 0, 0], t: [100, 200, 300, 1000, 1300], p: [1, 0, 1, 1, 1] });
  assert.deepEqual(wire, [{ kind: 'decision', ...decision }]);
  assert.deepEqual(r.stats.badFrames, { crc: 0, framing: 1, parse: 1 });
  assert.equal(r.stats.frames, 3);
  assert.equal(r.stats.otherMessages, 1);
  assert.match(r.errors[0]!, new RegExp(`^serial-cobs: parse: not a wire Envelope .* at byte offset ${parts[0]!.length + 1}$`));
  const c = decode({ kind: 'cobs', crc: 'crc16' }, data, chunkSizes(9, 100, 5), 0, () => undefined);
  assert.deepEqual([c.events, c.errors], [r.events, r.errors]);
});

const sample = packetFromArrays({
  x: Array.from({ length: 500 }, (_, i) => (i * 17) % 1000),
  y: Array.from({ length: 500 }, (_, i) => (i * 5) % 700),
  t: Array.from({ length: 500 }, (_, i) => 1_000_000 + i * 3),
  p: Array.from({ length: 500 }, (_, i) => (i >> 1) & 1),
});

const roundTrips: [string, SerialSinkFraming, SerialFraming][] = [
  ['cobs/wire/crc32', { kind: 'cobs', crc: 'crc32' }, { kind: 'cobs', crc: 'crc32' }],
  ['slip/wire', { kind: 'slip', maxEventsPerFrame: 7 }, { kind: 'slip' }],
  ['cobs/compact xytp64/crc16', { kind: 'cobs', payload: 'compact', crc: 'crc16' }, { kind: 'cobs', payload: 'xytp64', crc: 'crc16' }],
  ['slip/compact xytp64 big-endian crc', { kind: 'slip', payload: 'compact', crc: 'crc32', crcEndian: 'big' }, { kind: 'slip', payload: 'xytp64', crc: 'crc32', crcEndian: 'big' }],
  ['text', { kind: 'text' }, { kind: 'text' }],
  ['raw aer xytp64', { kind: 'aer', layout: 'xytp64' }, { kind: 'aer', layout: 'xytp64' }],
];

for (const [name, out, inp] of roundTrips) {
  test(`frame encoder → decoder round trip: ${name}, for any chunking`, () => {
    const enc = new SerialFrameEncoder(out);
    const bytes = Buffer.concat([enc.encode({ kind: 'events', sequence: 0, packet: sample }), enc.encode({ kind: 'events', sequence: 1, packet: sample })]);
    assert.equal(enc.stats.events, 1000);
    for (const sizes of [undefined, chunkSizes(3, 3000, 61)]) {
      const r = decode(inp, bytes, sizes);
      assert.deepEqual(r.errors, []);
      assert.equal(r.events.x.length, 1000);
      assert.deepEqual(r.events.x.slice(500), [...sample.x]);
      assert.deepEqual(r.events.y.slice(0, 500), [...sample.y]);
      assert.deepEqual(r.events.t.slice(500), [...sample.t]);
      assert.deepEqual(r.events.p.slice(0, 500), [...sample.p]);
    }
  });
}

test('compact decisions: 16-byte record and text line, field by field; metrics are not carried', () => {
  const d: Decision = { sequence: 2 ** 32 + 5, pipeline: 'p', region: 'r', label: 'left,\nhand', classIndex: 3, confidence: 0.25, timeUs: 2 ** 32 + 10, latencySteps: 70000, latencyUs: 1, emittedUnixMs: 0 };
  const rec = encodeCompactDecision(d);
  assert.equal(Buffer.from(rec).toString('hex'), '4401' + '0300' + '0040' + 'ffff' + '05000000' + '0a000000');
  assert.deepEqual(decodeCompactDecision(rec), { classIndex: 3, confidence: 0x4000 / 65535, latencySteps: 0xffff, sequence: 5, timeUs: 10 });
  assert.match(decodeCompactDecision(rec.subarray(1)) as string, /16 bytes/);
  assert.equal(decisionLine(d), `D,${2 ** 32 + 5},${2 ** 32 + 10},3,0.2500,left  hand\n`);
  const enc = new SerialFrameEncoder({ kind: 'aer', layout: 'xytp64' });
  assert.equal(enc.encode({ kind: 'decision', ...d }).length, 0);
  assert.equal(enc.encode({ kind: 'metrics', sequence: 0, pipeline: 'p', timeUnixMs: 0, values: { a: 1 } }).length, 0);
  assert.equal(enc.stats.dropped, 2);
});

test('256 KiB of random bytes in random chunks, for every framing: no throw, errors counted, and frames after the noise still decode', () => {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24) & 0xff;
  const noise = Uint8Array.from({ length: 262144 }, rnd);
  const cases: [SerialFraming, SerialSinkFraming, Uint8Array][] = [
    [{ kind: 'cobs', crc: 'crc16' }, { kind: 'cobs', crc: 'crc16' }, Uint8Array.of(0)],
    [{ kind: 'slip', crc: 'crc32' }, { kind: 'slip', crc: 'crc32' }, Uint8Array.of(0xc0)],
    [{ kind: 'text' }, { kind: 'text' }, Uint8Array.of(0x0a)],
    [{ kind: 'aer', layout: 'xytp64' }, { kind: 'aer', layout: 'xytp64' }, new Uint8Array(0)],
    [{ kind: 'analog', encoder: { kind: 'delta', channels: 1, threshold: 1, interpolate: false } }, { kind: 'text' }, Uint8Array.of(0x0a)],
  ];
  for (const [inp, out, sep] of cases) {
    const tail = inp.kind === 'analog' ? text('1e12,0\n2e12,3\n') : new SerialFrameEncoder(out).encode({ kind: 'events', sequence: 0, packet: sample });
    const data = Buffer.concat([noise, sep, tail]);
    const d = new SerialDecoder(inp);
    const packets: EventPacket[] = [];
    let errors = 0;
    for (let o = 0, k = 0; o < data.length; k++) {
      const n = 1 + ((k * 7919) % 4000);
      const r = d.push(data.subarray(o, o + n));
      packets.push(...r.packets);
      errors += r.errors.length;
      o += n;
    }
    const r = d.end();
    packets.push(...r.packets);
    errors += r.errors.length;
    const bad = d.stats.badFrames;
    assert.equal(errors, bad.crc + bad.framing + bad.parse, `${inp.kind}: every bad frame reported once`);
    assert.ok(errors > 0, `${inp.kind}: the noise was noticed`);
    const all = concatPackets(packets);
    if (inp.kind === 'analog') {
      assert.deepEqual([...all.t.subarray(all.length - 3)], [2e12, 2e12, 2e12], 'three UP spikes from the last sample');
    } else {
      assert.deepEqual([...all.x.subarray(all.length - 500)], [...sample.x], `${inp.kind}: frames after the noise`);
      // Raw AER carries a wrapping 32-bit clock: noise words that pass the sync check may add a wrap.
      const t = [...all.t.subarray(all.length - 500)].map((v) => (inp.kind === 'aer' ? v % 2 ** 32 : v));
      assert.deepEqual(t, [...sample.t], `${inp.kind}: times after the noise`);
    }
  }
});
