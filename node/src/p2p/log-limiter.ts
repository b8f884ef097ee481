/**
 * Says whether a keyed event should be logged now: at most once per `intervalMs` per key, so
 * a peer repeating a refused request costs one log line a minute, not one per request. The
 * table is bounded (the least recently logged key is forgotten first) and entries older than
 * the interval are dropped as new ones arrive, so random keys cannot grow it without end.
 */
export class LogLimiter {
  /** Key -> when it was last logged; insertion order is logging order (oldest first). */
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `key` was not logged within the interval (and records that it is now). */
  shouldLog(key: string): boolean {
    const now = this.now();
    const at = this.last.get(key);
    if (at !== undefined && now - at < this.intervalMs) return false;
    this.last.delete(key);
    this.last.set(key, now);
    for (const [oldest, loggedAt] of this.last) {
      if (this.last.size <= this.maxKeys && now - loggedAt < this.intervalMs) break;
      this.last.delete(oldest);
    }
    return true;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.last.size;
  }
}
