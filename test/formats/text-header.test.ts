import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from '../helpers/shared-data.js';
import { HeaderLineScanner, headerEnd } from '../../src/formats/text-header.js';

const PERCENT = 0x25;
const HASH = 0x23;
const text = (s: string) => new TextEncoder().encode(s);

/** Feeds `bytes` in chunks of the given sizes (cycled); returns the lines seen and the absolute body offset (-1 if none). */
function scanInChunks(bytes: Uint8Array, sizes: number[], marker: number, maxLineBytes = Infinity, endsHeader: (line: string) => boolean = () => false) {
  const lines: string[] = [];
  const scanner = new HeaderLineScanner(marker, (line) => (lines.push(line), endsHeader(line)), maxLineBytes);
  let o = 0;
  let k = 0;
  while (o < bytes.length) {
    const n = sizes[k++ % sizes.length]!;
    const body = scanner.scan(bytes.subarray(o, o + n));
    if (body >= 0) return { lines, body: o + body, count: scanner.lines };
    o += n;
  }
  return { lines, body: -1, count: scanner.lines, insideLine: scanner.insideLine };
}

// dat_ncars_obj_004397_td.dat starts with three '% ' lines (91 bytes, checked with xxd), then the
// event type byte 0x00 and the size byte 0x08.
const NCARS_LINES = ['% Data file containing N9Chronocam7Event2dE events.', '% Version 2', '% Date 2017-10-31 11:27:54'];

test('text-header: the N-CARS DAT header is read the same at every chunking', () => {
  const bytes = readShared('dat_ncars_obj_004397_td.dat').subarray(0, 200);
  const whole = scanInChunks(bytes, [bytes.length], PERCENT);
  assert.deepEqual(whole, { lines: NCARS_LINES, body: 91, count: 3 });
  assert.equal(bytes[91], 0x00);
  assert.equal(bytes[92], 0x08);
  for (const sizes of [[1], [2], [3], [7, 1, 13]]) assert.deepEqual(scanInChunks(bytes, sizes, PERCENT), whole, `chunks ${sizes}`);
  for (let cut = 1; cut < 120; cut++) assert.deepEqual(scanInChunks(bytes, [cut, 1000], PERCENT), whole, `split at ${cut}`);
  assert.equal(headerEnd(bytes, PERCENT), 91);
});

test('text-header: CRLF (even split between chunks) loses one CR; long lines are cut; a handler can end the header', () => {
  const bytes = text('#!AER-DAT3.1\r\n#a: 1\r\r\n#' + 'x'.repeat(30) + '\r\n#!END-HEADER\r\n#not header\nBODY');
  const end = (line: string) => line.startsWith('#!END-HEADER');
  const expected = { lines: ['#!AER-DAT3.1', '#a: 1\r', '#' + 'x'.repeat(15), '#!END-HEADER'], body: bytes.length - '#not header\nBODY'.length, count: 4 };
  for (const sizes of [[bytes.length], [1], [13], [14], [2, 5]]) assert.deepEqual(scanInChunks(bytes, sizes, HASH, 16, end), expected, `chunks ${sizes}`);
  // Without the terminator the header runs on to the first line not starting with '#'.
  const plain = scanInChunks(bytes, [1], HASH);
  assert.equal(plain.body, bytes.length - 4);
  assert.equal(plain.count, 5);
});

test('text-header: stream ends inside or after the header; sniff helper', () => {
  assert.deepEqual(scanInChunks(text('# a\n# b'), [1], HASH), { lines: ['# a'], body: -1, count: 1, insideLine: true });
  assert.deepEqual(scanInChunks(text('# a\n'), [1], HASH), { lines: ['# a'], body: -1, count: 1, insideLine: false });
  assert.equal(headerEnd(text('# a\n# b'), HASH), -1);
  assert.equal(headerEnd(text('# a\n'), HASH), 4);
  assert.equal(headerEnd(text('abc'), HASH), 0);
  assert.equal(headerEnd(new Uint8Array(0), HASH), 0);
  const seen: string[] = [];
  assert.equal(headerEnd(text('%1\r\n%2\n\x00'), PERCENT, (l) => void seen.push(l)), 7);
  assert.deepEqual(seen, ['%1', '%2']);
});
