import { Counter, type Registry } from "prom-client";

/**
 * Prometheus metrics of the payments subsystem on the orchestrator: tickets accepted and won,
 * their expected value, and what the redeemer got for the winners. Amounts in token wei are
 * floats (exact to 2^53 wei per increment; sums drift by rounding only past that).
 */
export interface PaymentsMetrics {
  ticketsReceived: Counter<never>;
  ticketsWon: Counter<never>;
  /** Sum of faceValue x winProb of the accepted tickets. */
  expectedValueWei: Counter<never>;
  ticketsRedeemed: Counter<"status">;
  /** What redeemed tickets actually paid (less than face value when a sender ran short). */
  valueRedeemedWei: Counter<never>;
}

export function createPaymentsMetrics(registry: Registry): PaymentsMetrics {
  const registers = [registry];
  return {
    ticketsReceived: new Counter({
      name: "segmint_tickets_received_total",
      help: "Payment tickets received and accepted",
      registers,
    }),
    ticketsWon: new Counter({
      name: "segmint_tickets_won_total",
      help: "Winning tickets written to the journal",
      registers,
    }),
    expectedValueWei: new Counter({
      name: "segmint_tickets_expected_value_wei_total",
      help: "Expected value (face value x win probability) of the tickets accepted, in token wei",
      registers,
    }),
    ticketsRedeemed: new Counter({
      name: "segmint_tickets_redeemed_total",
      help: "Winning tickets that reached a final redemption status, by status",
      labelNames: ["status"],
      registers,
    }),
    valueRedeemedWei: new Counter({
      name: "segmint_value_redeemed_wei_total",
      help: "Token wei redeemed tickets actually paid (float: precise to 2^53)",
      registers,
    }),
  };
}

/** faceValue x winProb in 2^-256 wei (TicketAcceptance.creditedScaled) as a float of wei. */
export function scaledToWei(creditedScaled: bigint): number {
  return Number(creditedScaled) / 2 ** 256;
}
