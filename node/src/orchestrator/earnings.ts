import type { BondingManager } from "../chain/contracts.ts";

/** Sums of this orchestrator's BondingManager events over a block range (both ends included). */
export interface EarningsEvents {
  latestBlock(): Promise<number>;
  /** Fees this address withdrew (FeesWithdrawn with it as the delegator), token wei. */
  feesWithdrawn(fromBlock: number, toBlock: number): Promise<bigint>;
  /** Tokens its reward() calls minted into its pool (Rewarded amounts), token wei. */
  rewards(fromBlock: number, toBlock: number): Promise<bigint>;
}

export interface Earnings {
  feesWithdrawn: bigint;
  rewards: bigint;
}

/**
 * Blocks per eth_getLogs request: many public RPC providers refuse wider ranges (10,000 is a
 * common cap), and on a dev chain one request covers everything anyway.
 */
export const BLOCKS_PER_QUERY = 10_000;
/**
 * Requests per read, so one /status call on a long chain does not hang on a full history scan:
 * 20 x 10,000 blocks. The scan resumes where it stopped on the next read.
 */
export const QUERIES_PER_READ = 20;

/**
 * Running totals of this orchestrator's withdrawn fees and reward mints, from the chain's events
 * since the deployment block. Each read scans only the blocks added since the last one; while the
 * first scan has not caught up with the head (or the chain does not answer) it reports null.
 */
export class EarningsScanner {
  private nextBlock: number;
  private totals: Earnings = { feesWithdrawn: 0n, rewards: 0n };
  private inFlight: Promise<Earnings | null> | null = null;

  constructor(
    private readonly events: EarningsEvents,
    fromBlock: number,
  ) {
    this.nextBlock = fromBlock;
  }

  /** The totals up to the chain head, or null when they are not known yet. */
  read(): Promise<Earnings | null> {
    // Concurrent /status calls share one scan rather than counting the same blocks twice.
    this.inFlight ??= this.scan().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async scan(): Promise<Earnings | null> {
    try {
      const head = await this.events.latestBlock();
      for (let i = 0; i < QUERIES_PER_READ && this.nextBlock <= head; i++) {
        const to = Math.min(head, this.nextBlock + BLOCKS_PER_QUERY - 1);
        const [fees, rewards] = await Promise.all([
          this.events.feesWithdrawn(this.nextBlock, to),
          this.events.rewards(this.nextBlock, to),
        ]);
        // Totals and position move together, so a failed query leaves both as they were.
        this.totals = {
          feesWithdrawn: this.totals.feesWithdrawn + fees,
          rewards: this.totals.rewards + rewards,
        };
        this.nextBlock = to + 1;
      }
      return this.nextBlock > head ? { ...this.totals } : null;
    } catch {
      // The chain did not answer: /status says so in chainError; these totals just stay unknown.
      return null;
    }
  }
}

/** EarningsEvents over the typed BondingManager client. */
export function bondingManagerEarnings(
  bm: BondingManager,
  provider: { getBlockNumber(): Promise<number> },
  address: string,
): EarningsEvents {
  return {
    latestBlock: () => provider.getBlockNumber(),
    feesWithdrawn: async (from, to) => {
      const logs = await bm.queryFilter(bm.filters.FeesWithdrawn(address), from, to);
      return logs.reduce((sum, log) => sum + log.args.amount, 0n);
    },
    rewards: async (from, to) => {
      const logs = await bm.queryFilter(bm.filters.Rewarded(address), from, to);
      return logs.reduce((sum, log) => sum + log.args.amount, 0n);
    },
  };
}
