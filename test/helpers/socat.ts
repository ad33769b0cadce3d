/**
 * A real pseudo-terminal pair from socat for serial tests: `a` and `b` are link paths in a temp dir;
 * bytes written to one come out of the other. `stop()` kills socat (the links vanish, open ports see
 * the device go away, like an unplugged USB adapter); `start()` brings the pair back on the same paths.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

export class PtyPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'spikeflow-serial-'));
  readonly a = join(this.dir, 'a');
  readonly b = join(this.dir, 'b');
  private child: ChildProcess | undefined;

  /** Starts socat and waits until both links exist. */
  async start(timeoutMs = 15000): Promise<void> {
    if (this.child) throw new Error('socat already running');
    const child = spawn('socat', [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    this.child = child;
    const t0 = Date.now();
    while (!(existsSync(this.a) && existsSync(this.b))) {
      if (child.exitCode !== null) throw new Error(`socat exited with ${child.exitCode}`);
      if (Date.now() - t0 > timeoutMs) throw new Error('socat links did not appear');
      await sleep(20);
    }
  }

  /** Kills socat and waits for it to exit. SIGTERM: it removes the links; SIGKILL leaves them dangling. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const c = this.child;
    this.child = undefined;
    await terminate(c, signal);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * One pty from socat whose other side is a unix socket the test listens on: the test's server outlives
 * socat, so bytes written to the pty right after a restart are not lost to the reader reopening its end
 * (opening a tty flushes what was waiting in it).
 */
export class PtyToSocket {
  readonly dir = mkdtempSync(join(tmpdir(), 'spikeflow-serial-'));
  readonly path = join(this.dir, 'tty');
  readonly socket = join(this.dir, 'device.sock');
  private child: ChildProcess | undefined;

  async start(timeoutMs = 15000): Promise<void> {
    if (this.child) throw new Error('socat already running');
    const child = spawn('socat', [`pty,raw,echo=0,link=${this.path}`, `UNIX-CONNECT:${this.socket}`], { stdio: 'ignore' });
    this.child = child;
    const t0 = Date.now();
    while (!existsSync(this.path)) {
      if (child.exitCode !== null) throw new Error(`socat exited with ${child.exitCode}`);
      if (Date.now() - t0 > timeoutMs) throw new Error('socat link did not appear');
      await sleep(20);
    }
  }

  /** Kills socat (the pty vanishes; the test's socket server stays). */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    await terminate(c);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function terminate(c: ChildProcess | undefined, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill(signal);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 10 ms until it holds; fails with `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A raw port on the device end (the test plays the microcontroller). */
export async function openRaw(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  port.on('error', () => undefined); // the test kills socat under it on purpose
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  return port;
}

export function writeRaw(port: SerialPort, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => port.write(bytes, (e) => (e ? reject(e) : port.drain((d) => (d ? reject(d) : resolve())))));
}

export async function closeRaw(port: SerialPort): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => port.close(() => resolve()));
}
