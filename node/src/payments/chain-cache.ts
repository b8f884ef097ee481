import type { PaymentsChainView, SenderInfo } from "./interface.ts";

export interface RoundState {
  /** The current round. */
  round: bigint;
  /**
   * What fresh tickets name as their creation round: the current round, which the chain
   * computes from the block number (no keeper needs to initialize it).
   */
  creationRound: bigint;
  /**
   * The creation round's stored block hash, or the zero hash while nobody has initialized it;
   * TicketBroker accepts either, so tickets stay valid whether or not a keeper runs.
   */
  blockHash: string;
  validityRounds: bigint;
}

/** The block hash of a round nobody initialized; tickets may name it instead of the real one. */
export const ZERO_HASH = `0x${"00".repeat(32)}`;

export interface SenderFunds {
  info: SenderInfo;
  /** This orchestrator's share of the sender's reserve still claimable this round. */
  reserveShare: bigint;
  /**
   * Whether this orchestrator holds a seat in the active set this round: TicketBroker pays a
   * ticket only to a recipient seated in the ticket's creation round.
   */
  active: boolean;
  round: bigint;
}

interface Cached<T> {
  value: Promise<T>;
  at: number;
}

/** How many past rounds' block hashes to keep: tickets live a few rounds at most. */
const BLOCK_HASH_MEMO = 64;
/** Bounds the sender cache; an attacker naming random senders must not grow memory forever. */
const MAX_CACHED_SENDERS = 10_000;

/**
 * Chain reads for ticket issuance and validation, cached so that validating a ticket costs no
 * RPC round trip in the common case. Entries live `ttlMs` and are dropped at once by
 * `invalidateSender` (called on TicketBroker events and after a redemption). Concurrent
 * callers share one in-flight request.
 */
export class ChainStateCache {
  private roundEntry: Cached<RoundState> | null = null;
  private readonly blockHashes = new Map<bigint, Promise<string>>();
  private readonly senders = new Map<string, Cached<SenderFunds>>();

  constructor(
    private readonly chain: PaymentsChainView,
    private readonly self: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  roundState(): Promise<RoundState> {
    const entry = this.roundEntry;
    if (entry && this.now() - entry.at < this.ttlMs) return entry.value;
    const value = (async () => {
      const [round, validityRounds] = await Promise.all([
        this.chain.currentRound(),
        this.chain.ticketValidityRounds(),
      ]);
      const blockHash = await this.blockHashForRound(round);
      return { round, creationRound: round, blockHash, validityRounds };
    })();
    this.roundEntry = { value, at: this.now() };
    value.catch(() => {
      if (this.roundEntry?.value === value) this.roundEntry = null;
    });
    return value;
  }

  blockHashForRound(round: bigint): Promise<string> {
    const known = this.blockHashes.get(round);
    if (known) return known;
    const value = this.chain.blockHashForRound(round).then((h) => h.toLowerCase());
    this.blockHashes.set(round, value);
    // A zero hash means "not initialized yet": do not remember it, it will change.
    value.then(
      (h) => {
        if (h === ZERO_HASH && this.blockHashes.get(round) === value)
          this.blockHashes.delete(round);
      },
      () => this.blockHashes.delete(round),
    );
    if (this.blockHashes.size > BLOCK_HASH_MEMO) {
      const oldest = this.blockHashes.keys().next().value;
      if (oldest !== undefined) this.blockHashes.delete(oldest);
    }
    return value;
  }

  senderFunds(sender: string): Promise<SenderFunds> {
    const key = sender.toLowerCase();
    const entry = this.senders.get(key);
    if (entry && this.now() - entry.at < this.ttlMs) return entry.value;
    const value = (async () => {
      const { round } = await this.roundState();
      const [info, claimed, status] = await Promise.all([
        this.chain.senderInfo(key),
        this.chain.claimedReserve(key, this.self, round),
        this.chain.activeStatus(this.self),
      ]);
      return {
        info,
        reserveShare: reserveShare(info, claimed, status),
        active: status.active,
        round,
      };
    })();
    this.senders.delete(key);
    this.senders.set(key, { value, at: this.now() });
    value.catch(() => {
      if (this.senders.get(key)?.value === value) this.senders.delete(key);
    });
    if (this.senders.size > MAX_CACHED_SENDERS) {
      const oldest = this.senders.keys().next().value;
      if (oldest !== undefined) this.senders.delete(oldest);
    }
    return value;
  }

  invalidateSender(sender: string): void {
    this.senders.delete(sender.toLowerCase());
  }

  /** On a new round or a reorg: everything read from the chain may have changed. */
  invalidateRound(): void {
    this.roundEntry = null;
    this.blockHashes.clear();
    this.senders.clear();
  }
}

/**
 * What this orchestrator may still take from the sender's reserve this round, as TicketBroker
 * computes it: an active orchestrator's allocation is (reserve + claimed this round) / active
 * count, less what it already claimed; never more than the reserve left.
 */
export function reserveShare(
  info: SenderInfo,
  claimedBySelf: bigint,
  status: { active: boolean; activeCount: bigint },
): bigint {
  if (!status.active || status.activeCount === 0n || info.reserve === 0n) return 0n;
  const allocation = (info.reserve + info.reserveClaimedInCurrentRound) / status.activeCount;
  if (claimedBySelf >= allocation) return 0n;
  const share = allocation - claimedBySelf;
  return share > info.reserve ? info.reserve : share;
}
