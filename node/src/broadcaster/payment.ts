import { WIN_PROB_SCALE } from "../chain/ticket.ts";
import type { TicketParams, TicketPayment } from "../payments/interface.ts";
import type { TicketSender } from "../payments/sender.ts";

/**
 * What the orchestrator will charge is only known once it has transcoded (it debits the pixels
 * it produced), but the tickets travel with the segment. So the broadcaster pays an estimate
 * and keeps, per orchestrator, the difference between the credit it really holds there and
 * what the TicketSender believes (`drift`), corrected with the measured pixels of each result.
 * All amounts inside are in 2^-256 wei units, like the ticket ledgers on both sides.
 */
export interface SegmentPayment {
  recipient: string;
  tickets: TicketPayment[];
  /** Estimated fee, scaled. */
  estimateScaled: bigint;
  /** Expected value of the tickets, scaled. */
  spendScaled: bigint;
}

export class PaymentLedger {
  private readonly drift = new Map<string, bigint>();

  constructor(private readonly sender: TicketSender) {}

  get address(): string {
    return this.sender.address;
  }

  /**
   * Tickets that bring the credit held at this orchestrator to at least `required` wei (what
   * it checks before working), assuming `expected` wei will be debited. Throws the sender's cap
   * errors (price, ticket EV, total spend) unchanged, sending nothing.
   */
  pay(params: TicketParams, amounts: { required: bigint; expected: bigint }): SegmentPayment {
    const key = params.recipient.toLowerCase();
    const estimateScaled = amounts.expected * WIN_PROB_SCALE;
    const drift = this.drift.get(key) ?? 0n;
    // Credit the sender does not know about counts first; tickets cover the rest.
    const needScaled = amounts.required * WIN_PROB_SCALE - drift;
    const fee = needScaled > 0n ? ceilDiv(needScaled, WIN_PROB_SCALE) : 0n;
    const tickets = this.sender.createTickets(params, fee);
    const spendScaled = BigInt(tickets.length) * params.faceValue * params.winProb;
    // Until the result says otherwise, assume the expected amount is debited.
    this.drift.set(key, drift + fee * WIN_PROB_SCALE - estimateScaled);
    return { recipient: key, tickets, estimateScaled, spendScaled };
  }

  /** The orchestrator did the work and charged `actual` wei. */
  settle(payment: SegmentPayment, actual: bigint): void {
    this.adjust(payment.recipient, payment.estimateScaled - actual * WIN_PROB_SCALE);
  }

  /** The orchestrator refused (it keeps no state): neither the tickets nor the fee counted. */
  refund(payment: SegmentPayment): void {
    this.adjust(payment.recipient, payment.estimateScaled - payment.spendScaled);
  }

  /** Credit (token wei, may be negative) this broadcaster holds at `orchestrator`. */
  credit(orchestrator: string): bigint {
    const key = orchestrator.toLowerCase();
    const scaled = this.sender.balance(key) * WIN_PROB_SCALE + (this.drift.get(key) ?? 0n);
    return scaled / WIN_PROB_SCALE;
  }

  /** Expected value of every ticket sent, token wei. */
  totalSpent(): bigint {
    return this.sender.totalSpent();
  }

  private adjust(key: string, delta: bigint): void {
    this.drift.set(key, (this.drift.get(key) ?? 0n) + delta);
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

export interface SourceVideo {
  width: number;
  height: number;
  fps: number;
}
