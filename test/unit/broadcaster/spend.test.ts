import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import type { SegmentOutcome } from "../../../node/src/broadcaster/interface.ts";
import { ReputationStore } from "../../../node/src/broadcaster/reputation.ts";
import {
  RunSpend,
  type SpendLog,
  type SpendRun,
  SpendStore,
  totalSpend,
} from "../../../node/src/broadcaster/spend.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function storeFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "segmint-spend-"));
  dirs.push(dir);
  return join(dir, "reputation.sqlite");
}

const run: SpendRun = { id: "b-1", kind: "broadcast", label: "/in.mp4", startedAt: 1_000 };
const WEI_2_70 = 2n ** 70n;

/** A verified segment's outcome as the worker reports it: tickets, expected and face value. */
function paid(tickets: number, expectedValue: bigint, faceValue: bigint): SegmentOutcome {
  return { renditions: [], ticketsSent: tickets, expectedValue, faceValue, signature: "0x" };
}

describe("SpendStore", () => {
  it("adds settled segments per run and orchestrator, in wei past SQLite's integers, across opens", async () => {
    const file = await storeFile();
    const first = SpendStore.open(file, () => 5_000);
    first.recordSegment(run, "0xAA", { tickets: 2, faceValue: WEI_2_70, expectedValue: 7n });
    first.recordSegment(run, "0xaa", { tickets: 1, faceValue: WEI_2_70, expectedValue: 3n });
    first.recordSegment({ ...run, id: "b-2", startedAt: 2_000 }, "0xbb", {
      tickets: 4,
      faceValue: 10n,
      expectedValue: 1n,
    });
    first.close();
    const second = SpendStore.open(file);
    const rows = second.rows();
    second.close();
    expect(rows.map((r) => [r.run, r.orchestrator])).toEqual([
      ["b-1", "0xaa"],
      ["b-2", "0xbb"],
    ]);
    expect(rows[0]).toMatchObject({
      kind: "broadcast",
      label: "/in.mp4",
      startedAt: 1_000,
      segments: 2,
      tickets: 3,
      faceValue: 2n * WEI_2_70,
      expectedValue: 10n,
      winners: null,
      verificationFailures: 0,
      updatedAt: 5_000,
    });
    expect(totalSpend(rows)).toEqual({
      segments: 3,
      tickets: 7,
      faceValue: 2n * WEI_2_70 + 10n,
      expectedValue: 11n,
      verificationFailures: 0,
    });
  });

  it("sets failures as totals, and counts their value in the expected value sent", async () => {
    const store = SpendStore.open(await storeFile());
    store.recordSegment(run, "0xaa", { tickets: 1, faceValue: 100n, expectedValue: 5n });
    store.recordFailures(run, "0xaa", { count: 1, rejectedValue: 4n });
    store.recordFailures(run, "0xaa", { count: 2, rejectedValue: 9n });
    store.recordFailures(run, "0xcc", { count: 1, rejectedValue: 2n });
    const rows = store.rows();
    store.close();
    expect(rows.find((r) => r.orchestrator === "0xaa")).toMatchObject({
      segments: 1,
      verificationFailures: 2,
      rejectedValue: 9n,
      expectedValue: 14n,
    });
    expect(rows.find((r) => r.orchestrator === "0xcc")).toMatchObject({
      segments: 0,
      tickets: 0,
      verificationFailures: 1,
      expectedValue: 2n,
    });
  });

  it("adds its table to a reputation store written before it existed, keeping the records", async () => {
    const file = await storeFile();
    // The first schema, as an older Segmint left it.
    const reputation = ReputationStore.open(file);
    reputation.recordVerified("0xaa");
    reputation.close();
    const old = new DatabaseSync(file);
    old.exec("DROP TABLE spend; PRAGMA user_version = 1");
    old.close();
    const spend = SpendStore.open(file);
    spend.recordSegment(run, "0xaa", { tickets: 1, faceValue: 1n, expectedValue: 1n });
    expect(spend.rows()).toHaveLength(1);
    spend.close();
    const again = ReputationStore.open(file);
    expect(again.get("0xaa").verified).toBe(1);
    again.close();
  });
});

describe("RunSpend", () => {
  class MemoryLog implements SpendLog {
    readonly calls: string[] = [];
    failAfter = Number.POSITIVE_INFINITY;
    recordSegment(_run: SpendRun, orchestrator: string): void {
      this.call(`segment ${orchestrator}`);
    }
    recordFailures(_run: SpendRun, orchestrator: string, f: { count: number }): void {
      this.call(`failures ${orchestrator} ${f.count}`);
    }
    private call(name: string): void {
      if (this.calls.length >= this.failAfter) throw new Error("disk full");
      this.calls.push(name);
    }
  }

  it("tallies each settled segment and the report's failures, writing only changes", () => {
    const log = new MemoryLog();
    const spend = new RunSpend(run, log, () => {});
    spend.segment("0xAA", paid(2, 6n, 100n));
    spend.segment("0xaa", paid(1, 3n, 50n));
    spend.segment("0xbb", paid(1, 3n, 70n));
    const report = [{ orchestrator: "0xBB", valuePaid: "4" }];
    spend.failures(report);
    spend.failures(report);
    expect(log.calls).toEqual(["segment 0xaa", "segment 0xaa", "segment 0xbb", "failures 0xbb 1"]);
    expect(spend.entries()).toEqual([
      {
        orchestrator: "0xaa",
        segments: 2,
        tickets: 3,
        faceValue: "150",
        expectedValue: "9",
        verificationFailures: 0,
      },
      {
        orchestrator: "0xbb",
        segments: 1,
        tickets: 1,
        faceValue: "70",
        expectedValue: "7",
        verificationFailures: 1,
      },
    ]);
  });

  it("reports a store that cannot be written once, and keeps tallying", () => {
    const log = new MemoryLog();
    log.failAfter = 1;
    const errors: unknown[] = [];
    const spend = new RunSpend(run, log, (error) => errors.push(error));
    for (let i = 0; i < 3; i++) spend.segment("0xaa", paid(1, 1n, 1n));
    expect(errors).toHaveLength(1);
    expect(spend.entries()[0]?.segments).toBe(3);
  });
});
