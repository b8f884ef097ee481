import { describe, expect, it } from "vitest";
import { type Candidate, WeightedSelection } from "../../../node/src/broadcaster/selection.ts";
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
