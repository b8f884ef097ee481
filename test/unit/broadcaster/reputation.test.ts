import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NetworkOrchestratorSource } from "../../../node/src/broadcaster/pool.ts";
import {
  isProven,
  ReputationStore,
  reputationScore,
} from "../../../node/src/broadcaster/reputation.ts";
import { type Candidate, WeightedSelection } from "../../../node/src/broadcaster/selection.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import type { SignedInfo } from "../../../node/src/protocol/index.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("ReputationStore", () => {
  it("keeps verified segments and failures across sessions, by lowercase address", async () => {
    const dir = await mkdtemp(join(tmpdir(), "segmint-reputation-"));
    dirs.push(dir);
    const file = join(dir, "data", "reputation.sqlite");
    const first = ReputationStore.open(file, () => 1_000);
    first.recordVerified("0xAbC");
    first.recordVerified("0xabc");
    first.recordFailure("0xABC", "frames", 7n);
    first.recordFailure("0xABC", "black", 5n);
    first.close();
    const second = ReputationStore.open(file);
    expect(second.get("0xabc")).toEqual({
      address: "0xabc",
      verified: 2,
      failed: 2,
      lastFailure: { check: "black", at: 1_000 },
      rejectedValue: 12n,
    });
    expect(second.get("0xdef")).toMatchObject({ verified: 0, failed: 0, lastFailure: null });
    second.close();
  });

  it("refuses a file that is not a database, with its code", async () => {
    const dir = await mkdtemp(join(tmpdir(), "segmint-reputation-"));
    dirs.push(dir);
    expect(() => ReputationStore.open(dir)).toThrow(
      expect.objectContaining({ code: "REPUTATION_STORE_FAILED" }),
    );
  });

  it("scores nothing known at 0, clean work towards 1, and a failure as fifty segments", () => {
    expect(reputationScore({ verified: 0, failed: 0 })).toBe(0);
    expect(reputationScore({ verified: 20, failed: 0 })).toBe(0.5);
    expect(reputationScore({ verified: 60, failed: 1 })).toBe(
      reputationScore({ verified: 10, failed: 0 }),
    );
    expect(isProven({ verified: 20, failed: 0 }, 20)).toBe(true);
    expect(isProven({ verified: 20, failed: 1 }, 20)).toBe(false);
  });
});

const base = (address: string, reputation: number): Candidate => ({
  address,
  peerId: address,
  stake: 100n,
  pricePerPixel: 1n,
  capacity: { total: 4, free: 4 },
  reputation,
});

describe("selection with reputation", () => {
  it("ranks an orchestrator with a clean record above an equal one with failures", () => {
    const s = new WeightedSelection({ maxPricePerPixel: 10n, random: () => 0.5 });
    const chosen = s.select([base("0xcheat", 0), base("0xhonest", 0.8)], 2);
    expect(chosen.map((c) => c.address)).toEqual(["0xhonest", "0xcheat"]);
  });
});

describe("unproven orchestrators' tickets", () => {
  const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
  const info = (address: string, ev: bigint): SignedInfo => ({
    ethAddress: address,
    peerId: address,
    pricePerPixel: "1",
    ticketParams: {
      recipient: address,
      faceValue: (ev * 2n).toString(),
      winProb: (1n << 255n).toString(),
      recipientRandHash: hex(1),
      seed: hex(1),
      creationRound: "1",
      creationRoundBlockHash: hex(2),
      expiry: "3",
    },
    capabilities: {},
    capacity: { total: 4, free: 4 },
    issuedAt: 0,
    signature: `0x${"00".repeat(65)}`,
  });

  it("skips an unproven orchestrator whose tickets are worth more than the unproven cap", async () => {
    const proven = new Set(["0x1"]);
    const source = new NetworkOrchestratorSource({
      discovery: {
        candidates: () =>
          ["0x1", "0x2", "0x3"].map((address) => ({
            address,
            peerId: address,
            multiaddrs: [],
            advert: null,
            sources: ["registry" as const],
          })),
        refresh: async () => {},
      },
      // 0x1 (proven) and 0x2 (unproven) ask 1000 wei a ticket, 0x3 (unproven) 10.
      info: async (c) => info(c.address, c.address === "0x3" ? 10n : 1_000n),
      stakeOf: async () => 100n,
      strategy: new WeightedSelection({ maxPricePerPixel: 10n, random: () => 0 }),
      maxTicketEV: 10_000n,
      standing: (address) => ({ score: 0, proven: proven.has(address) }),
      unprovenMaxTicketEV: 100n,
      maxInFlightPerOrchestrator: 4,
      discoveryWaitMs: 0,
      log: silentLogger(),
    });
    const chosen = await source.choose(3, new Set());
    expect(chosen.map((h) => h.address).sort()).toEqual(["0x1", "0x3"]);
  });
});
