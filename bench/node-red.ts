/**
 * `npm run bench -- node-red [--count N] [--rounds N]`
 *
 * Issue 4's small-message comparison, measured rather than quoted: the same path in Node-RED and in
 * spikeflow, each in a process of its own, fed through one mosquitto (started here, TCP no-delay) by
 * the lean raw publisher of the MQTT bench (bench/mqtt-publisher.ts), and read by one raw WebSocket
 * client that counts frames (bench/ws-frame-counter.ts):
 *  - Node-RED 4.1.8: the flow MQTT-in (utf8) → function (`msg.payload = JSON.parse(msg.payload)`) →
 *    websocket-out, fed JSON decisions. Installed on first use into .cache/node-red from the npm
 *    registry (git-ignored; never a dependency of spikeflow), started with its editor off;
 *  - spikeflow: fromMqtt → the WebSocket server's decisions stream (bench/mqtt-to-ws.ts), fed
 *    protobuf decisions, sending JSON.
 * msg/s = frames received / (last − first arrival), the median of `rounds` rounds (default 3),
 * alternating the two, N messages each (default 100,000). Also: each side's CPU µs per message, and
 * what mosquitto relays here to a frame counter (the ceiling every subscriber shares on 2 cores).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMosquitto, freePort } from '../test/helpers/mosquitto.js';
import { processCpuUs, runPublisher } from './mqtt.js';

const here = dirname(fileURLToPath(import.meta.url));
const NODE_RED_VERSION = '4.1.8';
const cacheDir = join(here, '..', '.cache', 'node-red');
/** One topic each: a side never sees (and spends CPU on) the other's round. */
const TOPIC = { nodeRed: 'bench/node-red/decisions', spikeflow: 'bench/spikeflow/decisions' } as const;

function ensureNodeRed(): string {
  const red = join(cacheDir, 'node_modules', 'node-red', 'red.js');
  if (existsSync(red) && JSON.parse(readFileSync(join(cacheDir, 'node_modules', 'node-red', 'package.json'), 'utf8')).version === NODE_RED_VERSION) return red;
  console.log(`node-red bench: installing node-red@${NODE_RED_VERSION} into ${cacheDir} (npm registry, once)`);
  mkdirSync(cacheDir, { recursive: true });
  const r = spawnSync('npm', ['install', '--prefix', cacheDir, '--no-audit', '--no-fund', '--no-save', `node-red@${NODE_RED_VERSION}`], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(red)) throw new Error(`node-red bench: could not install node-red@${NODE_RED_VERSION} (npm exited with ${r.status})`);
  return red;
}

/** Starts a child and resolves with it once it printed a line for which `ready` returns a value. */
function startChild<T>(args: string[], ready: (line: string) => T | undefined, what: string, timeoutMs = 60_000): Promise<{ child: ChildProcess; value: T }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} not ready within ${timeoutMs / 1000} s: ${err.slice(-500)}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        const v = ready(line);
        if (v !== undefined) {
          clearTimeout(timer);
          out = '';
          return resolve({ child, value: v });
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${err.slice(-500)}`));
    });
  });
}

async function startNodeRed(red: string, brokerPort: number): Promise<{ child: ChildProcess; url: string }> {
  const userDir = mkdtempSync(join(tmpdir(), 'spikeflow-node-red-'));
  const port = await freePort();
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(brokerPort), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    { id: 'in', type: 'mqtt in', z: 'tab', topic: TOPIC.nodeRed, qos: '0', datatype: 'utf8', broker: 'broker', nl: false, rap: true, rh: 0, inputs: 0, wires: [['fn']] },
    { id: 'fn', type: 'function', z: 'tab', func: 'msg.payload = JSON.parse(msg.payload);\nreturn msg;', outputs: 1, wires: [['out']] },
    { id: 'listener', type: 'websocket-listener', path: '/ws/decisions', wholemsg: 'false' },
    { id: 'out', type: 'websocket out', z: 'tab', server: 'listener', client: '', wires: [] },
  ];
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(join(userDir, 'settings.js'), `module.exports = { uiPort: ${port}, uiHost: '127.0.0.1', httpAdminRoot: false, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'info', metrics: false, audit: false } } };\n`);
  const { child } = await startChild([red, '--userDir', userDir, '--settings', join(userDir, 'settings.js')], (l) => (/Connected to broker/.test(l) ? true : undefined), 'node-red');
  return { child, url: `ws://127.0.0.1:${port}/ws/decisions` };
}

interface Round {
  readonly sent: number;
  readonly received: number;
  readonly msgPerS: number;
  readonly serverCpuUsPerMsg: number;
}

/** One round: a counting client on `url`, N decisions through the broker, the server's CPU per message. */
async function round(url: string, server: ChildProcess, brokerUrl: string, mode: 'spikeflow' | 'baseline', topic: string, count: number): Promise<Round> {
  const { child: counter } = await startChild(['--import', 'tsx', join(here, 'ws-frame-counter.ts'), url, String(count)], (l) => (l.includes('"ready"') ? true : undefined), 'ws-frame-counter');
  const result = new Promise<{ frames: number; firstMs: number; lastMs: number }>((resolve) => {
    let out = '';
    counter.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"frames"'));
      if (line) resolve(JSON.parse(line));
    });
  });
  const cpu0 = processCpuUs(server.pid!);
  await runPublisher({ url: brokerUrl, mode, kind: 'decision', topic, count, eventsPerPacket: 0, qos: 0, batch: 200, publisher: 'raw' });
  const stop = setTimeout(() => counter.kill('SIGTERM'), 60_000);
  const r = await result;
  clearTimeout(stop);
  const cpu = processCpuUs(server.pid!) - cpu0;
  return { sent: count, received: r.frames, msgPerS: Math.round(r.frames / ((r.lastMs - r.firstMs) / 1000)), serverCpuUsPerMsg: Math.round((cpu / Math.max(1, r.frames)) * 100) / 100 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function main(args: string[]): Promise<Record<string, unknown>> {
  let count = 100_000;
  let rounds = 3;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = Number(args[++i]);
    if (a === '--count' && Number.isInteger(v) && v > 0) count = v;
    else if (a === '--rounds' && Number.isInteger(v) && v > 0) rounds = v;
    else throw new Error(`node-red bench: bad argument ${a} (use --count N, --rounds N)`);
  }
  const red = ensureNodeRed();
  const broker = await startMosquitto();
  const nodeRed = await startNodeRed(red, broker.port);
  const ours = await startChild(['--import', 'tsx', join(here, 'mqtt-to-ws.ts'), broker.url, TOPIC.spikeflow], (l) => (l.startsWith('{"url"') ? (JSON.parse(l).url as string) : undefined), 'spikeflow mqtt-to-ws');
  const results: { nodeRed: Round[]; spikeflow: Round[] } = { nodeRed: [], spikeflow: [] };
  try {
    for (let k = 0; k < rounds; k++) {
      const n = await round(nodeRed.url, nodeRed.child, broker.url, 'baseline', TOPIC.nodeRed, count);
      console.log(`round ${k + 1} node-red ${NODE_RED_VERSION}: ${JSON.stringify(n)}`);
      results.nodeRed.push(n);
      const s = await round(ours.value, ours.child, broker.url, 'spikeflow', TOPIC.spikeflow, count);
      console.log(`round ${k + 1} spikeflow: ${JSON.stringify(s)}`);
      results.spikeflow.push(s);
    }
  } finally {
    nodeRed.child.kill('SIGTERM');
    ours.child.kill('SIGTERM');
    await broker.stop();
  }
  const nr = median(results.nodeRed.map((r) => r.msgPerS));
  const sf = median(results.spikeflow.map((r) => r.msgPerS));
  console.log(`MQTT → function → WebSocket, small messages: spikeflow ${sf} msg/s, Node-RED ${nr} msg/s: ${(sf / nr).toFixed(2)}× (goal ≥ 5×)`);
  return { count, rounds, nodeRedVersion: NODE_RED_VERSION, nodeRedMsgPerS: nr, spikeflowMsgPerS: sf, ratio: Math.round((sf / nr) * 100) / 100, results };
}
