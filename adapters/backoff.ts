/**
 * Exponential reconnect backoff shared by the live adapters (serial, MQTT, WebSocket client):
 * initialDelayMs × factor^(failures − 1), capped at maxDelayMs, with ±jitter so many clients do not
 * reconnect in lockstep. Only a connection that delivered data should call `reset()`: a peer that
 * accepts and hangs up at once must not be hammered at the initial delay.
 */
export interface BackoffOptions {
  /** First retry delay (default 200 ms). */
  readonly initialDelayMs?: number;
  /** Upper bound (default 5000 ms). */
  readonly maxDelayMs?: number;
  /** Growth per failed attempt (default 2). */
  readonly factor?: number;
  /** Fraction of random spread, 0..1 (default 0.1). */
  readonly jitter?: number;
  /** Consecutive failed attempts before giving up (default: never). */
  readonly maxAttempts?: number;
}

export class Backoff {
  /** Consecutive failed attempts since the last reset. */
  failures = 0;

  constructor(
    private readonly o: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {}

  /** Registers a failure; returns the delay before the next attempt, or undefined when attempts are exhausted. */
  next(): number | undefined {
    this.failures++;
    if (this.o.maxAttempts !== undefined && this.failures > this.o.maxAttempts) return undefined;
    const base = Math.min(this.o.maxDelayMs ?? 5000, (this.o.initialDelayMs ?? 200) * (this.o.factor ?? 2) ** (this.failures - 1));
    const j = this.o.jitter ?? 0.1;
    return Math.max(0, Math.round(base * (1 + j * (2 * this.random() - 1))));
  }

  reset(): void {
    this.failures = 0;
  }
}
