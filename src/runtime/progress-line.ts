/**
 * A one-line, self-overwriting progress display for long work (decoding a big file, a long
 * replay). It appears only after `delayMs` (short work stays quiet), redraws at most every 200 ms,
 * and by default is shown only on a terminal, so logs and pipes stay clean.
 */
export class ProgressLine {
  private readonly started = performance.now();
  private lastDraw = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    /** `show`: true always, false never, unset on a terminal only. */
    options: { show?: boolean; delayMs?: number; stream?: NodeJS.WriteStream } = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.delayMs = options.delayMs ?? 1000;
    this.enabled = options.show ?? Boolean(this.stream.isTTY);
  }

  private readonly stream: NodeJS.WriteStream;
  private readonly delayMs: number;

  /** Seconds since the work started. */
  get elapsedS(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** `done` of `total` bytes, plus free text (counts, rates). */
  update(done: number, total: number, extra = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.started < this.delayMs || now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '?';
    this.stream.write(`\r${this.label}: ${pct}% (${formatBytes(done)} / ${formatBytes(total)})${extra ? ', ' + extra : ''}\x1b[K`);
    this.shown = true;
  }

  finish(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}
