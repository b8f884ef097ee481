/**
 * Nonces seen per recipientRandHash, so a ticket cannot be credited twice. Params expire after
 * a few rounds, so each set is dropped once its creation round falls out of the validity
 * window; within a set the size is capped (see ValidatorOptions.maxNoncesPerRandHash).
 */
export class NonceTracker {
  private readonly byRandHash = new Map<
    string,
    { creationRound: bigint; nonces: Set<bigint>; revealed: boolean }
  >();

  constructor(private readonly maxPerRandHash: number) {}

  has(randHash: string, nonce: bigint): boolean {
    return this.byRandHash.get(randHash)?.nonces.has(nonce) ?? false;
  }

  isFull(randHash: string): boolean {
    return (this.byRandHash.get(randHash)?.nonces.size ?? 0) >= this.maxPerRandHash;
  }

  add(randHash: string, nonce: bigint, creationRound: bigint): void {
    this.entry(randHash, creationRound).nonces.add(nonce);
  }

  private entry(randHash: string, creationRound: bigint) {
    let entry = this.byRandHash.get(randHash);
    if (!entry) {
      entry = { creationRound, nonces: new Set<bigint>(), revealed: false };
      this.byRandHash.set(randHash, entry);
    }
    return entry;
  }

  /**
   * Redeeming a winner puts its recipientRand on chain; from then on the sender could tell
   * winning tickets from losing ones before sending them, so tickets on that hash are refused.
   */
  markRevealed(randHash: string, creationRound: bigint): void {
    this.entry(randHash, creationRound).revealed = true;
  }

  isRevealed(randHash: string): boolean {
    return this.byRandHash.get(randHash)?.revealed ?? false;
  }

  /** Forgets every set whose tickets can no longer be valid in `currentRound`. */
  prune(currentRound: bigint, validityRounds: bigint): void {
    for (const [hash, entry] of this.byRandHash) {
      if (entry.creationRound + validityRounds < currentRound) this.byRandHash.delete(hash);
    }
  }

  get size(): number {
    return this.byRandHash.size;
  }
}
