/**
 * A client that stops reading (its socket paused) while the server publishes ~18 MB of event packets
 * and decisions: the server's memory for it stays within its bounds, the oldest messages are dropped
 * and counted, the counts reach the client once it reads again (matching its sequence gaps), and the
 * other clients get every decision with low latency. Publishing never blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startWsServer } from '../../adapters/ws-server.js';
import { connectWs, type WebSocketConstructor } from '../../adapters/ws-client.js';
import { decision, events, percentile, until } from '../helpers/ws.js';

const quiet = { sink: () => undefined };
const LIMIT = 256 * 1024;

test('slow client: bounded memory, drops counted and reported, other clients unaffected', async (t) => {
  const server = await startWsServer({ sendBufferBytes: LIMIT, queueBytes: LIMIT, statusIntervalMs: 200, heartbeatMs: 60_000, log: quiet });
  const sockets: WebSocket[] = [];
  class Spy extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  const slow = connectWs({ url: server.url, streams: ['events', 'decisions'], encoding: 'proto', WebSocket: Spy as unknown as WebSocketConstructor, idleTimeoutMs: 0, log: quiet });
  const fast = [0, 1, 2].map((k) => connectWs({ url: server.url, streams: ['decisions'], encoding: k === 0 ? 'proto' : 'json', log: quiet }));
  const latencies: number[] = [];
  for (const c of fast) c.stream('decisions').subscribe((d) => latencies.push(Date.now() - d.emittedUnixMs));
  try {
    await Promise.all([slow.ready, ...fast.map((c) => c.ready)]);
    await until(() => server.clients().filter((c) => c.streams.decisions).length === 4 && server.clients().some((c) => c.streams.events), 5000, 'subscriptions');
    (sockets[0] as unknown as { _socket: { pause(): void } })._socket.pause();
    const slowInfo = () => server.clients().find((c) => c.streams.events)!;

    let seq = 0;
    let packets = 0;
    let maxQueued = 0;
    let maxBuffered = 0;
    const publishMs: number[] = [];
    const packetBytes = 36_000; // 4000 events, compact times
    const batch = [events(4000, 0), events(4000, 4000)];
    // Publish until well past the point where the slow client's bounds are full (kernel buffers hold a few MB first).
    const end = Date.now() + 20_000;
    while (((slowInfo().dropped.events ?? 0) < 100 || seq < 100) && Date.now() < end) {
      const t0 = performance.now();
      server.publish('decisions', decision(++seq, 'cam0', { emittedUnixMs: Date.now() }));
      for (const p of batch) {
        server.publish('events', p);
        packets++;
      }
      publishMs.push(performance.now() - t0);
      const s = slowInfo();
      maxQueued = Math.max(maxQueued, s.queuedBytes);
      maxBuffered = Math.max(maxBuffered, s.bufferedAmount);
      await new Promise((r) => setTimeout(r, 10));
    }
    const info = slowInfo();
    t.diagnostic(`published ${seq} decisions, ${packets} packets; slow client dropped ${JSON.stringify(info.dropped)}; max queued ${maxQueued} B, max buffered ${maxBuffered} B; publish p50 ${percentile(publishMs, 0.5).toFixed(2)} ms, p95 ${percentile(publishMs, 0.95).toFixed(2)} ms`);
    // Bounded: each part at most its limit plus one message.
    assert.ok(maxQueued <= LIMIT + packetBytes, `queued ${maxQueued}`);
    assert.ok(maxBuffered <= LIMIT + packetBytes, `buffered ${maxBuffered}`);
    assert.ok((info.dropped.events ?? 0) >= 100, JSON.stringify(info.dropped));
    assert.equal(server.stats.dropped, (info.dropped.events ?? 0) + (info.dropped.decisions ?? 0));
    // Publishing only queues: it never waits for the slow reader (the first call also compiles the encoders).
    assert.ok(percentile(publishMs.slice(1), 0.95) < 25, `publish p95 ${percentile(publishMs.slice(1), 0.95)} ms`);

    // The others got every decision, in time.
    await until(() => fast.every((c) => c.stats.received.decisions === seq), 5000, 'fast clients');
    for (const c of fast) assert.deepEqual([c.stats.lost, c.stats.serverDropped], [0, 0]);
    const p99 = percentile(latencies, 0.99);
    t.diagnostic(`fast clients: ${latencies.length} decisions, latency p50 ${percentile(latencies, 0.5)} ms, p99 ${p99} ms`);
    // Generous bounds for a loaded machine; a stall behind the slow client would last the whole multi-second run.
    assert.ok(percentile(latencies, 0.5) < 50 && p99 < 500, `p50 ${percentile(latencies, 0.5)} ms, p99 ${p99} ms`);

    // The slow client reads again: it gets the newest messages, and the server's drop count, which its sequence gaps confirm.
    (sockets[0] as unknown as { _socket: { resume(): void } })._socket.resume();
    const dropped = (info.dropped.events ?? 0) + (info.dropped.decisions ?? 0);
    await until(() => slow.stats.serverDropped === dropped && slow.stats.received.decisions + (info.dropped.decisions ?? 0) === seq, 15_000, 'slow client catching up');
    assert.equal(slow.stats.received.events + (info.dropped.events ?? 0), packets);
    assert.equal(slow.stats.lost, dropped);
    assert.equal(slow.stats.disconnects, 0);
  } finally {
    slow.close();
    for (const c of fast) c.close();
    await server.close();
  }
});
