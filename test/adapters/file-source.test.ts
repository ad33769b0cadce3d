/**
 * fromFile / openRecording on the real recordings: fast replay equals decodeBuffer, paced replay follows
 * event time, loop, unsubscribe closes the file, truncated and undecodable files, side streams.
 * Expected figures come from the data README and from an independent Python reading of the files
 * (EVT2 words; AEDAT4 packets decompressed with a hand-written LZ4 block decoder and counted per stream type).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { fromFile, openRecording, type FileSource } from '../../adapters/file-source.js';
import { concatPackets, countOn, type EventPacket } from '../../src/events/packet.js';
import type { SideBatch } from '../../src/events/side.js';
import { decodeBuffer, allEvents } from '../../src/formats/decode-all.js';
import { DecodeError } from '../../src/formats/types.js';
import { readShared, sharedPath } from '../helpers/shared-data.js';

const SPARKLERS = 'evt2_sparklers.raw';

async function collect(source: FileSource | ReturnType<typeof openRecording>['events']): Promise<EventPacket> {
  return concatPackets(await lastValueFrom(source.pipe(toArray()), { defaultValue: [] }));
}

function assertSameEvents(got: EventPacket, want: EventPacket): void {
  assert.equal(got.length, want.length);
  assert.deepEqual(got.x, want.x);
  assert.deepEqual(got.y, want.y);
  assert.deepEqual(got.t, want.t);
  assert.deepEqual(got.p, want.p);
}

function openDescriptorsOf(path: string): number {
  if (!existsSync('/proc/self/fd')) return 0;
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed between listing and reading
    }
  }
  return n;
}

test('fast replay (auto-detected evt2, 64 KiB chunks) yields exactly the events of decodeBuffer', async () => {
  const want = allEvents(decodeBuffer(readShared(SPARKLERS), 'evt2'));
  const source = fromFile(sharedPath(SPARKLERS), { chunkSize: 65536 });
  const got = await collect(source);
  assertSameEvents(got, want);
  assert.equal(got.length, 521252);
  assert.equal(countOn(got), 185861);
  // Independent reading of the EVT2 words: first CD_ON x=35 y=443 at 913,716,224 µs; last CD_OFF x=12 y=471 at 913,812,095 µs.
  assert.deepEqual([got.x[0], got.y[0], got.t[0], got.p[0]], [35, 443, 913716224, 1]);
  assert.deepEqual([got.x[521251], got.y[521251], got.t[521251], got.p[521251]], [12, 471, 913812095, 0]);
  const s = source.stats;
  assert.equal(s.format, 'evt2');
  assert.equal(s.bytes, 2109142);
  assert.equal(s.fileSize, 2109142);
  assert.equal(s.events, 521252);
  assert.deepEqual(s.geometry, { width: 640, height: 480 });
  assert.deepEqual(got.geometry, { width: 640, height: 480 });
  assert.equal(got.source.uri, sharedPath(SPARKLERS));
  assert.equal(s.errors.length, 0);
  assert.equal(s.fileOpen, false);
  assert.equal(s.done, true);
});

test('odd chunk sizes over an EVT3 file give the same events (5,000, last t 5,885,714 µs)', async () => {
  const want = allEvents(decodeBuffer(readShared('evt3_pedestrians_small.raw'), 'evt3'));
  const got = await collect(fromFile(sharedPath('evt3_pedestrians_small.raw'), { chunkSize: 1021, format: 'evt3' }));
  assertSameEvents(got, want);
  assert.equal(got.length, 5000);
  assert.equal(got.t[4999], 5885714);
});

test('paced replay at speed 10 of the 96 ms sparklers file takes ≥ 8 ms and follows event time', async () => {
  const speed = 10;
  const source = fromFile(sharedPath(SPARKLERS), { pace: { speed } });
  const started = performance.now();
  let t0 = NaN;
  let previousLast = -Infinity;
  let emissions = 0;
  let early = 0;
  let events = 0;
  await new Promise<void>((resolve, reject) =>
    source.subscribe({
      next: (p) => {
        const now = performance.now();
        if (Number.isNaN(t0)) t0 = p.t[0]!;
        emissions++;
        events += p.length;
        if (p.t[0]! < previousLast) reject(new Error('slices out of event-time order'));
        previousLast = p.t[p.length - 1]!;
        // No slice before its last event is due; the replay clock starts after `started`, so this is a
        // lower bound that scheduling delays cannot break (1.5 ms slack for timer rounding).
        const dueMs = (p.t[p.length - 1]! - t0) / 1000 / speed;
        if (now - started < dueMs - 1.5) early++;
      },
      error: reject,
      complete: resolve,
    }),
  );
  const wall = performance.now() - started;
  assert.equal(events, 521252);
  assert.ok(wall >= 8, `paced replay took ${wall.toFixed(1)} ms, expected ≥ 8 ms (95.9 ms / 10)`);
  assert.equal(early, 0, 'no slice was emitted before its events were due');
  // ~96 ms of events in ~1 ms wall slices (10 ms of event time each at speed 10): about ten slices, not one big packet.
  assert.ok(emissions >= 9, `expected ≥ 9 timed slices, got ${emissions}`);
});

test('loop: 2 passes replay the file twice with times shifted to keep increasing', async () => {
  const once = allEvents(decodeBuffer(readShared('evt3_pedestrians_small.raw'), 'evt3'));
  const source = fromFile(sharedPath('evt3_pedestrians_small.raw'), { loop: 2 });
  const got = await collect(source);
  assert.equal(got.length, 2 * 5000);
  assert.equal(source.stats.passes, 2);
  let latestFirstPass = -Infinity;
  for (let i = 0; i < 5000; i++) latestFirstPass = Math.max(latestFirstPass, got.t[i]!);
  const shift = got.t[5000]! - once.t[0]!;
  assert.equal(got.t[5000], latestFirstPass + 1, 'the second pass starts 1 µs after the latest event of the first');
  for (let i = 0; i < 5000; i++) {
    assert.equal(got.t[5000 + i], once.t[i]! + shift);
    assert.equal(got.x[5000 + i], once.x[i]);
  }
  // loop: true goes on until unsubscribed
  const endless = await lastValueFrom(fromFile(sharedPath('dat_tonic_sample_ncars.dat'), { loop: true }).pipe(take(7), toArray()));
  const times = concatPackets(endless).t;
  assert.ok(endless.length === 7 && times.length === 7 * 2009);
  for (let i = 1; i < times.length; i += 2009) assert.ok(times[i]! >= times[i - 1]!);
});

test('unsubscribing mid-file stops reading and closes the file', async () => {
  const path = sharedPath(SPARKLERS);
  const source = fromFile(path, { chunkSize: 65536 });
  const first = await firstValueFrom(source);
  assert.ok(first.length > 0);
  for (let i = 0; i < 100 && source.stats.fileOpen; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(source.stats.fileOpen, false);
  assert.equal(openDescriptorsOf(path), 0);
  assert.ok(source.stats.bytes <= 2 * 65536, `read ${source.stats.bytes} bytes after unsubscribing at the first packet`);
  assert.equal(source.stats.done, false);
  // paced: unsubscribing during a timer wait ends at once too
  const paced = fromFile(path, { pace: { speed: 0.01 } });
  const sub = paced.subscribe();
  await new Promise((r) => setTimeout(r, 30));
  sub.unsubscribe();
  for (let i = 0; i < 100 && paced.stats.fileOpen; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(paced.stats.fileOpen, false);
  assert.ok(paced.stats.events < 521252);
});

test('a truncated copy delivers the events before the cut and records a DecodeError naming the offset', async () => {
  const bytes = readShared(SPARKLERS);
  const path = join(tmpdir(), `spikeflow-truncated-${process.pid}.raw`);
  writeFileSync(path, bytes.subarray(0, 1000003));
  try {
    const seen: DecodeError[] = [];
    const source = fromFile(path, { onError: (e) => seen.push(e), chunkSize: 300000 });
    const got = await collect(source);
    // Independent reading: 249,959 whole words after the 166-byte header hold 247,492 CD events; 1 byte is left at 1,000,002.
    assert.equal(got.length, 247492);
    assert.deepEqual([got.x[247491], got.y[247491], got.t[247491], got.p[247491]], [9, 437, 913755685, 0]);
    assert.equal(seen.length, 1);
    assert.equal(source.stats.errors.length, 1);
    const e = seen[0]!;
    assert.ok(e instanceof DecodeError);
    assert.equal(e.format, 'evt2');
    assert.equal(e.offset, 1000002);
    assert.equal(e.fatal, false);
  } finally {
    rmSync(path, { force: true });
  }
});

test('an undecodable file errors the observable with a fatal DecodeError; a broken header names format and offset', async () => {
  const junk = join(tmpdir(), `spikeflow-junk-${process.pid}.xyz`);
  const badHeader = join(tmpdir(), `spikeflow-badheader-${process.pid}.aedat4`);
  writeFileSync(junk, new Uint8Array(1000).fill(0xff));
  // An AEDAT4 file whose IOHeader length is absurd: the aedat4 decoder cannot go on (fatal).
  const aedat = Uint8Array.from(readShared('aedat4_tonic_sample.aedat4'));
  new DataView(aedat.buffer).setUint32(14, 0x7fffffff, true);
  writeFileSync(badHeader, aedat);
  try {
    const unknown = fromFile(junk, { format: 'auto' });
    await assert.rejects(lastValueFrom(unknown), (e: unknown) => e instanceof DecodeError && e.fatal && e.offset === 0 && /cannot detect/.test(e.message));
    assert.equal(unknown.stats.fileOpen, false);
    const broken = fromFile(badHeader, { onError: () => {} });
    await assert.rejects(lastValueFrom(broken), (e: unknown) => e instanceof DecodeError && e.fatal && e.format === 'aedat4' && e.offset >= 14);
    assert.equal(broken.stats.events, 0);
    assert.equal(broken.stats.fileOpen, false);
  } finally {
    rmSync(junk, { force: true });
    rmSync(badHeader, { force: true });
  }
});

test('side streams of aedat4_aestream_davis.aedat4 arrive on imu/triggers/frames, or are counted when nobody asked', async () => {
  // Independent count of the file's packets per stream type: EVTS 117,667, IMUS 130, TRIG 15, FRME 3.
  const rec = openRecording(sharedPath('aedat4_aestream_davis.aedat4'));
  const imu = lastValueFrom(rec.imu.pipe(toArray()));
  const triggers = lastValueFrom(rec.triggers.pipe(toArray()));
  const frames = lastValueFrom(rec.frames.pipe(toArray()));
  const events = await collect(rec.events);
  assert.equal(events.length, 117667);
  assert.deepEqual([events.x[0], events.y[0], events.t[0], events.p[0]], [218, 15, 1633953690975950, 1]);
  assert.deepEqual(events.geometry, { width: 346, height: 260 });
  assert.equal((await imu).reduce((k, b) => k + b.length, 0), 130);
  assert.equal((await triggers).reduce((k, b) => k + b.length, 0), 15);
  const f = await frames;
  assert.equal(f.length, 3);
  for (const frame of f) {
    assert.equal(frame.width, 346);
    assert.equal(frame.height, 260);
    assert.equal(frame.pixels.length, frame.width * frame.height * frame.channels);
  }
  assert.deepEqual(rec.stats.side, { trigger: 15, imu: 130, frame: 3, monitor: 0 });

  // fromFile without a side observer: only counted.
  const plain = fromFile(sharedPath('aedat4_aestream_davis.aedat4'));
  assert.equal((await collect(plain)).length, 117667);
  assert.deepEqual(plain.stats.side, { trigger: 15, imu: 130, frame: 3, monitor: 0 });

  // fromFile with a Subject: receives every batch, then completes with the file.
  const side = new Subject<SideBatch>();
  const received = lastValueFrom(side.pipe(toArray()));
  await collect(fromFile(sharedPath('aedat4_aestream_davis.aedat4'), { side }));
  const kinds: Record<string, number> = {};
  for (const b of await received) kinds[b.kind] = (kinds[b.kind] ?? 0) + (b.kind === 'frame' ? 1 : b.length);
  assert.deepEqual(kinds, { trigger: 15, imu: 130, frame: 3 });
});
