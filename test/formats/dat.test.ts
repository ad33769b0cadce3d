import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { assertChunkingInvariant, eventChecksum, sideCounts } from '../helpers/chunking.js';
import { allEvents, decodeBuffer } from '../../src/formats/decode-all.js';
import { detectFormat } from '../../src/formats/registry.js';
import { datFormat } from '../../src/formats/prophesee/dat.js';
import { countOn } from '../../src/events/packet.js';
import { PacketPool } from '../../src/events/pool.js';

// Reference values from an independent Python reading of the raw bytes (struct '<II', x = d & 0x3fff,
// y = (d >> 14) & 0x3fff, p = d >> 28) and the same FNV checksum as test/helpers/chunking.ts.
// Hand check of the first record of dat_ncars_obj_004397_td.dat (bytes 93..100):
//   00 00 00 00 | 06 80 04 10 → t = 0, d = 0x10048006 → x = 6, y = 0x4012 & 0x3fff = 18, p = 1.
const FILES = [
  {
    name: 'dat_ncars_obj_004397_td.dat',
    events: 4407,
    on: 1671,
    first: [[0, 6, 18, 1], [66, 42, 35, 0], [89, 38, 19, 0]],
    last: [99937, 48, 47, 1],
    checksum: 'e8ebe078',
  },
  {
    name: 'dat_tonic_sample_ncars.dat',
    events: 2009,
    on: 1350,
    first: [[0, 25, 8, 0], [35, 67, 35, 0], [152, 56, 27, 1]],
    last: [99952, 75, 28, 1],
    checksum: 'e5d10340',
  },
] as const;

/**
 * Small packet buffers: every push that yields events takes a fresh buffer set from the pool, so
 * 1-byte chunking with the default 65536-event buffers would allocate gigabytes; small buffers also
 * make packets split inside a chunk.
 */
const SMALL_PACKETS = { pool: new PacketPool(256) };

/** 93 = the three N-CARS header lines (91 bytes) + type and size bytes. */
const NCARS_BODY = 93;

function event(e: ReturnType<typeof allEvents>, i: number): number[] {
  return [e.t[i]!, e.x[i]!, e.y[i]!, e.p[i]!];
}

function datStream(header: string, type: number, records: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(head.length + 2 + records.length * 8);
  out.set(head);
  out[head.length] = type;
  out[head.length + 1] = 8;
  const dv = new DataView(out.buffer);
  records.forEach(([ts, data], i) => {
    dv.setUint32(head.length + 2 + 8 * i, ts, true);
    dv.setUint32(head.length + 6 + 8 * i, data, true);
  });
  return out;
}

const cd = (x: number, y: number, p: number) => (x | (y << 14) | (p << 28)) >>> 0;

for (const f of FILES) {
  test(`dat: ${f.name} decodes to the reference events`, () => {
    const d = decodeBuffer(readShared(f.name), 'dat');
    const e = allEvents(d);
    assert.equal(d.errors.length, 0);
    assert.equal(e.length, f.events);
    assert.equal(countOn(e), f.on);
    f.first.forEach((ev, i) => assert.deepEqual(event(e, i), ev));
    assert.deepEqual(event(e, e.length - 1), f.last);
    assert.equal(eventChecksum(d), f.checksum);
    // N-CARS headers carry no geometry: it stays unknown rather than being guessed.
    assert.deepEqual(d.decoder.geometry, { width: 0, height: 0 });
    assert.equal(d.decoder.header['Version'], '2');
    assert.equal(d.decoder.header['Data file containing'], 'N9Chronocam7Event2dE events.');
    assert.equal(d.packets[0]!.source.format, 'dat');
  });

  test(`dat: ${f.name} is chunking invariant`, () => {
    const d = assertChunkingInvariant(readShared(f.name), 'dat', SMALL_PACKETS);
    assert.equal(allEvents(d).length, f.events);
    assert.ok(d.packets.length > 2, 'packets split at the pool capacity');
  });

  test(`dat: ${f.name} is detected by its header`, () => {
    const bytes = readShared(f.name);
    assert.equal(datFormat.sniff(bytes.subarray(0, 65536)), 1);
    assert.equal(detectFormat(bytes.subarray(0, 65536), f.name).format, 'dat');
  });
}

test('dat: 99.9 ms span of the N-CARS sample', () => {
  const e = allEvents(decodeBuffer(readShared('dat_ncars_obj_004397_td.dat'), 'dat'));
  assert.equal(e.t[e.length - 1]! - e.t[0]!, 99937);
});

test('dat: a truncated last record is reported with its offset; earlier events are kept', () => {
  const bytes = readShared('dat_ncars_obj_004397_td.dat');
  const cut = bytes.subarray(0, bytes.length - 3);
  const d = decodeBuffer(cut, 'dat', { chunkSizes: [1000, 7] });
  const e = allEvents(d);
  assert.equal(e.length, 4406);
  assert.deepEqual(event(e, 0), [0, 6, 18, 1]);
  assert.equal(d.errors.length, 1);
  const err = d.errors[0]!;
  assert.equal(err.format, 'dat');
  assert.equal(err.offset, NCARS_BODY + 4406 * 8);
  assert.match(err.message, /^dat: truncated record: 5 of 8 bytes at byte offset 35341$/);
  assert.equal(err.fatal, false);
});

test('dat: a record with an impossible polarity is skipped and reported; decoding goes on', () => {
  const bytes = readShared('dat_tonic_sample_ncars.dat').slice();
  const k = 100;
  bytes[NCARS_BODY + 8 * k + 7] = 0xf0; // polarity nibble 0xF
  const d = assertChunkingInvariant(bytes, 'dat', SMALL_PACKETS);
  const e = allEvents(d);
  assert.equal(e.length, 2008);
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.offset, NCARS_BODY + 8 * k);
  assert.match(d.errors[0]!.message, /^dat: 1 record\(s\) skipped: polarity field above 1/);
  const ref = allEvents(decodeBuffer(readShared('dat_tonic_sample_ncars.dat'), 'dat'));
  for (let i = 0; i < k; i++) assert.deepEqual(event(e, i), event(ref, i));
  for (let i = k; i < e.length; i++) assert.deepEqual(event(e, i), event(ref, i + 1));
});

test('dat: consecutive bad records are one error whatever the chunking', () => {
  const bytes = readShared('dat_tonic_sample_ncars.dat').slice();
  for (let k = 10; k < 20; k++) bytes[NCARS_BODY + 8 * k + 7] = 0x30;
  const d = assertChunkingInvariant(bytes, 'dat', SMALL_PACKETS);
  assert.equal(allEvents(d).length, 1999);
  assert.deepEqual(d.errors.map((e) => [e.offset, e.detail.slice(0, 20)]), [[NCARS_BODY + 80, '10 record(s) skipped']]);
});

test('dat: a bad event size in the header is fatal, named and located', () => {
  const bytes = readShared('dat_tonic_sample_ncars.dat').slice();
  bytes[NCARS_BODY - 1] = 16;
  const d = decodeBuffer(bytes, 'dat');
  assert.equal(allEvents(d).length, 0);
  assert.equal(d.errors.length, 1);
  assert.equal(d.errors[0]!.fatal, true);
  assert.equal(d.errors[0]!.offset, NCARS_BODY - 1);
  assert.match(d.errors[0]!.message, /^dat: unsupported event size 16/);
  assert.equal(d.decoder.failed, true);
});

test('dat: a stream that ends inside the header is reported', () => {
  const d = decodeBuffer(new TextEncoder().encode('% Version 2\n% Width 64'), 'dat');
  assert.equal(d.errors.length, 1);
  assert.match(d.errors[0]!.message, /^dat: stream ended inside the header at byte offset 22$/);
});

test('dat: geometry from % Width / % Height; 32-bit timestamps unwrap', () => {
  const bytes = datStream('% Data file containing CD events\n% Version 2\n% Width 640\n% Height 480\n', 12, [
    [4294967000, cd(1, 2, 1)],
    [4294967295, cd(639, 479, 0)],
    [5, cd(3, 4, 1)], // wrapped: 2^32 + 5
    [3, cd(5, 6, 0)], // a small step back is jitter, not a wrap
    [100, cd(7, 8, 1)],
  ]);
  const d = assertChunkingInvariant(bytes, 'dat', SMALL_PACKETS);
  const e = allEvents(d);
  assert.deepEqual(d.decoder.geometry, { width: 640, height: 480 });
  assert.deepEqual(Array.from(e.t), [4294967000, 4294967295, 4294967301, 4294967299, 4294967396]);
  assert.deepEqual(Array.from(e.x), [1, 639, 3, 5, 7]);
  assert.deepEqual(Array.from(e.y), [2, 479, 4, 6, 8]);
  assert.deepEqual(Array.from(e.p), [1, 0, 1, 0, 1]);
  assert.deepEqual(e.geometry, { width: 640, height: 480 });
});

test('dat: a header that arrives whole (read lazily) gives the same header and geometry as one read byte by byte', () => {
  // Lines with CR endings, a tab or a no-break space (0xa0) after '%', no space, keys that only look
  // like geometry keys, a repeated key (the last wins), and bytes above 0x7f.
  const head = [
    '% Data file containing  CD events ',
    '%\tWidth 320',
    '% Width 640\r',
    '%\xa0Height 480',
    '%Widths 99',
    '% width\t7',
    '% geometry 1x1',
    '%',
    '% Date 2017-10-31 \xe9t\xe9\x85 ',
    '% Version 2',
  ].join('\n') + '\n';
  const bytes = datStream('', 12, [[5, cd(1, 2, 1)]]);
  const withHeader = new Uint8Array(head.length + bytes.length);
  for (let i = 0; i < head.length; i++) withHeader[i] = head.charCodeAt(i);
  withHeader.set(bytes, head.length);
  const whole = decodeBuffer(withHeader.slice(), 'dat');
  const bytewise = decodeBuffer(withHeader, 'dat', { chunkSizes: [1] });
  assert.deepEqual(whole.decoder.geometry, { width: 640, height: 480 });
  assert.deepEqual(whole.decoder.geometry, bytewise.decoder.geometry);
  assert.deepEqual(whole.decoder.header, bytewise.decoder.header);
  assert.equal(whole.decoder.header['Width'], '640');
  assert.equal(whole.decoder.header['Data file containing'], 'CD events ');
  assert.equal(whole.decoder.header['event_type'], '12');
  assert.deepEqual(eventChecksum(whole), eventChecksum(bytewise));
});

test('dat: the header kept from the first chunk is a copy (the caller may reuse the chunk)', () => {
  const chunk = datStream('% Version 2\n% Width 64\n', 12, [[1, cd(1, 1, 1)]]);
  const decoder = datFormat.createDecoder();
  decoder.push(chunk);
  chunk.fill(0x41);
  decoder.end();
  assert.deepEqual(decoder.header, { Version: '2', Width: '64', event_type: '12' });
});

test('dat: an EventExtTrigger file goes to the trigger side stream', () => {
  // OpenEB EventExtTrigger::RawEvent: u32 ts; p : 4; pad : 22; id : 6.
  const bytes = datStream('% Data file containing Trigger events\n% Version 2\n', 14, [
    [10, 1 | (2 << 26)],
    [20, 0 | (2 << 26)],
  ]);
  const d = assertChunkingInvariant(bytes, 'dat', SMALL_PACKETS);
  assert.equal(allEvents(d).length, 0);
  assert.deepEqual(sideCounts(d), { trigger: 2 });
  const trig = d.side[0]!;
  assert.equal(trig.kind, 'trigger');
  if (trig.kind !== 'trigger') return;
  assert.deepEqual(Array.from(trig.t), [10, 20]);
  assert.deepEqual(Array.from(trig.id), [2, 2]);
  assert.deepEqual(Array.from(trig.value), [1, 0]);
});

test('dat: sniff rejects RAW (EVT) headers and binary data', () => {
  const raw = new TextEncoder().encode('% evt 3.0\n% system_ID 48\n\x00\x08abcdefgh');
  assert.equal(datFormat.sniff(raw), 0);
  assert.equal(datFormat.sniff(new Uint8Array([1, 2, 3, 4])), 0);
  assert.equal(datFormat.sniff(new TextEncoder().encode('% Version 2\n\x0c\x08')), 0.5);
});

test('dat: decode speed sanity check', (t) => {
  const n = 2_000_000;
  const records = new Uint8Array(n * 8);
  const dv = new DataView(records.buffer);
  for (let i = 0; i < n; i++) {
    dv.setUint32(8 * i, i >>> 2, true);
    dv.setUint32(8 * i + 4, cd(i % 640, i % 480, i & 1), true);
  }
  const head = datStream('% Data file containing CD events\n% Width 640\n% Height 480\n', 12, []);
  let best = Infinity;
  for (let rep = 0; rep < 5; rep++) {
    const pool = new PacketPool(65536);
    const dec = datFormat.createDecoder({ pool });
    dec.push(head);
    let count = 0;
    const start = performance.now();
    for (let o = 0; o < records.length; o += 1 << 20) {
      for (const pk of dec.push(records.subarray(o, o + (1 << 20))).events) {
        count += pk.length;
        pool.release(pk);
      }
    }
    best = Math.min(best, performance.now() - start);
    assert.equal(count, n);
  }
  t.diagnostic(`dat: ${(n / best / 1000).toFixed(0)} Mev/s (best of 5, 1 MiB chunks)`);
});
