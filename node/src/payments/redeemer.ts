import type { Logger } from "pino";
import { errorMessage } from "../errors.ts";
import { silentLogger } from "../log/index.ts";
import { PollLoop } from "../poll-loop.ts";
import type {
  FeeQuote,
  JournalEntry,
  RedeemChain,
  TxFees,
  WinningTicketJournal,
} from "./interface.ts";
import type { RedeemerOptions } from "./options.ts";
import { FixedTokenPrice, nativeToTokens, PARITY, type TokenPriceSource } from "./token-price.ts";

export interface RedeemerDeps {
  journal: WinningTicketJournal;
  chain: RedeemChain;
  options: RedeemerOptions;
  /** The token's price in the native coin, to weigh face values against gas; default 1:1. */
  tokenPrice?: TokenPriceSource;
  log?: Logger;
  now?: () => number;
  /** Called when an entry is settled on chain, so the sender's cached funds can be dropped. */
  onSettled?: (entry: JournalEntry) => void;
  /**
   * Called just before entries are sent: their recipientRands are about to become public
   * (wire to TicketValidator.markRandRevealed).
   */
  onRevealing?: (entries: readonly JournalEntry[]) => void;
}

/**
 * Turns journaled winners into tokens. Each pass (tick): settles submitted transactions from
 * their receipts, marks expired and already-used tickets, waits while gas is above the cap,
 * drops tickets whose face value would not pay for their own redemption, and submits the rest
 * singly or in batches. Everything it learns goes to the journal first, so a restarted process
 * picks up exactly where this one stopped.
 */
export class Redeemer {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly loop: PollLoop;
  private readonly tokenPrice: TokenPriceSource;
  /** Block each submitted transaction was last seen mined in: a receipt that then vanishes was reorganized away. */
  private readonly minedIn = new Map<string, bigint>();

  constructor(private readonly deps: RedeemerDeps) {
    this.log = deps.log ?? silentLogger();
    this.tokenPrice = deps.tokenPrice ?? new FixedTokenPrice(PARITY);
    this.now = deps.now ?? Date.now;
    const { batchSize, maxAttempts, confirmations } = deps.options;
    if (batchSize < 1 || maxAttempts < 1 || confirmations < 1) {
      throw new RangeError("redeemer batchSize, maxAttempts and confirmations must be at least 1");
    }
    this.loop = new PollLoop(
      () => this.tick(),
      deps.options.pollIntervalMs,
      (error) => this.log.warn({ err: errorMessage(error) }, "redeemer pass failed"),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass over the journal. Throws only when the chain cannot be read at all. */
  async tick(): Promise<void> {
    const { chain, journal } = this.deps;
    const [round, validity] = await Promise.all([
      chain.currentRound(),
      chain.ticketValidityRounds(),
    ]);
    await this.settleSubmitted();

    const due: JournalEntry[] = [];
    for (const entry of journal.listByStatus(["pending"])) {
      if (entry.nextAttemptAt > this.now()) continue;
      if (await chain.isTicketUsed(entry.ticketHash)) {
        // Mined before a crash let us record it, or redeemed by a transaction we lost track of.
        this.settled(entry, null, null);
        continue;
      }
      if (round > entry.ticket.creationRound + validity) {
        journal.markExpired(entry.id);
        this.log.warn({ ticketHash: entry.ticketHash }, "winning ticket expired unredeemed");
        continue;
      }
      due.push(entry);
    }
    if (due.length === 0) return;

    const quote = await chain.feeQuote();
    const { maxGasPrice, gasPerTicket } = this.deps.options;
    if (quote.price > maxGasPrice) {
      this.log.info(
        {
          gasPrice: quote.price.toString(),
          baseFee: quote.baseFee?.toString() ?? null,
          maxGasPrice: maxGasPrice.toString(),
          waiting: due.length,
        },
        "gas price above cap; holding winning tickets",
      );
      return;
    }
    const gasCostInTokens = nativeToTokens(
      quote.price * gasPerTicket,
      await this.tokenPrice.nativePerToken(),
    );
    const worthIt: JournalEntry[] = [];
    for (const entry of due) {
      if (entry.ticket.faceValue <= gasCostInTokens) {
        const reason = `face value ${entry.ticket.faceValue} <= gas cost ${gasCostInTokens} (token wei)`;
        journal.markUneconomic(entry.id, reason);
        this.log.warn(
          { ticketHash: entry.ticketHash, reason },
          "winning ticket not worth redeeming",
        );
      } else {
        worthIt.push(entry);
      }
    }
    const size = this.deps.options.batchSize;
    const fees = txFees(quote, maxGasPrice);
    for (let i = 0; i < worthIt.length; i += size) {
      await this.submit(worthIt.slice(i, i + size), fees);
    }
  }

  private async submit(entries: JournalEntry[], fees: TxFees): Promise<void> {
    const { chain, journal } = this.deps;
    this.deps.onRevealing?.(entries);
    try {
      const [only] = entries;
      const txHash =
        entries.length === 1 && only
          ? await chain.redeemWinningTicket(only, fees)
          : await chain.batchRedeemWinningTickets(entries, fees);
      for (const entry of entries) journal.markSubmitted(entry.id, txHash);
      this.log.info({ txHash, tickets: entries.length }, "redemption submitted");
    } catch (error) {
      for (const entry of entries) this.failedAttempt(entry, `send failed: ${errorMessage(error)}`);
    }
  }

  private async settleSubmitted(): Promise<void> {
    const { chain, journal, options } = this.deps;
    const byTx = new Map<string, JournalEntry[]>();
    for (const entry of journal.listByStatus(["submitted"])) {
      const key = entry.txHash ?? "";
      byTx.set(key, [...(byTx.get(key) ?? []), entry]);
    }
    if (byTx.size === 0) return;
    const head = options.confirmations > 1 ? await chain.blockNumber() : null;
    for (const [txHash, entries] of byTx) {
      const receipt = txHash ? await chain.receipt(txHash) : null;
      if (!receipt) {
        if (this.minedIn.delete(txHash)) {
          // It was mined, and a reorganization took it out: send again unless the ticket was
          // redeemed some other way in the new chain.
          for (const entry of entries) {
            if (await chain.isTicketUsed(entry.ticketHash)) continue;
            this.failedAttempt(entry, "redemption removed by a chain reorganization");
          }
          continue;
        }
        const stale = entries.filter((e) => this.now() - e.updatedAt >= options.submittedTimeoutMs);
        for (const entry of stale) {
          if (await chain.isTicketUsed(entry.ticketHash)) this.settled(entry, txHash, null);
          else this.failedAttempt(entry, "transaction not mined in time");
        }
        continue;
      }
      if (head !== null && head - receipt.blockNumber + 1n < BigInt(options.confirmations)) {
        // Mined but not yet deep enough to count: remember where, and look again next pass.
        if (this.minedIn.get(txHash) !== receipt.blockNumber) {
          this.log.info(
            { txHash, block: receipt.blockNumber.toString(), confirmations: options.confirmations },
            "redemption mined; waiting for confirmations",
          );
        }
        this.minedIn.set(txHash, receipt.blockNumber);
        continue;
      }
      this.minedIn.delete(txHash);
      // A batch can succeed while some of its tickets were refused, so ask per ticket.
      for (const entry of entries) {
        if (await chain.isTicketUsed(entry.ticketHash)) {
          this.settled(entry, txHash, receipt.paid?.get(entry.ticketHash.toLowerCase()) ?? null);
        } else {
          this.failedAttempt(
            entry,
            receipt.success ? "ticket refused inside the batch" : "redemption transaction reverted",
          );
        }
      }
    }
  }

  /** `paid`: what the receipt says the ticket paid, when known. */
  private settled(entry: JournalEntry, txHash: string | null, paid: bigint | null): void {
    const faceValue = entry.ticket.faceValue;
    const note =
      paid !== null && paid < faceValue
        ? `paid ${paid} of face value ${faceValue}: the sender's deposit and reserve ran short`
        : null;
    this.deps.journal.markRedeemed(entry.id, txHash, note, paid);
    if (note) {
      this.log.warn({ ticketHash: entry.ticketHash, txHash, paid: String(paid) }, note);
    } else {
      this.log.info({ ticketHash: entry.ticketHash, txHash }, "winning ticket redeemed");
    }
    this.deps.onSettled?.(entry);
  }

  private failedAttempt(entry: JournalEntry, reason: string): void {
    const { options, journal } = this.deps;
    const attempts = entry.attempts + 1;
    if (attempts >= options.maxAttempts) {
      journal.markFailed(entry.id, reason);
      this.log.error(
        { ticketHash: entry.ticketHash, attempts, reason },
        "winning ticket redemption failed",
      );
      this.deps.onSettled?.(entry);
      return;
    }
    const delay = Math.min(options.backoffBaseMs * 2 ** (attempts - 1), options.backoffMaxMs);
    journal.scheduleRetry(entry.id, reason, this.now() + delay);
    this.log.warn(
      { ticketHash: entry.ticketHash, attempts, reason, retryInMs: delay },
      "redemption will be retried",
    );
  }
}

/**
 * The fees a redemption offers: on an EIP-1559 chain a max fee of twice the base fee plus the tip
 * (room for the base fee to climb for a few blocks), never above the operator's cap, so a spike
 * while it waits in the mempool cannot make it pay more than the cap; a legacy chain gets its
 * gas price.
 */
export function txFees(quote: FeeQuote, cap: bigint): TxFees {
  if (quote.baseFee === null) return { gasPrice: quote.price };
  const headroom = quote.baseFee * 2n + quote.priorityFee;
  const maxFeePerGas = headroom < cap ? headroom : cap;
  const maxPriorityFeePerGas = quote.priorityFee < maxFeePerGas ? quote.priorityFee : maxFeePerGas;
  return { maxFeePerGas, maxPriorityFeePerGas };
}
