/**
 * The typed client's connection handling over real loopback: reconnecting with backoff after the server
 * restarts on the same port, with the messages published meanwhile counted as lost from sequence
 * numbers; reconnecting when a connection goes silent; completing when reconnect is off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { startWsServer, type WsServer } from '../../adapters/ws-server.js';
import { connectWs } from '../../adapters/ws-client.js';
import { decision, until } from '../helpers/ws.js';

const subscribed = (s: WsServer) => () => s.clients().some((c) => c.streams.decisions !== undefined);

test('server restart: the client reconnects with backoff and counts what it missed', async () => {
  const lines: string[] = [];
  let server = await startWsServer({ log: { sink: () => undefined } });
  const port = server.port;
  const client = connectWs({ url: server.url, streams: ['decisions'], reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, log: { sink: (l) => lines.push(l), perWindow: 50 } });
  const sequences: number[] = [];
  client.stream('decisions').subscribe((d) => sequences.push(d.sequence));
  try {
    await client.ready;
    await until(subscribed(server), 5000, 'subscription');
    let seq = 0;
    for (let k = 0; k < 10; k++) server.publish('decisions', decision(++seq));
    await until(() => sequences.length === 10, 5000, 'first 10');
    await server.close();
    await until(() => !client.stats.connected, 5000, 'disconnect seen');
    // The pipeline goes on while no server runs: these never reach anyone.
    seq += 5;
    await new Promise((r) => setTimeout(r, 300)); // a few refused attempts: backoff grows
    server = await startWsServer({ port, log: { sink: () => undefined } });
    await until(() => client.stats.connected && subscribed(server)(), 10_000, 'reconnect');
    const before = sequences.length;
    while (sequences.length === before) {
      server.publish('decisions', decision(++seq));
      await new Promise((r) => setTimeout(r, 20));
    }
    const firstAfter = sequences[10]!;
    assert.deepEqual(sequences.slice(0, 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(firstAfter >= 16);
    assert.equal(client.stats.lost, firstAfter - 11);
    // At least one reconnect after the restart, one socket at a time (a second socket opened while one
    // is open would count a connect without a disconnect). Under the load of the whole suite a third
    // connect was seen once (cause not pinned down; the log lines below would name the drop): the
    // client reconnecting again after a drop is right, so exactly two connects is not required.
    const { connects, disconnects, restarts } = client.stats;
    assert.ok(connects >= 2, `connects ${connects}`);
    assert.equal(connects, disconnects + 1, `one socket at a time (connects ${connects}, disconnects ${disconnects}):\n${lines.join('\n')}`);
    assert.equal(restarts, 0);
    assert.ok(lines.some((l) => /connection ended \(code 100[16].*\); reconnecting in \d+ ms/.test(l)), lines.join('\n'));
  } finally {
    client.close();
    await server.close();
  }
});

test('a connection that goes silent past idleTimeoutMs is replaced', async () => {
  // No status messages and no heartbeat: the server says nothing after hello.
  const server = await startWsServer({ statusIntervalMs: 0, heartbeatMs: 0, log: { sink: () => undefined } });
  const client = connectWs({ url: server.url, streams: ['decisions'], idleTimeoutMs: 300, reconnect: { initialDelayMs: 20 }, log: { sink: () => undefined } });
  try {
    await client.ready;
    await until(() => client.stats.connects >= 2, 5000, 'reconnect after silence');
    assert.ok(client.stats.disconnects >= 1);
    await until(() => client.stats.connected && subscribed(server)(), 5000, 'subscribed again');
    const got = new Promise((r) => client.stream('decisions').subscribe(r));
    server.publish('decisions', decision(1));
    await got;
  } finally {
    client.close();
    await server.close();
  }
});

test('reconnect: false — the observable completes when the server closes', async () => {
  const server = await startWsServer({ log: { sink: () => undefined } });
  const client = connectWs({ url: server.url, streams: ['decisions'], reconnect: false, log: { sink: () => undefined } });
  const all = lastValueFrom(client.stream('decisions').pipe(toArray()));
  await client.ready;
  await until(subscribed(server), 5000, 'subscription');
  server.publish('decisions', decision(1));
  server.publish('decisions', decision(2));
  await until(() => client.stats.received.decisions === 2, 5000, 'two decisions');
  await server.close();
  assert.deepEqual((await all).map((d) => d.sequence), [1, 2]);
});

test('ready rejects when the server refuses a subscription, naming why', async () => {
  const server = await startWsServer({ log: { sink: () => undefined } });
  const lines: string[] = [];
  const client = connectWs({ url: server.url, streams: { decisions: { colour: 'red' } }, log: { sink: (l) => lines.push(l) } });
  try {
    await assert.rejects(client.ready, /subscription refused: unknown filter 'colour' for decisions/);
    assert.equal(client.stats.serverErrors, 1);
    assert.ok(lines.some((l) => l.startsWith(`ws-client 127.0.0.1:${server.port}: server: unknown filter`)), lines.join('\n'));
  } finally {
    client.close();
    await server.close();
  }
});

test('sequence gaps made by a region filter are not counted as lost; server drops still are reported', async () => {
  const server = await startWsServer({ statusIntervalMs: 100, log: { sink: () => undefined } });
  const filtered = connectWs({ url: server.url, streams: { decisions: { region: 'cam0' } }, log: { sink: () => undefined } });
  const all = connectWs({ url: server.url, streams: ['decisions'], log: { sink: () => undefined } });
  try {
    await Promise.all([filtered.ready, all.ready]);
    for (let s = 1; s <= 6; s++) server.publish('decisions', decision(s, s % 2 ? 'cam0' : 'cam1'));
    server.publish('decisions', decision(9, 'cam0')); // 7 and 8 never published: a real gap
    await until(() => filtered.stats.received.decisions === 4 && all.stats.received.decisions === 7, 5000, 'deliveries');
    assert.equal(filtered.stats.lost, 0);
    assert.equal(all.stats.lost, 2);
    const status = await firstValueFrom(filtered.status$);
    assert.equal(status.dropped.decisions, 0);
    assert.equal(status.sent.decisions, 4);
  } finally {
    filtered.close();
    all.close();
    await server.close();
  }
});
