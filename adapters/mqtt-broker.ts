/**
 * The embedded MQTT broker: aedes on a plain TCP server, in this process. It is what the MQTT source and
 * sink use when no broker URL is configured, so a pipeline works out of the box; production setups point
 * them at a real broker (mosquitto, EMQX…) instead. Loopback only unless `host` says otherwise.
 *
 * aedes speaks MQTT 3.1.1, not 5: clients of this broker must connect with protocolVersion 4 (the source
 * and sink do so when they use it through `acquireDefaultBroker`). Sessions live in memory and end with it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface MqttBrokerOptions {
  /** TCP port (default 1883; 0 = any free port, see `port` on the result). */
  readonly port?: number;
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
}

export interface EmbeddedBroker {
  /** `mqtt://host:port` with the actual port. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The MQTT version to connect with (aedes: 3.1.1 = 4). */
  readonly protocolVersion: 4;
  readonly aedes: Aedes;
  /** Stops accepting, drops the clients, closes aedes; resolves when all is closed. Idempotent. */
  close(): Promise<void>;
}

export async function startBroker(options: MqttBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    // Latency over batching: a Decision must not wait for Nagle's 40 ms.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 1883, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await new Promise<void>((r) => aedes.close(() => r()));
    throw new Error(`embedded MQTT broker: cannot listen on ${host}:${options.port ?? 1883} (${(e as Error).message})`);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      // server.close waits for open connections: end them, aedes' own close does not always reach raw sockets.
      await new Promise<void>((r) => aedes.close(() => r()));
      for (const s of sockets) s.destroy();
      await serverClosed;
    })());
  return { url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`, host, port, protocolVersion: 4, aedes, close };
}

interface Shared {
  readonly key: string;
  readonly broker: Promise<EmbeddedBroker>;
  refs: number;
}
const shared = new Map<string, Shared>();

/**
 * The process-wide default broker for `host:port`, started on first use and closed when the last user
 * releases it: sources and sinks without a URL share it. Port 0 would give each caller its own broker.
 */
export async function acquireDefaultBroker(options: MqttBrokerOptions = {}): Promise<{ broker: EmbeddedBroker; release: () => Promise<void> }> {
  const key = `${options.host ?? '127.0.0.1'}:${options.port ?? 1883}`;
  let s = options.port === 0 ? undefined : shared.get(key);
  if (!s) {
    s = { key, broker: startBroker(options), refs: 0 };
    if (options.port !== 0) shared.set(key, s);
    s.broker.catch(() => shared.delete(key));
  }
  s.refs++;
  const entry = s;
  let released = false;
  const broker = await entry.broker.catch((e: unknown) => {
    entry.refs--;
    throw e;
  });
  return {
    broker,
    release: async () => {
      if (released) return;
      released = true;
      if (--entry.refs === 0) {
        if (shared.get(key) === entry) shared.delete(key);
        await broker.close();
      }
    },
  };
}
