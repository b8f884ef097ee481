import type { CodeOf } from "../error-catalog.ts";
import { SubsystemError } from "../errors.ts";

/**
 * Why a ticket was refused. Travels in `details.reason` of a BAD_TICKET error (and on the
 * wire), so callers can tell a forged ticket from a stale one: add reasons, never rename.
 */
export const BAD_TICKET_REASONS = [
  "MALFORMED",
  "WRONG_RECIPIENT",
  "UNKNOWN_RAND_HASH",
  "STALE_PARAMS",
  "EXPIRED",
  "FUTURE_ROUND",
  "STALE_BLOCK_HASH",
  "REPLAYED_NONCE",
  "RAND_REVEALED",
  "TOO_MANY_NONCES",
  "BAD_SIGNATURE",
] as const;
export type BadTicketReason = (typeof BAD_TICKET_REASONS)[number];

/**
 * Orchestrator side: a ticket or a sender that cannot pay, no seat in the active set.
 * Broadcaster side: ticket params outside the operator's caps. Either side: settings and chain
 * reads. Meanings, hints and wire codes: the catalog (error-catalog.ts).
 */
export type PaymentsErrorCode = CodeOf<"payments">;

export class PaymentsError extends SubsystemError<PaymentsErrorCode> {
  override name = "PaymentsError";
}

export function badTicket(
  reason: BadTicketReason,
  message: string,
  details: Record<string, unknown> = {},
): PaymentsError {
  return new PaymentsError(
    "BAD_TICKET",
    message,
    { reason, ...details },
    {
      hint: "request fresh ticket params from the orchestrator and sign new tickets",
    },
  );
}
