/**
 * The status of a running pipeline as one line: rates over the last interval, latency percentiles,
 * drops, accuracy when there is ground truth. On a terminal it redraws in place; otherwise it prints a
 * plain line every `plainEveryMs`, so logs get a record without a flood.
 */
import type { PipelineMetrics } from './runtime.js';

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

/** One status line from two metric snapshots (`prev` = the previous line's). */
export function statusLine(m: PipelineMetrics, prev?: PipelineMetrics): string {
  const dt = prev ? m.wallS - prev.wallS : m.wallS;
  const ev = dt > 0 ? (m.events - (prev?.events ?? 0)) / dt : 0;
  const st = dt > 0 ? (m.steps - (prev?.steps ?? 0)) / dt : 0;
  const parts = [
    `${m.wallS.toFixed(0)}s`,
    `${rate(ev)} ev/s`,
    `${rate(st)} steps/s`,
    `${m.decisions} decisions`,
    m.latency.count ? `latency p50 ${m.latency.p50Ms.toFixed(2)} p99 ${m.latency.p99Ms.toFixed(2)} ms` : 'latency -',
    `x${m.realTimeFactor.toFixed(1)} real time`,
    `drops ${m.dropped}`,
  ];
  if (m.accuracy !== undefined) parts.push(`accuracy ${(100 * m.recentAccuracy!).toFixed(1)}% last ${m.recentJudged}, ${(100 * m.accuracy).toFixed(1)}% of ${m.judged}`);
  return parts.join(' | ');
}

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private prev: PipelineMetrics | undefined;
  private lastPlain = 0;
  private drawn = false;

  constructor(
    private readonly metrics: () => PipelineMetrics,
    private readonly o: { readonly stream?: NodeJS.WriteStream; readonly tty?: boolean; readonly intervalMs?: number; readonly plainEveryMs?: number; readonly label?: string } = {},
  ) {}

  private get stream(): NodeJS.WriteStream {
    return this.o.stream ?? process.stderr;
  }

  start(): void {
    const tty = this.o.tty ?? Boolean(this.stream.isTTY);
    this.timer = setInterval(() => {
      const m = this.metrics();
      const line = `${this.o.label ?? 'spikeflow'}: ${statusLine(m, this.prev)}`;
      this.prev = m;
      if (tty) {
        this.stream.write(`\r${line}\x1b[K`);
        this.drawn = true;
      } else if (m.wallS * 1000 - this.lastPlain >= (this.o.plainEveryMs ?? 5000)) {
        this.lastPlain = m.wallS * 1000;
        this.stream.write(line + '\n');
      }
    }, this.o.intervalMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
