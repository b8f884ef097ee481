import type { SegmintClients } from "../chain/contracts.ts";
import { errorMessage } from "../errors.ts";
import type { RedemptionStatus } from "../payments/interface.ts";
import { formatTokenPrice, tokensToNative } from "../payments/token-price.ts";
import { DEFAULT_HISTORY_ROUNDS, type JournalTotals, type RoundEarnings } from "../store/index.ts";
import type { LiveSession, NodeActivity, RecentError } from "./activity.ts";
import type { ChainHealth } from "./chain.ts";
import type { Earnings } from "./earnings.ts";
import type { TicketEconomics } from "./pricing.ts";

/** Where the node is in its life: only "serving" takes work. */
export type NodeState = "starting" | "serving" | "stopping";

/**
 * The /status document. Amounts are token wei as decimal strings. Ticket counts per redemption
 * status and the redeemed value are all-time (the journal); received, won and expected value
 * count since this process started (`startedAt`).
 */
export interface OrchestratorStatus {
  state: NodeState;
  /** When this process started, ISO 8601. */
  startedAt: string;
  address: string;
  peerId: string;
  multiaddrs: string[];
  /** Self-bonded stake (pending rewards included), token wei. */
  stake: string | null;
  /** All stake bonded to this orchestrator, delegators' included, token wei. */
  totalStake: string | null;
  active: boolean | null;
  round: string | null;
  rewardCut: number | null;
  feeShare: number | null;
  /** Segments being transcoded now. */
  sessions: number;
  capacity: number;
  pricePerPixel: string;
  ticket: { faceValue: string; expectedValue: string };
  /** Streams that had a segment transcoded in the last 30 s, most recent first. */
  liveSessions: LiveSession[];
  throughput: {
    /** Segments transcoded since start. */
    segments: number;
    /** Segments transcoded per second over the last 60 s. */
    segmentsPerSecond: number;
  };
  earnings: {
    /** All fees: withdrawable now plus locked (fees wait the unlock period once settled). */
    pendingFees: string | null;
    withdrawableFees: string | null;
    /** Fees still locked, or not yet settled (their lock starts when they are). */
    lockedFees: string | null;
    pendingStake: string | null;
    /** Fees this address withdrew, all time (from FeesWithdrawn events); null until scanned. */
    feesWithdrawn: string | null;
    /** Tokens this address's reward() calls minted into its pool, all time; null until scanned. */
    rewards: string | null;
  };
  tickets: Record<RedemptionStatus, number> & {
    /** Face value of the redeemed winners. */
    redeemedValue: string;
    /** What the redeemed winners actually paid (less than face value if a sender ran short). */
    paidValue: string;
    /** Tickets accepted since start. */
    received: number;
    /** Winning tickets among them. */
    won: number;
    /** Sum of faceValue x winProb of the accepted tickets: what the work earned on average. */
    expectedValueEarned: string;
  };
  rewardCalls: number;
  /**
   * The most recent rounds' earnings (at most 10, most recent first) from the store's history:
   * all-time, kept across restarts; empty without a history.
   */
  rounds: RoundEarningsJson[];
  /** The last refusals and failures with a code, most recent first (at most 20). */
  recentErrors: RecentError[];
  /**
   * The chain as the node's watch last saw it: not ok (and /healthz 503) when it stopped
   * answering, lost the deployment's code or this registration; `reason` says which.
   */
  health: ChainHealth;
  /** Set when the chain could not be read; the local fields above are still current. */
  chainError?: string;
}

/** One round's earnings as /status and `segmint earnings --json` give them (amounts in wei). */
export interface RoundEarningsJson {
  round: string;
  ticketsReceived: number;
  /** Expected value of the tickets received, token wei. */
  expectedValue: string;
  winners: number;
  /** The winners' face value, token wei. */
  winnersFaceValue: string;
  redeemed: number;
  /** What the redeemed winners paid, token wei. */
  redeemedValue: string;
  /** Their redemption transactions' fees, ETH wei. */
  redemptionGas: string;
  /** Minted into the pool by this node's reward() in the round, token wei; null when none. */
  rewardMinted: string | null;
  rewardTx: string | null;
}

export function roundEarningsJson(r: RoundEarnings): RoundEarningsJson {
  return {
    round: r.round.toString(),
    ticketsReceived: r.ticketsReceived,
    expectedValue: r.expectedValue.toString(),
    winners: r.winners,
    winnersFaceValue: r.winnersFaceValue.toString(),
    redeemed: r.redeemed,
    redeemedValue: r.redeemedValue.toString(),
    redemptionGas: r.redemptionGas.toString(),
    rewardMinted: r.rewardMinted === null ? null : r.rewardMinted.toString(),
    rewardTx: r.rewardTx,
  };
}

/** The chain reads /status makes (statusChain adapts the typed clients). */
export interface StatusChain {
  getOrchestrator(
    address: string,
  ): Promise<{ totalStake: bigint; active: boolean; rewardCut: bigint; feeShare: bigint }>;
  pendingStake(address: string): Promise<bigint>;
  feeBalance(
    address: string,
  ): Promise<{ withdrawable: bigint; locked: bigint; laterLocked: bigint; unsettled: bigint }>;
  currentRound(): Promise<bigint>;
}

export function statusChain(
  clients: Pick<SegmintClients, "bondingManager" | "roundsManager">,
): StatusChain {
  const bm = clients.bondingManager;
  return {
    getOrchestrator: (address) => bm.getOrchestrator(address),
    pendingStake: (address) => bm.pendingStake(address),
    feeBalance: (address) => bm.feeBalance(address),
    currentRound: () => clients.roundsManager.currentRound(),
  };
}

/** What /status says while the node is starting, before its parts exist. */
export interface StartingStatus {
  state: NodeState;
  startedAt: string;
}

export function startingStatus(state: NodeState, startedAt: number): StartingStatus {
  return { state, startedAt: new Date(startedAt).toISOString() };
}

export interface StatusSources {
  state: () => NodeState;
  startedAt: number;
  address: string;
  peerId: string;
  multiaddrs: string[];
  chain: StatusChain;
  journal: { totals(): JournalTotals };
  service: { sessions: number };
  activity: NodeActivity;
  earnings: { read(): Promise<Earnings | null> };
  capacity: number;
  pricePerPixel: bigint;
  economics: TicketEconomics;
  rewardCalls: () => number;
  /** The earnings history; /status shows its recent rounds. */
  history?: { rounds(limit: number): RoundEarnings[] };
  /** The chain watch's verdict; ok when there is no watch. */
  health?: () => ChainHealth;
}

/** The /status document: local state always, chain state when the chain answers. */
export async function readStatus(s: StatusSources): Promise<OrchestratorStatus> {
  const totals = s.journal.totals();
  const accepted = s.activity.tickets();
  const local = {
    state: s.state(),
    startedAt: new Date(s.startedAt).toISOString(),
    address: s.address,
    peerId: s.peerId,
    multiaddrs: s.multiaddrs,
    sessions: s.service.sessions,
    capacity: s.capacity,
    pricePerPixel: s.pricePerPixel.toString(),
    ticket: {
      faceValue: s.economics.faceValue.toString(),
      expectedValue: s.economics.ticketEV.toString(),
      /** Smallest face value that pays for its own redemption, token wei. */
      minFaceValue: s.economics.minFaceValue.toString(),
      /** One redemption's gas when the node started, native wei (ETH). */
      redeemGasCost: s.economics.redeemGasCost.toString(),
      /** The face value's worth in native wei at the token price. */
      faceValueNative: tokensToNative(s.economics.faceValue, s.economics.tokenPrice).toString(),
      /** ETH per token the node weighs tokens against gas with. */
      tokenPriceEth: formatTokenPrice(s.economics.tokenPrice),
    },
    liveSessions: s.activity.liveSessions(),
    throughput: s.activity.throughput(),
    tickets: {
      ...totals.counts,
      redeemedValue: totals.faceValue.redeemed.toString(),
      paidValue: totals.redeemedPaid.toString(),
      received: accepted.received,
      won: accepted.won,
      expectedValueEarned: accepted.expectedValueEarned.toString(),
    },
    rewardCalls: s.rewardCalls(),
    rounds: (s.history?.rounds(DEFAULT_HISTORY_ROUNDS) ?? []).map(roundEarningsJson),
    recentErrors: s.activity.recentErrors(),
    health: s.health?.() ?? { ok: true },
  };
  const earned = s.earnings.read();
  try {
    const [info, stake, fees, round, events] = await Promise.all([
      s.chain.getOrchestrator(s.address),
      s.chain.pendingStake(s.address),
      s.chain.feeBalance(s.address),
      s.chain.currentRound(),
      earned,
    ]);
    const locked = fees.locked + fees.laterLocked + fees.unsettled;
    return {
      ...local,
      stake: stake.toString(),
      totalStake: info.totalStake.toString(),
      active: info.active,
      round: round.toString(),
      rewardCut: Number(info.rewardCut),
      feeShare: Number(info.feeShare),
      earnings: {
        pendingFees: (fees.withdrawable + locked).toString(),
        withdrawableFees: fees.withdrawable.toString(),
        lockedFees: locked.toString(),
        pendingStake: stake.toString(),
        feesWithdrawn: events?.feesWithdrawn.toString() ?? null,
        rewards: events?.rewards.toString() ?? null,
      },
    };
  } catch (error) {
    // The scan never rejects; awaited so it does not outlive this call unobserved.
    await earned;
    return {
      ...local,
      stake: null,
      totalStake: null,
      active: null,
      round: null,
      rewardCut: null,
      feeShare: null,
      earnings: {
        pendingFees: null,
        withdrawableFees: null,
        lockedFees: null,
        pendingStake: null,
        feesWithdrawn: null,
        rewards: null,
      },
      chainError: errorMessage(error),
    };
  }
}
