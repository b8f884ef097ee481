import { describe, expect, it } from "vitest";
import {
  LIVE_WINDOW_MS,
  MAX_TRACKED_STREAMS,
  NodeActivity,
  RECENT_ERRORS,
} from "../../../node/src/orchestrator/activity.ts";
import {
  BLOCKS_PER_QUERY,
  type EarningsEvents,
  EarningsScanner,
  QUERIES_PER_READ,
} from "../../../node/src/orchestrator/earnings.ts";
import { MeteredJournal } from "../../../node/src/orchestrator/journal.ts";
import {
  readStatus,
  type StatusChain,
  type StatusSources,
} from "../../../node/src/orchestrator/status.ts";
import { EarningsHistory, openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { randomWin } from "../../helpers/tickets.ts";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const ONE = 1n << 256n; // winProb 2^256 ~ always: creditedScaled = faceValue * ONE

function clock(start = T0) {
  const c = { at: start, now: () => c.at };
  return c;
}

describe("NodeActivity", () => {
  it("lists streams seen in the last 30 s, most recent first, and forgets idle ones", () => {
    const c = clock();
    const a = new NodeActivity(c.now);
    a.segmentServed("s1", "0xaa");
    c.at += 1_000;
    a.segmentServed("s2", "0xbb");
    c.at += 1_000;
    a.segmentServed("s1", "0xaa");
    expect(a.liveSessions()).toEqual([
      { streamId: "s1", sender: "0xaa", segments: 2, lastSeenMs: T0 + 2_000 },
      { streamId: "s2", sender: "0xbb", segments: 1, lastSeenMs: T0 + 1_000 },
    ]);
    // s2 goes quiet past the window; s1 keeps sending.
    c.at = T0 + 1_000 + LIVE_WINDOW_MS + 1;
    a.segmentServed("s1", "0xaa");
    expect(a.liveSessions().map((s) => s.streamId)).toEqual(["s1"]);
    // A stream that comes back after idling starts counting again.
    c.at += LIVE_WINDOW_MS + 1;
    expect(a.liveSessions()).toEqual([]);
    a.segmentServed("s1", "0xaa");
    expect(a.liveSessions()[0]?.segments).toBe(1);
  });

  it("keeps one stream id per sender apart", () => {
    const a = new NodeActivity(clock().now);
    a.segmentServed("same", "0xaa");
    a.segmentServed("same", "0xbb");
    expect(a.liveSessions()).toHaveLength(2);
  });

  it("remembers at most MAX_TRACKED_STREAMS streams, dropping the stalest", () => {
    const c = clock();
    const a = new NodeActivity(c.now);
    for (let i = 0; i <= MAX_TRACKED_STREAMS; i++) {
      c.at += 1;
      a.segmentServed(`s${i}`, "0xaa");
    }
    const live = a.liveSessions();
    expect(live).toHaveLength(MAX_TRACKED_STREAMS);
    expect(live.some((s) => s.streamId === "s0")).toBe(false);
    expect(live[0]?.streamId).toBe(`s${MAX_TRACKED_STREAMS}`);
  });

  it("counts segments and their rate over the last minute", () => {
    const c = clock();
    const a = new NodeActivity(c.now);
    expect(a.throughput()).toEqual({ segments: 0, segmentsPerSecond: 0 });
    // 60 segments, one every 2 s, over two minutes.
    for (let i = 0; i < 60; i++) {
      a.segmentServed("s", "0xaa");
      c.at += 2_000;
    }
    // One second after the last one, the last minute (seconds 60 to 119) saw 30: 0.5 per second.
    c.at -= 1_000;
    expect(a.throughput()).toEqual({ segments: 60, segmentsPerSecond: 0.5 });
    c.at += 61_000;
    expect(a.throughput()).toEqual({ segments: 60, segmentsPerSecond: 0 });
  });

  it("averages over the uptime while it is shorter than the window", () => {
    const c = clock();
    const a = new NodeActivity(c.now);
    for (let i = 0; i < 10; i++) a.segmentServed("s", "0xaa");
    c.at += 10_000;
    expect(a.throughput().segmentsPerSecond).toBe(1);
  });

  it("sums accepted tickets, winners and their expected value (rounded down)", () => {
    const a = new NodeActivity(clock().now);
    a.ticketsAccepted([
      { won: false, creditedScaled: 1_000n * (ONE / 3n) },
      { won: true, creditedScaled: 1_000n * (ONE / 3n) },
    ]);
    a.ticketsAccepted([{ won: false, creditedScaled: 5n * ONE }]);
    expect(a.tickets()).toEqual({ received: 3, won: 1, expectedValueEarned: 671n });
  });

  it("keeps the last 20 errors, newest first, with ISO times and capped messages", () => {
    const c = clock();
    const a = new NodeActivity(c.now);
    for (let i = 0; i < RECENT_ERRORS + 5; i++) {
      a.error(`CODE_${i}`, i === RECENT_ERRORS + 4 ? "x".repeat(5_000) : `error ${i}`);
      c.at += 1_000;
    }
    const errors = a.recentErrors();
    expect(errors).toHaveLength(RECENT_ERRORS);
    expect(errors[0]?.code).toBe(`CODE_${RECENT_ERRORS + 4}`);
    expect(errors[0]?.at).toBe(new Date(T0 + (RECENT_ERRORS + 4) * 1_000).toISOString());
    expect(errors[0]?.message.length).toBeLessThanOrEqual(300);
    expect(errors.at(-1)?.code).toBe("CODE_5");
  });
});

/** A chain with per-block event amounts; counts its queries and can be made to fail. */
class FakeEvents implements EarningsEvents {
  head = 0;
  readonly fees = new Map<number, bigint>();
  readonly rewardsAt = new Map<number, bigint>();
  queries: Array<[number, number]> = [];
  failing = false;

  async latestBlock() {
    if (this.failing) throw new Error("rpc down");
    return this.head;
  }
  async feesWithdrawn(from: number, to: number) {
    if (this.failing) throw new Error("rpc down");
    this.queries.push([from, to]);
    return sumRange(this.fees, from, to);
  }
  async rewards(from: number, to: number) {
    if (this.failing) throw new Error("rpc down");
    return sumRange(this.rewardsAt, from, to);
  }
}

function sumRange(map: Map<number, bigint>, from: number, to: number): bigint {
  let sum = 0n;
  for (const [block, value] of map) if (block >= from && block <= to) sum += value;
  return sum;
}

describe("EarningsScanner", () => {
  it("sums withdrawn fees and rewards from the deployment block, scanning each block once", async () => {
    const events = new FakeEvents();
    events.head = 10;
    events.fees.set(3, 100n); // before the deployment block: not this deployment's
    events.fees.set(5, 7n);
    events.rewardsAt.set(9, 1_000n);
    const scanner = new EarningsScanner(events, 4);
    expect(await scanner.read()).toEqual({ feesWithdrawn: 7n, rewards: 1_000n });
    events.head = 12;
    events.fees.set(12, 3n);
    expect(await scanner.read()).toEqual({ feesWithdrawn: 10n, rewards: 1_000n });
    expect(events.queries).toEqual([
      [4, 10],
      [11, 12],
    ]);
    // Nothing new: no query, same totals.
    expect(await scanner.read()).toEqual({ feesWithdrawn: 10n, rewards: 1_000n });
    expect(events.queries).toHaveLength(2);
  });

  it("reports null while a long history is still being scanned, then the full totals", async () => {
    const events = new FakeEvents();
    const reads = 3;
    events.head = BLOCKS_PER_QUERY * QUERIES_PER_READ * (reads - 1) + 5;
    events.fees.set(events.head, 1n);
    events.fees.set(1, 2n);
    const scanner = new EarningsScanner(events, 0);
    for (let i = 1; i < reads; i++) expect(await scanner.read()).toBeNull();
    expect(await scanner.read()).toEqual({ feesWithdrawn: 3n, rewards: 0n });
    expect(events.queries.every(([from, to]) => to - from + 1 <= BLOCKS_PER_QUERY)).toBe(true);
  });

  it("reports null when the chain fails and counts nothing twice after it recovers", async () => {
    const events = new FakeEvents();
    events.head = 5;
    events.fees.set(2, 4n);
    const scanner = new EarningsScanner(events, 0);
    events.failing = true;
    expect(await scanner.read()).toBeNull();
    events.failing = false;
    expect(await scanner.read()).toEqual({ feesWithdrawn: 4n, rewards: 0n });
  });

  it("shares one scan between concurrent reads", async () => {
    const events = new FakeEvents();
    events.head = 5;
    events.fees.set(2, 4n);
    const scanner = new EarningsScanner(events, 0);
    const [a, b] = await Promise.all([scanner.read(), scanner.read()]);
    expect(a).toEqual({ feesWithdrawn: 4n, rewards: 0n });
    expect(b).toEqual(a);
    expect(events.queries).toHaveLength(1);
  });
});

const win = (faceValue: bigint) => randomWin({ faceValue });

const ADDRESS = "0x00000000000000000000000000000000000000a1";

class FakeChain implements StatusChain {
  down = false;
  async getOrchestrator() {
    this.check();
    return { totalStake: 900n, active: true, rewardCut: 100_000n, feeShare: 500_000n };
  }
  async pendingStake() {
    this.check();
    return 800n;
  }
  async feeBalance() {
    this.check();
    return { withdrawable: 20n, locked: 30n, laterLocked: 4n, unsettled: 1n };
  }
  async currentRound() {
    this.check();
    return 12n;
  }
  private check() {
    if (this.down) throw new Error("connection refused");
  }
}

function sources(over: Partial<StatusSources> = {}) {
  const c = clock();
  const db = openDatabase(":memory:");
  const store = new TicketJournal(db);
  const activity = new NodeActivity(c.now);
  const journal = new MeteredJournal(store, null, activity);
  const chain = new FakeChain();
  const earnings = { value: { feesWithdrawn: 11n, rewards: 22n } as const, read: async () => null };
  const s: StatusSources = {
    state: () => "serving",
    startedAt: T0,
    address: ADDRESS,
    peerId: "12D3KooWPeer",
    multiaddrs: ["/ip4/127.0.0.1/tcp/1"],
    chain,
    journal,
    service: { sessions: 1 },
    activity,
    earnings: { read: async () => earnings.value },
    capacity: 2,
    pricePerPixel: 3n,
    economics: {
      faceValue: 1_000n,
      ticketEV: 10n,
      minFaceValue: 1n,
      redeemGasCost: 1n,
      tokenPrice: { numerator: 1n, denominator: 1n },
    },
    rewardCalls: () => 4,
    ...over,
  };
  return { s, c, db, store, activity, journal, chain };
}

describe("readStatus", () => {
  it("puts journal totals, ticket activity, sessions and chain state in one document", async () => {
    const { s, c, db, store, activity, journal } = sources();
    for (const v of [1_000n, 1_000n, 1_000n]) store.record(win(v));
    const [a, b, x] = store.listByStatus(["pending"]).map((e) => e.id);
    journal.markRedeemed(a ?? 0, null);
    journal.markRedeemed(b ?? 0, null, "paid 400 of face value 1000", 400n);
    journal.markFailed(x ?? 0, "reverted");
    activity.ticketsAccepted([
      { won: false, creditedScaled: 10n * ONE },
      { won: true, creditedScaled: 10n * ONE },
    ]);
    activity.segmentServed("stream-1", "0xbb");
    c.at += 1_000;

    const status = await readStatus(s);
    expect(status).toMatchObject({
      state: "serving",
      startedAt: new Date(T0).toISOString(),
      address: ADDRESS,
      sessions: 1,
      capacity: 2,
      pricePerPixel: "3",
      ticket: { faceValue: "1000", expectedValue: "10" },
      stake: "800",
      totalStake: "900",
      active: true,
      round: "12",
      rewardCut: 100_000,
      feeShare: 500_000,
      rewardCalls: 4,
      earnings: {
        pendingFees: "55",
        withdrawableFees: "20",
        lockedFees: "35",
        pendingStake: "800",
        feesWithdrawn: "11",
        rewards: "22",
      },
      tickets: {
        pending: 0,
        submitted: 0,
        redeemed: 2,
        failed: 1,
        expired: 0,
        uneconomic: 0,
        redeemedValue: "2000",
        paidValue: "1400",
        received: 2,
        won: 1,
        expectedValueEarned: "20",
      },
      liveSessions: [{ streamId: "stream-1", sender: "0xbb", segments: 1, lastSeenMs: T0 }],
      throughput: { segments: 1, segmentsPerSecond: 1 },
    });
    expect(status.chainError).toBeUndefined();
    // The partial payment and the failure are the recent errors, newest first.
    expect(status.recentErrors.map((e) => e.code)).toEqual([
      "REDEMPTION_FAILED",
      "TICKET_PAID_PARTIALLY",
    ]);
    db.close();
  });

  it("keeps the local fields and says why when the chain does not answer", async () => {
    const { s, db, chain, activity } = sources({ earnings: { read: async () => null } });
    chain.down = true;
    activity.error("BAD_TICKET", "forged");
    const status = await readStatus(s);
    expect(status.chainError).toContain("connection refused");
    expect(status).toMatchObject({
      stake: null,
      totalStake: null,
      active: null,
      round: null,
      earnings: {
        pendingFees: null,
        withdrawableFees: null,
        lockedFees: null,
        pendingStake: null,
        feesWithdrawn: null,
        rewards: null,
      },
      tickets: { redeemed: 0, received: 0, expectedValueEarned: "0" },
      capacity: 2,
    });
    expect(status.recentErrors[0]?.code).toBe("BAD_TICKET");
    db.close();
  });

  it("reports the node's state", async () => {
    let state: "starting" | "serving" | "stopping" = "starting";
    const { s, db } = sources({ state: () => state });
    expect((await readStatus(s)).state).toBe("starting");
    state = "stopping";
    expect((await readStatus(s)).state).toBe("stopping");
    db.close();
  });

  it("lists the recent rounds' earnings from the history, at most 10, most recent first", async () => {
    const db = openDatabase(":memory:");
    const history = new EarningsHistory(db);
    for (let round = 1n; round <= 12n; round++) history.received(round, 1, round << 256n);
    const { s, db: other } = sources({ history });
    const status = await readStatus(s);
    expect(status.rounds.map((r) => r.round)).toEqual([
      "12",
      "11",
      "10",
      "9",
      "8",
      "7",
      "6",
      "5",
      "4",
      "3",
    ]);
    expect(status.rounds[0]).toMatchObject({ ticketsReceived: 1, expectedValue: "12" });
    // No history: an empty list, not a missing field.
    expect((await readStatus(sources().s)).rounds).toEqual([]);
    db.close();
    other.close();
  });
});
