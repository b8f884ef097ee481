import type { Logger } from "../log/index.ts";
import type { DiscoveredCandidate } from "../p2p/discovery.ts";
import type { TicketParams } from "../payments/interface.ts";
import type { SignedInfo } from "../protocol/index.ts";
import { ticketParamsFromWire } from "../protocol/index.ts";
import type { OrchestratorHandle, OrchestratorSource } from "./interface.ts";
import type { Candidate, SelectionStrategy } from "./selection.ts";

const WIN_PROB_SCALE = 1n << 256n;

export interface NetworkOrchestratorSourceDeps {
  /** Discovery (registry + adverts + bootstrap). */
  discovery: { candidates(): DiscoveredCandidate[]; refresh(): Promise<void> };
  /** Asks a candidate's /segmint/info (verified) and times it. */
  info: (candidate: DiscoveredCandidate) => Promise<SignedInfo>;
  /** Total bonded stake of an orchestrator, token wei. */
  stakeOf: (address: string) => Promise<bigint>;
  strategy: SelectionStrategy;
  /** Ticket params worth more than this per ticket are refused by the sender: skip them. */
  maxTicketEV: bigint;
  /**
   * What this broadcaster knows of an orchestrator (reputation.ts): its selection score, and
   * whether it is proven. Unset: nobody has a record and everyone counts as proven.
   */
  standing?: (address: string) => { score: number; proven: boolean };
  /** An unproven orchestrator's tickets may be worth at most this (less value at risk). */
  unprovenMaxTicketEV?: bigint;
  maxInFlightPerOrchestrator: number;
  /** How long to wait for a first candidate to be discovered. */
  discoveryWaitMs: number;
  log: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Chooses orchestrators from what discovery knows: asks each candidate for its signed info
 * (price, ticket params, capacity), measures the round trip, reads its stake, and lets the
 * selection strategy rank them. Keeps each chosen one's info; its ticket params are handed to
 * one payment channel (`takeParams`), so the first segment needs no extra round trip.
 */
export class NetworkOrchestratorSource implements OrchestratorSource {
  private readonly infos = new Map<string, SignedInfo>();
  /** Chosen orchestrators whose answered ticket params no channel has taken yet. */
  private readonly unusedParams = new Set<string>();
  private found = false;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: NetworkOrchestratorSourceDeps) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The info answered by `address` when it was chosen. */
  infoOf(address: string): SignedInfo | undefined {
    return this.infos.get(address);
  }

  /**
   * The ticket params `address` answered when it was last chosen, the first time they are asked
   * for; undefined after that (two channels writing on one params set would repeat nonces).
   */
  takeParams(address: string): TicketParams | undefined {
    const info = this.infos.get(address);
    if (info === undefined || !this.unusedParams.delete(address)) return undefined;
    return ticketParamsFromWire(info.ticketParams, BigInt(info.pricePerPixel));
  }

  async choose(count: number, exclude: ReadonlySet<string>): Promise<OrchestratorHandle[]> {
    // Only the first search waits for discovery to fill up; a replacement is needed now.
    const deadline = this.now() + (this.found ? 0 : this.deps.discoveryWaitMs);
    for (;;) {
      await this.deps.discovery.refresh();
      const candidates = this.deps.discovery
        .candidates()
        .filter((c) => !exclude.has(c.address) && !exclude.has(c.address.toLowerCase()));
      const ranked = candidates.length > 0 ? await this.rank(candidates, count) : [];
      if (ranked.length > 0) this.found = true;
      if (ranked.length > 0 || this.now() >= deadline) return ranked;
      // Adverts may still be on their way: try again shortly.
      await this.sleep(500);
    }
  }

  private async rank(
    candidates: DiscoveredCandidate[],
    count: number,
  ): Promise<OrchestratorHandle[]> {
    const answered = await Promise.all(
      candidates.map(async (candidate) => {
        const started = performance.now();
        try {
          const info = await this.deps.info(candidate);
          const latencyMs = performance.now() - started;
          if (info.ethAddress.toLowerCase() !== candidate.address.toLowerCase()) {
            this.deps.log.warn(
              { address: candidate.address, claimed: info.ethAddress },
              "candidate answered for another address; skipped",
            );
            return null;
          }
          const ev =
            (BigInt(info.ticketParams.faceValue) * BigInt(info.ticketParams.winProb)) /
            WIN_PROB_SCALE;
          if (ev > this.deps.maxTicketEV) {
            this.deps.log.info(
              { address: candidate.address, ticketEV: ev.toString() },
              "candidate's tickets are worth more than --max-ticket-ev; skipped",
            );
            return null;
          }
          const standing = this.deps.standing?.(candidate.address) ?? { score: 0, proven: true };
          const unprovenCap = this.deps.unprovenMaxTicketEV;
          if (!standing.proven && unprovenCap !== undefined && ev > unprovenCap) {
            this.deps.log.info(
              { address: candidate.address, ticketEV: ev.toString(), max: unprovenCap.toString() },
              "candidate has no record yet and its tickets are worth more than --unproven-max-ticket-ev; skipped",
            );
            return null;
          }
          const stake = await this.deps.stakeOf(candidate.address);
          return { candidate, info, latencyMs, stake, reputation: standing.score };
        } catch (error) {
          this.deps.log.warn(
            { address: candidate.address, err: error },
            "candidate did not answer its info; skipped",
          );
          return null;
        }
      }),
    );
    const usable = answered.filter((a) => a !== null);
    const byAddress = new Map(usable.map((a) => [a.candidate.address, a]));
    const scored: Candidate[] = usable.map((a) => ({
      address: a.candidate.address,
      peerId: a.candidate.peerId,
      stake: a.stake,
      pricePerPixel: BigInt(a.info.pricePerPixel),
      latencyMs: a.latencyMs,
      capacity: a.info.capacity,
      reputation: a.reputation,
    }));
    const chosen = this.deps.strategy.select(scored, count);
    return chosen.flatMap((c) => {
      const entry = byAddress.get(c.address);
      if (entry === undefined) return [];
      this.infos.set(c.address, entry.info);
      this.unusedParams.add(c.address);
      return [
        {
          address: c.address,
          peerId: c.peerId,
          multiaddrs: [...entry.candidate.multiaddrs],
          maxInFlight: Math.max(
            1,
            Math.min(this.deps.maxInFlightPerOrchestrator, entry.info.capacity.free),
          ),
        },
      ];
    });
  }
}
