import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant } from '../helpers/chunking.js';
import { allEvents, decodeBuffer } from '../../src/formats/decode-all.js';
import { createEncoder, detectFormat } from '../../src/formats/registry.js';
import { csvFormat } from '../../src/formats/csv.js';
import { packetFromArrays, packetsEqual, type EventPacket } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';

const SMALL_PACKETS = { pool: new PacketPool(256) };
const text = (s: string) => new TextEncoder().encode(s);

function writeCsv(packets: readonly EventPacket[], geometry?: { width: number; height: number }): Uint8Array {
  const enc = createEncoder('csv', geometry ? { geometry } : {});
  const parts = packets.map((p) => enc.encode(p));
  parts.push(enc.end());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function rows(e: EventPacket): number[][] {
  return Array.from({ length: e.length }, (_, i) => [e.t[i]!, e.x[i]!, e.y[i]!, e.p[i]!]);
}

const RECORDINGS = [
  ['dat_ncars_obj_004397_td.dat', 'dat', 4407],
  ['dat_tonic_sample_ncars.dat', 'dat', 2009],
  ['nmnist_tonic_sample.bin', 'nmnist', 4325],
  ['nas_cochlea_sound_mono_32ch_addr2b_ts02.aedat', 'cochlea', 49864],
] as const;

for (const [name, format, count] of RECORDINGS) {
  test(`csv: decode(write(events)) == events for ${name}`, () => {
    const source = decodeBuffer(readShared(name), format);
    const events = allEvents(source);
    assert.equal(events.length, count);
    const bytes = writeCsv(source.packets);
    const back = decodeBuffer(bytes, 'csv');
    assert.equal(back.errors.length, 0);
    assert.ok(packetsEqual(allEvents(back), events), 'same t, x, y, p');
    assert.deepEqual(back.decoder.geometry, source.decoder.geometry);
    assert.equal(detectFormat(bytes.subarray(0, 65536), 'out.csv').format, 'csv');
  });
}

test('csv: chunking invariant on a written recording (lines split anywhere)', () => {
  const source = decodeBuffer(readShared('nmnist_tonic_sample.bin'), 'nmnist');
  const d = assertChunkingInvariant(writeCsv(source.packets), 'csv', SMALL_PACKETS);
  assert.ok(packetsEqual(allEvents(d), allEvents(source)));
});

test('csv: writer output starts with the header comment and column line; cochlea 0.2 µs times stay exact', () => {
  const source = decodeBuffer(readShared('nas_cochlea_sound_mono_32ch_addr2b_ts02.aedat'), 'cochlea');
  const lines = new TextDecoder().decode(writeCsv(source.packets)).split('\n');
  assert.match(lines[0]!, /^# spikeflow events: t in microseconds/);
  assert.equal(lines[1], '# geometry 32x1');
  assert.equal(lines[2], 't,x,y,p');
  assert.equal(lines[3], '114602,4,0,0');
  assert.equal(lines[4], '114602.2,7,0,1');
});

test('csv: large Unix-µs times (~1.7e15) and 2^53 are written without exponent and read back exactly', () => {
  const base = 1_700_000_000_123_456;
  const t = [base, base + 1, base + 999_999, 2 ** 53 - 1, 2 ** 53];
  const packet = packetFromArrays({ t, x: [0, 1, 2, 65535, 4], y: [5, 6, 7, 8, 65535], p: [1, 0, 1, 0, 1] }, { width: 0, height: 0 });
  const bytes = writeCsv([packet]);
  const body = new TextDecoder().decode(bytes);
  assert.ok(!/e/i.test(body.split('\n').slice(2).join('\n')), 'no exponent in data lines');
  assert.match(body, /\n1700000000123456,0,5,1\n/);
  assert.match(body, /\n9007199254740992,4,65535,1\n/);
  const back = allEvents(decodeBuffer(bytes, 'csv'));
  assert.deepEqual(rows(back), rows(packet));
});

test('csv: header line picks the column order; whitespace/semicolon separators; polarity spellings', () => {
  const src = [
    '# recorded by hand',
    'x y timestamp polarity',
    '1 2 10 1',
    '3\t4\t11\t-1',
    '5;6;12;true',
    '7 , 8 , 13 , false   # trailing comment',
    '',
    '9 10 14 on',
    '11 12 15 OFF',
  ].join('\r\n');
  const d = assertChunkingInvariant(text(src), 'csv');
  assert.equal(d.errors.length, 0);
  assert.deepEqual(rows(allEvents(d)), [
    [10, 1, 2, 1],
    [11, 3, 4, 0],
    [12, 5, 6, 1],
    [13, 7, 8, 0],
    [14, 9, 10, 1],
    [15, 11, 12, 0],
  ]);
  assert.equal(d.decoder.header['columns'], 'x,y,timestamp,polarity');
});

test('csv: a commented column line (numpy.savetxt style) names the columns', () => {
  const d = decodeBuffer(text('# x y p t\n1 2 1 10\n3 4 0 11\n'), 'csv');
  assert.equal(d.errors.length, 0);
  assert.deepEqual(rows(allEvents(d)), [[10, 1, 2, 1], [11, 3, 4, 0]]);
});

test('csv: `columns` option for headerless files, extra columns skipped with _', () => {
  const d = decodeBuffer(text('7,1,0,2,99\n8,3,1,4,98\n'), 'csv', { columns: 'x,y,p,t,_' });
  assert.equal(d.errors.length, 0);
  assert.deepEqual(rows(allEvents(d)), [[2, 7, 1, 0], [4, 8, 3, 1]]);
});

test('csv: time units scale on the decimal text, correctly rounded', () => {
  const s = allEvents(decodeBuffer(text('1.234567,0,0,1\n0.000001,0,0,1\n1.5e-3,0,0,1\n1700000000.123456,0,0,1\n'), 'csv', { timeUnit: 's' }));
  assert.deepEqual(Array.from(s.t), [1234567, 1, 1500, 1700000000123456]);
  const ms = allEvents(decodeBuffer(text('0.001,0,0,1\n2.5,0,0,0\n'), 'csv', { timeUnit: 'ms' }));
  assert.deepEqual(Array.from(ms.t), [1, 2500]);
  const ns = allEvents(decodeBuffer(text('1500,0,0,1\n'), 'csv', { timeUnit: 'ns' }));
  assert.deepEqual(Array.from(ns.t), [1.5]);
});

test('csv: malformed lines give DecodeErrors with line number and byte offset; the rest is decoded', () => {
  const lines = ['t,x,y,p', '1,2,3,1', '2,2,3', 'abc,2,3,1', '4,-2,3,1', '5,2,3,maybe', '6,2,3,0'];
  const src = lines.join('\n') + '\n';
  const d = assertChunkingInvariant(text(src), 'csv');
  assert.deepEqual(rows(allEvents(d)), [[1, 2, 3, 1], [6, 2, 3, 0]]);
  const offsetOf = (k: number) => lines.slice(0, k).join('\n').length + 1;
  assert.deepEqual(d.errors.map((e) => e.offset), [offsetOf(2), offsetOf(3), offsetOf(4), offsetOf(5)]);
  assert.ok(d.errors.every((e) => e.format === 'csv' && !e.fatal));
  assert.match(d.errors[0]!.message, /^csv: line 3: expected 4 columns, found 3: '2,2,3' at byte offset 16$/);
  assert.match(d.errors[1]!.message, /^csv: line 4: time 'abc' is not a number/);
  assert.match(d.errors[2]!.message, /^csv: line 5: x '-2' is not an integer in 0\.\.65535/);
  assert.match(d.errors[3]!.message, /^csv: line 6: polarity 'maybe'/);
});

test('csv: a last line without newline is decoded; a cut-off one is reported', () => {
  assert.deepEqual(rows(allEvents(decodeBuffer(text('1,2,3,1\n2,3,4,0'), 'csv'))), [[1, 2, 3, 1], [2, 3, 4, 0]]);
  const cut = decodeBuffer(text('1,2,3,1\n2,3,4'), 'csv', { chunkSizes: [3] });
  assert.equal(allEvents(cut).length, 1);
  assert.deepEqual(cut.errors.map((e) => e.offset), [8]);
});

test('csv: sniff', () => {
  assert.equal(csvFormat.sniff(writeCsv([])), 1);
  const plain = csvFormat.sniff(text('10,1,2,1\n11,3,4,0\n12,5,6,1\n'));
  assert.ok(plain > 0.3 && plain <= 0.5);
  assert.equal(csvFormat.sniff(readShared('nmnist_tonic_sample.bin')), 0);
  assert.equal(csvFormat.sniff(readShared('dat_tonic_sample_ncars.dat')), 0);
});

test('csv: writer without events still writes its header; side data is counted as dropped', () => {
  const enc = createEncoder('csv', { geometry: { width: 34, height: 34 } });
  const dropped = enc.encodeSide?.({ kind: 'trigger', length: 2, t: new Float64Array(2), id: new Uint8Array(2), value: new Uint8Array(2) });
  assert.equal(dropped?.length, 0);
  assert.equal(enc.droppedSide, 2);
  const out = new TextDecoder().decode(enc.end());
  assert.equal(out.split('\n').slice(1).join('\n'), '# geometry 34x34\nt,x,y,p\n');
});
