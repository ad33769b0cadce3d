/**
 * A one-line progress display on stderr for long work, redrawn at most every 200 ms,
 * shown only on a terminal (or when forced) so logs and pipes stay clean.
 */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    force = false,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = force || Boolean(stream.isTTY);
  }

  update(done: number, total: number, extra = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '?';
    this.stream.write(`\r${this.label}: ${pct}% (${formatBytes(done)} / ${formatBytes(total)}) ${extra}\x1b[K`);
    this.shown = true;
  }

  done(): void {
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
