/** The Prophesee RAW header reader: real headers, any split point, old and new styles, interpretation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { interpretRawHeader, RawHeaderReader, readRawHeader, sniffRawVersion } from '../../src/formats/prophesee/raw-header.js';
import { detectFormat } from '../../src/formats/registry.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** Feed `bytes` cut at the given positions; returns the reader and the absolute offset where data starts. */
function readSplit(bytes: Uint8Array, cuts: number[]): { reader: RawHeaderReader; dataStart: number; replay: number } {
  const reader = new RawHeaderReader();
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    const used = reader.feed(bytes.subarray(from, to));
    if (reader.done) return { reader, dataStart: from + used - reader.replay.length, replay: reader.replay.length };
    from = to;
  }
  reader.finish();
  return { reader, dataStart: reader.length, replay: reader.replay.length };
}

test('old-style headers of the real recordings (no % end): keys, length, version, geometry from system_ID', () => {
  const cases = [
    { file: 'evt2_expelliarmus_sample.raw', length: 164, version: '2.0', geometry: { width: 640, height: 480 }, systemId: 21 },
    { file: 'evt2_sparklers.raw', length: 166, version: '2.0', geometry: { width: 640, height: 480 }, systemId: 21 },
    { file: 'evt3_expelliarmus_sample.raw', length: 166, version: '3.0', geometry: { width: 1280, height: 720 }, systemId: 48 },
    { file: 'evt3_pedestrians_small.raw', length: 166, version: '3.0', geometry: { width: 1280, height: 720 }, systemId: 48 },
  ];
  for (const c of cases) {
    const bytes = readShared(c.file);
    const { reader, dataStart } = readSplit(bytes, []);
    assert.equal(reader.done, true);
    assert.equal(reader.endMarker, false);
    assert.equal(reader.length, c.length, c.file);
    assert.equal(dataStart, c.length);
    const info = reader.info();
    assert.equal(info.version, c.version);
    assert.deepEqual(info.geometry, c.geometry);
    assert.equal(info.systemId, c.systemId);
    assert.deepEqual(info.problems, []);
    assert.equal(reader.keys['integrator_name'], 'Prophesee');
    assert.equal(sniffRawVersion(bytes.subarray(0, 4096)), c.version);
  }
  const { reader } = readSplit(readShared('evt2_expelliarmus_sample.raw'), []);
  assert.deepEqual(reader.keys, {
    Date: '2020-09-14 09:03:25',
    firmware_version: '2.0.2',
    integrator_name: 'Prophesee',
    plugin_name: 'hal_plugin_gen3_fx3',
    serial_number: '30384338',
    system_ID: '21',
    evt: '2.0',
  });
});

test('new-style headers (derived EVT 2.1 files): format string, endianness, % end', () => {
  for (const [file, order] of [
    ['derived_evt21_little_from_sparklers.raw', 'little'],
    ['derived_evt21_legacy_from_sparklers.raw', 'legacy'],
  ] as const) {
    const { reader } = readSplit(readShared(file), []);
    assert.equal(reader.endMarker, true);
    assert.equal(reader.length, 206);
    assert.equal(reader.keys['format'], 'EVT21;height=480;width=640');
    assert.equal(reader.keys['note'], 'DERIVED test file: events re-encoded from evt2_sparklers.raw (expelliarmus tests, GPL-2.0)');
    const info = reader.info();
    assert.equal(info.version, '2.1');
    assert.equal(info.formatName, 'EVT21');
    assert.equal(info.endianness, order);
    assert.deepEqual(info.geometry, { width: 640, height: 480 });
    assert.equal(detectFormat(readShared(file).subarray(0, 65536), file).format, 'evt21');
  }
});

test('the header may be split over chunks at any byte', () => {
  const samples = [
    readShared('evt2_expelliarmus_sample.raw').subarray(0, 300),
    readShared('derived_evt21_legacy_from_sparklers.raw').subarray(0, 300),
    // Data starting with '%' not followed by a space: that '%' is the first data byte.
    enc('% evt 3.0\n% geometry 320x240\n%X\x00\x80'),
  ];
  for (const bytes of samples) {
    const ref = readSplit(bytes, []);
    for (let cut = 1; cut < bytes.length; cut++) {
      const got = readSplit(bytes, [cut]);
      assert.equal(got.dataStart, ref.dataStart, `cut at ${cut}`);
      assert.deepEqual(got.reader.keys, ref.reader.keys, `cut at ${cut}`);
    }
    const bytewise = readSplit(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1));
    assert.equal(bytewise.dataStart, ref.dataStart);
    assert.deepEqual(bytewise.reader.keys, ref.reader.keys);
  }
  // The '%' case: data starts at byte 29 whether or not the '%' ended a chunk (then it is replayed).
  const tricky = samples[2]!;
  assert.equal(readSplit(tricky, []).dataStart, 29);
  const split = readSplit(tricky, [30]);
  assert.equal(split.dataStart, 29);
  assert.equal(split.replay, 1);
  assert.deepEqual(readSplit(tricky, []).reader.keys, { evt: '3.0', geometry: '320x240' });
});

test('keys and values: whitespace as OpenEB (first token is the key, the rest joined by one space), % end stops', () => {
  const { reader, dataStart } = readSplit(enc('%  key   a  b\tc \r\n% \n% end\n% after end\n'), []);
  assert.deepEqual(reader.keys, { key: 'a b c' });
  assert.equal(dataStart, 27); // 18 + 3 + 6 bytes: "% after end" is data
  assert.equal(reader.endMarker, true);
});

test('interpretation: format string wins, legacy evt key, system ids, integrators, endianness defaults', () => {
  const info = (keys: Record<string, string>) => interpretRawHeader(keys);
  assert.deepEqual(info({ format: 'EVT3;height=720;width=1280' }).geometry, { width: 1280, height: 720 });
  assert.equal(info({ format: 'EVT3;height=720;width=1280', evt: '2.0' }).version, '3.0');
  assert.equal(info({ evt: '2.1', system_ID: '28' }).version, '2.1');
  // EVT 2.1 word order: legacy for Prophesee systems older than EVK2_SAPHIR (0x37), else little.
  assert.equal(info({ evt: '2.1', system_ID: '28' }).endianness, 'legacy');
  assert.equal(info({ format: 'EVT21;endianness=little', system_ID: '28' }).endianness, 'little');
  assert.equal(info({ format: 'EVT21', system_ID: '64' }).endianness, 'little');
  assert.equal(info({ format: 'EVT21' }).endianness, 'little');
  assert.equal(info({ format: 'EVT21', endianness: 'legacy' }).endianness, 'legacy');
  // IMX636 systems → EVT3 1280x720; Gen3.1 EVT3 → 640x480; hex ids accepted.
  for (const id of ['49', '50', '0x31']) assert.deepEqual(info({ system_ID: id }), { ...info({ system_ID: id }), version: '3.0', geometry: { width: 1280, height: 720 } });
  assert.deepEqual(info({ system_ID: '40', evt: '3.0' }).geometry, { width: 640, height: 480 });
  // A non-Prophesee integrator: system ids are not interpreted.
  assert.deepEqual(info({ system_ID: '21', evt: '2.0', integrator_name: 'Someone' }).geometry, { width: 0, height: 0 });
  // geometry key when the format has none; disagreement reported.
  assert.deepEqual(info({ evt: '3.0', geometry: '640x480' }).geometry, { width: 640, height: 480 });
  assert.equal(info({ format: 'EVT3;height=720;width=1280', geometry: '640x480' }).problems.length, 1);
  assert.equal(info({ format: 'EVT4;height=720;width=1280' }).version, undefined);
  assert.equal(info({ format: 'EVT4;height=720;width=1280' }).formatName, 'EVT4');
  assert.equal(info({}).version, undefined);
});

test('not a header: no "% " prefix, or an endless first line', () => {
  assert.equal(sniffRawVersion(new Uint8Array([0x70, 0x50, 0x00, 0x80])), undefined);
  assert.equal(sniffRawVersion(enc('%evt 2.0\n')), undefined);
  const endless = new Uint8Array(70 * 1024).fill(0x41);
  endless[0] = 0x25;
  endless[1] = 0x20;
  const { reader } = readRawHeader(endless);
  assert.ok(reader.fault);
  assert.equal(sniffRawVersion(endless), undefined);
  // A stream that ends inside a header line is reported by finish().
  const r = new RawHeaderReader();
  r.feed(enc('% evt 2.0\n% system_'));
  assert.match(r.finish() ?? '', /inside the header line starting at byte 10/);
  assert.equal(r.keys['system_'], '');
});
