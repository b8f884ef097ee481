import { Counter, type Registry } from "prom-client";

/**
 * Who failed what: the broadcaster's verification metrics, labelled by orchestrator address
 * (a session works with a handful) and check. Names carry their unit. Components take
 * `VerificationMetrics | null`.
 */
export interface VerificationMetrics {
  verified: Counter<"orchestrator">;
  failures: Counter<"orchestrator" | "check">;
  rejectedValueTokens: Counter<"orchestrator">;
  spotChecks: Counter<"result">;
}

export function createVerificationMetrics(registry: Registry): VerificationMetrics {
  const registers = [registry];
  return {
    verified: new Counter({
      name: "segmint_broadcaster_segments_verified_total",
      help: "Results that passed verification, by orchestrator",
      labelNames: ["orchestrator"],
      registers,
    }),
    failures: new Counter({
      name: "segmint_broadcaster_verification_failures_total",
      help: "Results that failed verification (the orchestrator is suspended for the stream), by orchestrator and check",
      labelNames: ["orchestrator", "check"],
      registers,
    }),
    rejectedValueTokens: new Counter({
      name: "segmint_broadcaster_rejected_value_tokens_total",
      help: "Expected value of the tickets sent with results that failed verification, in tokens",
      labelNames: ["orchestrator"],
      registers,
    }),
    spotChecks: new Counter({
      name: "segmint_broadcaster_spot_checks_total",
      help: "Spot checks (SSIM against the scaled source, a local reference below the floor), by result",
      labelNames: ["result"],
      registers,
    }),
  };
}
