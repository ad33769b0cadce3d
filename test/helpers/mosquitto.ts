/**
 * A real mosquitto broker for tests and benches: started from /usr/sbin/mosquitto with a generated config
 * on a free loopback port, persistence in a temp directory, and restartable on the same port (to test
 * reconnection and persistent sessions). Never a system service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO_BIN = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';
export const mosquittoAvailable = existsSync(MOSQUITTO_BIN);

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops the broker (SIGTERM: mosquitto saves its persistence file on the way out). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same config and persistence. */
  start(): Promise<void>;
  /** Stops it and removes the temp directory. */
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface MosquittoOptions {
  /** Keep sessions and queued messages across restarts, in the temp dir. */
  readonly persistence?: boolean;
  readonly port?: number;
  /** Default true; false needs a password_file line in `extra`. */
  readonly anonymous?: boolean;
  /** Config lines after the listener line (certfile, keyfile, password_file…). */
  readonly extra?: readonly string[];
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'spikeflow-mosquitto-'));
  const port = options.port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${options.anonymous ?? true}`,
    'set_tcp_nodelay true',
    // Tests run as root: keep root so the broker can write its persistence file in our temp dir.
    'user root',
    // No queue cap: a persistent session must keep everything published while its client is away.
    'max_queued_messages 0',
    'log_dest stderr',
    'log_type error',
    ...(options.persistence ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 0'] : ['persistence false']),
    ...(options.extra ?? []),
  ];
  writeFileSync(conf, lines.join('\n') + '\n');
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async () => {
    stderr = '';
    const c = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited with ${c.exitCode}: ${stderr.trim()}`);
      if (await canConnect(port)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within 10 s: ${stderr.trim()}`);
      await sleep(20);
    }
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    await exited;
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
