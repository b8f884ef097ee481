import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import type { ErrorCode } from "../errors.ts";
import type {
  JournalEntry,
  RedemptionStatus,
  WinningTicket,
  WinningTicketJournal,
} from "../payments/interface.ts";
import type { PaymentsMetrics } from "../payments/metrics.ts";
import type { JournalStore, JournalTotals } from "../store/index.ts";

/** Where redemption troubles are reported for /status (NodeActivity implements it). */
export interface ErrorSink {
  error(code: ErrorCode, message: string): void;
}

/**
 * The winning-ticket journal with metrics: every final status the redeemer records is counted
 * as it is written, so /metrics agrees with the journal without a query per scrape, and each
 * redemption trouble is reported to the error sink. Figures for /status come from the store's
 * SQL aggregates.
 */
export class MeteredJournal implements WinningTicketJournal {
  constructor(
    private readonly inner: JournalStore,
    private readonly metrics: PaymentsMetrics | null,
    private readonly errors: ErrorSink | null = null,
  ) {}

  record(win: WinningTicket): boolean {
    return this.inner.record(win);
  }
  pendingFaceValue(sender: string): bigint {
    return this.inner.pendingFaceValue(sender);
  }
  listByStatus(statuses: readonly RedemptionStatus[]): JournalEntry[] {
    return this.inner.listByStatus(statuses);
  }
  markSubmitted(id: number, txHash: string): void {
    this.inner.markSubmitted(id, txHash);
  }
  markRedeemed(
    id: number,
    txHash: string | null,
    note: string | null = null,
    paid: bigint | null = null,
  ): void {
    // What the ticket paid, not its face value: a sender that ran short pays less. Without a
    // receipt (settled after a restart) the face value is the best figure there is.
    const faceValue = this.inner.get(id)?.ticket.faceValue ?? null;
    const value = paid ?? faceValue;
    this.inner.markRedeemed(id, txHash, note, paid);
    this.metrics?.ticketsRedeemed.inc({ status: "redeemed" });
    if (value !== null) this.metrics?.valueRedeemedWei.inc(Number(value));
    if (paid !== null && faceValue !== null && paid < faceValue) {
      this.errors?.error(
        "TICKET_PAID_PARTIALLY",
        note ?? `winning ticket ${id} paid ${paid} of face value ${faceValue}`,
      );
    }
  }
  markFailed(id: number, reason: string): void {
    this.inner.markFailed(id, reason);
    this.metrics?.ticketsRedeemed.inc({ status: "failed" });
    this.errors?.error("REDEMPTION_FAILED", reason);
  }
  markExpired(id: number): void {
    this.inner.markExpired(id);
    this.metrics?.ticketsRedeemed.inc({ status: "expired" });
    this.errors?.error("TICKET_EXPIRED", `winning ticket ${id} expired before it was redeemed`);
  }
  markUneconomic(id: number, reason: string): void {
    this.inner.markUneconomic(id, reason);
    this.metrics?.ticketsRedeemed.inc({ status: "uneconomic" });
    this.errors?.error("TICKET_UNECONOMIC", reason);
  }
  scheduleRetry(id: number, reason: string, nextAttemptAt: number): void {
    this.inner.scheduleRetry(id, reason, nextAttemptAt);
    this.errors?.error("REDEMPTION_RETRY", reason);
  }

  /** Counts and amounts per status, from one SQL aggregate. */
  totals(): JournalTotals {
    return this.inner.totals();
  }

  /** Entries per status, for /status. */
  counts(): Record<RedemptionStatus, number> {
    return this.inner.totals().counts;
  }

  /** Face value of the redeemed entries, token wei. */
  redeemedValue(): bigint {
    return this.inner.totals().faceValue.redeemed;
  }
}

/**
 * The HMAC key recipientRands are derived from, kept in the data dir and readable by the owner
 * only. Params handed out before a restart are refused after it all the same (STALE_PARAMS, see
 * payments/params.ts): winners are journaled with their own recipientRand, so nothing paid
 * depends on this key surviving.
 */
export async function loadOrCreateTicketSecret(dataDir: string): Promise<Uint8Array> {
  const file = path.join(dataDir, "ticket-secret");
  try {
    const hex = (await readFile(file, "utf8")).trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Uint8Array.from(Buffer.from(hex, "hex"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32);
  await writeFile(file, `${secret.toString("hex")}\n`, { mode: 0o600 });
  return Uint8Array.from(secret);
}
