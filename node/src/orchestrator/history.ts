import type { BondingManager } from "../chain/contracts.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import type { EarningsHistory, RoundEarnings } from "../store/index.ts";

/** The orchestrator's SQLite file in its data dir: the journal and the earnings history. */
export const STORE_FILE = "orchestrator.sqlite";

/** What the history needs from a mined transaction's receipt. */
export interface MinedReceipt {
  /** gasUsed x the price paid per gas, ETH wei. */
  fee: bigint;
  /** The Rewarded event's amounts, when the transaction emitted one. */
  rewarded: { minted: bigint; orchestratorCut: bigint } | null;
}

/** The chain reads the history keeper makes (historyChain adapts a provider). */
export interface HistoryChain {
  /** null while the transaction is not mined (or the node does not know it). */
  receipt(txHash: string): Promise<MinedReceipt | null>;
}

/**
 * Redemption transactions whose fee is read per pass: one receipt each, so a pass after a long
 * outage costs a bounded number of requests; the rest follow on the next passes.
 */
export const REDEMPTIONS_PRICED_PER_PASS = 20;

/**
 * Keeps the store's earnings history current beside the running node: writes the tickets
 * received (counted in memory by the transcode service) once per pass, shares each redemption
 * transaction's fee among its tickets once it is mined, and records each reward() call with what
 * it minted. A pass never throws at its caller's work: a failed read is logged and tried again.
 */
export class HistoryKeeper {
  constructor(
    private readonly history: EarningsHistory,
    private readonly chain: HistoryChain,
    private readonly log: Logger,
  ) {}

  /** Tickets accepted in `round` (the transcode service's hook). */
  received(round: bigint, tickets: number, scaled: bigint): void {
    this.history.received(round, tickets, scaled);
  }

  /** The round service's reward() in `round` was mined as `txHash`. */
  async rewarded(round: bigint, txHash: string): Promise<void> {
    try {
      const receipt = await this.chain.receipt(txHash);
      this.history.recordReward({
        round,
        minted: receipt?.rewarded?.minted ?? 0n,
        orchestratorCut: receipt?.rewarded?.orchestratorCut ?? 0n,
        txHash,
        gasFee: receipt?.fee ?? null,
      });
    } catch (error) {
      this.log.warn({ err: errorMessage(error), txHash }, "reward not recorded in the history");
    }
  }

  /** One pass: flush the receipts, then price the redemptions that are mined. */
  async tick(): Promise<void> {
    this.history.flush();
    for (const txHash of this.history.unpricedRedemptions(REDEMPTIONS_PRICED_PER_PASS)) {
      const receipt = await this.chain.receipt(txHash);
      if (receipt !== null) this.history.priceRedemption(txHash, receipt.fee);
    }
  }

  /** The last pass at stop: what was received is written before the store closes. */
  close(): void {
    this.history.flush();
  }

  rounds(limit: number): RoundEarnings[] {
    return this.history.rounds(limit);
  }
}

/** HistoryChain over a provider, decoding Rewarded with the BondingManager's interface. */
export function historyChain(
  provider: {
    getTransactionReceipt(hash: string): Promise<{
      fee: bigint;
      logs: readonly { topics: readonly string[]; data: string }[];
    } | null>;
  },
  bm: Pick<BondingManager, "interface">,
): HistoryChain {
  return {
    receipt: async (txHash) => {
      const receipt = await provider.getTransactionReceipt(txHash);
      if (receipt === null) return null;
      let rewarded: MinedReceipt["rewarded"] = null;
      for (const log of receipt.logs) {
        const parsed = bm.interface.parseLog({ topics: [...log.topics], data: log.data });
        if (parsed?.name === "Rewarded") {
          rewarded = { minted: parsed.args.amount, orchestratorCut: parsed.args.orchestratorCut };
        }
      }
      return { fee: receipt.fee, rewarded };
    },
  };
}
