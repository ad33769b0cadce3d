/**
 * Rate-limited error reporting for live adapters: every error is counted, and at most `perWindow`
 * per `windowMs` reach the sink; the rest are summarised as "N more suppressed" when the window
 * ends, so garbage on a line or a flood of bad payloads cannot flood the log. Messages should name
 * where the error came from (topic, port, client) and never carry secrets.
 */
export interface ErrorLogOptions {
  readonly perWindow?: number;
  readonly windowMs?: number;
  /** Where lines go (default: console.error). */
  readonly sink?: (line: string) => void;
  readonly now?: () => number;
}

export class RateLimitedLog {
  /** Every error reported, logged or not. */
  count = 0;
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    readonly prefix: string,
    private readonly o: ErrorLogOptions = {},
  ) {}

  report(e: Error | string): void {
    const now = (this.o.now ?? Date.now)();
    const windowMs = this.o.windowMs ?? 5000;
    if (now - this.windowStart >= windowMs) {
      this.flush();
      this.windowStart = now;
      this.inWindow = 0;
    }
    this.count++;
    if (this.inWindow < (this.o.perWindow ?? 5)) {
      this.inWindow++;
      this.emit(`${this.prefix}: ${typeof e === 'string' ? e : e.message}`);
    } else {
      this.suppressed++;
    }
  }

  /** Writes the summary of suppressed errors, if any (also called when a new window starts). */
  flush(): void {
    if (this.suppressed > 0) this.emit(`${this.prefix}: ${this.suppressed} more errors suppressed (${this.count} in total)`);
    this.suppressed = 0;
  }

  private emit(line: string): void {
    (this.o.sink ?? ((l: string) => console.error(l)))(line);
  }
}
