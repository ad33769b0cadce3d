/**
 * One MQTT connection as the MQTT source and sink want it: mqtt.js underneath, MQTT 5 by default, TCP
 * no-delay on every socket it opens, reconnects paced by the shared Backoff, persistent-session options
 * (clean=false + clientId + session expiry), TLS, and the embedded broker when no URL is given.
 * Connection errors are counted and logged rate-limited, naming the broker without credentials.
 */
import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { Backoff, type BackoffOptions } from './backoff.js';
import { RateLimitedLog, type ErrorLogOptions } from './error-log.js';
import { acquireDefaultBroker, type MqttBrokerOptions } from './mqtt-broker.js';

export interface MqttTlsOptions {
  readonly ca?: string | Buffer | Array<string | Buffer>;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly passphrase?: string;
  /** Default true: a broker certificate that does not verify is refused. */
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

export interface MqttConnectionOptions {
  /** mqtt://, mqtts://, tcp://, tls://, ws://, wss://. Absent: the embedded default broker (see `embedded`). */
  readonly url?: string;
  /** Where the embedded default broker listens when `url` is absent (default 127.0.0.1:1883). */
  readonly embedded?: MqttBrokerOptions;
  /** Default: a random `spikeflow-…` id. Fix it for a persistent session. */
  readonly clientId?: string;
  /** Clean start (default true). false + a fixed clientId: the broker keeps the session and queues QoS ≥ 1 messages while away. */
  readonly clean?: boolean;
  /** MQTT 5 session expiry (default 0 with clean, 3600 s without). */
  readonly sessionExpirySeconds?: number;
  /** 5 (default) or 4 (3.1.1). The embedded broker (aedes) needs 4 and gets it. */
  readonly protocolVersion?: 4 | 5;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: MqttTlsOptions;
  /** Keepalive in seconds (default 30). */
  readonly keepaliveSeconds?: number;
  /** CONNACK wait in ms (default 10000). */
  readonly connectTimeoutMs?: number;
  /** Reconnect pacing (default Backoff defaults: 200 ms doubling to 5 s); false: no reconnect. */
  readonly reconnect?: false | BackoffOptions;
  /** Where rate-limited error lines go (default stderr, 5 per 5 s per kind). */
  readonly log?: ErrorLogOptions;
  /** Extra mqtt.js options, applied last (escape hatch). */
  readonly mqttOptions?: Partial<IClientOptions>;
}

export interface ConnectionStats {
  connected: boolean;
  /** Successful connections (CONNACK accepted). */
  connections: number;
  /** Connections after the first one. */
  reconnects: number;
  /** Connection losses and failed attempts. */
  disconnects: number;
  /** The broker resumed our session at the last connection. */
  sessionPresent: boolean;
  /** True once no-delay was set on the current socket. */
  noDelay: boolean;
  connectionErrors: number;
}

export function newConnectionStats(): ConnectionStats {
  return { connected: false, connections: 0, reconnects: 0, disconnects: 0, sessionPresent: false, noDelay: false, connectionErrors: 0 };
}

export interface ConnectionHooks {
  /** Every accepted CONNACK (first connection and reconnections). */
  onConnect(connack: IConnackPacket): void;
  /** Reconnecting gave up (Backoff maxAttempts or reconnect: false). */
  onGiveUp(e: Error): void;
  /** onPublish decodes each payload into copies and keeps no reference to it (see PublishSplitter). */
  transientPayloads?: boolean;
  /**
   * QoS 0 PUBLISH packets without properties, read off the socket here instead of by mqtt.js (see
   * PublishSplitter); every other packet still goes through mqtt.js and its 'message' event.
   */
  onPublish?(topic: string, payload: Buffer, retain: boolean): void;
}

type Sink = { write(b: Buffer): boolean; once(e: 'drain', f: () => void): unknown; end(): unknown; readonly writableLength: number };

/**
 * Splits the bytes coming from the broker into MQTT packets before mqtt.js sees them: plain QoS 0
 * PUBLISH packets (no properties, a topic name) go to `onPublish` straight from the socket's buffer;
 * all other packets are passed on to mqtt.js unchanged. mqtt.js handles each packet in its own
 * process.nextTick, with a packet object, a debug call and several events; a fan-in of small messages
 * spends most of its time there.
 *
 * Order is kept: a publish is taken here only while mqtt.js has nothing pending (everything passed to
 * it is processed) and the connection is up; from the first packet passed on in a chunk, the rest of
 * that chunk is passed on too.
 */
export class PublishSplitter {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Bytes the packet at the start of `parts` needs in all (0 while its header is incomplete). */
  private need = 0;
  /** Packets taken here / passed on to mqtt.js (for tests and stats). */
  taken = 0;
  passed = 0;

  /** Where packets spanning chunks are joined when payloads are transient (grown to the largest packet). */
  private scratch: Buffer | undefined;

  /**
   * `transientPayloads`: onPublish never keeps a payload after it returns (it decodes it into copies), so
   * a packet that spans socket chunks may be joined in a reused buffer instead of a fresh one per packet.
   */
  constructor(
    private readonly v5: boolean,
    private readonly onPublish: (topic: string, payload: Buffer, retain: boolean) => void,
    private readonly fastOk: () => boolean,
    private readonly transientPayloads = false,
  ) {}

  private join(): Buffer {
    if (!this.transientPayloads) return Buffer.concat(this.parts, this.partsBytes);
    if (!this.scratch || this.scratch.length < this.partsBytes) this.scratch = Buffer.allocUnsafeSlow(Math.max(this.partsBytes, 2 * (this.scratch?.length ?? 0)));
    let at = 0;
    for (const p of this.parts) {
      p.copy(this.scratch, at);
      at += p.length;
    }
    return this.scratch.subarray(0, at);
  }

  /** One chunk from the socket; returns false when mqtt.js asks to wait for 'drain'. */
  push(chunk: Buffer, dest: Sink): boolean {
    let data = chunk;
    if (this.parts.length > 0) {
      this.parts.push(chunk);
      this.partsBytes += chunk.length;
      // A large packet arrives in many chunks: gather them, and join once it is complete.
      if (this.need > 0 && this.partsBytes < this.need) return true;
      data = this.parts.length === 1 ? this.parts[0]! : this.join();
      this.parts = [];
      this.partsBytes = 0;
      this.need = 0;
    }
    // Bytes in the reused buffer must be copied before anyone else keeps them (mqtt.js, the next chunk).
    const reused = this.scratch !== undefined && data.buffer === this.scratch.buffer;
    let fast = dest.writableLength === 0 && this.fastOk();
    let i = 0;
    let passFrom = -1;
    const n = data.length;
    while (i < n) {
      // Fixed header: type/flags, then the remaining length in 1–4 bytes.
      let remaining = 0;
      let mult = 1;
      let h = i + 1;
      let complete = false;
      for (let k = 0; k < 4 && h < n; k++) {
        const b = data[h++]!;
        remaining += (b & 0x7f) * mult;
        mult *= 128;
        if (b < 0x80) {
          complete = true;
          break;
        }
      }
      if (!complete && h - i - 1 >= 4) {
        // Not MQTT: let mqtt.js report it.
        passFrom = passFrom < 0 ? i : passFrom;
        i = n;
        break;
      }
      const total = complete ? h - i + remaining : 0;
      if (!complete || i + total > n) {
        this.parts = [reused ? Buffer.from(data.subarray(i)) : data.subarray(i)];
        this.partsBytes = n - i;
        this.need = total;
        break;
      }
      const first = data[i]!;
      if (fast && first >> 4 === 3 && (first & 6) === 0 && this.takePublish(data, h, i + total, (first & 1) === 1)) {
        this.taken++;
      } else {
        if (passFrom < 0) passFrom = i;
        fast = false;
        this.passed++;
      }
      i += total;
    }
    if (passFrom < 0) return true;
    return dest.write(reused ? Buffer.from(data.subarray(passFrom, i)) : data.subarray(passFrom, i));
  }

  /** A QoS 0 PUBLISH body at [start, end): delivered when plain, else false (mqtt.js takes it). */
  private takePublish(data: Buffer, start: number, end: number, retain: boolean): boolean {
    if (start + 2 > end) return false;
    const topicLength = (data[start]! << 8) | data[start + 1]!;
    const topicEnd = start + 2 + topicLength;
    // An empty topic means a topic alias: mqtt.js resolves those.
    if (topicLength === 0 || topicEnd > end) return false;
    let payloadStart = topicEnd;
    if (this.v5) {
      // Properties (message expiry, content type, user properties, aliases…) are mqtt.js' business.
      if (payloadStart >= end || data[payloadStart] !== 0) return false;
      payloadStart++;
    }
    this.onPublish(data.toString('utf8', start + 2, topicEnd), data.subarray(payloadStart, end), retain);
    return true;
  }
}


export interface ManagedConnection {
  readonly client: MqttClient;
  /** The broker as it may be logged: scheme, host and port, never credentials. */
  readonly where: string;
  readonly protocolVersion: 4 | 5;
  /** Ends the connection (DISCONNECT, or at once when `force`), then releases the embedded broker if used. */
  close(force?: boolean): Promise<void>;
}

/** scheme://host:port of a broker URL, without user, password or query. */
export function brokerLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'mqtt (unparsable URL)';
  }
}

const CLOSE_TIMEOUT_MS = 3000;
let idCounter = 0;
export function randomClientId(): string {
  return `spikeflow-${process.pid.toString(36)}-${(idCounter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Packets that prove the broker serves us; only they reset the backoff (not a bare CONNACK: see backoff.ts). */
const PROOF_OF_SERVICE = new Set(['publish', 'suback', 'puback', 'pubrec', 'pubcomp', 'pingresp']);

export async function openConnection(o: MqttConnectionOptions, stats: ConnectionStats, hooks: ConnectionHooks): Promise<ManagedConnection> {
  let url = o.url;
  let protocolVersion: 4 | 5 = o.protocolVersion ?? 5;
  let release = async () => {};
  if (url === undefined) {
    const d = await acquireDefaultBroker(o.embedded);
    url = d.broker.url;
    protocolVersion = d.broker.protocolVersion;
    release = d.release;
  }
  const where = brokerLabel(url);
  const connLog = new RateLimitedLog(`mqtt ${where}`, o.log);
  const clean = o.clean ?? true;
  const backoff = o.reconnect === false ? undefined : new Backoff(o.reconnect);
  const firstDelay = o.reconnect === false ? 0 : (o.reconnect?.initialDelayMs ?? 200);
  const options: IClientOptions = {
    protocolVersion,
    clientId: o.clientId ?? randomClientId(),
    clean,
    keepalive: o.keepaliveSeconds ?? 30,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    reconnectPeriod: firstDelay,
    // Resubscription is done by the source itself, only when the broker did not keep the session.
    resubscribe: false,
    // A refused CONNACK (bad credentials, broker busy…) is retried like a lost connection, paced by the
    // backoff and bounded by its maxAttempts; mqtt.js would otherwise stop silently.
    reconnectOnConnackError: true,
    manualConnect: true,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: o.sessionExpirySeconds ?? (clean ? 0 : 3600) } } : {}),
    ...((o.tls ?? {}) as Partial<IClientOptions>),
    ...(o.mqttOptions ?? {}),
  };
  const client = mqtt.connect(url, options);
  // mqtt.js opens sockets without no-delay; wrap its stream factory so every (re)connection gets it.
  const c = client as unknown as { streamBuilder: (cl: MqttClient) => unknown };
  const build = c.streamBuilder;
  c.streamBuilder = (cl) => {
    const s = build(cl) as Partial<Socket>;
    const onPublish = hooks.onPublish;
    if (onPublish && typeof s.on === 'function' && typeof s.pause === 'function') {
      // mqtt.js pipes the stream into its parser next: put the splitter in between.
      const splitter = new PublishSplitter(protocolVersion === 5, (topic, payload, retain) => {
        backoff?.reset();
        onPublish(topic, payload, retain);
      }, () => client.connected, hooks.transientPayloads ?? false);
      const stream = s as Socket;
      stream.pipe = (<T extends NodeJS.WritableStream>(dest: T): T => {
        const sink = dest as unknown as Sink;
        stream.on('data', (chunk: Buffer) => {
          if (!splitter.push(chunk, sink)) {
            stream.pause();
            sink.once('drain', () => stream.resume());
          }
        });
        stream.on('end', () => sink.end());
        return dest;
      }) as Socket['pipe'];
    }
    // mqtt.js waits for 'drain' with one listener per publish written while the socket buffer is full: a
    // burst of thousands is normal here, not a leak.
    s.setMaxListeners?.(0);
    stats.noDelay = false;
    if (typeof s.setNoDelay === 'function') {
      s.setNoDelay(true);
      stats.noDelay = true;
    }
    return s;
  };

  let closing = false;
  let lastError: Error | undefined;
  client.on('connect', (connack: IConnackPacket) => {
    stats.connected = true;
    stats.connections++;
    stats.reconnects = stats.connections - 1;
    stats.sessionPresent = connack.sessionPresent;
    hooks.onConnect(connack);
  });
  client.on('packetreceive', (p) => {
    if (PROOF_OF_SERVICE.has(p.cmd)) backoff?.reset();
  });
  // Runs before mqtt.js' own close handler, which arms the reconnect timer with options.reconnectPeriod.
  client.prependListener('close', () => {
    if (stats.connected) stats.connected = false;
    if (closing) return;
    stats.disconnects++;
    const delay = backoff?.next();
    if (delay === undefined) {
      client.options.reconnectPeriod = 0;
      void client.endAsync(true).catch(() => {});
      const why = lastError ? ` (last error: ${lastError.message})` : '';
      hooks.onGiveUp(new Error(`mqtt ${where}: ${backoff ? `gave up after ${backoff.failures} connection failures in a row` : 'connection lost and reconnect disabled'}${why}`));
      return;
    }
    client.options.reconnectPeriod = Math.max(1, delay);
  });
  client.on('error', (e) => {
    lastError = e;
    stats.connectionErrors++;
    connLog.report(e);
  });
  client.connect();

  return {
    client,
    where,
    protocolVersion,
    close: async (force = false) => {
      if (closing) return;
      closing = true;
      connLog.flush();
      // A polite end waits for unacknowledged messages, forever if the broker is gone: bound it.
      const ended = client.endAsync(force || !client.connected).catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS)));
      await Promise.race([ended, timedOut]);
      clearTimeout(timer);
      client.stream?.destroy();
      stats.connected = false;
      await release();
    },
  };
}
