import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EarningsHistory, openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { randomWin } from "../../helpers/tickets.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "segmint-earnings-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `wei` token wei of expected value in the 2^-256 units the validator credits. */
const scaled = (wei: bigint) => wei << 256n;

describe("EarningsHistory", () => {
  it("counts tickets received per round in memory, writes them on flush and keeps them across a reopen", () => {
    const path = join(dir, "o.sqlite");
    const db = openDatabase(path);
    const history = new EarningsHistory(db);
    history.received(7n, 2, scaled(300n));
    history.received(7n, 1, scaled(100n) + (1n << 255n)); // half a wei stays buffered
    history.received(8n, 4, scaled(40n));
    // Shown before they are written.
    expect(history.rounds(10).map((r) => [r.round, r.ticketsReceived, r.expectedValue])).toEqual([
      [8n, 4, 40n],
      [7n, 3, 400n],
    ]);
    expect(history.flush()).toBe(2);
    history.received(7n, 1, 1n << 255n); // the two halves make a whole wei
    expect(history.flush()).toBe(1);
    expect(history.flush()).toBe(0);
    db.close();

    const reopened = openDatabase(path);
    const rounds = new EarningsHistory(reopened).rounds(10);
    expect(rounds.map((r) => [r.round, r.ticketsReceived, r.expectedValue])).toEqual([
      [8n, 4, 40n],
      [7n, 4, 401n],
    ]);
    reopened.close();
  });

  it("sums winners, redeemed value and redemption gas per round exactly, and shares a fee among a batch", () => {
    const db = openDatabase(join(dir, "o.sqlite"));
    const journal = new TicketJournal(db);
    const history = new EarningsHistory(db);
    const big = 2n ** 200n;
    const wins = [
      randomWin({ faceValue: big, creationRound: 5n }),
      randomWin({ faceValue: 10n, creationRound: 5n }),
      randomWin({ faceValue: 20n, creationRound: 6n }),
      randomWin({ faceValue: 30n, creationRound: 6n }),
    ];
    for (const w of wins) journal.record(w);
    const [a, b, c] = journal.listByStatus(["pending"]);
    if (!a || !b || !c) throw new Error("journaled");
    const tx = `0x${"ab".repeat(32)}`;
    journal.markSubmitted(a.id, tx);
    journal.markSubmitted(b.id, tx);
    journal.markSubmitted(c.id, tx);
    journal.markRedeemed(a.id, tx);
    journal.markRedeemed(b.id, tx, "short", 4n);
    journal.markRedeemed(c.id, tx);

    expect(history.unpricedRedemptions(5)).toEqual([tx]);
    expect(history.priceRedemption(tx, 1_000_001n)).toBe(3);
    expect(history.unpricedRedemptions(5)).toEqual([]);

    const [six, five] = history.rounds(10);
    expect(five).toMatchObject({
      round: 5n,
      winners: 2,
      winnersFaceValue: big + 10n,
      redeemed: 2,
      redeemedValue: big + 4n,
      redemptionGas: 333_335n + 333_333n,
      ticketsReceived: 0,
    });
    expect(six).toMatchObject({
      round: 6n,
      winners: 2,
      winnersFaceValue: 50n,
      redeemed: 1,
      redeemedValue: 20n,
      redemptionGas: 333_333n,
    });

    // Per ticket, most recent first: the pending one has no tx, paid value or gas yet.
    const tickets = history.tickets(10);
    expect(tickets.map((t) => t.status)).toEqual(["pending", "redeemed", "redeemed", "redeemed"]);
    expect(tickets[0]).toMatchObject({ round: 6n, faceValue: 30n, txHash: null, gasFee: null });
    expect(tickets[2]).toMatchObject({ paidValue: 4n, txHash: tx, gasFee: 333_333n });
    expect(tickets[3]).toMatchObject({ paidValue: big, gasFee: 333_335n });
    expect(history.tickets(1)).toHaveLength(1);
    db.close();
  });

  it("shows each round's reward and only the most recent rounds asked for", () => {
    const db = openDatabase(join(dir, "o.sqlite"));
    const history = new EarningsHistory(db, () => 1_000);
    for (let round = 1n; round <= 5n; round++) {
      history.recordReward({
        round,
        minted: round * 100n,
        orchestratorCut: round,
        txHash: `0x${round.toString().repeat(64)}`,
        gasFee: 21_000n,
      });
    }
    history.received(4n, 1, scaled(9n));
    history.flush();
    const rounds = history.rounds(2);
    expect(rounds.map((r) => [r.round, r.rewardMinted, r.ticketsReceived])).toEqual([
      [5n, 500n, 0],
      [4n, 400n, 1],
    ]);
    expect(rounds[0]?.rewardTx).toBe(`0x${"5".repeat(64)}`);
    db.close();
  });

  it("reads a journal written before the history existed, and gives its winners no gas", () => {
    const path = join(dir, "o.sqlite");
    const db = openDatabase(path);
    const journal = new TicketJournal(db);
    journal.record(randomWin({ faceValue: 70n, creationRound: 3n }));
    const [entry] = journal.listByStatus(["pending"]);
    if (!entry) throw new Error("journaled");
    journal.markRedeemed(entry.id, `0x${"cd".repeat(32)}`);
    // Back to schema 2, as an older release left it: no history tables, no gas column.
    db.exec(`DROP TABLE round_receipts; DROP TABLE round_rewards;
      DROP INDEX winning_tickets_round; DROP INDEX winning_tickets_tx;
      ALTER TABLE winning_tickets DROP COLUMN gas_fee; PRAGMA user_version = 2;`);
    db.close();

    const upgraded = openDatabase(path);
    expect(upgraded.prepare("PRAGMA user_version").get()?.user_version).toBe(3);
    const history = new EarningsHistory(upgraded);
    expect(history.rounds(10)).toEqual([
      expect.objectContaining({ round: 3n, winners: 1, redeemedValue: 70n, redemptionGas: 0n }),
    ]);
    expect(new TicketJournal(upgraded).totals().counts.redeemed).toBe(1);
    upgraded.close();
  });
});
