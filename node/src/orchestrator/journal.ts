import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { OrchestratorMetrics } from "../metrics/index.ts";
import {
  type JournalEntry,
  REDEMPTION_STATUSES,
  type RedemptionStatus,
  type WinningTicket,
  type WinningTicketJournal,
} from "../payments/interface.ts";

/**
 * The winning-ticket journal with metrics: every final status the redeemer records is counted
 * as it is written, so /metrics agrees with the journal without a query per scrape.
 */
export class MeteredJournal implements WinningTicketJournal {
  constructor(
    private readonly inner: WinningTicketJournal,
    private readonly metrics: OrchestratorMetrics | null,
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
  markRedeemed(id: number, txHash: string | null, note: string | null = null): void {
    const entry = this.find(id);
    this.inner.markRedeemed(id, txHash, note);
    this.metrics?.ticketsRedeemed.inc({ status: "redeemed" });
    if (entry) this.metrics?.valueRedeemedWei.inc(Number(entry.ticket.faceValue));
  }
  markFailed(id: number, reason: string): void {
    this.inner.markFailed(id, reason);
    this.metrics?.ticketsRedeemed.inc({ status: "failed" });
  }
  markExpired(id: number): void {
    this.inner.markExpired(id);
    this.metrics?.ticketsRedeemed.inc({ status: "expired" });
  }
  markUneconomic(id: number, reason: string): void {
    this.inner.markUneconomic(id, reason);
    this.metrics?.ticketsRedeemed.inc({ status: "uneconomic" });
  }
  scheduleRetry(id: number, reason: string, nextAttemptAt: number): void {
    this.inner.scheduleRetry(id, reason, nextAttemptAt);
  }

  /** Entries per status, for /status. */
  counts(): Record<RedemptionStatus, number> {
    const out = {} as Record<RedemptionStatus, number>;
    for (const status of REDEMPTION_STATUSES)
      out[status] = this.inner.listByStatus([status]).length;
    return out;
  }

  /** Face value of the redeemed entries, token wei. */
  redeemedValue(): bigint {
    return this.inner.listByStatus(["redeemed"]).reduce((sum, e) => sum + e.ticket.faceValue, 0n);
  }

  private find(id: number): JournalEntry | undefined {
    return this.inner.listByStatus(["pending", "submitted"]).find((e) => e.id === id);
  }
}

/**
 * The HMAC key recipientRands are derived from. Kept in the data dir so ticket params handed
 * out before a restart are still recognised after it; readable by the owner only.
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
