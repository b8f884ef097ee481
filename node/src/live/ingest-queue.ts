/**
 * A bounded single-consumer queue that an async iterator drains: the live segments of one
 * stream between the segmenter (which never waits) and the broadcaster (which may fall behind).
 * Past `max` items the oldest is dropped and reported, so memory stays flat however far the
 * consumer lags; a live viewer wants the newest pieces anyway.
 */
export class DropOldestQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private iterating = false;

  constructor(
    private readonly max: number,
    private readonly onDrop: (dropped: T, queued: number) => void,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** Adds an item; drops (and reports) the oldest when the queue is full. Ignored once ended. */
  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    while (this.items.length > this.max) {
      const dropped = this.items.shift();
      if (dropped !== undefined) this.onDrop(dropped, this.items.length);
    }
    this.signal();
  }

  /** No more items: the iterator finishes after the queued ones. */
  end(): void {
    this.ended = true;
    this.signal();
  }

  /** The iterator throws `error` after the queued items. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.end();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterating) throw new Error("a live segment queue has one consumer");
    this.iterating = true;
    try {
      for (;;) {
        const next = this.items.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.ended) {
          if (this.failure) throw this.failure.error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      // A consumer that stops early wants nothing more: later pushes are discarded.
      this.ended = true;
      this.items = [];
    }
  }
}
