/**
 * Serial devices kept open across unplug/replug, shared by fromSerial and openSerialSink.
 *
 * One port per path in the process: a source and a sink on the same path (events in, decisions out to
 * the same microcontroller) share one open port — the OS lock would refuse a second open, and two
 * readers would steal each other's bytes. The port opens when the first user attaches and closes when
 * the last detaches; reconnect and line settings come from the first user (a different baud rate is
 * refused).
 *
 * When opening fails (the path does not exist yet, permission, busy) or an open port goes away (USB
 * unplugged, the pty's other end closed — serialport reports a read error and closes the port), the
 * loss is counted in every user's stats, reported, and the port is reopened after the shared
 * exponential Backoff. The backoff is reset only by a connection that proved useful (a good frame
 * read, a write accepted), so a device that opens and drops at once is not hammered.
 * Besides read/write errors, an open port polls its path (`presenceCheckMs`): a path that no longer
 * exists or now names another device node (replugged elsewhere, socat restarted) counts as a loss —
 * a hung-up tty may read as end-of-file forever instead of failing.
 * Errors go to each user's RateLimitedLog (stderr by default, lines start with `serial <path>:`) and to
 * its `onError`. Device discovery (SerialPort.list) is not used: it needs udev; give the path.
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
  /** Default: reconnect forever with the shared backoff (200 ms doubling to 5 s). false: a loss ends the stream. */
  readonly reconnect?: false | BackoffOptions;
  /** Every connection error and decode error, as an Error (after it was counted). */
  readonly onError?: (e: Error) => void;
  /** Where the rate-limited error lines go (default: stderr, 5 per 5 s). */
  readonly log?: ErrorLogOptions;
  /** How often (ms) an open port checks that its path still names the same device (default 500; 0 = off). */
  readonly presenceCheckMs?: number;
}

export interface SerialLinkStats {
  connected: boolean;
  /** Successful opens. */
  connections: number;
  /** Opens after a loss. */
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

/** One user's attachment to a shared port. */
export class SerialUser {
  private readonly log: RateLimitedLog;
  /** Whether this user has seen the port open (for its reconnects count). */
  seenOpen = false;

  constructor(
    private readonly link: SharedLink,
    readonly options: SerialPortOptions,
    readonly stats: SerialLinkStats,
    readonly handlers: SerialLinkHandlers,
  ) {
    this.log = new RateLimitedLog(`serial ${options.path}`, options.log);
  }

  get port(): SerialPort | undefined {
    return this.link.port?.isOpen ? this.link.port : undefined;
  }

  /** Counts, logs (rate-limited, without repeating the path prefix) and hands the error to onError. */
  report(e: Error, log = true): void {
    this.stats.errors++;
    if (log) logWithoutPrefix(this.log, this.options.path, e);
    this.options.onError?.(e);
  }

  /** The connection proved useful: the next loss retries at the initial delay. */
  healthy(): void {
    this.link.healthy();
  }

  /** Leave the port; the last user to leave closes it. */
  detach(): Promise<void> {
    this.log.flush();
    this.stats.connected = false;
    return this.link.detach(this);
  }
}

function logWithoutPrefix(log: RateLimitedLog, path: string, e: Error): void {
  const prefix = `serial ${path}: `;
  log.report(e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
}

const links = new Map<string, SharedLink>();

/** Attach to the port at `options.path`, opening it when this is the first user. */
export function attachSerial(options: SerialPortOptions, stats: SerialLinkStats, handlers: SerialLinkHandlers): SerialUser {
  let link = links.get(options.path);
  if (link && link.o.baudRate !== options.baudRate) {
    throw new RangeError(`serial ${options.path}: already open at ${link.o.baudRate} baud, cannot share it at ${options.baudRate}`);
  }
  if (!link) {
    link = new SharedLink(options);
    links.set(options.path, link);
  }
  const user = new SerialUser(link, options, stats, handlers);
  link.attach(user);
  return user;
}

class SharedLink {
  port: SerialPort | undefined;
  private readonly users = new Set<SerialUser>();
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  /** Connection errors are logged once per port (with the first user's log settings), not once per user. */
  private readonly log: RateLimitedLog;

  constructor(readonly o: SerialPortOptions) {
    this.backoff = new Backoff(o.reconnect === false ? { maxAttempts: 0 } : o.reconnect);
    this.log = new RateLimitedLog(`serial ${o.path}`, o.log);
  }

  /** A connection error: logged once, counted by and handed to every user. */
  private report(e: Error): void {
    logWithoutPrefix(this.log, this.o.path, e);
    for (const u of [...this.users]) u.report(e, false);
  }

  attach(user: SerialUser): void {
    this.users.add(user);
    if (this.stopped) {
      this.stopped = false;
      this.open();
    } else if (this.port?.isOpen) this.opened(user, this.port);
  }

  async detach(user: SerialUser): Promise<void> {
    this.users.delete(user);
    if (this.users.size > 0) return;
    this.log.flush();
    if (links.get(this.o.path) === this) links.delete(this.o.path);
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.port;
    this.port = undefined;
    if (!p || !p.isOpen) return;
    await new Promise<void>((resolve) => p.close(() => resolve()));
  }

  healthy(): void {
    this.backoff.reset();
  }

  private opened(u: SerialUser, port: SerialPort): void {
    if (u.seenOpen) u.stats.reconnects++;
    u.seenOpen = true;
    u.stats.connections++;
    u.stats.connected = true;
    u.handlers.open(port);
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
      const err = e instanceof Error ? e : new Error(String(e));
      this.report(err);
      for (const u of [...this.users]) u.handlers.lost(err, undefined);
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
      for (const u of this.users) {
        u.stats.connected = false;
        u.stats.disconnects++;
      }
      if (port.isOpen) port.close(() => undefined);
      this.retry(new Error(`serial ${this.o.path}: device lost (${why})`));
    };
    // Without an 'error' listener a stray error would crash the process.
    port.on('error', (e) => {
      if (opened) lose(e.message);
    });
    port.on('close', (e: Error | null) => lose(e?.message ?? 'port closed'));
    port.on('end', () => lose('end of stream'));
    // Always read, even for a sink alone: a failing read is how an unplugged device shows itself.
    port.on('data', (chunk: Buffer) => {
      for (const u of this.users) u.handlers.data?.(chunk);
    });
    port.open((e) => {
      if (this.port !== port) {
        // Everyone left while opening: do not leave the descriptor open behind them.
        if (!e && port.isOpen) port.close(() => undefined);
        return;
      }
      if (e) {
        this.port = undefined;
        for (const u of this.users) u.stats.openFailures++;
        this.retry(new Error(`serial ${this.o.path}: cannot open (${e.message.replace(/^Error:? /, '')})`));
        return;
      }
      opened = true;
      this.watch(port, lose, (t) => (presence = t));
      for (const u of [...this.users]) this.opened(u, port);
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
    for (const u of [...this.users]) u.handlers.lost(err, delay);
    if (delay === undefined) {
      // No retry: the users are told; the link is done (a later attach starts afresh).
      this.stopped = true;
      if (links.get(this.o.path) === this) links.delete(this.o.path);
      return;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => this.open(), delay);
  }
}
