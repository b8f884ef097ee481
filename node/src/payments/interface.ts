import type { Ticket } from "../chain/ticket.ts";
import type { IssuedTicketParams } from "../protocol/tickets.ts";

/** The decoded ticket the protocol carries; payments signs and validates it. */
export type { TicketPayment } from "../protocol/tickets.ts";

/**
 * What an orchestrator hands a broadcaster so it can write tickets to it (the /segmint/info
 * answer): the issued params (their wire form and codec are the protocol's) and the price.
 */
export interface TicketParams extends IssuedTicketParams {
  /** The orchestrator's price, token wei per pixel, that these params were issued for. */
  pricePerPixel: bigint;
}

/** A won ticket with all an orchestrator needs to redeem it; what the journal stores. */
export interface WinningTicket {
  ticket: Ticket;
  signature: Uint8Array;
  recipientRand: bigint;
  /** EIP-712 digest, 0x hex: the key TicketBroker marks as used. */
  ticketHash: string;
}

/** Every state a journaled winning ticket can be in (the journal and its metrics list them). */
export const REDEMPTION_STATUSES = [
  "pending",
  "submitted",
  "redeemed",
  "failed",
  "expired",
  "uneconomic",
] as const;

export type RedemptionStatus = (typeof REDEMPTION_STATUSES)[number];

export interface JournalEntry extends WinningTicket {
  id: number;
  status: RedemptionStatus;
  txHash: string | null;
  reason: string | null;
  attempts: number;
  /** Unix ms before which the redeemer leaves this entry alone (backoff). */
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
}

/** The durable record of winners; node/src/store's TicketJournal implements it. */
export interface WinningTicketJournal {
  /**
   * Writes the winner durably (fsync'd) before returning. Returns false when that ticket hash
   * was already journaled, which a validator treats as a replay.
   */
  record(win: WinningTicket): boolean;
  /** Face value of this sender's winners not yet settled (pending or submitted). */
  pendingFaceValue(sender: string): bigint;
  listByStatus(statuses: readonly RedemptionStatus[]): JournalEntry[];
  markSubmitted(id: number, txHash: string): void;
  /**
   * `note` records anything unusual, e.g. a ticket paid only in part; `paid` is the token wei
   * the receipt says the ticket paid, when known.
   */
  markRedeemed(id: number, txHash: string | null, note?: string | null, paid?: bigint | null): void;
  markFailed(id: number, reason: string): void;
  markExpired(id: number): void;
  markUneconomic(id: number, reason: string): void;
  /** Back to pending after a failed attempt (counted in `attempts`), not before `nextAttemptAt`. */
  scheduleRetry(id: number, reason: string, nextAttemptAt: number): void;
}

/** A sender's funds at TicketBroker, as the contract reports them. */
export interface SenderInfo {
  deposit: bigint;
  /** Non-zero once the sender has started an unlock: its tickets are no longer safe to take. */
  withdrawRound: bigint;
  reserve: bigint;
  /** Reserve paid to all recipients in the current round (shares are of reserve + this). */
  reserveClaimedInCurrentRound: bigint;
}

/** The chain reads the orchestrator's validator needs; BrokerClient implements it. */
export interface PaymentsChainView {
  currentRound(): Promise<bigint>;
  /** Zero hash when `round` was never initialized (tickets may then name the zero hash). */
  blockHashForRound(round: bigint): Promise<string>;
  ticketValidityRounds(): Promise<bigint>;
  senderInfo(sender: string): Promise<SenderInfo>;
  /** How much of `sender`'s reserve `claimant` has already claimed in `round`. */
  claimedReserve(sender: string, claimant: string, round: bigint): Promise<bigint>;
  /**
   * Whether `orchestrator` is in the current round's active set, and that set's size: only
   * active orchestrators may claim from a reserve, each up to (reserve + claimed) / count.
   */
  activeStatus(orchestrator: string): Promise<{ active: boolean; activeCount: bigint }>;
}

export interface RedeemReceipt {
  success: boolean;
  gasUsed: bigint;
  /** The block the transaction was mined in. */
  blockNumber: bigint;
  /**
   * Token wei actually paid per ticket hash (WinningTicketRedeemed: deposit + reserve parts),
   * when the client decodes the logs. Less than the face value means the sender ran short.
   */
  paid?: ReadonlyMap<string, bigint>;
}

/** What gas costs now, native wei per gas. */
export interface FeeQuote {
  /** What a transaction mined now pays per gas: base fee plus tip (EIP-1559), or the gas price. */
  price: bigint;
  /** The latest block's base fee; null on a chain without EIP-1559 (legacy gas price). */
  baseFee: bigint | null;
  /** The tip the node suggests (EIP-1559); 0 on a legacy chain. */
  priorityFee: bigint;
}

/** The fee fields of one transaction: EIP-1559 caps, or a legacy gas price. */
export type TxFees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint };

/** The chain calls the redeemer makes; BrokerClient implements it. */
export interface RedeemChain {
  currentRound(): Promise<bigint>;
  ticketValidityRounds(): Promise<bigint>;
  feeQuote(): Promise<FeeQuote>;
  isTicketUsed(ticketHash: string): Promise<boolean>;
  /** Sends the transaction and returns its hash without waiting for it to be mined. */
  redeemWinningTicket(win: WinningTicket, fees: TxFees): Promise<string>;
  batchRedeemWinningTickets(wins: readonly WinningTicket[], fees: TxFees): Promise<string>;
  /** null while the transaction is not mined (or unknown to the node, or reorganized away). */
  receipt(txHash: string): Promise<RedeemReceipt | null>;
  /** The chain's latest block number, to count confirmations. */
  blockNumber(): Promise<bigint>;
}
