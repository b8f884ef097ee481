import type { SegmintClients } from "../chain/contracts.ts";
import { errorMessage } from "../errors.ts";
import type { RedemptionStatus } from "../payments/interface.ts";
import type { MeteredJournal } from "./journal.ts";
import type { TicketEconomics } from "./pricing.ts";

export interface OrchestratorStatus {
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
  sessions: number;
  capacity: number;
  pricePerPixel: string;
  ticket: { faceValue: string; expectedValue: string };
  earnings: { pendingFees: string | null; pendingStake: string | null };
  tickets: Record<RedemptionStatus, number> & { redeemedValue: string };
  rewardCalls: number;
  /** Set when the chain could not be read; the local fields above are still current. */
  chainError?: string;
}

export interface StatusSources {
  address: string;
  peerId: string;
  multiaddrs: string[];
  clients: SegmintClients;
  journal: MeteredJournal;
  service: { sessions: number };
  capacity: number;
  pricePerPixel: bigint;
  economics: TicketEconomics;
  rewardCalls: () => number;
}

/** The /status document: local state always, chain state when the chain answers. */
export async function readStatus(s: StatusSources): Promise<OrchestratorStatus> {
  const local = {
    address: s.address,
    peerId: s.peerId,
    multiaddrs: s.multiaddrs,
    sessions: s.service.sessions,
    capacity: s.capacity,
    pricePerPixel: s.pricePerPixel.toString(),
    ticket: {
      faceValue: s.economics.faceValue.toString(),
      expectedValue: s.economics.ticketEV.toString(),
    },
    tickets: { ...s.journal.counts(), redeemedValue: s.journal.redeemedValue().toString() },
    rewardCalls: s.rewardCalls(),
  };
  try {
    const bm = s.clients.bondingManager;
    const [info, stake, fees, round] = await Promise.all([
      bm.getOrchestrator(s.address),
      bm.pendingStake(s.address),
      bm.pendingFees(s.address),
      s.clients.roundsManager.currentRound(),
    ]);
    return {
      ...local,
      stake: stake.toString(),
      totalStake: info.totalStake.toString(),
      active: info.active,
      round: round.toString(),
      rewardCut: Number(info.rewardCut),
      feeShare: Number(info.feeShare),
      earnings: { pendingFees: fees.toString(), pendingStake: stake.toString() },
    };
  } catch (error) {
    return {
      ...local,
      stake: null,
      totalStake: null,
      active: null,
      round: null,
      rewardCut: null,
      feeShare: null,
      earnings: { pendingFees: null, pendingStake: null },
      chainError: errorMessage(error),
    };
  }
}
