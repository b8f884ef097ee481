import { WIN_PROB_SCALE } from "../chain/ticket.ts";
import { PaymentsError } from "./errors.ts";

/**
 * Per-sender credit on the orchestrator, kept exactly: a ticket's expected value is
 * faceValue * winProb / 2^256, so balances are held in units of 2^-256 token wei and nothing
 * is lost to rounding however many tiny tickets arrive.
 */
export class Balances {
  private readonly scaled = new Map<string, bigint>();

  /** Credits faceValue * winProb (already in 2^-256 wei units). */
  creditScaled(sender: string, scaledAmount: bigint): void {
    const key = sender.toLowerCase();
    this.scaled.set(key, (this.scaled.get(key) ?? 0n) + scaledAmount);
  }

  /** Balance in token wei, rounded down. */
  balance(sender: string): bigint {
    return (this.scaled.get(sender.toLowerCase()) ?? 0n) / WIN_PROB_SCALE;
  }

  balanceScaled(sender: string): bigint {
    return this.scaled.get(sender.toLowerCase()) ?? 0n;
  }

  /** Throws INSUFFICIENT_BALANCE, changing nothing, when the sender cannot cover `amount`. */
  require(sender: string, amount: bigint): void {
    const have = this.balanceScaled(sender);
    if (have < amount * WIN_PROB_SCALE) {
      throw new PaymentsError(
        "INSUFFICIENT_BALANCE",
        "the sender's ticket balance does not cover this work",
        {
          sender: sender.toLowerCase(),
          balance: (have / WIN_PROB_SCALE).toString(),
          required: amount.toString(),
        },
        { hint: "send more tickets with the segment" },
      );
    }
  }

  /** Takes `amount` token wei (pixels * pricePerPixel); refuses, changing nothing, if short. */
  debit(sender: string, amount: bigint): void {
    if (amount < 0n) throw new RangeError("debit amount must not be negative");
    this.require(sender, amount);
    const key = sender.toLowerCase();
    this.scaled.set(key, this.balanceScaled(key) - amount * WIN_PROB_SCALE);
  }

  senders(): string[] {
    return [...this.scaled.keys()];
  }
}
