import type { Logger } from "../log/index.ts";
import type { VerificationMetrics } from "./metrics.ts";
import type { VerificationOptions } from "./options.ts";
import { isProven, type Reputation } from "./reputation.ts";
import type { SuspensionList } from "./suspension.ts";

/** One result that failed verification, as summaries report it. */
export interface VerificationFailureReport {
  orchestrator: string;
  segment: number;
  check: string;
  profile: string | null;
  /** Expected value of the tickets sent with the rejected result, token wei (decimal). */
  valuePaid: string;
}

/** What a stream's (or a file broadcast's) verification did: the summaries' `verification`. */
export interface VerificationReport {
  verifiedSegments: number;
  spotChecks: number;
  failures: VerificationFailureReport[];
  /** Sum of the failures' valuePaid, token wei (decimal). */
  rejectedValue: string;
}

export interface StreamTrustDeps {
  reputation: Reputation;
  suspension: SuspensionList;
  options: VerificationOptions;
  metrics: VerificationMetrics | null;
  log: Logger;
  /** A uniform [0, 1) source for sampling; injectable so tests are deterministic. */
  random?: () => number;
}

/** Failures listed in a report; a stream with more lists the newest (the metrics count all). */
const FAILURES_KEPT = 200;

/**
 * The consequences of verification for one stream (or one file broadcast): a failed result
 * suspends its orchestrator at once for the rest of the stream and goes on its record in the
 * reputation store; a passed one builds the record. The record sets how often results are
 * spot-checked: an orchestrator without one (unproven) or with a failure on it (suspect) is
 * checked more often than a proven one.
 */
export class StreamTrust {
  private readonly random: () => number;
  private readonly failures: VerificationFailureReport[] = [];
  private rejected = 0n;
  private verifiedSegments = 0;
  private spotChecks = 0;

  constructor(private readonly deps: StreamTrustDeps) {
    this.random = deps.random ?? Math.random;
  }

  proven(address: string): boolean {
    return isProven(this.deps.reputation.get(address), this.deps.options.provenAfterSegments);
  }

  spotCheckRate(address: string): number {
    const record = this.deps.reputation.get(address);
    const o = this.deps.options;
    if (record.failed > 0 && !this.proven(address)) return o.suspectSpotCheckRate;
    return this.proven(address) ? o.spotCheckRate : o.unprovenSpotCheckRate;
  }

  /** Draws whether this result is spot-checked. */
  sampleSpotCheck(address: string): boolean {
    const rate = this.spotCheckRate(address);
    const picked = rate > 0 && this.random() < rate;
    if (picked) this.spotChecks += 1;
    return picked;
  }

  passed(address: string): void {
    this.verifiedSegments += 1;
    this.deps.reputation.recordVerified(address);
    this.deps.metrics?.verified.inc({ orchestrator: address });
  }

  spotCheckResult(result: "passed" | "failed" | "reference" | "skipped"): void {
    this.deps.metrics?.spotChecks.inc({ result });
  }

  failed(
    address: string,
    failure: { segment: number; check: string; profile: string | null; valuePaid: bigint },
  ): void {
    this.deps.suspension.suspend(address, Number.POSITIVE_INFINITY);
    this.rejected += failure.valuePaid;
    this.failures.push({
      orchestrator: address,
      segment: failure.segment,
      check: failure.check,
      profile: failure.profile,
      valuePaid: failure.valuePaid.toString(),
    });
    if (this.failures.length > FAILURES_KEPT) this.failures.shift();
    try {
      this.deps.reputation.recordFailure(address, failure.check, failure.valuePaid);
    } catch (error) {
      // The suspension above already protects this stream; the record is for later ones.
      this.deps.log.error({ err: error, orchestrator: address }, "reputation store write failed");
    }
    this.deps.metrics?.failures.inc({ orchestrator: address, check: failure.check });
    this.deps.metrics?.rejectedValueTokens.inc(
      { orchestrator: address },
      Number(failure.valuePaid) / 1e18,
    );
    this.deps.log.warn(
      {
        orchestrator: address,
        segment: failure.segment,
        check: failure.check,
        profile: failure.profile,
        valuePaid: failure.valuePaid.toString(),
      },
      "result failed verification: orchestrator suspended for the stream",
    );
  }

  report(): VerificationReport {
    return {
      verifiedSegments: this.verifiedSegments,
      spotChecks: this.spotChecks,
      failures: [...this.failures],
      rejectedValue: this.rejected.toString(),
    };
  }
}
