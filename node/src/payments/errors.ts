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

export type PaymentsErrorCode =
  // Orchestrator side: a ticket or a sender that cannot pay.
  | "BAD_TICKET"
  | "INSUFFICIENT_BALANCE"
  | "FACE_VALUE_TOO_HIGH"
  | "SENDER_UNLOCKING"
  | "SENDER_FUNDS_TOO_LOW"
  // Orchestrator side: no seat in the active set, so no ticket could pay it.
  | "ORCHESTRATOR_NOT_ACTIVE"
  // Broadcaster side: ticket params outside the operator's caps.
  | "BAD_TICKET_PARAMS"
  | "PRICE_TOO_HIGH"
  | "TICKET_EV_TOO_HIGH"
  | "SPEND_CAP_REACHED"
  // Either side.
  | "BAD_PAYMENTS_OPTIONS"
  | "CHAIN_UNAVAILABLE";

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
