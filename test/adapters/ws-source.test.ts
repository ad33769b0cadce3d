/**
 * The WebSocket push source over real loopback: clients push EventPackets (protobuf and JSON) into
 * fromWs; malformed payloads, unknown wire versions, other message kinds and oversize frames are counted
 * and logged naming the client, and every valid packet still arrives; sequence gaps count as lost;
 * a token keeps strangers out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Subscription } from 'rxjs';
import { fromWs, type WsSourceOptions } from '../../adapters/ws-source.js';
import type { EventPacket } from '../../src/events/packet.js';
import { encodeJson } from '../../src/wire/json-codec.js';
import { encodeWire } from '../../src/wire/protobuf-codec.js';
import { decision, events, openRaw, until } from '../helpers/ws.js';

function listen(options: Omit<WsSourceOptions, 'port' | 'onListening'>): Promise<{ url: string; got: EventPacket[]; sub: Subscription; source: ReturnType<typeof fromWs> }> {
  return new Promise((resolve, reject) => {
    const got: EventPacket[] = [];
    const source = fromWs({ ...options, port: 0, onListening: ({ url }) => resolve({ url, got, sub, source }) });
    const sub = source.subscribe({ next: (p) => got.push(p), error: reject });
  });
}

test('pushed packets arrive; bad payloads are counted, logged naming the client, and skipped', async () => {
  const lines: string[] = [];
  const { url, got, sub, source } = await listen({ maxPayload: 64 * 1024, log: { sink: (l) => lines.push(l), perWindow: 100 } });
  try {
    const a = await openRaw(url, 'spikeflow.v1.proto');
    const b = await openRaw(url);
    const aPort = (a.ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    const p1 = events(1000, 0, 1, 'left');
    const p2 = events(500, 5000, 0.5, 'left'); // fractional times: the float64 time encoding
    const p3 = events(2000, 9000, 2, 'right');
    const wrongVersion = encodeWire({ kind: 'events', sequence: 9, packet: p1 });
    wrongVersion[1] = 7; // Envelope.version varint
    a.ws.send(encodeWire({ kind: 'events', sequence: 1, packet: p1 }));
    a.ws.send(Buffer.from([0x0a, 0xff, 0xff])); // truncated field
    a.ws.send(wrongVersion);
    a.ws.send(encodeWire({ kind: 'decision', ...decision(1) }));
    a.ws.send(encodeWire({ kind: 'events', sequence: 2, packet: p2 }));
    b.ws.send('{"version":1,"events":{"x":[1],"y":[2]}}'); // t and p missing
    b.ws.send('{"version":2,"events":{}}');
    b.ws.send(encodeJson({ kind: 'events', sequence: 1, packet: p3 }));
    b.ws.send(encodeJson({ kind: 'events', sequence: 4, packet: p3 })); // 2 and 3 never sent
    await until(() => got.length === 4 && source.stats.bad === 5, 5000, 'messages');
    assert.deepEqual(got.map((p) => `${p.source.uri}:${p.length}`).sort(), ['left:1000', 'left:500', 'right:2000', 'right:2000']);
    const left = got.filter((p) => p.source.uri === 'left');
    assert.deepEqual([left[0]!.x, left[0]!.t, left[1]!.t, left[1]!.p], [p1.x, p1.t, p2.t, p2.p]);
    assert.deepEqual(got.filter((p) => p.source.uri === 'right')[0]!.y, p3.y);
    const s = source.stats;
    assert.deepEqual([s.packets, s.events, s.bad, s.malformed, s.version, s.wrongKind, s.lost], [4, 5500, 5, 2, 2, 1, 2]);
    assert.ok(lines.some((l) => l.startsWith(`ws-source: client 127.0.0.1:${aPort} /: unsupported wire version 7`)), lines.join('\n'));
    assert.ok(lines.some((l) => /decision message \(this endpoint takes events\)/.test(l)));

    // Oversize: that client is cut (1009) and counted; the other keeps pushing.
    const closed = new Promise<number>((r) => a.ws.on('close', (c) => r(c)));
    a.ws.send(encodeWire({ kind: 'events', sequence: 3, packet: events(10_000) }));
    assert.equal(await closed, 1009);
    await until(() => source.stats.oversize === 1, 2000, 'oversize');
    b.ws.send(encodeJson({ kind: 'events', sequence: 5, packet: p3 }));
    await until(() => got.length === 5, 2000, 'after oversize');
    assert.equal(source.stats.lost, 2);
    b.close();
  } finally {
    sub.unsubscribe();
  }
});

test('token: a pusher without it is refused; unsubscribing closes the endpoint', async () => {
  const { url, got, sub, source } = await listen({ token: 'push-secret', log: { sink: () => undefined } });
  await assert.rejects(openRaw(url), /HTTP 401/);
  await assert.rejects(openRaw(`${url}/other?token=push-secret`), /HTTP 404/);
  const c = await openRaw(url, undefined, { headers: { authorization: 'Bearer push-secret' } });
  c.ws.send(encodeWire({ kind: 'events', sequence: 1, packet: events(10) }));
  await until(() => got.length === 1, 2000, 'packet');
  assert.deepEqual(source.stats.rejected.auth, 1);
  const closed = new Promise<number>((r) => c.ws.on('close', (code) => r(code)));
  sub.unsubscribe();
  assert.equal(await closed, 1001);
  // Closing finishes asynchronously (close frames first): the port stops listening shortly after.
  let refused = false;
  for (let k = 0; k < 100 && !refused; k++) {
    refused = await openRaw(url).then(
      (c) => (c.close(), false),
      (e: Error) => /ECONNREFUSED/.test(e.message),
    );
    if (!refused) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(refused);
});
