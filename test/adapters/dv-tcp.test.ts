/**
 * DV network output over real loopback TCP: a server in the test streams an AEDAT4 recording the way
 * dv-runtime does (IOHeader + packets, no '#!AER-DAT4.0\r\n' line, no data table) and fromDvTcp decodes it.
 * The data-table position is read from the IOHeader flatbuffer here by hand (independently of the decoder).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { lastValueFrom, toArray, take } from 'rxjs';
import { fromDvTcp } from '../../adapters/dv-tcp-source.js';
import { concatPackets } from '../../src/events/packet.js';
import type { SideBatch } from '../../src/events/side.js';
import { decodeBuffer, allEvents } from '../../src/formats/decode-all.js';
import { readShared } from '../helpers/shared-data.js';

const MAGIC_BYTES = 14;

/** IOHeader.dataTablePosition: field 1 (int64) of the root table of the size-prefixed flatbuffer at byte 14. */
function dataTablePosition(file: Uint8Array): number {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const base = MAGIC_BYTES + 4;
  const table = base + v.getUint32(base, true);
  const vtable = table - v.getInt32(table, true);
  const fieldOffset = v.getUint16(vtable + 4 + 2 * 1, true);
  return fieldOffset === 0 ? -1 : Number(v.getBigInt64(table + fieldOffset, true));
}

/** A TCP server on an ephemeral port; `serve(socket, k)` handles the k-th connection. */
async function serve(handler: (socket: Socket, connection: number) => void): Promise<{ server: Server; port: number }> {
  let k = 0;
  const server = createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    handler(s, k++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, port: address.port };
}

const open = new Set<Socket>();

/** Stop listening and drop the server side of every connection still open. */
function close(server: Server): Promise<void> {
  for (const s of open) s.destroy();
  return new Promise((r) => server.close(() => r()));
}

/** Write in uneven pieces so packets straddle TCP reads. */
function writeInPieces(socket: Socket, bytes: Uint8Array, end = true): void {
  const sizes = [1, 13, 4000, 77, 65536, 3];
  let o = 0;
  for (let k = 0; o < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    socket.write(bytes.subarray(o, o + n));
    o += n;
  }
  if (end) socket.end();
}

const tonic = readShared('aedat4_tonic_sample.aedat4');
const tablePosition = dataTablePosition(tonic);
const network = tonic.subarray(MAGIC_BYTES, tablePosition);

test('an AEDAT4 file streamed as DV network output decodes to the same 111,954 events as the file', async () => {
  assert.equal(tablePosition, 945243);
  const want = allEvents(decodeBuffer(tonic, 'aedat4'));
  const { server, port } = await serve((s) => writeInPieces(s, network));
  try {
    const source = fromDvTcp({ port, reconnect: false, onError: (e) => assert.fail(e.message) });
    const got = concatPackets(await lastValueFrom(source.pipe(toArray())));
    assert.equal(got.length, 111954);
    assert.deepEqual(got.x, want.x);
    assert.deepEqual(got.y, want.y);
    assert.deepEqual(got.t, want.t);
    assert.deepEqual(got.p, want.p);
    // Independent reading (LZ4-decompressed first EVTS packet): x=154 y=204 t=1,605,537,493,718,345 µs OFF.
    assert.deepEqual([got.x[0], got.y[0], got.t[0], got.p[0]], [154, 204, 1605537493718345, 0]);
    assert.deepEqual(got.geometry, { width: 320, height: 240 });
    const s = source.stats;
    assert.equal(s.bytes, network.length);
    assert.equal(s.events, 111954);
    assert.equal(s.connections, 1);
    assert.equal(s.errorCount, 0);
    assert.deepEqual(s.side, { trigger: 0, imu: 475, frame: 0, monitor: 0 });
    assert.equal(s.connected, false);
  } finally {
    await close(server);
  }
});

test('pause() stops reading the socket, resume() reads on: nothing lost', async () => {
  const { server, port } = await serve((s) => writeInPieces(s, network));
  try {
    const source = fromDvTcp({ port, reconnect: false, onError: (e) => assert.fail(e.message) });
    let events = 0;
    let pausedAt = -1;
    const done = new Promise<void>((resolve, reject) =>
      source.subscribe({
        next: (p) => {
          events += p.length;
          if (pausedAt < 0) {
            pausedAt = source.stats.bytes;
            source.pause();
          }
        },
        error: reject,
        complete: resolve,
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(pausedAt > 0 && pausedAt < network.length, `paused after ${pausedAt} of ${network.length} bytes`);
    assert.equal(source.stats.bytes, pausedAt, 'no byte is read while paused');
    source.resume();
    await done;
    assert.equal(events, 111954);
    assert.equal(source.stats.bytes, network.length);
  } finally {
    await close(server);
  }
});

test('a dropped connection is reported and reconnected with backoff; the new stream is decoded from its own header', async () => {
  const cut = 300001; // somewhere inside a packet
  const { server, port } = await serve((s, k) => {
    if (k === 0) writeInPieces(s, network.subarray(0, cut), false);
    if (k === 0) setTimeout(() => s.destroy(), 20);
    else writeInPieces(s, network, false); // stays open: the client unsubscribes
  });
  try {
    const errors: Error[] = [];
    const imu: SideBatch[] = [];
    const source = fromDvTcp({ port, reconnect: { initialDelayMs: 10, jitter: 0 }, onError: (e) => errors.push(e), side: { next: (b) => imu.push(b) } });
    // Events of the first connection (the whole packets before the cut), then all 111,954 of the second.
    const firstPart = allEvents(decodeBuffer(tonic.subarray(0, MAGIC_BYTES + cut), 'aedat4')).length;
    assert.ok(firstPart > 0 && firstPart < 111954);
    let total = 0;
    await new Promise<void>((resolve, reject) => {
      const sub = source.subscribe({
        next: (p) => {
          total += p.length;
          if (total === firstPart + 111954) {
            sub.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    const s = source.stats;
    assert.equal(s.connections, 2);
    assert.equal(s.disconnects, 1);
    assert.ok(errors.some((e) => /connection lost .*reconnecting in 10 ms/.test(e.message)), errors.map((e) => e.message).join('; '));
    // the cut inside a packet is a truncation of the first stream, with an offset inside that stream
    const truncation = errors.find((e) => 'offset' in e) as (Error & { offset: number; format: string }) | undefined;
    assert.ok(truncation && truncation.format === 'aedat4' && truncation.offset > 0 && truncation.offset <= cut);
    assert.equal(s.events, firstPart + 111954);
    assert.equal(s.connected, true);
    assert.ok(imu.length > 0);
  } finally {
    await close(server);
  }
});

test('without reconnect, a refused connection errors the observable; unsubscribing closes the socket', async () => {
  const { server, port } = await serve(() => {});
  await close(server); // nothing listens on `port` any more
  await assert.rejects(lastValueFrom(fromDvTcp({ port, reconnect: false })), /ECONNREFUSED/);
  // reconnect with a limit: 3 failed attempts in a row are tolerated (each reported), the 4th gives up
  const errors: Error[] = [];
  await assert.rejects(lastValueFrom(fromDvTcp({ port, reconnect: { initialDelayMs: 1, maxAttempts: 3 }, onError: (e) => errors.push(e) })), /giving up after 4 failed connection attempts/);
  assert.equal(errors.length, 3);

  // A server that never sends: take(0)-style unsubscription must leave no socket behind.
  const idle = await serve(() => {});
  let sockets = 0;
  idle.server.on('connection', (s) => {
    sockets++;
    s.on('close', () => sockets--);
  });
  const sub = fromDvTcp({ port: idle.port }).pipe(take(1)).subscribe();
  for (let i = 0; i < 100 && sockets === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(sockets, 1);
  sub.unsubscribe();
  for (let i = 0; i < 100 && sockets > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(sockets, 0, 'the client closed its socket');
  await close(idle.server);
});
