/**
 * The bounded queue on a source's outgoing edge, and the drain loop that feeds the pipeline from it.
 *
 * Sources push into the queue from their own callbacks; the pipeline (filters, binning, network,
 * decisions — all synchronous) runs from a drain task that takes items for at most `sliceMs` and then
 * yields to the event loop, so sockets, timers, signals and the status line keep running however busy
 * the pipeline is. When the pipeline is slower than a source the queue fills, and its policy decides:
 *
 *   'pause'        the source is paused at `capacity` and resumed at half of it (files, serial):
 *                  nothing is lost, the source waits;
 *   'drop-oldest'  live sources that cannot wait (UDP, MQTT, WebSocket, emulator): the oldest queued
 *                  item is dropped to make room (freshest data wins, the usual choice for control);
 *   'drop-newest'  the arriving item is dropped (keeps contiguous history).
 *
 * Either way the queue never holds more than `capacity` items, so memory is bounded whatever the input
 * rate; drops and the high-water mark are counted.
 */

export type QueuePolicy = 'pause' | 'drop-oldest' | 'drop-newest';

export interface EdgeQueueStats {
  /** Items accepted into the queue. */
  enqueued: number;
  /** Items handed to the pipeline. */
  delivered: number;
  dropped: number;
  /** Most items ever queued at once. */
  highWater: number;
  /** Times the source was paused. */
  pauses: number;
  length: number;
}

export interface EdgeQueueOptions<T> {
  readonly capacity: number;
  readonly policy: QueuePolicy;
  readonly pause?: () => void;
  readonly resume?: () => void;
  /** Called for each item, in order, from the drain task. */
  readonly deliver: (item: T) => void;
  /** Called for each item that will never be delivered (dropped, or queued when the queue closed): its buffers may be reused. */
  readonly discard?: (item: T) => void;
  /** Longest a drain task runs before yielding (default 20 ms). */
  readonly sliceMs?: number;
}

export class EdgeQueue<T> {
  readonly stats: EdgeQueueStats = { enqueued: 0, delivered: 0, dropped: 0, highWater: 0, pauses: 0, length: 0 };
  // A ring buffer: drop-oldest must be O(1) under a flood.
  private readonly ring: (T | undefined)[];
  private head = 0;
  private size = 0;
  private scheduled = false;
  private paused = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: EdgeQueueOptions<T>) {
    if (!(Number.isInteger(o.capacity) && o.capacity >= 1)) throw new RangeError(`queue capacity must be an integer >= 1, got ${o.capacity}`);
    if (o.policy === 'pause' && !(o.pause && o.resume)) throw new RangeError("queue policy 'pause' needs a source that can pause");
    this.ring = new Array<T | undefined>(o.capacity);
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.closed) return;
    if (this.size >= this.ring.length) {
      if (this.o.policy === 'drop-newest') {
        this.stats.dropped++;
        this.o.discard?.(item);
        return;
      }
      // 'drop-oldest', or 'pause' with a source that kept pushing after the pause (an item in flight).
      if (this.o.policy === 'drop-oldest') {
        const oldest = this.ring[this.head]!;
        this.ring[this.head] = undefined;
        this.head = (this.head + 1) % this.ring.length;
        this.size--;
        this.stats.dropped++;
        this.o.discard?.(oldest);
      } else {
        // A paused source may still deliver what was already read; growing by a little beats losing it.
        this.ring.push(undefined);
        this.rebase();
      }
    }
    const cap = this.ring.length;
    this.ring[(this.head + this.size) % cap] = item;
    this.size++;
    this.stats.enqueued++;
    this.stats.length = this.size;
    if (this.size > this.stats.highWater) this.stats.highWater = this.size;
    if (this.o.policy === 'pause' && !this.paused && this.size >= this.o.capacity) {
      this.paused = true;
      this.stats.pauses++;
      this.o.pause!();
    }
    this.schedule();
  }

  /** Resolves when everything queued so far has been delivered. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops delivering; queued items are discarded (use idle() first to drain). */
  close(): void {
    this.closed = true;
    if (this.o.discard) for (let i = 0; i < this.size; i++) this.o.discard(this.ring[(this.head + i) % this.ring.length]!);
    this.ring.fill(undefined);
    this.size = 0;
    this.stats.length = 0;
    this.wakeIdle();
  }

  // The ring grew by one slot at the end: re-lay items so indices stay contiguous from head.
  private rebase(): void {
    const items: (T | undefined)[] = [];
    const oldCap = this.ring.length - 1;
    for (let i = 0; i < this.size; i++) items.push(this.ring[(this.head + i) % oldCap]);
    for (let i = 0; i < this.ring.length; i++) this.ring[i] = items[i];
    this.head = 0;
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const until = performance.now() + (this.o.sliceMs ?? 20);
    while (this.size > 0 && !this.closed) {
      const cap = this.ring.length;
      const item = this.ring[this.head] as T;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % cap;
      this.size--;
      this.stats.length = this.size;
      this.stats.delivered++;
      this.o.deliver(item);
      if (performance.now() >= until) break;
    }
    if (this.paused && this.size <= this.o.capacity >> 1) {
      this.paused = false;
      this.o.resume!();
    }
    if (this.size > 0) this.schedule();
    else this.wakeIdle();
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
