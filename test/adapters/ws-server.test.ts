/**
 * The WebSocket publisher over real loopback connections: every stream in both encodings through the
 * typed client, path filters and subscribe messages with raw `ws` clients, admission (token, Origin,
 * path, subprotocol), bad client input, and the heartbeat terminating a client that stopped answering.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, firstValueFrom, take, toArray } from 'rxjs';
import { startWsServer, type WsServer } from '../../adapters/ws-server.js';
import { connectWs, type WsClient } from '../../adapters/ws-client.js';
import { decodeFrame } from '../../adapters/ws-frames.js';
import { decodeWire, encodeWire } from '../../src/wire/protobuf-codec.js';
import { decision, events, isOp, metrics, openRaw, spikes, until } from '../helpers/ws.js';

const quiet = { sink: () => undefined };

/** Publishes `publish()` every 20 ms until `done` resolves (a subscription may land after the first publish). */
async function publishUntil<T>(done: Promise<T>, publish: () => void): Promise<T> {
  publish();
  const timer = setInterval(publish, 20);
  try {
    return await done;
  } finally {
    clearInterval(timer);
  }
}

for (const encoding of ['json', 'proto'] as const) {
  test(`every stream reaches the typed client intact (${encoding})`, async () => {
    const server = await startWsServer({ frameWindowUs: 1000, log: quiet });
    let client: WsClient | undefined;
    try {
      client = connectWs({ url: server.url, streams: ['decisions', 'spikes', 'events', 'frames', 'metrics'], encoding, log: quiet });
      await client.ready;
      await until(() => server.clients()[0]?.streams.metrics !== undefined, 5000, 'subscriptions');
      const got = firstValueFrom(client.messages$.pipe(take(7), toArray()));
      server.publish('decisions', decision(1));
      server.publish('spikes', spikes(2));
      server.publish('metrics', metrics(3));
      // 2500 events over 2.5 ms in 1 ms windows: frames [0,1000) and [1000,2000) on arrival, [2000,3000) on flush.
      const packet = events(2500, 0, 1);
      server.publish('events', packet);
      server.flushFrames();
      const messages = await got;
      assert.deepEqual(
        messages.map((m) => m.stream),
        ['decisions', 'spikes', 'metrics', 'events', 'frames', 'frames', 'frames'],
      );
      const d = messages[0]!.data;
      const { emittedUnixMs: _e, ...want } = decision(1);
      assert.deepEqual({ ...d, emittedUnixMs: 0 }, { ...want, emittedUnixMs: 0 });
      assert.deepEqual(messages[1]!.data, spikes(2));
      assert.deepEqual(messages[2]!.data, metrics(3));
      const e = messages[3]!.data as typeof packet;
      assert.deepEqual([e.x, e.y, e.t, e.p, e.geometry, e.source.uri], [packet.x, packet.y, packet.t, packet.p, packet.geometry, 'cam0']);
      // Frames: independent count of the first window from the packet.
      const f = messages[4]!.data as ReturnType<typeof decodeFrame>;
      const want0 = new Uint8Array(64 * 48);
      for (let i = 0; i < 1000; i++) want0[packet.y[i]! * 64 + packet.x[i]!]!++;
      assert.deepEqual([f.source, f.width, f.height, f.windowStartUs, f.windowUs, f.events, f.sequence], ['cam0', 64, 48, 0, 1000, 1000, 1]);
      assert.deepEqual(f.counts, want0);
      const [f1, f2] = [messages[5]!.data, messages[6]!.data] as (typeof f)[];
      assert.deepEqual([f1!.windowStartUs, f1!.events, f1!.sequence], [1000, 1000, 2]);
      assert.deepEqual([f2!.windowStartUs, f2!.events, f2!.sequence], [2000, 500, 3]);
      assert.equal(client.stats.lost, 0);
      assert.equal(client.stats.badMessages, 0);
      assert.deepEqual(server.clients()[0]!.encoding, encoding);
    } finally {
      client?.close();
      await server.close();
    }
  });
}

test('path filters, multi-stream paths, subscribe and unsubscribe messages; raw bytes are Envelopes or JSON', async () => {
  const server = await startWsServer({ log: quiet });
  try {
    const cam0 = await openRaw(`${server.url}/decisions?region=cam0`, 'spikeflow.v1.proto');
    const anyCam = await openRaw(`${server.url}/decisions?region=cam0,cam1&minConfidence=0.5`);
    const multi = await openRaw(`${server.url}/?streams=metrics,decisions`);
    const bySub = await openRaw(`${server.url}/`, 'spikeflow.v1.json');
    bySub.ws.send(JSON.stringify({ op: 'subscribe', stream: 'decisions', filter: { region: 'cam1' } }));
    await bySub.next(isOp('subscribed'));
    assert.equal(cam0.ws.protocol, 'spikeflow.v1.proto');
    server.publish('decisions', decision(1, 'cam0'));
    server.publish('decisions', decision(2, 'cam1'));
    server.publish('decisions', decision(3, 'cam1', { confidence: 0.2 }));
    server.publish('decisions', decision(4, 'cam2'));
    server.publish('metrics', metrics(5));
    const data = (c: typeof cam0) => c.got.filter((m) => typeof m !== 'string' || !('op' in JSON.parse(m)));
    await until(() => data(multi).length === 5 && data(bySub).length === 2 && data(anyCam).length === 2 && data(cam0).length === 1, 5000, 'deliveries');
    assert.deepEqual(data(cam0).map((b) => (decodeWire(b as Buffer) as { sequence: number }).sequence), [1]);
    assert.deepEqual(data(anyCam).map((m) => JSON.parse(m as string).decision.sequence), [1, 2]);
    assert.deepEqual(data(bySub).map((m) => JSON.parse(m as string).decision.sequence), [2, 3]);
    assert.deepEqual(data(multi).map((m) => Object.keys(JSON.parse(m as string))[1]), ['decision', 'decision', 'decision', 'decision', 'metrics']);
    // Unsubscribe: nothing more arrives on that client.
    bySub.ws.send(JSON.stringify({ op: 'unsubscribe', stream: 'decisions' }));
    await bySub.next(isOp('unsubscribed'));
    server.publish('decisions', decision(6, 'cam1'));
    await until(() => data(anyCam).length === 3, 5000, 'cam1 decision');
    assert.equal(data(bySub).length, 2);
    // The hello message lists the path's subscription.
    assert.deepEqual(JSON.parse(anyCam.got[0] as string).streams, { decisions: { region: 'cam0,cam1', minConfidence: '0.5' } });
    for (const c of [cam0, anyCam, multi, bySub]) c.close();
  } finally {
    await server.close();
  }
});

test('bad client input is counted, answered, logged naming the client, and never ends the connection', async () => {
  const lines: string[] = [];
  const server = await startWsServer({ log: { sink: (l) => lines.push(l) }, maxPayload: 1024 });
  try {
    const c = await openRaw(`${server.url}/`);
    const port = (c.ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    const bad = ['not json', '{"op":"subscribe","stream":"nope"}', '{"op":"explode"}', '{"op":"subscribe","stream":"decisions","filter":{"colour":"red"}}'];
    for (const b of bad) c.ws.send(b);
    c.ws.send(Buffer.from([8, 1, 2, 3]));
    c.ws.send(JSON.stringify({ op: 'subscribe', stream: 'decisions' }));
    await c.next(isOp('subscribed'));
    const errors = c.got.filter(isOp('error')).map((m) => JSON.parse(m as string).error as string);
    assert.equal(errors.length, 5);
    assert.match(errors[1]!, /unknown stream "nope"/);
    assert.match(errors[3]!, /unknown filter 'colour'/);
    assert.equal(server.stats.badMessages, 5);
    assert.ok(lines.some((l) => l.includes(`127.0.0.1:${port}`) && l.includes('not JSON')), lines.join('\n'));
    server.publish('decisions', decision(1));
    await c.next((m) => typeof m === 'string' && m.includes('"decision"'));
    // Oversize: that client is closed with 1009, counted; the server goes on serving others.
    const big = await openRaw(`${server.url}/`);
    const closed = new Promise<number>((r) => big.ws.on('close', (code) => r(code)));
    big.ws.send('x'.repeat(5000));
    assert.equal(await closed, 1009);
    await until(() => server.stats.oversize === 1, 2000, 'oversize count');
    server.publish('decisions', decision(2));
    await c.next((m) => typeof m === 'string' && m.includes('"sequence":2'));
    // Unknown path: refused before the handshake.
    await assert.rejects(openRaw(`${server.url}/nothing`), /HTTP 404/);
    await assert.rejects(openRaw(`${server.url}/decisions?colour=red`), /HTTP 404/);
    await assert.rejects(openRaw(`${server.url}/`, 'mqtt'), /HTTP 400/);
    assert.deepEqual(server.stats.rejected, { auth: 0, origin: 0, path: 2, protocol: 1, full: 0 });
    c.close();
  } finally {
    await server.close();
  }
});

test('token (header or query) and Origin allowlist: refusals counted, the token never logged', async () => {
  const token = 'tok-3f9a-secret';
  const lines: string[] = [];
  const server = await startWsServer({ token, origins: ['http://viewer.example'], log: { sink: (l) => lines.push(l), perWindow: 100 } });
  try {
    await assert.rejects(openRaw(`${server.url}/decisions`), /HTTP 401/);
    await assert.rejects(openRaw(`${server.url}/decisions?token=wrong`), /HTTP 401/);
    await assert.rejects(openRaw(`${server.url}/decisions`, undefined, { headers: { authorization: 'Bearer nope' } }), /HTTP 401/);
    await assert.rejects(openRaw(`${server.url}/decisions?token=${token}`, undefined, { origin: 'http://evil.example' }), /HTTP 403/);
    const byHeader = await openRaw(`${server.url}/decisions`, undefined, { headers: { authorization: `Bearer ${token}` } });
    const byQuery = await openRaw(`${server.url}/decisions?token=${token}&region=cam0`, undefined, { origin: 'http://viewer.example' });
    // The typed client sends the token as a header with `ws`.
    const typed = connectWs({ url: server.url, streams: { decisions: { region: 'cam0' } }, token, log: quiet });
    const first = firstValueFrom(typed.stream('decisions'));
    await typed.ready;
    await publishUntil(first, () => server.publish('decisions', decision(1)));
    assert.deepEqual(server.stats.rejected, { auth: 3, origin: 1, path: 0, protocol: 0, full: 0 });
    assert.ok(lines.length >= 4);
    assert.ok(lines.every((l) => !l.includes(token)), lines.join('\n'));
    assert.ok(lines.some((l) => /127\.0\.0\.1:\d+ \/decisions: refused \(wrong token\)/.test(l)), lines.join('\n'));
    typed.close();
    byHeader.close();
    byQuery.close();
  } finally {
    await server.close();
  }
});

test('non-loopback binds: a token is required, and browser Origins are refused unless allowed', async () => {
  await assert.rejects(startWsServer({ host: '0.0.0.0', log: quiet }), /needs a token/);
  const server = await startWsServer({ host: '0.0.0.0', token: 't0k', log: quiet });
  try {
    const url = `ws://127.0.0.1:${server.port}`;
    await assert.rejects(openRaw(`${url}/decisions?token=t0k`, undefined, { origin: 'http://127.0.0.1:8080' }), /HTTP 403/);
    const noOrigin = await openRaw(`${url}/decisions?token=t0k`);
    noOrigin.close();
  } finally {
    await server.close();
  }
  // Loopback with neither: open, as documented.
  const open: WsServer = await startWsServer({ log: quiet });
  const c = await openRaw(`${open.url}/decisions`, undefined, { origin: 'http://anything.example' });
  c.close();
  await open.close();
});

test('heartbeat: a client that stops answering pings is terminated; a live one stays', async () => {
  const lines: string[] = [];
  const server = await startWsServer({ heartbeatMs: 300, statusIntervalMs: 0, log: { sink: (l) => lines.push(l) } });
  try {
    const dead = await openRaw(`${server.url}/decisions`, undefined, { autoPong: false });
    const live = await openRaw(`${server.url}/decisions`);
    const closed = new Promise<number>((r) => dead.ws.on('close', (code) => r(code)));
    assert.equal(await closed, 1006); // terminated: no closing handshake
    assert.equal(server.stats.terminated, 1);
    await until(() => server.stats.clients === 1, 2000, 'server-side close');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(live.ws.readyState, live.ws.OPEN);
    assert.equal(server.stats.terminated, 1);
    assert.ok(lines.some((l) => /no pong within 300 ms; terminated/.test(l)));
    live.close();
  } finally {
    await server.close();
  }
});

test('attach: an observable is published until it ends; an events stream ending flushes its last frame', async () => {
  const server = await startWsServer({ frameWindowUs: 1000, maxClients: 1, log: quiet });
  const client = connectWs({ url: server.url, streams: ['decisions', 'frames'], log: quiet });
  try {
    await client.ready;
    // maxClients: a second connection is refused with 503.
    await assert.rejects(openRaw(`${server.url}/decisions`), /HTTP 503/);
    assert.equal(server.stats.rejected.full, 1);
    const decisions = new Subject<ReturnType<typeof decision>>();
    const packets = new Subject<ReturnType<typeof events>>();
    server.attach(decisions, 'decisions');
    server.attach(packets, 'events');
    const got = firstValueFrom(client.messages$.pipe(take(3), toArray()));
    decisions.next(decision(1));
    decisions.next(decision(2));
    packets.next(events(200, 0, 1)); // one window, still open
    packets.complete();
    const messages = await got;
    assert.deepEqual(messages.map((m) => [m.stream, (m.data as { sequence: number }).sequence]), [['decisions', 1], ['decisions', 2], ['frames', 1]]);
    assert.equal((messages[2]!.data as { events: number }).events, 200);
    assert.equal(server.stats.published.frames, 1);
  } finally {
    client.close();
    await server.close();
  }
});

test('one frame per message and encoding, shared by every client: all three header lengths arrive intact', async () => {
  const server = await startWsServer({ log: quiet });
  try {
    const clients = await Promise.all([openRaw(`${server.url}/events`, 'spikeflow.v1.proto'), openRaw(`${server.url}/events`, 'spikeflow.v1.proto'), openRaw(`${server.url}/events`, 'spikeflow.v1.json')]);
    await Promise.all(clients.map((c) => c.next(isOp('hello'))));
    await until(() => server.clients().filter((c) => c.streams.events).length === 3, 5000, 'subscriptions');
    // Payload lengths in the 7-bit, 16-bit and 64-bit forms of the frame header (proto: ~9 bytes per event).
    const packets = [events(3), events(500), events(9000)];
    for (const p of packets) server.publish('events', p);
    for (const c of clients) {
      // Data messages only (hello and status messages are JSON with an op).
      const isData = (m: string | Buffer) => typeof m !== 'string' || (JSON.parse(m) as { op?: string }).op === undefined;
      await until(() => c.got.filter(isData).length === packets.length, 5000, 'three packets');
      const data = c.got.filter(isData);
      for (let k = 0; k < packets.length; k++) {
        const m = data[k]!;
        const got = typeof m === 'string' ? (JSON.parse(m) as { events: { x: number[] } }).events.x : (decodeWire(m) as { packet: { x: Uint16Array } }).packet.x;
        assert.deepEqual(Array.from(got), Array.from(packets[k]!.x), `client ${clients.indexOf(c)} packet ${k}`);
      }
    }
    assert.ok(encodeWire({ kind: 'events', sequence: 1, packet: packets[2]! }).length > 65535, 'the large packet needs the 64-bit length form');
    assert.equal(server.stats.sent, 9);
  } finally {
    await server.close();
  }
});
