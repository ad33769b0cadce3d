/** Pacing for replays: event time mapped to wall time at a speed factor, and cancellable sleeps. */

/**
 * Bytes a file replay reads (and decodes in one go) at a time: 1 MiB as fast as possible, 64 KiB
 * when paced. A chunk's decode holds up every packet waiting behind it, and 1 MiB of EVT 2.0 is
 * 260,000 events: at 5.4 Mev/s paced, it put 10–37 ms on the event-to-decision latency of the
 * decisions around each read (p99 7–19 ms against 0.6–0.8 ms with 64 KiB).
 */
export function replayChunkBytes(paced: boolean): number {
  return paced ? 64 * 1024 : 1 << 20;
}

/**
 * Maps event time to wall time for real-time replay at `speed`: the first event asked about is due now,
 * an event dt µs later is due dt / speed µs later.
 */
export class ReplayClock {
  private originWall = NaN;
  private originEvent = 0;

  constructor(
    readonly speed: number,
    /** Wall-time resolution of the replay. */
    readonly granularityMs = 1,
  ) {}

  /** Event time (µs) covered by one wall-clock step: the width of the slices a paced source emits. */
  get windowUs(): number {
    return this.granularityMs * 1000 * this.speed;
  }

  /** Make event time `t` due now, unless the clock runs already. */
  start(t: number): void {
    if (!Number.isNaN(this.originWall)) return;
    this.originWall = performance.now();
    this.originEvent = t;
  }

  /** Milliseconds until event time `t` (µs) is due; ≤ 0 when it is. Starts the clock at `t` if needed. */
  delayMs(t: number): number {
    return this.dueAt(t) - performance.now();
  }

  /** When event time `t` (µs) is due, on the performance.now() clock. Starts the clock at `t` if needed. */
  dueAt(t: number): number {
    this.start(t);
    return this.originWall + (t - this.originEvent) / (1000 * this.speed);
  }
}

/** Cancellable timer sleeps: `cancel()` resolves a pending sleep at once. */
export class Sleeper {
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  /**
   * Resolves after `ms` (or at cancel()), never before: timers fire on whole milliseconds and
   * sometimes early, and then it waits again for the rest.
   */
  sleep(ms: number): Promise<void> {
    if (!(ms > 0)) return Promise.resolve();
    const until = performance.now() + ms;
    return new Promise((resolve) => {
      this.wake = resolve;
      const fire = (): void => {
        const left = until - performance.now();
        if (left > 0) {
          this.timer = setTimeout(fire, left);
          return;
        }
        this.timer = undefined;
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(fire, ms);
    });
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
