import type { DatabaseSync, StatementSync } from "node:sqlite";
import { REDEMPTION_STATUSES, type RedemptionStatus } from "../payments/interface.ts";
import { limbSum, limbSumColumns } from "./aggregates.ts";
import { StoreError } from "./errors.ts";

type Row = Record<string, unknown>;

/** An orchestrator's earnings in one round (the round its tickets name), all amounts exact. */
export interface RoundEarnings {
  round: bigint;
  /** Tickets accepted that name this round. */
  ticketsReceived: number;
  /** Their expected value (face value x win probability), token wei, rounded down. */
  expectedValue: bigint;
  /** Winning tickets among them (journaled). */
  winners: number;
  /** The winners' face value, token wei. */
  winnersFaceValue: bigint;
  /** Winners redeemed on chain. */
  redeemed: number;
  /** What the redeemed winners paid, token wei. */
  redeemedValue: bigint;
  /** The redeemed winners' share of their redemption transactions' fees, ETH wei. */
  redemptionGas: bigint;
  /** What this node's reward() call minted into its pool in this round; null when none recorded. */
  rewardMinted: bigint | null;
  rewardTx: string | null;
}

/** One winning ticket's history. */
export interface TicketEarnings {
  id: number;
  ticketHash: string;
  sender: string;
  round: bigint;
  faceValue: bigint;
  winProb: bigint;
  status: RedemptionStatus;
  /** When it was received and journaled, Unix ms. */
  receivedAt: number;
  /** Its last status change, Unix ms. */
  updatedAt: number;
  txHash: string | null;
  /** What it paid once redeemed, token wei. */
  paidValue: bigint | null;
  /** Its share of the redemption transaction's fee, ETH wei; null until known. */
  gasFee: bigint | null;
}

/** A reward() call as the round service saw it mined. */
export interface RewardRecord {
  round: bigint;
  minted: bigint;
  orchestratorCut: bigint;
  txHash: string;
  /** The transaction's fee, ETH wei; null when the receipt did not say. */
  gasFee: bigint | null;
}

/** Rounds whose figures /status and `segmint earnings` show by default. */
export const DEFAULT_HISTORY_ROUNDS = 10;
/** The most rounds or tickets one read returns, so no caller can ask for the whole journal. */
export const MAX_HISTORY_ROWS = 1_000;

const ROUND = "CAST(creation_round AS INTEGER)";
const REDEEMED_PAID = "CASE WHEN status = 'redeemed' THEN COALESCE(paid_value, face_value) END";
const REDEEMED_GAS = "CASE WHEN status = 'redeemed' THEN gas_fee END";
/** Per-round sums over the winners (count, face value, redeemed count, paid value, gas). */
const WINNER_SUMS = `COUNT(*) AS winners, SUM(status = 'redeemed') AS redeemed,
  ${limbSumColumns("face_value", "face")}, ${limbSumColumns(REDEEMED_PAID, "paid")},
  ${limbSumColumns(REDEEMED_GAS, "gas")}`;

/**
 * The orchestrator's earnings history in SQLite beside the winning-ticket journal: per round,
 * tickets received and their expected value, winners, what redemption paid and its gas, and the
 * reward minted; per winning ticket, its life from receipt to redemption. Every figure comes
 * from SQL aggregates over at most `limit` rounds (exact sums of decimal text, aggregates.ts),
 * never from loading the journal. Receipts are counted in memory and written by flush(), a few
 * rows per interval rather than an fsync per segment: a crash loses at most one interval of
 * these statistics, never a winning ticket (the journal writes those before answering).
 */
export class EarningsHistory {
  private readonly buffered = new Map<bigint, { tickets: number; scaled: bigint }>();
  private readonly readReceipt: StatementSync;
  private readonly writeReceipt: StatementSync;
  private readonly writeReward: StatementSync;
  private readonly selectUnpriced: StatementSync;
  private readonly selectRedeemedBy: StatementSync;
  private readonly setGasFee: StatementSync;

  constructor(
    private readonly db: DatabaseSync,
    private readonly now: () => number = Date.now,
  ) {
    this.readReceipt = db.prepare(
      "SELECT tickets, expected_value FROM round_receipts WHERE round = ?",
    );
    this.writeReceipt = db.prepare(
      `INSERT INTO round_receipts (round, tickets, expected_value) VALUES (?, ?, ?)
       ON CONFLICT (round) DO UPDATE SET tickets = excluded.tickets,
         expected_value = excluded.expected_value`,
    );
    this.writeReward = db.prepare(
      `INSERT OR REPLACE INTO round_rewards (round, minted, orchestrator_cut, tx_hash, gas_fee, at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.selectUnpriced = db.prepare(
      `SELECT tx_hash, MIN(id) AS first FROM winning_tickets
       WHERE status = 'redeemed' AND tx_hash IS NOT NULL AND gas_fee IS NULL
       GROUP BY tx_hash ORDER BY first LIMIT ?`,
    );
    this.selectRedeemedBy = db.prepare(
      "SELECT id FROM winning_tickets WHERE tx_hash = ? AND status = 'redeemed' ORDER BY id",
    );
    this.setGasFee = db.prepare("UPDATE winning_tickets SET gas_fee = ? WHERE id = ?");
  }

  /** Tickets accepted naming `round`, worth `scaled` (face value x win probability, 2^-256 wei). */
  received(round: bigint, tickets: number, scaled: bigint): void {
    const entry = this.buffered.get(round) ?? { tickets: 0, scaled: 0n };
    entry.tickets += tickets;
    entry.scaled += scaled;
    this.buffered.set(round, entry);
  }

  /**
   * Writes the receipts counted since the last flush in one transaction; the fraction of a wei
   * below each round's whole wei stays buffered for the next one. Returns the rounds written.
   */
  flush(): number {
    const rounds = [...this.buffered].filter(([, e]) => e.tickets > 0 || e.scaled >> 256n > 0n);
    if (rounds.length === 0) return 0;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const [round, entry] of rounds) {
        const wei = entry.scaled >> 256n;
        const row = this.readReceipt.get(round);
        const tickets = (row ? int(row, "tickets") : 0) + entry.tickets;
        const value = (row ? BigInt(text(row, "expected_value")) : 0n) + wei;
        this.writeReceipt.run(round, tickets, value.toString());
      }
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
    for (const [round, entry] of rounds) {
      const rest = entry.scaled - ((entry.scaled >> 256n) << 256n);
      if (rest === 0n) this.buffered.delete(round);
      else this.buffered.set(round, { tickets: 0, scaled: rest });
    }
    return rounds.length;
  }

  recordReward(reward: RewardRecord): void {
    this.writeReward.run(
      reward.round,
      reward.minted.toString(),
      reward.orchestratorCut.toString(),
      reward.txHash,
      reward.gasFee === null ? null : reward.gasFee.toString(),
      this.now(),
    );
  }

  /** Redemption transactions whose fee is not yet shared among their tickets, oldest first. */
  unpricedRedemptions(limit: number): string[] {
    const rows = this.selectUnpriced.all(clamp(limit));
    return rows.map((row) => text(row, "tx_hash"));
  }

  /**
   * Shares a redemption transaction's fee (ETH wei) among the tickets it redeemed, the
   * remainder of the division to the first, so the shares add up to the fee exactly. Returns
   * the tickets priced.
   */
  priceRedemption(txHash: string, fee: bigint): number {
    const ids = this.selectRedeemedBy.all(txHash).map((row) => int(row, "id"));
    if (ids.length === 0) return 0;
    const share = fee / BigInt(ids.length);
    const first = fee - share * BigInt(ids.length - 1);
    this.db.exec("BEGIN IMMEDIATE");
    try {
      ids.forEach((id, i) => {
        this.setGasFee.run((i === 0 ? first : share).toString(), id);
      });
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
    return ids.length;
  }

  /**
   * The `limit` most recent rounds with any receipt, winner or reward, most recent first,
   * receipts not yet flushed included.
   */
  rounds(limit: number = DEFAULT_HISTORY_ROUNDS): RoundEarnings[] {
    const rows = this.db
      .prepare(
        // Each source gives its own latest rounds first (down an index, stopping after
        // `limit`), so the cost follows `limit`, not the journal's length.
        `WITH recent AS (
           SELECT round FROM (
             SELECT * FROM (SELECT round FROM round_receipts ORDER BY round DESC LIMIT ?1)
             UNION SELECT * FROM (
               SELECT DISTINCT ${ROUND} AS round FROM winning_tickets ORDER BY 1 DESC LIMIT ?1)
             UNION SELECT * FROM (SELECT round FROM round_rewards ORDER BY round DESC LIMIT ?1)
           ) ORDER BY round DESC LIMIT ?1
         ),
         won AS (
           SELECT ${ROUND} AS won_round, ${WINNER_SUMS} FROM winning_tickets
           WHERE ${ROUND} IN (SELECT round FROM recent) GROUP BY ${ROUND}
         )
         SELECT recent.round AS round, rr.tickets AS tickets, rr.expected_value AS ev,
           rw.minted AS minted, rw.tx_hash AS reward_tx, won.*
         FROM recent
         LEFT JOIN round_receipts rr ON rr.round = recent.round
         LEFT JOIN round_rewards rw ON rw.round = recent.round
         LEFT JOIN won ON won.won_round = recent.round
         ORDER BY recent.round DESC`,
      )
      .all(clamp(limit));
    const byRound = new Map<bigint, RoundEarnings>();
    for (const row of rows) {
      const round = BigInt(int(row, "round"));
      byRound.set(round, {
        round,
        ticketsReceived: optionalInt(row, "tickets"),
        expectedValue: row.ev === null ? 0n : BigInt(text(row, "ev")),
        winners: optionalInt(row, "winners"),
        winnersFaceValue: limbSum(row, "face"),
        redeemed: optionalInt(row, "redeemed"),
        redeemedValue: limbSum(row, "paid"),
        redemptionGas: limbSum(row, "gas"),
        rewardMinted: row.minted === null ? null : BigInt(text(row, "minted")),
        rewardTx: row.reward_tx === null ? null : text(row, "reward_tx"),
      });
    }
    for (const [round, entry] of this.buffered) {
      const known = byRound.get(round) ?? emptyRound(round);
      known.ticketsReceived += entry.tickets;
      known.expectedValue += entry.scaled >> 256n;
      byRound.set(round, known);
    }
    return [...byRound.values()]
      .sort((a, b) => (a.round === b.round ? 0 : a.round > b.round ? -1 : 1))
      .slice(0, clamp(limit));
  }

  /** The `limit` most recent winning tickets, most recent first. */
  tickets(limit: number): TicketEarnings[] {
    const rows = this.db
      .prepare(
        `SELECT id, ticket_hash, sender, creation_round, face_value, win_prob, status, created_at,
           updated_at, tx_hash, paid_value, gas_fee
         FROM winning_tickets ORDER BY id DESC LIMIT ?`,
      )
      .all(clamp(limit));
    return rows.map((row) => {
      const status = text(row, "status");
      if (!isStatus(status)) {
        throw new StoreError("STORE_CORRUPT_ROW", `unknown redemption status ${status}`, {
          value: status,
        });
      }
      const redeemed = status === "redeemed";
      return {
        id: int(row, "id"),
        ticketHash: text(row, "ticket_hash"),
        sender: text(row, "sender"),
        round: BigInt(text(row, "creation_round")),
        faceValue: BigInt(text(row, "face_value")),
        winProb: BigInt(text(row, "win_prob")),
        status,
        receivedAt: int(row, "created_at"),
        updatedAt: int(row, "updated_at"),
        txHash: row.tx_hash === null ? null : text(row, "tx_hash"),
        paidValue: redeemed
          ? BigInt(text(row, row.paid_value === null ? "face_value" : "paid_value"))
          : null,
        gasFee: row.gas_fee === null ? null : BigInt(text(row, "gas_fee")),
      };
    });
  }
}

function emptyRound(round: bigint): RoundEarnings {
  return {
    round,
    ticketsReceived: 0,
    expectedValue: 0n,
    winners: 0,
    winnersFaceValue: 0n,
    redeemed: 0,
    redeemedValue: 0n,
    redemptionGas: 0n,
    rewardMinted: null,
    rewardTx: null,
  };
}

function clamp(limit: number): number {
  return Math.max(0, Math.min(MAX_HISTORY_ROWS, Math.floor(limit)));
}

function isStatus(value: string): value is RedemptionStatus {
  return (REDEMPTION_STATUSES as readonly string[]).includes(value);
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") {
    throw new StoreError("STORE_CORRUPT_ROW", `${column} is not text`, { column });
  }
  return value;
}

function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new StoreError("STORE_CORRUPT_ROW", `${column} is not an integer`, { column });
}

/** An integer column of a LEFT JOIN: 0 where the joined row is absent. */
function optionalInt(row: Row, column: string): number {
  return row[column] === null || row[column] === undefined ? 0 : int(row, column);
}
