/**
 * Choosing orchestrators. Livepeer's broadcaster weighs stake 0.7 and a random draw 0.3; we
 * keep stake and chance as the main terms (stake is what makes an orchestrator accountable, chance
 * spreads work so new orchestrators get a start) and add price, latency and free capacity, so a
 * cheaper, closer or emptier node wins ties, and this broadcaster's own record of each one
 * (reputation.ts): verified work raises it, a failed verification sinks it for a long time.
 * The strategy is an interface: callers may pass their own. A broadcaster's allow and deny
 * lists (`OrchestratorLists`) narrow what discovery found before anyone is ranked.
 */

import { BroadcasterError } from "./errors.ts";

export interface Candidate {
  address: string;
  peerId: string;
  /** Total bonded stake (self + delegated), token wei. */
  stake: bigint;
  /** Asking price, token wei per pixel. */
  pricePerPixel: bigint;
  /** Round-trip time of the last info request, when measured. */
  latencyMs?: number;
  capacity: { total: number; free: number };
  /** This broadcaster's record of it, 0 (nothing known, or failures) to 1 (reputation.ts). */
  reputation?: number;
}

export interface SelectionWeights {
  stake: number;
  price: number;
  latency: number;
  capacity: number;
  chance: number;
  /** Weight of the reputation score; unset counts it as 0. */
  reputation?: number;
}

export const defaultSelectionWeights: SelectionWeights = {
  stake: 0.4,
  price: 0.15,
  latency: 0.1,
  capacity: 0.05,
  chance: 0.3,
  // As much as stake: a record of verified work is the best evidence a broadcaster has.
  reputation: 0.4,
};

export interface SelectionStrategy {
  /**
   * Up to `count` candidates, best first. Never returns one that is too expensive; one that
   * is full comes only after every one with room (full is a passing state, not a fault: a
   * broadcaster with no other choice waits for it rather than failing).
   */
  select(candidates: readonly Candidate[], count: number): Candidate[];
}

export interface WeightedSelectionOptions {
  weights?: SelectionWeights;
  /** Candidates asking more than this per pixel are never chosen. */
  maxPricePerPixel: bigint;
  /** A uniform [0, 1) source; injectable so tests are deterministic. */
  random?: () => number;
}

/** Ratio a/b of two bigints as a float in [0, 1] when a <= b (precise enough for scoring). */
function ratio(a: bigint, b: bigint): number {
  if (b === 0n) return 0;
  // Scale to keep 6 significant digits without converting huge wei values to floats first.
  return Number((a * 1_000_000n) / b) / 1_000_000;
}

export class WeightedSelection implements SelectionStrategy {
  private readonly weights: SelectionWeights;
  private readonly maxPrice: bigint;
  private readonly random: () => number;

  constructor(options: WeightedSelectionOptions) {
    this.weights = options.weights ?? defaultSelectionWeights;
    this.maxPrice = options.maxPricePerPixel;
    this.random = options.random ?? Math.random;
  }

  select(candidates: readonly Candidate[], count: number): Candidate[] {
    const eligible = candidates.filter((c) => c.pricePerPixel <= this.maxPrice);
    if (eligible.length === 0 || count <= 0) return [];
    const maxStake = eligible.reduce((m, c) => (c.stake > m ? c.stake : m), 0n);
    const minPrice = eligible.reduce(
      (m, c) => (c.pricePerPixel < m ? c.pricePerPixel : m),
      eligible[0]?.pricePerPixel ?? 0n,
    );
    const latencies = eligible.map((c) => c.latencyMs).filter((l) => l !== undefined);
    const minLatency = latencies.length > 0 ? Math.max(1, Math.min(...latencies)) : undefined;
    const w = this.weights;
    const scored = eligible.map((c) => {
      const stakeScore = ratio(c.stake, maxStake);
      // The cheapest scores 1; one asking twice as much scores 0.5. Free (price 0) scores 1.
      const priceScore = c.pricePerPixel === 0n ? 1 : ratio(minPrice, c.pricePerPixel);
      // Unmeasured latency scores neutral (0.5) rather than best or worst.
      const latencyScore =
        minLatency === undefined || c.latencyMs === undefined
          ? 0.5
          : minLatency / Math.max(1, c.latencyMs);
      const capacityScore = c.capacity.total > 0 ? c.capacity.free / c.capacity.total : 0;
      const score =
        w.stake * stakeScore +
        w.price * priceScore +
        w.latency * latencyScore +
        w.capacity * capacityScore +
        w.chance * this.random() +
        (w.reputation ?? 0) * (c.reputation ?? 0);
      return { candidate: c, score };
    });
    const hasRoom = (c: Candidate) => (c.capacity.free > 0 ? 1 : 0);
    scored.sort((a, b) => hasRoom(b.candidate) - hasRoom(a.candidate) || b.score - a.score);
    return scored.slice(0, count).map((s) => s.candidate);
  }
}

/**
 * PINNED_ORCHESTRATORS_UNAVAILABLE: none of the pinned orchestrators could be used, naming
 * those never discovered and those discovered but refused.
 */
export function pinnedUnavailableError(pins: UnavailablePins): BroadcasterError {
  const parts = [
    ...(pins.notFound.length > 0 ? [`not found: ${pins.notFound.join(", ")}`] : []),
    ...(pins.refused.length > 0
      ? [`refused (no answer, too expensive or over a ticket cap): ${pins.refused.join(", ")}`]
      : []),
  ];
  return new BroadcasterError(
    "PINNED_ORCHESTRATORS_UNAVAILABLE",
    `no pinned orchestrator (--orchestrator) could be used; ${parts.join("; ")}`,
    { notFound: pins.notFound, refused: pins.refused },
    {
      hint: "check the addresses with `segmint orchestrators`, --bootstrap and the price and ticket caps, or drop --orchestrator",
    },
  );
}

/** Addresses a broadcaster pins (`--orchestrator`, use only these) or excludes. */
export interface OrchestratorListSettings {
  pinnedOrchestrators: readonly string[];
  excludedOrchestrators: readonly string[];
}

/** Pinned orchestrators a broadcast could not use, and why. */
export interface UnavailablePins {
  /** Never discovered (chain registry, adverts, --bootstrap). */
  notFound: string[];
  /** Discovered, but never chosen: no answer, too expensive, or over a ticket cap. */
  refused: string[];
}

/**
 * The allow and deny lists, applied to what discovery found, before any candidate is dialed:
 * an excluded orchestrator is never asked for its info, and with pins only the pinned ones
 * are. It remembers which pinned ones were discovered, so a broadcast that could not use them
 * can say which and why.
 */
export class OrchestratorLists {
  private readonly pinned: ReadonlySet<string>;
  private readonly excluded: ReadonlySet<string>;
  private readonly discovered = new Set<string>();

  constructor(settings: OrchestratorListSettings) {
    this.pinned = new Set(settings.pinnedOrchestrators.map((a) => a.toLowerCase()));
    this.excluded = new Set(settings.excludedOrchestrators.map((a) => a.toLowerCase()));
  }

  /** How many orchestrators are pinned (0: any may be used). */
  get pins(): number {
    return this.pinned.size;
  }

  admits(address: string): boolean {
    const key = address.toLowerCase();
    if (this.excluded.has(key)) return false;
    return this.pinned.size === 0 || this.pinned.has(key);
  }

  /** The candidates the lists admit (records the pinned ones seen). */
  filter<T extends { address: string }>(candidates: readonly T[]): T[] {
    const admitted = candidates.filter((c) => this.admits(c.address));
    for (const c of admitted) this.discovered.add(c.address.toLowerCase());
    return admitted;
  }

  /** Pinned orchestrators that did no work (`used` did): not found, or found and refused. */
  unavailable(used: Iterable<string>): UnavailablePins {
    const worked = new Set([...used].map((a) => a.toLowerCase()));
    const missing = [...this.pinned].filter((a) => !worked.has(a));
    return {
      notFound: missing.filter((a) => !this.discovered.has(a)),
      refused: missing.filter((a) => this.discovered.has(a)),
    };
  }

  /**
   * `discovery` seen through the lists: what the orchestrator source ranks is only what the
   * lists admit.
   */
  over<T extends { address: string }>(discovery: {
    candidates(): T[];
    refresh(): Promise<void>;
  }): { candidates(): T[]; refresh(): Promise<void> } {
    return {
      candidates: () => this.filter(discovery.candidates()),
      refresh: () => discovery.refresh(),
    };
  }
}
