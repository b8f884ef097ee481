import { describe, expect, it } from "vitest";
import { NetworkOrchestratorSource } from "../../../node/src/broadcaster/pool.ts";
import { WeightedSelection } from "../../../node/src/broadcaster/selection.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import type { DiscoveredCandidate as Candidate } from "../../../node/src/p2p/discovery.ts";
import type { SignedInfo } from "../../../node/src/protocol/index.ts";

const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

function candidate(n: number): Candidate {
  return {
    address: addr(n),
    peerId: `peer${n}`,
    multiaddrs: [`/ip4/127.0.0.1/tcp/${4000 + n}`],
    advert: null,
    sources: ["registry"],
  };
}

function info(
  n: number,
  over: { ethAddress?: string; price?: string; free?: number; ev?: bigint } = {},
): SignedInfo {
  // faceValue * winProb / 2^256 = ev: winProb = 2^255 (one in two), faceValue = 2 ev.
  const ev = over.ev ?? 1000n;
  return {
    ethAddress: over.ethAddress ?? addr(n),
    peerId: `peer${n}`,
    pricePerPixel: over.price ?? "10",
    ticketParams: {
      recipient: addr(n),
      faceValue: (ev * 2n).toString(),
      winProb: (1n << 255n).toString(),
      recipientRandHash: hex(n),
      seed: hex(1),
      creationRound: "1",
      creationRoundBlockHash: hex(2),
      expiry: "3",
    },
    capabilities: {},
    capacity: { total: 8, free: over.free ?? 8 },
    issuedAt: 0,
    signature: `0x${"00".repeat(65)}`,
  };
}

function source(
  candidates: Candidate[],
  answers: Map<string, SignedInfo | Error>,
  options: { waitMs?: number; clock?: { t: number } } = {},
) {
  const clock = options.clock ?? { t: 0 };
  let refreshes = 0;
  const s = new NetworkOrchestratorSource({
    discovery: {
      candidates: () => (refreshes > 1 ? candidates : candidates.slice(0, 0)).concat([]),
      refresh: async () => {
        refreshes += 1;
      },
    },
    info: async (c) => {
      const answer = answers.get(c.address);
      if (answer === undefined || answer instanceof Error) throw answer ?? new Error("down");
      return answer;
    },
    stakeOf: async (a) => (a === addr(1) ? 1000n : 10n),
    strategy: new WeightedSelection({ maxPricePerPixel: 100n, random: () => 0 }),
    maxTicketEV: 10_000n,
    maxInFlightPerOrchestrator: 4,
    discoveryWaitMs: options.waitMs ?? 5_000,
    log: silentLogger(),
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
    },
  });
  return s;
}

describe("NetworkOrchestratorSource", () => {
  it("waits for discovery, then ranks the candidates that answered and fit the caps", async () => {
    const answers = new Map<string, SignedInfo | Error>([
      [addr(1), info(1, { free: 2 })],
      [addr(2), info(2)],
      [addr(3), info(3, { ethAddress: addr(9) })], // answers for someone else
      [addr(4), info(4, { ev: 20_000n })], // tickets worth more than the cap
      [addr(5), info(5, { price: "101" })], // too expensive
      [addr(6), new Error("unreachable")],
    ]);
    const s = source([1, 2, 3, 4, 5, 6].map(candidate), answers);
    const chosen = await s.choose(5, new Set());
    // Highest stake first; the capacity it reported bounds what it gets at once.
    expect(chosen.map((h) => h.address)).toEqual([addr(1), addr(2)]);
    expect(chosen.map((h) => h.maxInFlight)).toEqual([2, 4]);
    expect(chosen[0]?.multiaddrs).toEqual(["/ip4/127.0.0.1/tcp/4001"]);
    expect(s.infoOf(addr(1))?.ticketParams.recipientRandHash).toBe(hex(1));
  });

  it("leaves out excluded orchestrators and gives up after the discovery wait", async () => {
    const answers = new Map<string, SignedInfo | Error>([[addr(1), info(1)]]);
    const clock = { t: 0 };
    const s = source([candidate(1)], answers, { waitMs: 2_000, clock });
    expect(await s.choose(2, new Set([addr(1)]))).toEqual([]);
    expect(clock.t).toBeGreaterThanOrEqual(2_000);
  });

  it("hands a chosen orchestrator's ticket params to one payment channel, once per choice", async () => {
    const answers = new Map<string, SignedInfo | Error>([[addr(1), info(1)]]);
    const s = source([candidate(1)], answers);
    expect(s.takeParams(addr(1))).toBeUndefined();
    await s.choose(1, new Set());
    const params = s.takeParams(addr(1));
    expect([params?.recipientRandHash, params?.pricePerPixel, params?.expirationRound]).toEqual([
      hex(1),
      10n,
      3n,
    ]);
    expect(s.takeParams(addr(1))).toBeUndefined();
    // Chosen again (a new info answer): its params may be taken again.
    await s.choose(1, new Set());
    expect(s.takeParams(addr(1))?.recipientRandHash).toBe(hex(1));
  });
});
