/**
 * A guarded WebSocket endpoint, shared by the publishing server (ws-server.ts) and the push source
 * (ws-source.ts): HTTP server + `ws` in noServer mode, admission of each upgrade (path, token, Origin
 * allowlist, subprotocol, client limit) before the handshake, ping/pong heartbeats that terminate dead
 * clients, `maxPayload`, and counted, rate-limited logs naming the client (never the token).
 *
 * Token and Origin allowlist are on by default for non-loopback binds: such a bind without a token
 * throws unless `token: false` says so, and without `origins` every browser Origin is refused.
 * Clients without an Origin header (non-browser) pass the allowlist; the token still applies.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { RateLimitedLog, type ErrorLogOptions } from './error-log.js';

export interface WsEndpointOptions {
  /** 0 (default) = a free port; `url` / `port` give the bound one. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Shared secret: `Authorization: Bearer <token>` or `?token=`. Required for non-loopback binds (false: explicitly none). */
  readonly token?: string | false;
  /** Allowed Origin values (exact, e.g. 'https://viewer.example'); false: any. Default: any on loopback, none otherwise. */
  readonly origins?: readonly string[] | false;
  /** Largest message a client may send, in bytes; a larger one closes its connection (1009). */
  readonly maxPayload?: number;
  /** Ping interval; a client that has not answered the previous ping is terminated. 0 = off. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Connections beyond this are refused with 503 (default 10,000). */
  readonly maxClients?: number;
  /** Rate limits and sink of the error log. */
  readonly log?: ErrorLogOptions;
}

export interface WsEndpointStats {
  /** Connections currently open. */
  clients: number;
  /** Connections accepted since start. */
  connections: number;
  rejected: { auth: number; origin: number; path: number; protocol: number; full: number };
  /** Clients terminated for not answering pings. */
  terminated: number;
  /** Clients that sent a message over maxPayload (their connection is closed with 1009). */
  oversize: number;
  /** Socket errors of admitted clients (resets etc.). */
  socketErrors: number;
}

export interface Admitted {
  readonly ws: WebSocket;
  readonly url: URL;
  /** "address:port path", for logs: never carries the query (it may hold the token). */
  readonly name: string;
  /** The negotiated subprotocol, '' when the client offered none. */
  readonly protocol: string;
}

export interface EndpointHooks {
  /** Returns why a path is refused (404), or undefined to accept. */
  readonly route: (url: URL) => string | undefined;
  /** Subprotocols this endpoint speaks; a client offering only others is refused (400). */
  readonly protocols: readonly string[];
  readonly onConnection: (client: Admitted) => void;
}

export interface WsEndpoint {
  readonly url: string;
  readonly port: number;
  readonly stats: WsEndpointStats;
  readonly log: RateLimitedLog;
  readonly clients: ReadonlySet<WebSocket>;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}

/** Constant-time comparison of equal-length digests, so the token cannot be guessed byte by byte. */
function sameSecret(given: string, want: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(want).digest();
  return timingSafeEqual(a, b);
}

function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  const h = req.headers.authorization;
  if (h && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '');
  return url.searchParams.get('token') ?? undefined;
}

function refuse(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function newEndpointStats(): WsEndpointStats {
  return { clients: 0, connections: 0, rejected: { auth: 0, origin: 0, path: 0, protocol: 0, full: 0 }, terminated: 0, oversize: 0, socketErrors: 0 };
}

/** `stats`: an object to keep the counters in (its endpoint fields are reset), e.g. an adapter's own stats. */
export async function startWsEndpoint(name: string, o: WsEndpointOptions, hooks: EndpointHooks, stats: WsEndpointStats = newEndpointStats()): Promise<WsEndpoint> {
  const host = o.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  if (o.token === undefined && !loopback) throw new Error(`${name}: a bind to ${host} needs a token (or token: false to accept anyone)`);
  if (o.token === '') throw new Error(`${name}: empty token`);
  const token = o.token || undefined;
  const origins = o.origins === false ? undefined : o.origins ? new Set(o.origins) : loopback ? undefined : new Set<string>();
  const maxClients = o.maxClients ?? 10_000;
  const log = new RateLimitedLog(name, o.log);
  Object.assign(stats, newEndpointStats());
  const alive = new WeakMap<WebSocket, boolean>();
  const names = new WeakMap<WebSocket, string>();

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: o.maxPayload ?? 1 << 20,
    // Pick the first protocol of ours the client offered (admission already refused clients offering none of ours).
    handleProtocols: (offered) => hooks.protocols.find((p) => offered.has(p)) ?? false,
  });

  const http: Server = createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' }).end('WebSocket endpoint\n');
  });
  http.on('clientError', (_e, socket) => socket.destroy());

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'ws://endpoint');
    const who = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'} ${url.pathname}`;
    const deny = (kind: keyof WsEndpointStats['rejected'], status: number, text: string, why: string) => {
      stats.rejected[kind]++;
      log.report(`client ${who}: refused (${why})`);
      refuse(socket, status, text);
    };
    const bad = hooks.route(url);
    if (bad !== undefined) return deny('path', 404, 'Not Found', bad);
    const origin = req.headers.origin;
    if (origins && origin !== undefined && !origins.has(origin)) return deny('origin', 403, 'Forbidden', `Origin ${JSON.stringify(origin.slice(0, 100))} not allowed`);
    if (token) {
      const given = presentedToken(req, url);
      if (given === undefined) return deny('auth', 401, 'Unauthorized', 'no token');
      if (!sameSecret(given, token)) return deny('auth', 401, 'Unauthorized', 'wrong token');
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (offered.length && !offered.some((p) => hooks.protocols.includes(p))) return deny('protocol', 400, 'Bad Request', `none of the ${offered.length} offered subprotocols is supported`); // their values are not logged: some apps carry secrets there
    if (wss.clients.size >= maxClients) return deny('full', 503, 'Service Unavailable', `${maxClients} clients already`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      stats.connections++;
      stats.clients++;
      alive.set(ws, true);
      names.set(ws, who);
      ws.on('pong', () => alive.set(ws, true));
      ws.on('error', (e: Error & { code?: string }) => {
        if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
          stats.oversize++;
          log.report(`client ${who}: message over maxPayload (${o.maxPayload ?? 1 << 20} bytes); connection closed`);
        } else {
          stats.socketErrors++;
          log.report(`client ${who}: ${e.message}`);
        }
      });
      ws.on('close', () => stats.clients--);
      hooks.onConnection({ ws, url, name: who, protocol: ws.protocol });
    });
  });

  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const heartbeat =
    heartbeatMs > 0
      ? setInterval(() => {
          for (const ws of wss.clients) {
            if (!alive.get(ws)) {
              stats.terminated++;
              log.report(`client ${names.get(ws) ?? '?'}: no pong within ${heartbeatMs} ms; terminated`);
              ws.terminate();
              continue;
            }
            alive.set(ws, false);
            ws.ping();
          }
        }, heartbeatMs)
      : undefined;
  heartbeat?.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `ws://${urlHost}:${port}`,
    port,
    stats,
    log,
    clients: wss.clients,
    close: async () => {
      if (heartbeat) clearInterval(heartbeat);
      for (const ws of wss.clients) ws.close(1001, 'server closing');
      // Give close frames a moment, then cut whatever is left so the port is free at once.
      await new Promise((r) => setTimeout(r, 50));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      log.flush();
    },
  };
}
