import type { Capacity } from "../protocol/index.ts";

export interface SlotQueueOptions {
  /** Requests that may wait for a slot at once; more are refused at once. */
  maxWaiting: number;
  /** How long one request may wait before it is refused. */
  maxWaitMs: number;
}

interface Waiter {
  grant: (release: () => void) => void;
  refuse: () => void;
}

/**
 * Transcode sessions this orchestrator runs at once. A slot is taken only once a request is
 * complete and paid for (the transcode service asks for it after the tickets are checked), so
 * a peer that dribbles its upload or pays nothing never holds one. A paid request that finds
 * every slot busy may wait briefly in a bounded FIFO queue instead of being refused at once:
 * a segment usually takes about a second, so a short wait serves it sooner than a client-side
 * retry would.
 */
export class Slots {
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly total: number,
    private readonly queue: SlotQueueOptions = { maxWaiting: 0, maxWaitMs: 0 },
  ) {
    if (!Number.isInteger(total) || total < 0) throw new RangeError(`bad slot count ${total}`);
  }

  /** A release function, or null when every slot is taken. Releasing twice is harmless. */
  tryAcquire(): (() => void) | null {
    if (this.used >= this.total) return null;
    this.used += 1;
    return this.releaser();
  }

  /**
   * A release function once a slot is free, waiting at most `maxWaitMs` behind at most
   * `maxWaiting` others; null when the queue is full, the wait ran out or `signal` fired.
   */
  acquire(signal: AbortSignal): Promise<(() => void) | null> {
    const now = this.tryAcquire();
    if (now !== null || signal.aborted) return Promise.resolve(now);
    if (this.waiting.length >= this.queue.maxWaiting || this.queue.maxWaitMs <= 0) {
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const leave = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          leave();
          resolve(release);
        },
        refuse: () => {
          leave();
          resolve(null);
        },
      };
      const onAbort = () => waiter.refuse();
      const timer = setTimeout(onAbort, this.queue.maxWaitMs);
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Slots in use now (what /status reports as sessions, and info and adverts as taken). */
  get inUse(): number {
    return this.used;
  }

  capacity(): Capacity {
    return { total: this.total, free: this.total - this.used };
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the longest waiter, so a newcomer cannot overtake it.
      const next = this.waiting[0];
      if (next !== undefined) next.grant(this.releaser());
      else this.used -= 1;
    };
  }
}
