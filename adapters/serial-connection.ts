/**
 * One serial device kept open across unplug/replug, shared by fromSerial and openSerialSink.
 *
 * `start()` opens the port; when opening fails (the path does not exist yet, permission, busy) or an
 * open port goes away (USB unplugged, the pty's other end closed — serialport reports a read error and
 * closes the port), the loss is counted, reported, and the port is reopened after the shared
 * exponential Backoff until `stop()`. The backoff is reset only by a connection that delivered data
 * (or, for a sink, accepted a write), so a device that opens and drops at once is not hammered.
 * Errors go to a RateLimitedLog (stderr by default) prefixed with the path, and every one to `onError`.
 * Besides read/write errors, an open port polls its path (`presenceCheckMs`): a path that no longer exists
 * or now names another device node (replugged elsewhere, socat restarted) counts as a loss.
 * Device discovery (SerialPort.list) is not used: it needs udev, absent in containers; give the path.
 */

import { stat } from 'node:fs';
import { SerialPort } from 'serialport';
import { Backoff, type BackoffOptions } from './backoff.js';
import { RateLimitedLog, type ErrorLogOptions } from './error-log.js';

export interface SerialPortOptions {
  /** Device path, e.g. /dev/ttyACM0 or a /dev/serial/by-id link (stable across replug). */
  readonly path: string;
  readonly baudRate: number;
  readonly dataBits?: 5 | 6 | 7 | 8;
  readonly stopBits?: 1 | 1.5 | 2;
  readonly parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  /** Hardware flow control (RTS/CTS); lets a paused reader stop the device instead of dropping bytes. */
  readonly rtscts?: boolean;
  /** Default: reconnect forever with the shared backoff (200 ms doubling to 5 s). false: errors end the stream. */
  readonly reconnect?: false | BackoffOptions;
  /** Every connection error and decode error, as an Error (after it was counted). */
  readonly onError?: (e: Error) => void;
  /** Where the rate-limited error lines go (default: stderr, 5 per 5 s). */
  readonly log?: ErrorLogOptions;
  /**
   * How often (ms) an open port checks that its path still names the same device (default 500; 0 = off).
   * Needed because a hung-up tty may read as end-of-file forever instead of failing, so a vanished
   * device is not always seen by reads alone.
   */
  readonly presenceCheckMs?: number;
}

export interface SerialLinkStats {
  connected: boolean;
  /** Successful opens. */
  connections: number;
  /** Opens after a loss (connections − 1 once connected at least once). */
  reconnects: number;
  /** Open ports that went away. */
  disconnects: number;
  /** Attempts to open that failed (path missing, busy, …). */
  openFailures: number;
  /** Every error reported (connection and decode), logged or suppressed. */
  errors: number;
}

export function newLinkStats(): SerialLinkStats {
  return { connected: false, connections: 0, reconnects: 0, disconnects: 0, openFailures: 0, errors: 0 };
}

export interface SerialLinkHandlers {
  open(port: SerialPort): void;
  data?(chunk: Buffer): void;
  /** The port is gone (or could not be opened); `retryMs` undefined when no retry will follow. */
  lost(e: Error, retryMs: number | undefined): void;
}

export class SerialLink {
  port: SerialPort | undefined;
  readonly log: RateLimitedLog;
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    readonly o: SerialPortOptions,
    readonly stats: SerialLinkStats,
    private readonly h: SerialLinkHandlers,
  ) {
    this.log = new RateLimitedLog(`serial ${o.path}`, o.log);
    this.backoff = new Backoff(o.reconnect === false ? { maxAttempts: 0 } : o.reconnect);
  }

  /** Counts, logs (rate-limited) and hands the error to onError. */
  report(e: Error): void {
    this.stats.errors++;
    this.log.report(e);
    this.o.onError?.(e);
  }

  /** The connection proved useful: the next loss retries at the initial delay. */
  healthy(): void {
    this.backoff.reset();
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.log.flush();
    const p = this.port;
    this.port = undefined;
    this.stats.connected = false;
    if (!p || !p.isOpen) return Promise.resolve();
    return new Promise((resolve) => p.close(() => resolve()));
  }

  private open(): void {
    this.timer = undefined;
    if (this.stopped) return;
    let port: SerialPort;
    try {
      port = new SerialPort({
        path: this.o.path,
        baudRate: this.o.baudRate,
        dataBits: this.o.dataBits,
        stopBits: this.o.stopBits,
        parity: this.o.parity,
        rtscts: this.o.rtscts,
        autoOpen: false,
      });
    } catch (e) {
      // Invalid options: no retry can fix them.
      this.stopped = true;
      this.h.lost(e instanceof Error ? e : new Error(String(e)), undefined);
      return;
    }
    this.port = port;
    let opened = false;
    let gone = false;
    let presence: NodeJS.Timeout | undefined;
    const lose = (why: string) => {
      if (presence) clearInterval(presence);
      if (gone || this.stopped || this.port !== port) return;
      gone = true;
      this.port = undefined;
      this.stats.connected = false;
      this.stats.disconnects++;
      if (port.isOpen) port.close(() => undefined);
      this.retry(new Error(`serial ${this.o.path}: device lost (${why})`));
    };
    // Without an 'error' listener a stray error would crash the process.
    port.on('error', (e) => {
      if (opened) lose(e.message);
    });
    port.on('close', (e: (Error & { disconnected?: boolean }) | null) => lose(e?.message ?? 'port closed'));
    port.on('end', () => lose('end of stream'));
    // Always read, even for a sink: a failing read is how an unplugged device shows itself.
    port.on('data', (chunk: Buffer) => this.h.data?.(chunk));
    port.open((e) => {
      if (this.port !== port) return;
      if (e) {
        this.port = undefined;
        this.stats.openFailures++;
        this.retry(new Error(`serial ${this.o.path}: cannot open (${e.message.replace(/^Error: /, '')})`));
        return;
      }
      if (this.stopped) {
        port.close(() => undefined);
        return;
      }
      opened = true;
      this.watch(port, (why) => lose(why), (t) => (presence = t));
      if (this.stats.connections > 0) this.stats.reconnects++;
      this.stats.connections++;
      this.stats.connected = true;
      this.h.open(port);
    });
  }

  /** Polls the path: gone, or a different device node than the one opened, means the device was lost. */
  private watch(port: SerialPort, lose: (why: string) => void, keep: (t: NodeJS.Timeout) => void): void {
    const every = this.o.presenceCheckMs ?? 500;
    if (!(every > 0)) return;
    stat(this.o.path, (e, first) => {
      if (e) return lose(`path gone (${e.code ?? e.message})`);
      if (this.port !== port) return;
      const t = setInterval(() => {
        stat(this.o.path, (e2, now) => {
          if (e2) lose(`path gone (${e2.code ?? e2.message})`);
          else if (now.rdev !== first.rdev || now.ino !== first.ino) lose('path now names another device');
        });
      }, every);
      t.unref(); // the check alone must not keep the process alive
      keep(t);
    });
  }

  private retry(e: Error): void {
    const delay = this.o.reconnect === false ? undefined : this.backoff.next();
    const err = delay === undefined ? e : new Error(`${e.message}; retrying in ${delay} ms`);
    this.report(err);
    this.h.lost(err, delay);
    if (delay === undefined || this.stopped) return;
    this.timer = setTimeout(() => this.open(), delay);
  }
}
