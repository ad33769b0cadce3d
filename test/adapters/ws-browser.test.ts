/**
 * The client library in real headless Chromium: adapters/ws-client.ts bundled for the browser with
 * esbuild (no Node built-ins may end up in the bundle), served from a loopback page, connects with a
 * ?token to a server whose Origin allowlist holds the page's origin, and receives filtered decisions
 * and frames through the browser's own WebSocket. A page from another origin is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { startWsServer } from '../../adapters/ws-server.js';
import type { WsClientStats } from '../../adapters/ws-client.js';
import { decision, events } from '../helpers/ws.js';

// Page scripts as plain JavaScript text: functions compiled by tsx would carry its helpers (__name) into the page.
const RECEIVE = `async ({ url, token }) => {
  const { connectWs } = await import('/client.js');
  const client = connectWs({ url, token, streams: { decisions: { region: 'cam0' }, frames: {} } });
  const decisions = [];
  const frames = [];
  await new Promise((resolve) => {
    client.stream('decisions').subscribe((d) => {
      decisions.push({ region: d.region, sequence: d.sequence, latencyMs: Date.now() - d.emittedUnixMs });
      if (decisions.length >= 20 && frames.length >= 2) resolve();
    });
    client.stream('frames').subscribe((f) => frames.push({ width: f.width, events: f.events, total: f.counts.reduce((a, b) => a + b, 0) }));
  });
  client.close();
  return { decisions, frames, nodeBuffer: typeof globalThis.Buffer, stats: { ...client.stats } };
}`;

const REFUSED = `async ({ url, token }) => {
  const { connectWs } = await import('/client.js');
  const client = connectWs({ url, token, streams: ['decisions'], reconnect: false, log: { sink: () => undefined } });
  await new Promise((resolve) => client.messages$.subscribe({ complete: resolve, error: resolve }));
  return { ...client.stats };
}`;

test('ws-client bundled for the browser receives decisions and frames in headless Chromium', async () => {
  const bundle = await build({ entryPoints: ['adapters/ws-client.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  const code = bundle.outputFiles[0]!.text;
  assert.ok(!/from\s*["']node:|require\(["'](node:)?(fs|path|url|http|crypto|net)["']\)/.test(code), 'Node built-ins in the browser bundle');
  assert.ok(!/protobufjs/.test(code), 'the protobuf codec must stay out of the browser bundle');

  const page = createServer((req, res) => {
    if (req.url === '/client.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(code);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>spikeflow ws</title>');
  });
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', () => r()));
  const pagePort = (page.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${pagePort}`;
  const token = 'browser-tok';
  const server = await startWsServer({ token, origins: [origin], frameWindowUs: 1000, log: { sink: () => undefined } });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'] });
  let seq = 0;
  const publisher = setInterval(() => {
    server.publish('decisions', decision(++seq, seq % 2 ? 'cam0' : 'cam1', { emittedUnixMs: Date.now() }));
    if (seq % 5 === 0) {
      server.publish('events', events(300, seq * 1000, 1));
      server.flushFrames();
    }
  }, 10);
  try {
    const tab = await browser.newPage();
    await tab.goto(`${origin}/`);
    const result = (await tab.evaluate(`(${RECEIVE})(${JSON.stringify({ url: server.url, token })})`)) as {
      decisions: { region: string; sequence: number; latencyMs: number }[];
      frames: { width: number; events: number; total: number }[];
      nodeBuffer: string;
      stats: WsClientStats;
    };
    assert.equal(result.nodeBuffer, 'undefined');
    assert.ok(result.decisions.every((d) => d.region === 'cam0'));
    assert.ok(result.decisions.every((d) => d.sequence % 2 === 1));
    assert.ok(result.frames.every((f) => f.width === 64 && f.events === 300 && f.total === 300), JSON.stringify(result.frames));
    assert.equal(result.stats.badMessages, 0);
    assert.equal(result.stats.connects, 1);
    const latencies = result.decisions.map((d) => d.latencyMs).sort((a, b) => a - b);
    assert.ok(latencies[Math.floor(latencies.length / 2)]! < 200, `median browser latency ${latencies.join(',')}`);

    // The same page from another origin (localhost instead of 127.0.0.1) is refused by the allowlist.
    const other = await browser.newPage();
    await other.goto(`http://localhost:${pagePort}/`);
    const refused = (await other.evaluate(`(${REFUSED})(${JSON.stringify({ url: server.url, token })})`)) as WsClientStats;
    assert.equal(refused.connects, 0);
    assert.equal(server.stats.rejected.origin, 1);
  } finally {
    clearInterval(publisher);
    await browser.close();
    await server.close();
    await new Promise<void>((r) => page.close(() => r()));
  }
});
