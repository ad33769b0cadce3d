/**
 * A WebSocket source: `fromWs({ port })` serves an endpoint (on subscribe) that browsers or other
 * processes push EventPacket messages to, and emits the packets as an RxJS observable.
 *
 * Each WebSocket message is one wire Envelope: binary = protobuf, text = JSON (whatever the subprotocol;
 * `spikeflow.v1.json` / `spikeflow.v1.proto` are accepted for symmetry with the server). A message that
 * does not decode, has an unknown wire version, or carries something other than events is counted and
 * reported (rate-limited, naming the client) and skipped: the connection and every valid message go on.
 * A message over `maxPayload` closes that client's connection (1009), counted as `oversize`.
 * Gaps in each client's sequence numbers (per source) are counted as lost. Admission (token, Origin
 * allowlist), heartbeats: ws-endpoint.ts. Unsubscribing closes the endpoint.
 */
import { Observable } from 'rxjs';
import type { EventPacket } from '../src/events/packet.js';
import { WireError } from '../src/wire/errors.js';
import { decodeJson } from '../src/wire/json-codec.js';
import type { WireMessage } from '../src/wire/messages.js';
import { decodeWire } from '../src/wire/protobuf-codec.js';
import { SequenceTracker } from '../src/wire/sequence.js';
import { newEndpointStats, startWsEndpoint, type WsEndpoint, type WsEndpointOptions, type WsEndpointStats } from './ws-endpoint.js';
import { SUBPROTOCOL_JSON, SUBPROTOCOL_PROTO, packetSourceName } from './ws-protocol.js';

export interface WsSourceOptions extends WsEndpointOptions {
  /** Path clients connect to (default '/', any other is refused). */
  readonly path?: string;
  /** Called once listening, with the actual port (useful with port 0). */
  readonly onListening?: (address: { url: string; port: number }) => void;
}

export interface WsSourceStats extends WsEndpointStats {
  packets: number;
  events: number;
  /** Messages missing from clients' sequence numbers. */
  lost: number;
  /** Bad messages by reason; `bad` is their sum (oversize is counted by the endpoint). */
  bad: number;
  malformed: number;
  version: number;
  wrongKind: number;
  /** URL once listening. */
  url: string;
}

export type WsSource = Observable<EventPacket> & { readonly stats: WsSourceStats };

function newStats(): Omit<WsSourceStats, keyof WsEndpointStats> {
  return { packets: 0, events: 0, lost: 0, bad: 0, malformed: 0, version: 0, wrongKind: 0, url: '' };
}

export function fromWs(options: WsSourceOptions): WsSource {
  const stats: WsSourceStats = { ...newEndpointStats(), ...newStats() };
  const path = options.path ?? '/';
  const packets = new Observable<EventPacket>((subscriber) => {
    Object.assign(stats, newStats());
    let endpoint: WsEndpoint | undefined;
    let closed = false;
    // Event packets of many thousand events: a larger maxPayload by default.
    startWsEndpoint('ws-source', { ...options, maxPayload: options.maxPayload ?? 16 << 20 }, {
      protocols: [SUBPROTOCOL_JSON, SUBPROTOCOL_PROTO],
      route: (url) => (url.pathname === path ? undefined : `no endpoint at ${url.pathname.slice(0, 60)}`),
      onConnection: ({ ws, name }) => {
        const trackers = new Map<string, SequenceTracker>();
        ws.on('message', (data, isBinary) => {
          if (closed) return;
          const raw = data as Buffer;
          let m: WireMessage;
          try {
            m = isBinary ? decodeWire(raw) : decodeJson(raw.toString());
            if (m.kind !== 'events') {
              stats.wrongKind++;
              throw new WireError(`${m.kind} message (this endpoint takes events)`);
            }
          } catch (e) {
            const reason = e instanceof Error ? e.message : String(e);
            if (/unsupported wire version/.test(reason)) stats.version++;
            else if (!/this endpoint takes events/.test(reason)) stats.malformed++;
            stats.bad++;
            endpoint?.log.report(`client ${name}: ${reason}`);
            return;
          }
          const source = packetSourceName(m.packet);
          let t = trackers.get(source);
          if (!t) trackers.set(source, (t = new SequenceTracker()));
          stats.lost += t.observe(m.sequence);
          stats.packets++;
          stats.events += m.packet.length;
          subscriber.next(m.packet);
        });
      },
    }, stats).then(
      (e) => {
        endpoint = e;
        if (closed) {
          void e.close();
          return;
        }
        stats.url = e.url;
        options.onListening?.({ url: e.url, port: e.port });
      },
      (e: unknown) => subscriber.error(e),
    );
    return () => {
      closed = true;
      void endpoint?.close();
    };
  });
  return Object.assign(packets, { stats });
}
