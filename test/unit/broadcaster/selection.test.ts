import { describe, expect, it } from "vitest";
import { isBroadcasterError } from "../../../node/src/broadcaster/errors.ts";
import {
  type Candidate,
  OrchestratorLists,
  pinnedUnavailableError,
  WeightedSelection,
} from "../../../node/src/broadcaster/selection.ts";
import { SuspensionList } from "../../../node/src/broadcaster/suspension.ts";

const base = (over: Partial<Candidate>): Candidate => ({
  address: "0x0",
  peerId: "p",
  stake: 100n,
  pricePerPixel: 10n,
  capacity: { total: 4, free: 4 },
  ...over,
});

describe("WeightedSelection", () => {
  it("never picks a too expensive orchestrator, and a full one only after those with room", () => {
    const s = new WeightedSelection({ maxPricePerPixel: 10n, random: () => 0.5 });
    const candidates = [
      base({ address: "full", stake: 1000n, capacity: { total: 4, free: 0 } }),
      base({ address: "pricey", pricePerPixel: 11n }),
      base({ address: "ok" }),
    ];
    expect(s.select(candidates, 1).map((c) => c.address)).toEqual(["ok"]);
    expect(s.select(candidates, 3).map((c) => c.address)).toEqual(["ok", "full"]);
  });

  it("prefers stake, then price, all else equal", () => {
    const s = new WeightedSelection({ maxPricePerPixel: 100n, random: () => 0 });
    const picked = s.select(
      [
        base({ address: "small", stake: 10n }),
        base({ address: "big", stake: 1000n }),
        base({ address: "bigCheap", stake: 1000n, pricePerPixel: 5n }),
      ],
      3,
    );
    expect(picked.map((c) => c.address)).toEqual(["bigCheap", "big", "small"]);
  });

  it("lets chance reorder close candidates", () => {
    const draws = [0.99, 0];
    const s = new WeightedSelection({
      maxPricePerPixel: 100n,
      random: () => draws.shift() ?? 0,
    });
    const picked = s.select(
      [base({ address: "a", stake: 90n }), base({ address: "b", stake: 100n })],
      1,
    );
    expect(picked[0]?.address).toBe("a");
  });

  it("returns nothing for count 0 or no candidates", () => {
    const s = new WeightedSelection({ maxPricePerPixel: 100n });
    expect(s.select([], 2)).toEqual([]);
    expect(s.select([base({})], 0)).toEqual([]);
  });
});

describe("SuspensionList", () => {
  it("suspends after consecutive failures, for a doubling time, and forgets on success", () => {
    let now = 0;
    const list = new SuspensionList({
      maxConsecutiveFailures: 2,
      baseSuspensionMs: 100,
      now: () => now,
    });
    expect(list.recordFailure("o")).toBe(false);
    list.recordSuccess("o");
    expect(list.recordFailure("o")).toBe(false);
    expect(list.recordFailure("o")).toBe(true);
    expect(list.isSuspended("o")).toBe(true);
    now = 100;
    expect(list.isSuspended("o")).toBe(false);
    list.recordFailure("o");
    list.recordFailure("o");
    now = 250;
    expect(list.isSuspended("o")).toBe(true);
    expect(list.suspended()).toEqual(["o"]);
    now = 300;
    expect(list.isSuspended("o")).toBe(false);
  });
});

describe("OrchestratorLists", () => {
  const A = "0x00000000000000000000000000000000000000aA";
  const B = "0x00000000000000000000000000000000000000bb";
  const C = "0x00000000000000000000000000000000000000cc";
  const found = (...addresses: string[]) => addresses.map((address) => ({ address }));

  it("admits everyone without lists, and never an excluded one", () => {
    const open = new OrchestratorLists({ pinnedOrchestrators: [], excludedOrchestrators: [] });
    expect(open.filter(found(A, B, C)).map((c) => c.address)).toEqual([A, B, C]);
    const deny = new OrchestratorLists({
      pinnedOrchestrators: [],
      excludedOrchestrators: [B.toUpperCase().replace("0X", "0x")],
    });
    expect(deny.filter(found(A, B, C)).map((c) => c.address)).toEqual([A, C]);
    expect(deny.pins).toBe(0);
  });

  it("with pins admits only the pinned ones (case aside), and an exclusion wins over a pin", () => {
    const lists = new OrchestratorLists({
      pinnedOrchestrators: [A.toLowerCase(), B],
      excludedOrchestrators: [B],
    });
    expect(lists.filter(found(A, B, C)).map((c) => c.address)).toEqual([A]);
  });

  it("names the pinned ones never discovered apart from those discovered and not used", async () => {
    const lists = new OrchestratorLists({
      pinnedOrchestrators: [A, B, C],
      excludedOrchestrators: [],
    });
    let round = found(B);
    const discovery = lists.over({
      candidates: () => round,
      refresh: async () => {},
    });
    await discovery.refresh();
    expect(discovery.candidates()).toEqual(found(B));
    round = found(C);
    discovery.candidates();
    // C did work; B was seen but never used; A was never seen.
    const pins = lists.unavailable([C]);
    expect(pins).toEqual({ notFound: [A.toLowerCase()], refused: [B.toLowerCase()] });
    const error = pinnedUnavailableError(pins);
    expect(isBroadcasterError(error, "PINNED_ORCHESTRATORS_UNAVAILABLE")).toBe(true);
    expect(error.details).toEqual(pins);
  });
});
