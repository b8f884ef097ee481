import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import { RemoteError } from "../p2p/errors.ts";
import { PaymentsError } from "../payments/errors.ts";
import { BroadcasterError } from "./errors.ts";
import type {
  OrchestratorHandle,
  OrchestratorSource,
  ResultSink,
  SegmentOutcome,
  SegmentWorker,
  SourceSegment,
} from "./interface.ts";
import type { SuspensionList } from "./suspension.ts";

/**
 * How a failed try is treated:
 * - `failure`: the orchestrator failed (dropped stream, refused connection, bad result, no
 *   answer within its observed speed): counts an attempt; the orchestrator is backed off
 *   (no new tries for a growing, jittered while) and the failure counts towards its
 *   suspension, once per back-off (tries failing together are one incident); the segment
 *   goes to another orchestrator.
 * - `busy`: it was full (CAPACITY_FULL): a signal, never a fault and never a suspension; not
 *   an attempt (up to a budget); its in-flight limit is lowered, it gets no new tries for a
 *   jittered, growing back-off, and the segment goes to one with room or waits.
 * - `unusable`: it asks for more than our caps allow: dropped from the session, attempt counted.
 * - `fatal`: nothing else can succeed (spend cap reached, run aborted): the run stops.
 */
/** Failed segments listed in the summary; a file broadcast with more has failed anyway. */
const MAX_FAILURES_KEPT = 1_000;

/** After a search for orchestrators found none, segments fail at once for this long. */
const EMPTY_SEARCH_BACKOFF_MS = 5_000;

export type FailureKind = "failure" | "busy" | "unusable" | "fatal";

export function classifyFailure(error: unknown): FailureKind {
  if (error instanceof RemoteError && error.code === "CAPACITY_FULL") return "busy";
  if (error instanceof PaymentsError) {
    if (error.code === "SPEND_CAP_REACHED") return "fatal";
    if (
      error.code === "PRICE_TOO_HIGH" ||
      error.code === "TICKET_EV_TOO_HIGH" ||
      error.code === "BAD_TICKET_PARAMS"
    ) {
      return "unusable";
    }
  }
  return "failure";
}

/** How often a slow try looks again for a free orchestrator to hedge on. */
const HEDGE_RECHECK_MS = 50;

/** Weight of the newest try in an orchestrator's observed speed (exponential average). */
const SPEED_WEIGHT = 0.3;

export interface DispatcherOptions {
  /** Orchestrators to work with at once. */
  orchestrators: number;
  /** Tries per segment, each on another orchestrator when one is free (3 by default). */
  maxAttempts: number;
  /** CAPACITY_FULL answers a segment may get before they count as attempts. */
  maxBusyRetries: number;
  /**
   * First wait after a CAPACITY_FULL before that orchestrator gets new tries; doubles with
   * each busy answer a segment gets, up to `maxBusyBackoffMs`, with +-50% jitter so
   * broadcasters refused together do not come back together.
   */
  busyBackoffMs: number;
  maxBusyBackoffMs: number;
  /**
   * First back-off after an orchestrator failed (a refused connection, a dropped stream);
   * doubles with each failure in a row up to `maxFailureBackoffMs`, jittered. A restarting
   * node is then tried again a little later instead of being sent every next segment.
   */
  failureBackoffMs: number;
  maxFailureBackoffMs: number;
  /**
   * A try on an orchestrator whose speed is known is given up after `slowTryFactor` times its
   * usual time for the segment's length (never less than `minTryTimeoutMs`), counted as its
   * failure, and the segment goes elsewhere: a hung ffmpeg costs a few seconds, not the
   * transport's whole time limit. Before its first answer, the orchestrator's own transcode
   * limit (shorter than this) answers for it.
   */
  slowTryFactor: number;
  minTryTimeoutMs: number;
  /** Source segments read ahead of the dispatch (bounds memory on long files). */
  readAhead: number;
  /** While fewer than `orchestrators` are in use, look for more at most this often. */
  topUpIntervalMs: number;
  /**
   * Live streams: a segment not done this long after it was queued is given up
   * (`DEADLINE_PASSED`, its try aborted) so the stream moves on; null waits as long as it takes.
   */
  deadlineMs: number | null;
  /**
   * Live streams: a try with no answer after this long is hedged, the segment also sent to
   * another orchestrator, and the first good answer wins (the other try is cancelled). A hung
   * or slow node then costs the viewer this long, not the whole deadline; null never hedges.
   */
  hedgeAfterMs: number | null;
  /**
   * Throw NO_ORCHESTRATORS when none is found before the first segment (a file broadcast);
   * a live stream starts anyway and keeps looking while its source plays.
   */
  requireOrchestratorsAtStart: boolean;
}

export const defaultDispatcherOptions: DispatcherOptions = {
  orchestrators: 2,
  maxAttempts: 3,
  maxBusyRetries: 40,
  busyBackoffMs: 250,
  maxBusyBackoffMs: 4_000,
  failureBackoffMs: 1_000,
  maxFailureBackoffMs: 30_000,
  // A segment normally takes its orchestrator about the same time each time; four times that
  // is a hang, not a noisy machine. 10 s covers a wait in the orchestrator's queue (up to 3 s)
  // plus a transcode slowed down by a loaded machine, and is still a fraction of the 60 s an
  // exchange may otherwise take.
  slowTryFactor: 4,
  minTryTimeoutMs: 10_000,
  readAhead: 4,
  topUpIntervalMs: 5_000,
  deadlineMs: null,
  hedgeAfterMs: null,
  requireOrchestratorsAtStart: true,
};

export interface DispatcherDeps {
  worker: SegmentWorker;
  source: OrchestratorSource;
  suspension: SuspensionList;
  sink: ResultSink;
  log: Logger;
  options?: Partial<DispatcherOptions>;
  /** Called after each segment is written (a progress bar, spend), with what it cost there. */
  onSegmentDone?: (segment: SourceSegment, orchestrator: string, outcome: SegmentOutcome) => void;
  /** Called once for each segment given up (every attempt failed, or its deadline passed). */
  onSegmentFailed?: (segment: SourceSegment, failure: SegmentFailure) => void;
  classify?: (error: unknown) => FailureKind;
  /** A uniform [0, 1) source for back-off jitter; injectable so tests are deterministic. */
  random?: () => number;
}

export interface SegmentFailure {
  segment: number;
  attempts: number;
  /** Code (or message) of the last error. */
  lastError: string;
}

export interface DispatchSummary {
  segments: number;
  /** Segments completed per orchestrator address. */
  orchestrators: Record<string, number>;
  /** Tries beyond the first, of every kind. */
  retries: number;
  /** Tickets sent with the segments done (their value is the payment channels' to sum). */
  ticketsSent: number;
  failed: SegmentFailure[];
  /** Addresses suspended during the run. */
  suspended: string[];
  mediaSeconds: number;
}

interface Job {
  segment: SourceSegment;
  attempts: number;
  busyRetries: number;
  tried: Set<string>;
  lastError: string;
  /** Not offered again before this time (ms, performance.now()). */
  notBefore: number;
  /** Given up at this time (ms, performance.now()); Infinity without a deadline. */
  deadline: number;
  /** Set once the segment is written or given up. */
  settled: boolean;
  /** Tries in flight (two while hedged). */
  running: number;
  hedged: boolean;
  /** Cancels the tries still running once one answer won or the segment was given up. */
  cancel: AbortController;
}

interface Active {
  handle: OrchestratorHandle;
  inFlight: number;
  limit: number;
  /** When it last answered anything, a result or a refusal (ms, performance.now()). */
  lastAnswerAt: number;
  /** No new tries before this (ms, performance.now()): it failed or said it was full. */
  backoffUntil: number;
  /** Failures in a row, each one back-off window (drives the failure back-off). */
  failureStreak: number;
  /** Its usual time per media second, from answered tries; null before the first. */
  msPerMediaSecond: number | null;
}

/**
 * A failed try as it is logged and kept in the summary: the error's code, and for an
 * orchestrator's refusal the reason it gave (`INSUFFICIENT_BALANCE/SENDER_UNLOCKING`), which
 * says what to do where the wire code alone does not; the message for an error without a code.
 */
export function failureLabel(error: unknown): string {
  if (error instanceof RemoteError) {
    const reason = error.reason;
    return reason === undefined || reason === error.code ? error.code : `${error.code}/${reason}`;
  }
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return errorMessage(error);
}

/**
 * Segments in, verified results out: keeps every chosen orchestrator busy up to its free
 * capacity, retries a failed segment on another orchestrator, suspends (and replaces) one that
 * keeps failing, and never drops a segment silently: one that fails every attempt is listed in
 * the summary and the run goes on, so the caller writes what it could and then reports it.
 */
export class Dispatcher {
  private readonly options: DispatcherOptions;
  private readonly classify: (error: unknown) => FailureKind;
  private readonly active = new Map<string, Active>();
  /**
   * Orchestrators never taken again in this run (their terms break our caps). Suspended ones
   * are left out only while their suspension lasts, so one that recovers can come back.
   */
  private readonly unusable = new Set<string>();
  private readonly queue: Job[] = [];
  private readonly waiters = new Set<() => void>();
  private fatal: unknown;

  private readonly summary: DispatchSummary = {
    segments: 0,
    orchestrators: {},
    retries: 0,
    ticketsSent: 0,
    failed: [],
    suspended: [],
    mediaSeconds: 0,
  };

  constructor(private readonly deps: DispatcherDeps) {
    this.options = { ...defaultDispatcherOptions, ...deps.options };
    this.classify = deps.classify ?? classifyFailure;
    this.random = deps.random ?? Math.random;
  }

  private readonly random: () => number;

  async run(segments: AsyncIterable<SourceSegment>, signal: AbortSignal): Promise<DispatchSummary> {
    await this.replenish();
    if (this.active.size === 0 && this.options.requireOrchestratorsAtStart) {
      throw new BroadcasterError(
        "NO_ORCHESTRATORS",
        "no orchestrator is available for this broadcast",
        {},
        {
          hint: "check --bootstrap and the chain registry, and that --max-price-per-pixel is not below every orchestrator's price",
        },
      );
    }
    const stop = new AbortController();
    const runSignal = AbortSignal.any([signal, stop.signal]);
    const onAbort = () => this.notify();
    runSignal.addEventListener("abort", onAbort);

    let readerDone = false;
    let readerError: unknown;
    const reader = (async () => {
      try {
        for await (const segment of segments) {
          const deadlineMs = this.options.deadlineMs;
          this.queue.push({
            segment,
            attempts: 0,
            busyRetries: 0,
            tried: new Set(),
            lastError: "",
            notBefore: 0,
            deadline:
              deadlineMs === null ? Number.POSITIVE_INFINITY : performance.now() + deadlineMs,
            settled: false,
            running: 0,
            hedged: false,
            cancel: new AbortController(),
          });
          this.notify();
          while (this.queue.length >= this.options.readAhead && !runSignal.aborted) {
            await this.waitForChange(1_000);
          }
          if (runSignal.aborted || this.fatal !== undefined) break;
        }
      } catch (error) {
        readerError = error;
      } finally {
        readerDone = true;
        this.notify();
      }
    })();

    const running = new Set<Promise<void>>();
    this.running = running;
    this.runSignal = runSignal;
    try {
      for (;;) {
        if (this.fatal !== undefined || readerError !== undefined || runSignal.aborted) break;
        this.topUp();
        this.expire();
        const started = await this.assign(runSignal);
        if (readerDone && this.queue.length === 0 && running.size === 0) break;
        if (!started) await this.waitForChange(this.nextDelay());
      }
    } finally {
      stop.abort();
      runSignal.removeEventListener("abort", onAbort);
      await Promise.allSettled(running);
      await reader;
    }
    if (readerError !== undefined) throw readerError;
    if (this.fatal !== undefined) throw this.fatal;
    if (signal.aborted) {
      throw new BroadcasterError("BROADCAST_ABORTED", "the broadcast was stopped", {
        segments: this.summary.segments,
      });
    }
    this.summary.suspended = this.deps.suspension.suspended();
    return this.summary;
  }

  private running = new Set<Promise<void>>();
  private runSignal: AbortSignal = new AbortController().signal;

  /** Runs one try in the background, tracked so run() waits for it. */
  private launch(job: Job, target: Active, signal: AbortSignal): void {
    const task = this.attempt(job, target, signal);
    this.running.add(task);
    void task.finally(() => {
      this.running.delete(task);
      this.notify();
    });
  }

  /** The segment's try is slow: send it to another free orchestrator it has not been on too. */
  private hedge(job: Job): void {
    if (job.settled || job.hedged || this.runSignal.aborted) return;
    const now = performance.now();
    const free = [...this.active.values()].filter(
      (a) =>
        !this.deps.suspension.isSuspended(a.handle.address) &&
        !job.tried.has(a.handle.address) &&
        a.inFlight < a.limit &&
        a.backoffUntil <= now,
    );
    let best: Active | undefined;
    for (const a of free)
      if (best === undefined || a.inFlight / a.limit < best.inFlight / best.limit) best = a;
    if (best === undefined) {
      // Every other orchestrator is busy right now: look again shortly rather than leave the
      // segment on a hung node until its deadline.
      const again = setTimeout(() => this.hedge(job), HEDGE_RECHECK_MS);
      job.cancel.signal.addEventListener("abort", () => clearTimeout(again), { once: true });
      return;
    }
    job.hedged = true;
    this.summary.retries += 1;
    this.deps.log.info(
      { segment: job.segment.index, orchestrator: best.handle.address },
      "segment slow to come back: also sent to another orchestrator",
    );
    this.launch(job, best, this.runSignal);
  }

  /** Starts every job that has an orchestrator free for it; true when one started. */
  private async assign(signal: AbortSignal): Promise<boolean> {
    let started = false;
    const now = performance.now();
    for (const job of [...this.queue]) {
      if (job.notBefore > now) continue;
      let target = this.pick(job);
      if (target === "none") {
        // Every orchestrator we had is gone: look for new ones (unless a search just came
        // back empty) before failing the segment.
        if (performance.now() - this.lastEmptySearch > EMPTY_SEARCH_BACKOFF_MS) {
          await this.replenish();
        }
        target = this.pick(job);
        if (target === "none") {
          this.fail(job, job.lastError || "no orchestrator available");
          started = true;
          continue;
        }
      }
      if (target === "wait") continue;
      this.queue.splice(this.queue.indexOf(job), 1);
      this.launch(job, target, signal);
      started = true;
    }
    return started;
  }

  /** The least loaded free orchestrator, preferring ones this segment has not failed on. */
  private pick(job: Job): Active | "wait" | "none" {
    const usable = [...this.active.values()].filter(
      (a) => !this.deps.suspension.isSuspended(a.handle.address),
    );
    if (usable.length === 0) return "none";
    const fresh = usable.filter((a) => !job.tried.has(a.handle.address));
    // Wait for an untried one while one exists; fall back to a tried one only when the
    // segment has been everywhere (a retry on the same node beats losing the segment).
    const pool = fresh.length > 0 ? fresh : usable;
    const now = performance.now();
    // One that failed or said it was full gets nothing new until its back-off ends.
    const free = pool.filter((a) => a.inFlight < a.limit && a.backoffUntil <= now);
    if (free.length === 0) return "wait";
    let best = free[0] as Active;
    for (const a of free) if (a.inFlight / a.limit < best.inFlight / best.limit) best = a;
    return best;
  }

  private async attempt(job: Job, target: Active, signal: AbortSignal): Promise<void> {
    const address = target.handle.address;
    target.inFlight += 1;
    job.running += 1;
    job.tried.add(address);
    const remaining = job.deadline - performance.now();
    const signals = [signal, job.cancel.signal];
    if (Number.isFinite(remaining)) {
      signals.push(AbortSignal.timeout(Math.max(1, Math.ceil(remaining))));
    }
    // A try running far longer than this orchestrator usually takes is a hang: give it up.
    const limitMs = this.tryLimitMs(target, job);
    const tooSlow = limitMs === null ? null : AbortSignal.timeout(limitMs);
    if (tooSlow !== null) signals.push(tooSlow);
    const trySignal = AbortSignal.any(signals);
    const hedgeAfter = this.options.hedgeAfterMs;
    const hedgeTimer =
      hedgeAfter !== null && !job.hedged
        ? setTimeout(() => this.hedge(job), hedgeAfter)
        : undefined;
    const startedAt = performance.now();
    let outcome: SegmentOutcome;
    try {
      // The orchestrator learns how long it has, so a hung ffmpeg there ends with the try.
      const budget = Math.min(remaining, limitMs ?? Number.POSITIVE_INFINITY);
      const segment = Number.isFinite(budget)
        ? { ...job.segment, budgetMs: Math.max(1, Math.floor(budget)) }
        : job.segment;
      outcome = await this.deps.worker.run(target.handle, segment, trySignal);
    } catch (error) {
      clearTimeout(hedgeTimer);
      target.inFlight -= 1;
      job.running -= 1;
      if (job.settled) {
        // Another try won (or the segment was given up): this one was cancelled. A node that
        // has said nothing for a whole deadline is hung all the same.
        this.noteSilence(target);
        return;
      }
      if (!signal.aborted && performance.now() >= job.deadline) {
        this.noteSilence(target);
        if (job.running === 0) this.onDeadline(job, target, performance.now() - startedAt);
        return;
      }
      if (tooSlow?.aborted === true && !signal.aborted) {
        this.deps.log.warn(
          { segment: job.segment.index, orchestrator: address, limitMs },
          "try ran far past the orchestrator's usual time: given up",
        );
        this.penalize(target);
        if (job.running > 0) return;
        job.lastError = "TRY_TOO_SLOW";
        job.attempts += 1;
        if (job.attempts >= this.options.maxAttempts) this.fail(job, job.lastError);
        else this.retry(job);
        return;
      }
      target.lastAnswerAt = performance.now();
      if (job.running > 0) {
        // The hedged try is still going: this failure is the orchestrator's, not the segment's.
        if (this.classify(error) === "failure") this.penalize(target);
        return;
      }
      this.onFailure(job, target, error, signal);
      return;
    }
    clearTimeout(hedgeTimer);
    target.lastAnswerAt = performance.now();
    target.inFlight -= 1;
    job.running -= 1;
    if (job.settled) {
      // Another try won, or the segment was given up while this answer was on its way.
      return;
    }
    job.settled = true;
    job.cancel.abort(new Error("another try answered first"));
    this.deps.suspension.recordSuccess(address);
    this.noteSpeed(target, job, performance.now() - startedAt);
    try {
      await this.deps.sink.write(job.segment, outcome);
    } catch (error) {
      // A local write failure (disk full) is not the orchestrator's: stop the run.
      this.fatal ??= error;
      return;
    }
    this.summary.segments += 1;
    this.summary.mediaSeconds += job.segment.durationSeconds;
    this.summary.orchestrators[address] = (this.summary.orchestrators[address] ?? 0) + 1;
    this.summary.ticketsSent += outcome.ticketsSent;
    this.deps.onSegmentDone?.(job.segment, address, outcome);
  }

  private onFailure(job: Job, target: Active, error: unknown, signal: AbortSignal): void {
    const address = target.handle.address;
    if (signal.aborted) {
      this.fail(job, "aborted");
      return;
    }
    const kind = this.classify(error);
    const code = failureLabel(error);
    job.lastError = code;
    this.deps.log.warn(
      { segment: job.segment.index, orchestrator: address, code, kind, attempt: job.attempts + 1 },
      "segment try failed",
    );
    if (kind === "fatal") {
      this.fatal ??= error;
      this.fail(job, code);
      return;
    }
    if (kind === "busy") {
      // It told us it is full: never send it more at once than it holds now, and give it a
      // moment before the next try. Busy is a signal, not a fault: no suspension, ever.
      target.limit = Math.max(1, target.inFlight);
      const base = Math.min(
        this.options.maxBusyBackoffMs,
        this.options.busyBackoffMs * 2 ** job.busyRetries,
      );
      target.backoffUntil = Math.max(target.backoffUntil, performance.now() + this.jitter(base));
      job.tried.delete(address);
      if (job.busyRetries < this.options.maxBusyRetries) {
        job.busyRetries += 1;
        this.retry(job);
        return;
      }
    }
    job.attempts += 1;
    if (kind === "unusable") {
      this.unusable.add(address);
      this.drop(address, "over our caps");
    } else if (kind === "failure") {
      this.penalize(target);
    }
    if (job.attempts >= this.options.maxAttempts) {
      this.fail(job, code);
      return;
    }
    this.retry(job);
  }

  /**
   * The try outlived the segment's deadline. An orchestrator that has answered nothing for a
   * whole deadline is hung (or gone without closing the stream): that counts towards its
   * suspension. One that answers, only late, is slow: the stream sheds renditions for that,
   * and suspending every slow node would leave none.
   */
  private onDeadline(job: Job, target: Active, heldMs: number): void {
    const address = target.handle.address;
    job.attempts += 1;
    const silentMs = performance.now() - target.lastAnswerAt;
    const hung = silentMs >= (this.options.deadlineMs ?? 0);
    this.deps.log.warn(
      {
        segment: job.segment.index,
        orchestrator: address,
        heldMs: Math.round(heldMs),
        silentMs: Math.round(silentMs),
        hung,
      },
      "segment deadline passed during a try",
    );
    this.fail(job, "DEADLINE_PASSED");
  }

  /** A try ended unanswered: a node silent for a whole deadline counts as failing (hung). */
  private noteSilence(target: Active): void {
    const deadline = this.options.deadlineMs;
    if (deadline === null) return;
    if (performance.now() - target.lastAnswerAt < deadline) return;
    this.penalize(target);
  }

  /**
   * The orchestrator failed: back it off (growing, jittered) and count one failure towards
   * its suspension, unless it is already backing off: tries that fail together (a node
   * restarting refuses every one at once) are one incident, not three.
   */
  private penalize(target: Active): void {
    const now = performance.now();
    if (target.backoffUntil > now && target.failureStreak > 0) return;
    target.failureStreak += 1;
    const base = Math.min(
      this.options.maxFailureBackoffMs,
      this.options.failureBackoffMs * 2 ** (target.failureStreak - 1),
    );
    target.backoffUntil = now + this.jitter(base);
    if (this.deps.suspension.recordFailure(target.handle.address)) {
      this.drop(target.handle.address, "suspended after repeated failures");
    }
  }

  /** An answered try: the orchestrator is well again, and its speed is known better. */
  private noteSpeed(target: Active, job: Job, ms: number): void {
    target.failureStreak = 0;
    // A back-off that full answers lowered creeps back up, one segment at a time.
    if (target.limit < Math.max(1, target.handle.maxInFlight)) target.limit += 1;
    const perSecond = ms / Math.max(job.segment.durationSeconds, 0.1);
    const known = target.msPerMediaSecond;
    target.msPerMediaSecond =
      known === null ? perSecond : SPEED_WEIGHT * perSecond + (1 - SPEED_WEIGHT) * known;
  }

  /** How long a try on `target` may run, from its observed speed; null while unknown. */
  private tryLimitMs(target: Active, job: Job): number | null {
    if (target.msPerMediaSecond === null) return null;
    const usual = target.msPerMediaSecond * Math.max(job.segment.durationSeconds, 0.1);
    return Math.ceil(Math.max(this.options.minTryTimeoutMs, this.options.slowTryFactor * usual));
  }

  /** `ms` give or take half, so clients refused together do not come back together. */
  private jitter(ms: number): number {
    return ms * (0.5 + this.random());
  }

  /** Gives up queued segments whose deadline has passed. */
  private expire(): void {
    const now = performance.now();
    for (const job of [...this.queue]) {
      if (job.deadline <= now) this.fail(job, job.lastError || "DEADLINE_PASSED");
    }
  }

  private retry(job: Job): void {
    this.summary.retries += 1;
    // Retried segments go first: the HLS output waits for them to stay in order.
    this.queue.unshift(job);
    this.notify();
  }

  private fail(job: Job, lastError: string): void {
    if (job.settled) return;
    job.settled = true;
    job.cancel.abort(new Error("segment given up"));
    const failure = { segment: job.segment.index, attempts: job.attempts, lastError };
    this.summary.failed.push(failure);
    // A live stream runs for hours: keep the newest failures (the count is in the metrics).
    if (this.summary.failed.length > MAX_FAILURES_KEPT) this.summary.failed.shift();
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    this.deps.onSegmentFailed?.(job.segment, failure);
    this.deps.log.error(
      { segment: job.segment.index, attempts: job.attempts, lastError },
      "segment failed on every attempt",
    );
  }

  private drop(address: string, reason: string): void {
    if (!this.active.delete(address)) return;
    this.deps.log.warn({ orchestrator: address, reason }, "orchestrator dropped from the session");
    // Fill its place in the background; jobs wait meanwhile.
    void this.replenish().then((added) => {
      if (added > 0) this.notify();
    });
  }

  private replenishing: Promise<number> | undefined;
  private lastEmptySearch = Number.NEGATIVE_INFINITY;

  private lastTopUp = performance.now();

  /** In the background, refills the session when it is short (e.g. a suspension ended). */
  private topUp(): void {
    if (this.active.size >= this.options.orchestrators) return;
    if (performance.now() - this.lastTopUp < this.options.topUpIntervalMs) return;
    this.lastTopUp = performance.now();
    void this.replenish().then((added) => {
      if (added > 0) this.notify();
    });
  }

  /** Tops the session up to `orchestrators` with ones not in use, usable and not suspended. */
  private replenish(): Promise<number> {
    if (this.replenishing !== undefined) return this.replenishing;
    const missing = this.options.orchestrators - this.active.size;
    if (missing <= 0) return Promise.resolve(0);
    this.replenishing = (async () => {
      let added = 0;
      try {
        // Yield first, so the finally below runs after the assignment above.
        await Promise.resolve();
        const exclude = new Set([
          ...this.active.keys(),
          ...this.unusable,
          ...this.deps.suspension.suspended(),
        ]);
        const chosen = await this.deps.source.choose(missing, exclude);
        if (chosen.length === 0) this.lastEmptySearch = performance.now();
        for (const handle of chosen) {
          if (this.active.has(handle.address)) continue;
          const limit = Math.max(1, handle.maxInFlight);
          this.active.set(handle.address, {
            handle,
            inFlight: 0,
            limit,
            lastAnswerAt: performance.now(),
            backoffUntil: 0,
            failureStreak: 0,
            msPerMediaSecond: null,
          });
          added += 1;
          this.deps.log.info(
            { orchestrator: handle.address, peerId: handle.peerId, maxInFlight: limit },
            "orchestrator joined the session",
          );
        }
      } catch (error) {
        this.deps.log.warn({ err: error }, "looking for orchestrators failed");
      } finally {
        this.replenishing = undefined;
      }
      return added;
    })();
    return this.replenishing;
  }

  /** How long to sleep when nothing could start: until the next backoff ends, or a change. */
  private nextDelay(): number {
    const now = performance.now();
    const waits = [
      ...this.queue.flatMap((j) => [j.notBefore - now, j.deadline - now]),
      ...[...this.active.values()].map((a) => a.backoffUntil - now),
    ].filter((d) => d > 0 && Number.isFinite(d));
    return waits.length > 0 ? Math.max(1, Math.min(...waits)) : 1_000;
  }

  private notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  private waitForChange(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }
}
