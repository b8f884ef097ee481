import type { DatabaseSync, StatementSync } from "node:sqlite";
import { fromHex, toHex } from "../chain/bytes.ts";
import {
  type JournalEntry,
  REDEMPTION_STATUSES,
  type RedemptionStatus,
  type WinningTicket,
  type WinningTicketJournal,
} from "../payments/interface.ts";
import { limbSum, limbSumColumns } from "./aggregates.ts";
import { StoreError } from "./errors.ts";
import type { StoreMetrics } from "./metrics.ts";

type Row = Record<string, unknown>;

/** Journal figures per redemption status (see TicketJournal.totals). */
export interface JournalTotals {
  /** Winning tickets per status. */
  counts: Record<RedemptionStatus, number>;
  /** Face value per status, token wei. */
  faceValue: Record<RedemptionStatus, bigint>;
  /**
   * Token wei the redeemed tickets actually paid: their face value, less where a receipt said
   * the sender ran short (a ticket settled without a receipt counts at face value).
   */
  redeemedPaid: bigint;
}

/** The journal as the orchestrator uses it: the payments port plus reads by id and totals. */
export interface JournalStore extends WinningTicketJournal {
  get(id: number): JournalEntry | undefined;
  totals(): JournalTotals;
}

const OPEN_STATUSES: ReadonlySet<RedemptionStatus> = new Set(["pending", "submitted"]);
function isStatus(value: string): value is RedemptionStatus {
  return (REDEMPTION_STATUSES as readonly string[]).includes(value);
}

/**
 * The winning-ticket journal in SQLite. `record` commits (fsync'd, see openDatabase) before it
 * returns, so an orchestrator that acknowledges a segment after it has lost nothing if the
 * process dies the next instant; the redeemer resumes every pending or submitted row on start.
 * Big numbers are stored as decimal text: SQLite integers stop at 2^63.
 */
export class TicketJournal implements JournalStore {
  private readonly insert: StatementSync;
  private readonly setStatus: StatementSync;
  private readonly setRedeemed: StatementSync;
  private readonly sumByStatus: StatementSync;
  /** Open (unsettled) entries by id, for the max-float check without a query per ticket. */
  private readonly open = new Map<
    number,
    { sender: string; faceValue: bigint; status: RedemptionStatus }
  >();
  private readonly pendingBySender = new Map<string, bigint>();
  /** The journal's totals, aggregated in SQL at open and kept in step by every write. */
  private tally: JournalTotals;

  constructor(
    private readonly db: DatabaseSync,
    private readonly now: () => number = Date.now,
    private readonly metrics: StoreMetrics | null = null,
  ) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO winning_tickets (ticket_hash, recipient, sender, face_value, win_prob,
         sender_nonce, recipient_rand_hash, creation_round, creation_round_block_hash, signature,
         recipient_rand, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    );
    this.setStatus = db.prepare(
      `UPDATE winning_tickets SET status = ?, tx_hash = COALESCE(?, tx_hash), reason = ?,
         attempts = attempts + ?, next_attempt_at = ?, updated_at = ? WHERE id = ?`,
    );
    this.setRedeemed = db.prepare(
      `UPDATE winning_tickets SET status = 'redeemed', paid_value = ?,
         tx_hash = COALESCE(?, tx_hash), reason = ?, next_attempt_at = 0, updated_at = ?
       WHERE id = ?`,
    );
    // One pass over the status index; the amounts are summed exactly (see aggregates.ts).
    this.sumByStatus = db.prepare(
      `SELECT status, COUNT(*) AS n, ${limbSumColumns("face_value", "face")},
         ${limbSumColumns("COALESCE(paid_value, face_value)", "paid")}
       FROM winning_tickets GROUP BY status`,
    );
    for (const entry of this.listByStatus(["pending", "submitted"])) {
      this.trackOpen(entry.id, entry.ticket.sender, entry.ticket.faceValue, entry.status);
    }
    this.tally = this.aggregate();
  }

  record(win: WinningTicket): boolean {
    const t = win.ticket;
    const at = this.now();
    const started = performance.now();
    const result = this.insert.run(
      win.ticketHash.toLowerCase(),
      t.recipient.toLowerCase(),
      t.sender.toLowerCase(),
      t.faceValue.toString(),
      t.winProb.toString(),
      t.senderNonce.toString(),
      t.recipientRandHash.toLowerCase(),
      t.creationRound.toString(),
      t.creationRoundBlockHash.toLowerCase(),
      toHex(win.signature),
      win.recipientRand.toString(),
      at,
      at,
    );
    this.observeWrite("record", started);
    if (Number(result.changes) === 0) return false;
    this.trackOpen(Number(result.lastInsertRowid), t.sender.toLowerCase(), t.faceValue, "pending");
    this.tally.counts.pending += 1;
    this.tally.faceValue.pending += t.faceValue;
    return true;
  }

  pendingFaceValue(sender: string): bigint {
    return this.pendingBySender.get(sender.toLowerCase()) ?? 0n;
  }

  listByStatus(statuses: readonly RedemptionStatus[]): JournalEntry[] {
    if (statuses.length === 0) return [];
    const marks = statuses.map(() => "?").join(", ");
    const rows = this.db
      .prepare(`SELECT * FROM winning_tickets WHERE status IN (${marks}) ORDER BY id`)
      .all(...statuses);
    return rows.map(toEntry);
  }

  get(id: number): JournalEntry | undefined {
    const row = this.db.prepare("SELECT * FROM winning_tickets WHERE id = ?").get(id);
    return row ? toEntry(row) : undefined;
  }

  markSubmitted(id: number, txHash: string): void {
    this.update(id, "submitted", txHash, null, 0, 0);
  }

  markRedeemed(
    id: number,
    txHash: string | null,
    note: string | null = null,
    paid: bigint | null = null,
  ): void {
    const paidText = paid === null ? null : paid.toString();
    const started = performance.now();
    this.setRedeemed.run(paidText, txHash, note, this.now(), id);
    this.observeWrite("update", started);
    const entry = this.open.get(id);
    if (this.moveInTally(id, "redeemed") && entry) {
      this.tally.redeemedPaid += paid ?? entry.faceValue;
    }
    this.settle(id);
  }

  /**
   * Counts and amounts per status. Read from memory: the SQL aggregate (see aggregate()) runs
   * once at open, and each write moves its entry between statuses, so a /status call or a
   * scrape costs nothing however long the journal grows.
   */
  totals(): JournalTotals {
    const t = this.tally;
    return {
      counts: { ...t.counts },
      faceValue: { ...t.faceValue },
      redeemedPaid: t.redeemedPaid,
    };
  }

  /**
   * The totals computed by SQL in one pass over the table, loading no rows; amounts are summed
   * exactly (see aggregates.ts).
   */
  aggregate(): JournalTotals {
    const counts = perStatus(0);
    const faceValue = perStatus(0n);
    let redeemedPaid = 0n;
    for (const row of this.sumByStatus.all()) {
      const s = status(row);
      counts[s] = int(row, "n");
      faceValue[s] = limbSum(row, "face");
      if (s === "redeemed") redeemedPaid = limbSum(row, "paid");
    }
    return { counts, faceValue, redeemedPaid };
  }

  markFailed(id: number, reason: string): void {
    this.update(id, "failed", null, reason, 0, 0);
  }

  markExpired(id: number): void {
    this.update(id, "expired", null, "expired before it could be redeemed", 0, 0);
  }

  markUneconomic(id: number, reason: string): void {
    this.update(id, "uneconomic", null, reason, 0, 0);
  }

  scheduleRetry(id: number, reason: string, nextAttemptAt: number): void {
    this.update(id, "pending", null, reason, 1, nextAttemptAt);
  }

  private update(
    id: number,
    status: RedemptionStatus,
    txHash: string | null,
    reason: string | null,
    attemptIncrement: number,
    nextAttemptAt: number,
  ): void {
    const started = performance.now();
    this.setStatus.run(status, txHash, reason, attemptIncrement, nextAttemptAt, this.now(), id);
    this.observeWrite("update", started);
    this.moveInTally(id, status);
    if (!OPEN_STATUSES.has(status)) this.settle(id);
  }

  /**
   * Moves an open entry's count and face value to `status` in the tally; returns false when the
   * entry was not open (only open entries change status), after recounting in SQL to be safe.
   */
  private moveInTally(id: number, status: RedemptionStatus): boolean {
    const entry = this.open.get(id);
    if (!entry) {
      this.tally = this.aggregate();
      return false;
    }
    const t = this.tally;
    t.counts[entry.status] -= 1;
    t.faceValue[entry.status] -= entry.faceValue;
    t.counts[status] += 1;
    t.faceValue[status] += entry.faceValue;
    entry.status = status;
    return true;
  }

  private observeWrite(operation: "record" | "update", started: number): void {
    this.metrics?.writeSeconds.observe({ operation }, (performance.now() - started) / 1000);
  }

  private trackOpen(id: number, sender: string, faceValue: bigint, status: RedemptionStatus): void {
    this.open.set(id, { sender, faceValue, status });
    this.pendingBySender.set(sender, (this.pendingBySender.get(sender) ?? 0n) + faceValue);
  }

  private settle(id: number): void {
    const entry = this.open.get(id);
    if (!entry) return;
    this.open.delete(id);
    const left = (this.pendingBySender.get(entry.sender) ?? 0n) - entry.faceValue;
    if (left > 0n) this.pendingBySender.set(entry.sender, left);
    else this.pendingBySender.delete(entry.sender);
  }
}

/** A record with `value` for every status (statuses without rows are absent from GROUP BY). */
function perStatus<T>(value: T): Record<RedemptionStatus, T> {
  return {
    pending: value,
    submitted: value,
    redeemed: value,
    failed: value,
    expired: value,
    uneconomic: value,
  };
}

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") {
    throw new StoreError("STORE_CORRUPT_ROW", `winning_tickets.${column} is not text`, { column });
  }
  return value;
}

function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new StoreError("STORE_CORRUPT_ROW", `winning_tickets.${column} is not an integer`, {
    column,
  });
}

function status(row: Row): RedemptionStatus {
  const value = text(row, "status");
  if (!isStatus(value)) {
    throw new StoreError("STORE_CORRUPT_ROW", `unknown redemption status ${value}`, { value });
  }
  return value;
}

function nullableText(row: Row, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : String(value);
}

function toEntry(row: Row): JournalEntry {
  return {
    id: int(row, "id"),
    ticketHash: text(row, "ticket_hash"),
    ticket: {
      recipient: text(row, "recipient"),
      sender: text(row, "sender"),
      faceValue: BigInt(text(row, "face_value")),
      winProb: BigInt(text(row, "win_prob")),
      senderNonce: BigInt(text(row, "sender_nonce")),
      recipientRandHash: text(row, "recipient_rand_hash"),
      creationRound: BigInt(text(row, "creation_round")),
      creationRoundBlockHash: text(row, "creation_round_block_hash"),
    },
    signature: fromHex(text(row, "signature"), 65),
    recipientRand: BigInt(text(row, "recipient_rand")),
    status: status(row),
    txHash: nullableText(row, "tx_hash"),
    reason: nullableText(row, "reason"),
    attempts: int(row, "attempts"),
    nextAttemptAt: int(row, "next_attempt_at"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}
