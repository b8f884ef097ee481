/**
 * Tracks orchestrators that keep failing. After `maxConsecutiveFailures` failures in a row an
 * orchestrator is suspended for a time that doubles with each suspension (capped), so a node
 * that is down stops costing retries while one that recovers comes back. A success resets its
 * failure count. A result that fails verification is no accident: `suspend` takes the
 * orchestrator out at once, for as long as the caller says (the rest of the stream).
 */
export interface SuspensionOptions {
  maxConsecutiveFailures?: number;
  baseSuspensionMs?: number;
  maxSuspensionMs?: number;
  now?: () => number;
}

interface Record {
  consecutiveFailures: number;
  suspensions: number;
  suspendedUntil: number;
}

export class SuspensionList {
  private readonly records = new Map<string, Record>();
  private readonly maxFailures: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(options: SuspensionOptions = {}) {
    this.maxFailures = options.maxConsecutiveFailures ?? 3;
    this.baseMs = options.baseSuspensionMs ?? 30_000;
    this.maxMs = options.maxSuspensionMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  private record(id: string): Record {
    let r = this.records.get(id);
    if (r === undefined) {
      r = { consecutiveFailures: 0, suspensions: 0, suspendedUntil: 0 };
      this.records.set(id, r);
    }
    return r;
  }

  /** Returns true when this failure suspended the orchestrator, or it already is suspended. */
  recordFailure(id: string): boolean {
    if (this.isSuspended(id)) return true;
    const r = this.record(id);
    r.consecutiveFailures += 1;
    if (r.consecutiveFailures < this.maxFailures) return false;
    const duration = Math.min(this.maxMs, this.baseMs * 2 ** r.suspensions);
    r.suspensions += 1;
    r.consecutiveFailures = 0;
    r.suspendedUntil = this.now() + duration;
    return true;
  }

  /** Suspends at once for `ms` (Infinity: for as long as this list lives). */
  suspend(id: string, ms: number): void {
    const r = this.record(id);
    r.suspensions += 1;
    r.consecutiveFailures = 0;
    r.suspendedUntil = Math.max(r.suspendedUntil, this.now() + ms);
  }

  recordSuccess(id: string): void {
    const r = this.record(id);
    r.consecutiveFailures = 0;
  }

  isSuspended(id: string): boolean {
    const r = this.records.get(id);
    return r !== undefined && r.suspendedUntil > this.now();
  }

  /** Ids suspended now, for reports. */
  suspended(): string[] {
    return [...this.records.entries()]
      .filter(([, r]) => r.suspendedUntil > this.now())
      .map(([id]) => id);
  }
}
