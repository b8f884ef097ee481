import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LIMB_DIGITS, limbSum, limbSumColumns } from "../../../node/src/store/aggregates.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { randomWin } from "../../helpers/tickets.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "segmint-totals-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const win = (faceValue: bigint) => randomWin({ faceValue });

/** Records winners with these face values and returns their journal ids, in order. */
function recordAll(journal: TicketJournal, values: readonly bigint[]): number[] {
  for (const v of values) expect(journal.record(win(v))).toBe(true);
  return journal.listByStatus(["pending"]).map((e) => e.id);
}

describe("limb sums", () => {
  it("sum decimal text exactly, from one digit to uint256", () => {
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    const values = [
      0n,
      7n,
      10n ** BigInt(LIMB_DIGITS) - 1n,
      10n ** BigInt(LIMB_DIGITS),
      // Past SQLite's 64-bit integers, where SUM over text would overflow.
      2n ** 63n + 12345n,
      9n * 10n ** 18n,
      (1n << 256n) - 1n,
    ];
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    for (const v of values) insert.run(v.toString());
    insert.run(null);
    const row = db.prepare(`SELECT ${limbSumColumns("v", "x")} FROM t`).get();
    expect(row).toBeDefined();
    expect(limbSum(row ?? {}, "x")).toBe(values.reduce((a, b) => a + b, 0n));
    db.close();
  });

  it("sum to zero over no rows", () => {
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    const row = db.prepare(`SELECT ${limbSumColumns("v", "x")} FROM t`).get();
    expect(limbSum(row ?? {}, "x")).toBe(0n);
    db.close();
  });
});

describe("TicketJournal.totals", () => {
  it("is all zeros for an empty journal", () => {
    const db = openDatabase(":memory:");
    const totals = new TicketJournal(db).totals();
    expect(Object.values(totals.counts)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Object.values(totals.faceValue).every((v) => v === 0n)).toBe(true);
    expect(totals.redeemedPaid).toBe(0n);
    db.close();
  });

  it("counts and sums per status, and what redeemed tickets actually paid", () => {
    const db = openDatabase(":memory:");
    const journal = new TicketJournal(db);
    const big = 5n * 10n ** 18n + 3n; // several tokens: twice that is past 2^63 wei
    const [a, b, c, d, e, f] = recordAll(journal, [big, big, 300n, 400n, 500n, 600n]);
    if (f === undefined || a === undefined || b === undefined) throw new Error("six entries");
    journal.markRedeemed(a, null); // no receipt: counts at face value
    journal.markRedeemed(b, `0x${"01".repeat(32)}`, "short", 2n * 10n ** 18n); // partly paid
    journal.markFailed(c ?? 0, "reverted");
    journal.markExpired(d ?? 0);
    journal.markSubmitted(e ?? 0, `0x${"02".repeat(32)}`);

    const totals = journal.totals();
    expect(totals.counts).toEqual({
      pending: 1,
      submitted: 1,
      redeemed: 2,
      failed: 1,
      expired: 1,
      uneconomic: 0,
    });
    expect(totals.faceValue.redeemed).toBe(2n * big);
    expect(totals.faceValue.pending).toBe(600n);
    expect(totals.faceValue.submitted).toBe(500n);
    expect(totals.faceValue.failed).toBe(300n);
    expect(totals.faceValue.uneconomic).toBe(0n);
    expect(totals.redeemedPaid).toBe(big + 2n * 10n ** 18n);
    // The per-status listing agrees with the aggregate.
    const listed = journal.listByStatus(["redeemed"]);
    expect(listed.reduce((sum, x) => sum + x.ticket.faceValue, 0n)).toBe(totals.faceValue.redeemed);
    db.close();
  });

  it("keeps its in-memory totals equal to the SQL aggregate through every kind of write", () => {
    const db = openDatabase(":memory:");
    const journal = new TicketJournal(db);
    const ids = recordAll(journal, [10n, 20n, 30n, 40n, 50n, 60n, 70n, 2n ** 70n]);
    const [a, b, c, d, e, f, g, h] = ids.map((id) => id ?? 0);
    const steps: Array<() => void> = [
      () => journal.markSubmitted(a ?? 0, `0x${"01".repeat(32)}`),
      () => journal.markRedeemed(a ?? 0, null, "short", 4n),
      () => journal.markSubmitted(b ?? 0, `0x${"02".repeat(32)}`),
      () => journal.scheduleRetry(b ?? 0, "not mined", 99),
      () => journal.markFailed(c ?? 0, "reverted"),
      () => journal.markExpired(d ?? 0),
      () => journal.markUneconomic(e ?? 0, "gas"),
      () => journal.markRedeemed(f ?? 0, null),
      () => journal.scheduleRetry(g ?? 0, "rpc down", 5),
      () => journal.markRedeemed(h ?? 0, `0x${"03".repeat(32)}`),
      // A write to an entry that is already settled (or unknown) is recounted in SQL.
      () => journal.markFailed(a ?? 0, "late"),
      () => journal.markFailed(9_999, "no such entry"),
    ];
    for (const step of steps) {
      step();
      expect(journal.totals()).toEqual(journal.aggregate());
    }
    expect(journal.totals().counts).toEqual({
      pending: 2,
      submitted: 0,
      redeemed: 2,
      failed: 2,
      expired: 1,
      uneconomic: 1,
    });
    // A journal opened on the same file starts from the SQL aggregate and agrees.
    expect(new TicketJournal(db).totals()).toEqual(journal.totals());
    db.close();
  });

  it("keeps what was paid across a reopen", () => {
    const path = join(dir, "node.db");
    const db = openDatabase(path);
    const journal = new TicketJournal(db);
    const [id] = recordAll(journal, [1_000n]);
    journal.markRedeemed(id ?? 0, null, "short", 250n);
    db.close();
    const reopened = openDatabase(path);
    expect(new TicketJournal(reopened).totals().redeemedPaid).toBe(250n);
    reopened.close();
  });

  it("adds the paid column to a journal written before it existed, keeping its rows", () => {
    const path = join(dir, "old.db");
    const old = openDatabase(path);
    const [id] = recordAll(new TicketJournal(old), [700n]);
    new TicketJournal(old).markRedeemed(id ?? 0, null);
    // Roll the file back to the first schema: no earnings history, no paid_value column.
    old.exec(`DROP TABLE round_receipts; DROP TABLE round_rewards;
      DROP INDEX winning_tickets_round; DROP INDEX winning_tickets_tx;
      ALTER TABLE winning_tickets DROP COLUMN gas_fee;
      ALTER TABLE winning_tickets DROP COLUMN paid_value; PRAGMA user_version = 1`);
    old.close();

    const db = openDatabase(path);
    expect(db.prepare("PRAGMA user_version").get()?.user_version).toBe(3);
    const totals = new TicketJournal(db).totals();
    expect(totals.counts.redeemed).toBe(1);
    expect(totals.redeemedPaid).toBe(700n);
    db.close();
  });
});
