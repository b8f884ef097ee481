/** Orchestrator: what each ticket it asks for is worth. */
export interface TicketIssuerOptions {
  /** Face value asked for, in token wei; lowered to the sender's max float when that is less. */
  faceValue: bigint;
  /** Expected value of one ticket, token wei: winProb = ticketEV / faceValue. */
  ticketEV: bigint;
  /** Price quoted to broadcasters, token wei per pixel. */
  pricePerPixel: bigint;
  /**
   * A face value below this would not pay for its own redemption gas, so a sender whose max
   * float is under it is refused up front (SENDER_FUNDS_TOO_LOW).
   */
  minFaceValue: bigint;
}

export interface ValidatorOptions {
  /**
   * Nonces remembered per recipientRandHash. A broadcaster sends a few tickets per segment
   * and fresh params come back with every response, so a few thousand is far above honest use
   * while bounding memory per params set.
   */
  maxNoncesPerRandHash: number;
  /** Sender funds and round data are cached this long; event-driven invalidation comes first. */
  chainCacheTtlMs: number;
}

export const defaultValidatorOptions: ValidatorOptions = {
  maxNoncesPerRandHash: 4096,
  chainCacheTtlMs: 5_000,
};

export interface RedeemerOptions {
  /** Winners sent per transaction; 1 uses redeemWinningTicket, more uses the batch call. */
  batchSize: number;
  /** Never send a redemption at a gas price above this (native wei); wait instead. */
  maxGasPrice: bigint;
  /** Gas a single redemption uses (estimate); with the price it gives the cost to beat. */
  gasPerTicket: bigint;
  /** Attempts before a ticket is recorded as failed. */
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How often the loop wakes up when started with start(). */
  pollIntervalMs: number;
  /** A submitted transaction with no receipt after this long is checked and sent again. */
  submittedTimeoutMs: number;
  /**
   * Blocks a redemption must have (its own included) before its tickets count as redeemed. Until
   * then a reorganization that drops it sends the tickets again; 1 trusts the first receipt.
   */
  confirmations: number;
}

export const defaultRedeemerOptions: RedeemerOptions = {
  batchSize: 10,
  maxGasPrice: 500_000_000_000n, // 500 gwei
  // A cold ticket redemption (signature check, two SSTOREs, token transfer through the
  // BondingManager fee pool) measured around 120k gas; round up so the check errs safe.
  gasPerTicket: 150_000n,
  maxAttempts: 5,
  backoffBaseMs: 2_000,
  backoffMaxMs: 5 * 60_000,
  pollIntervalMs: 2_000,
  submittedTimeoutMs: 120_000,
  confirmations: 1,
};

/** Broadcaster: the operator's limits on what it will pay. */
export interface TicketSenderOptions {
  /** Refuse orchestrators quoting more than this, token wei per pixel. */
  maxPricePerPixel: bigint;
  /** Refuse ticket params whose single-ticket expected value exceeds this, token wei. */
  maxTicketEV: bigint;
  /** Stop paying once the expected value of all tickets sent reaches this, token wei. */
  maxTotalSpend: bigint;
}
