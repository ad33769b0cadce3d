/** Helpers for the WebSocket adapter tests: sample messages, raw `ws` clients that record what they get. */
import WebSocket from 'ws';
import { packetFromArrays, type EventPacket } from '../../src/events/packet.js';
import type { Decision, MetricsMessage, SpikeBatch } from '../../src/wire/messages.js';

export function decision(sequence: number, region = 'cam0', extra: Partial<Decision> = {}): Decision {
  return { sequence, pipeline: 'gesture', region, label: 'wave', classIndex: 3, confidence: 0.875, timeUs: sequence * 1000, latencySteps: 2, latencyUs: 1500.5, emittedUnixMs: Date.now(), ...extra };
}

export function spikes(sequence: number): SpikeBatch {
  return { sequence, source: 'snn', layer: 'out', stepStart: 100, timeStartUs: 1e6, dtUs: 100, neuron: Uint32Array.from([1, 7, 7, 300]), stepOffset: Uint32Array.from([0, 0, 3, 9]) };
}

export function metrics(sequence: number): MetricsMessage {
  return { sequence, pipeline: 'gesture', timeUnixMs: 1_700_000_000_000 + sequence, values: { eventsPerSecond: 1.25e6, queue: 3 } };
}

/** n events in a 64×48 sensor, times from t0 every `dt` µs, deterministic positions. */
export function events(n: number, t0 = 0, dt = 1, uri = 'cam0'): EventPacket {
  const x = Array.from({ length: n }, (_, i) => (i * 7) % 64);
  const y = Array.from({ length: n }, (_, i) => (i * 3) % 48);
  const t = Array.from({ length: n }, (_, i) => t0 + i * dt);
  const p = Array.from({ length: n }, (_, i) => i % 2);
  return packetFromArrays({ x, y, t, p }, { width: 64, height: 48 }, { format: 'emulator', uri });
}

export interface RawClient {
  readonly ws: WebSocket;
  /** Every message as received: text as string, binary as Buffer. */
  readonly got: (string | Buffer)[];
  /** Resolves with the first message (from `from` on) that satisfies `pred`. */
  next(pred: (m: string | Buffer) => boolean, timeoutMs?: number, from?: number): Promise<string | Buffer>;
  close(): void;
}

/** Opens a raw `ws` client; rejects with the HTTP status when the server refuses it. */
export function openRaw(url: string, protocols?: string | string[], options: WebSocket.ClientOptions = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    const got: (string | Buffer)[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (data, isBinary) => {
      got.push(isBinary ? (data as Buffer) : data.toString());
      for (const w of [...waiters]) w();
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
    ws.on('open', () =>
      resolve({
        ws,
        got,
        close: () => ws.terminate(),
        next: (pred, timeoutMs = 5000, from = 0) =>
          new Promise((res, rej) => {
            const check = () => {
              for (let i = from; i < got.length; i++) {
                if (pred(got[i]!)) {
                  waiters.delete(check);
                  clearTimeout(timer);
                  res(got[i]!);
                  return;
                }
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`no matching message within ${timeoutMs} ms (got ${got.length})`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
      }),
    );
  });
}

export const isOp = (op: string) => (m: string | Buffer) => typeof m === 'string' && JSON.parse(m).op === op;

export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}
