import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { SegmentOutcome } from "./interface.ts";
import { openBroadcasterDatabase } from "./reputation.ts";

/**
 * What this broadcaster spent, per broadcast (or live stream) and per orchestrator, kept in
 * the same SQLite database as the reputation store (reputation.ts) and written as each
 * segment settles, so a crash loses at most the segment in flight. Amounts are token wei as
 * decimal text (SQLite integers stop at 2^63).
 */

/** One broadcast or live stream. */
export interface SpendRun {
  /** The stream id the session pays under. */
  id: string;
  kind: "broadcast" | "stream";
  /** The input file, or the live stream's key hint. */
  label: string;
  /** Unix ms. */
  startedAt: number;
}

/** One settled, verified segment on one orchestrator. */
export interface SettledSegment {
  tickets: number;
  /** Face value of those tickets, token wei. */
  faceValue: bigint;
  /** Their expected value, token wei. */
  expectedValue: bigint;
}

export interface SpendRow {
  run: string;
  kind: string;
  label: string;
  startedAt: number;
  orchestrator: string;
  /** Verified segments it was paid for. */
  segments: number;
  /** Tickets sent with those segments. */
  tickets: number;
  faceValue: bigint;
  /** Expected value sent with verified segments plus with rejected ones. */
  expectedValue: bigint;
  /**
   * Winning tickets, when known. A sender cannot tell a winner (only the recipient holds the
   * random number that decides it), so this is null until something on chain says.
   */
  winners: number | null;
  /** Results that failed verification. */
  verificationFailures: number;
  /** Expected value of the tickets sent with those results, token wei. */
  rejectedValue: bigint;
  updatedAt: number;
}

/** Where a session writes its spend: SpendStore, or a fake in tests. */
export interface SpendLog {
  recordSegment(run: SpendRun, orchestrator: string, segment: SettledSegment): void;
  /** Sets a run's verification failures on an orchestrator (totals, not increments). */
  recordFailures(
    run: SpendRun,
    orchestrator: string,
    failures: { count: number; rejectedValue: bigint },
  ): void;
}

export class SpendStore implements SpendLog {
  private readonly addSegment: StatementSync;
  private readonly setFailures: StatementSync;
  private readonly selectAll: StatementSync;
  private readonly selectOne: StatementSync;

  private constructor(
    private readonly db: DatabaseSync,
    private readonly now: () => number,
  ) {
    this.addSegment = db.prepare(
      `INSERT INTO spend (run, kind, label, started_at, orchestrator, segments, tickets,
         face_value, expected_value, updated_at)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
       ON CONFLICT (run, orchestrator) DO UPDATE SET segments = segments + 1,
         tickets = tickets + excluded.tickets,
         face_value = excluded.face_value,
         expected_value = excluded.expected_value,
         updated_at = excluded.updated_at`,
    );
    this.setFailures = db.prepare(
      `INSERT INTO spend (run, kind, label, started_at, orchestrator, failures, rejected_value,
         updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run, orchestrator) DO UPDATE SET failures = excluded.failures,
         rejected_value = excluded.rejected_value,
         updated_at = excluded.updated_at`,
    );
    this.selectAll = db.prepare("SELECT * FROM spend ORDER BY started_at, run, orchestrator");
    this.selectOne = db.prepare(
      "SELECT face_value, expected_value FROM spend WHERE run = ? AND orchestrator = ?",
    );
  }

  /** Opens the spend history in the broadcaster's database at `path` (see reputation.ts). */
  static open(path: string, now: () => number = Date.now): SpendStore {
    return new SpendStore(openBroadcasterDatabase(path), now);
  }

  recordSegment(run: SpendRun, orchestrator: string, segment: SettledSegment): void {
    const key = orchestrator.toLowerCase();
    const before = this.selectOne.get(run.id, key);
    // Sums of wei exceed SQLite's integers: added here, written as text.
    const faceValue = BigInt(String(before?.face_value ?? 0)) + segment.faceValue;
    const expectedValue = BigInt(String(before?.expected_value ?? 0)) + segment.expectedValue;
    this.addSegment.run(
      run.id,
      run.kind,
      run.label,
      run.startedAt,
      key,
      segment.tickets,
      faceValue.toString(),
      expectedValue.toString(),
      this.now(),
    );
  }

  recordFailures(
    run: SpendRun,
    orchestrator: string,
    failures: { count: number; rejectedValue: bigint },
  ): void {
    this.setFailures.run(
      run.id,
      run.kind,
      run.label,
      run.startedAt,
      orchestrator.toLowerCase(),
      failures.count,
      failures.rejectedValue.toString(),
      this.now(),
    );
  }

  /** Every row, oldest run first. */
  rows(): SpendRow[] {
    return this.selectAll.all().map(toRow);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function toRow(row: Record<string, unknown>): SpendRow {
  const winners = row.winners;
  return {
    run: String(row.run),
    kind: String(row.kind),
    label: String(row.label),
    startedAt: Number(row.started_at),
    orchestrator: String(row.orchestrator),
    segments: Number(row.segments),
    tickets: Number(row.tickets),
    faceValue: BigInt(String(row.face_value)),
    expectedValue: BigInt(String(row.expected_value)) + BigInt(String(row.rejected_value)),
    winners: winners === null || winners === undefined ? null : Number(winners),
    verificationFailures: Number(row.failures),
    rejectedValue: BigInt(String(row.rejected_value)),
    updatedAt: Number(row.updated_at),
  };
}

/** A run's totals over its orchestrators, or every run's when `rows` span several. */
export function totalSpend(rows: readonly SpendRow[]): {
  segments: number;
  tickets: number;
  faceValue: bigint;
  expectedValue: bigint;
  verificationFailures: number;
} {
  return rows.reduce(
    (t, r) => ({
      segments: t.segments + r.segments,
      tickets: t.tickets + r.tickets,
      faceValue: t.faceValue + r.faceValue,
      expectedValue: t.expectedValue + r.expectedValue,
      verificationFailures: t.verificationFailures + r.verificationFailures,
    }),
    { segments: 0, tickets: 0, faceValue: 0n, expectedValue: 0n, verificationFailures: 0 },
  );
}

/** One orchestrator's part of a run, as the broadcast summary reports it (wei as text). */
export interface RunSpendEntry {
  orchestrator: string;
  segments: number;
  tickets: number;
  faceValue: string;
  expectedValue: string;
  verificationFailures: number;
}

interface Tally {
  segments: number;
  tickets: number;
  faceValue: bigint;
  expectedValue: bigint;
  failures: number;
  rejectedValue: bigint;
}

/**
 * One run's spend, tallied from the session's own results (each settled segment's outcome,
 * the verification report) and passed on to the store as it happens. A store that cannot be
 * written is reported once and the run goes on: the money is already spent either way.
 */
export class RunSpend {
  private readonly tallies = new Map<string, Tally>();
  private storeFailed = false;

  constructor(
    private readonly run: SpendRun,
    private readonly store: SpendLog | null,
    private readonly onStoreError: (error: unknown) => void,
  ) {}

  /** A verified segment settled on `orchestrator`: the tickets its tries sent, and their value. */
  segment(orchestrator: string, outcome: SegmentOutcome): void {
    const settled: SettledSegment = {
      tickets: outcome.ticketsSent,
      faceValue: outcome.faceValue,
      expectedValue: outcome.expectedValue,
    };
    const t = this.tally(orchestrator);
    t.segments += 1;
    t.tickets += settled.tickets;
    t.faceValue += settled.faceValue;
    t.expectedValue += settled.expectedValue;
    this.write((store) => store.recordSegment(this.run, orchestrator.toLowerCase(), settled));
  }

  /** Brings the verification failures up to `failures` (a report's list, any number of times). */
  failures(failures: ReadonlyArray<{ orchestrator: string; valuePaid: string }>): void {
    const byOrchestrator = new Map<string, { count: number; rejectedValue: bigint }>();
    for (const f of failures) {
      const key = f.orchestrator.toLowerCase();
      const entry = byOrchestrator.get(key) ?? { count: 0, rejectedValue: 0n };
      entry.count += 1;
      entry.rejectedValue += BigInt(f.valuePaid);
      byOrchestrator.set(key, entry);
    }
    for (const [orchestrator, entry] of byOrchestrator) {
      const t = this.tally(orchestrator);
      if (t.failures === entry.count && t.rejectedValue === entry.rejectedValue) continue;
      t.failures = entry.count;
      t.rejectedValue = entry.rejectedValue;
      this.write((store) => store.recordFailures(this.run, orchestrator, entry));
    }
  }

  /** Per orchestrator, most segments first; expected value includes rejected results'. */
  entries(): RunSpendEntry[] {
    return [...this.tallies.entries()]
      .map(([orchestrator, t]) => ({
        orchestrator,
        segments: t.segments,
        tickets: t.tickets,
        faceValue: t.faceValue.toString(),
        expectedValue: (t.expectedValue + t.rejectedValue).toString(),
        verificationFailures: t.failures,
      }))
      .sort((a, b) => b.segments - a.segments || a.orchestrator.localeCompare(b.orchestrator));
  }

  private tally(orchestrator: string): Tally {
    const key = orchestrator.toLowerCase();
    let t = this.tallies.get(key);
    if (t === undefined) {
      t = {
        segments: 0,
        tickets: 0,
        faceValue: 0n,
        expectedValue: 0n,
        failures: 0,
        rejectedValue: 0n,
      };
      this.tallies.set(key, t);
    }
    return t;
  }

  private write(step: (store: SpendLog) => void): void {
    if (this.store === null || this.storeFailed) return;
    try {
      step(this.store);
    } catch (error) {
      this.storeFailed = true;
      this.onStoreError(error);
    }
  }
}
