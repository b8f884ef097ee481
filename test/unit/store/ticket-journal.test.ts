import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toHex } from "../../../node/src/chain/bytes.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { randomWin } from "../../helpers/tickets.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "segmint-journal-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sender = toHex(randomBytes(20));

const win = (faceValue: bigint, nonce: bigint) =>
  randomWin({ faceValue, sender, senderNonce: nonce });

describe("TicketJournal", () => {
  it("opens with WAL and synchronous FULL", () => {
    const db = openDatabase(join(dir, "node.db"));
    expect(db.prepare("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    expect(db.prepare("PRAGMA synchronous").get()?.synchronous).toBe(2); // FULL
    db.close();
  });

  it("keeps every field of a winner across a reopen, big numbers exact", () => {
    const path = join(dir, "node.db");
    const w = win(2n ** 200n + 7n, 2n ** 100n);
    const db = openDatabase(path);
    expect(new TicketJournal(db).record(w)).toBe(true);
    // No close(): a killed process does not close its handle either; WAL + FULL has it on disk.
    const reopened = openDatabase(path);
    const journal = new TicketJournal(reopened);
    const [entry] = journal.listByStatus(["pending"]);
    expect(entry?.ticket).toEqual(w.ticket);
    expect(entry?.signature).toEqual(w.signature);
    expect(entry?.recipientRand).toBe(w.recipientRand);
    expect(entry?.ticketHash).toBe(w.ticketHash);
    expect(entry?.attempts).toBe(0);
    db.close();
    reopened.close();
  });

  it("records a ticket hash only once", () => {
    const db = openDatabase(join(dir, "node.db"));
    const journal = new TicketJournal(db);
    const w = win(100n, 1n);
    expect(journal.record(w)).toBe(true);
    expect(journal.record(w)).toBe(false);
    expect(journal.listByStatus(["pending"])).toHaveLength(1);
    db.close();
  });

  it("tracks the pending face value per sender through every status and a restart", () => {
    const path = join(dir, "node.db");
    const db = openDatabase(path);
    const journal = new TicketJournal(db, () => 1_000);
    for (let i = 1n; i <= 5n; i++) journal.record(win(100n * i, i));
    expect(journal.pendingFaceValue(sender)).toBe(1500n);
    const [a, b, c, d, e] = journal.listByStatus(["pending"]);
    if (!a || !b || !c || !d || !e) throw new Error("expected five entries");
    journal.markSubmitted(a.id, `0x${"ab".repeat(32)}`);
    expect(journal.pendingFaceValue(sender)).toBe(1500n); // submitted is still unsettled
    journal.markRedeemed(a.id, null);
    journal.markFailed(b.id, "reverted");
    journal.markExpired(c.id);
    journal.markUneconomic(d.id, "gas");
    journal.scheduleRetry(e.id, "rpc down", 5_000);
    expect(journal.pendingFaceValue(sender)).toBe(500n);
    expect(journal.pendingFaceValue(sender.toUpperCase().replace("0X", "0x"))).toBe(500n);

    const after = new TicketJournal(openDatabase(path));
    expect(after.pendingFaceValue(sender)).toBe(500n);
    const byStatus = (s: Parameters<typeof after.listByStatus>[0]) =>
      after.listByStatus(s).map((x) => x.id);
    expect(byStatus(["redeemed"])).toEqual([a.id]);
    expect(after.listByStatus(["redeemed"])[0]?.txHash).toBe(`0x${"ab".repeat(32)}`);
    expect(byStatus(["failed"])).toEqual([b.id]);
    expect(after.listByStatus(["failed"])[0]?.reason).toBe("reverted");
    expect(byStatus(["expired"])).toEqual([c.id]);
    expect(byStatus(["uneconomic"])).toEqual([d.id]);
    const retried = after.listByStatus(["pending"])[0];
    expect(retried?.id).toBe(e.id);
    expect(retried?.attempts).toBe(1);
    expect(retried?.nextAttemptAt).toBe(5_000);
    db.close();
  });

  it("refuses a database written by a newer schema", () => {
    const path = join(dir, "node.db");
    const db = openDatabase(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    expect(() => openDatabase(path)).toThrow(
      expect.objectContaining({ code: "STORE_SCHEMA_TOO_NEW" }),
    );
  });

  it("reports a path it cannot open with a coded error", () => {
    // Its parent "directory" is a regular file.
    writeFileSync(join(dir, "plain-file"), "x");
    expect(() => openDatabase(join(dir, "plain-file", "node.db"))).toThrow(
      expect.objectContaining({ code: "STORE_OPEN_FAILED" }),
    );
  });
});
