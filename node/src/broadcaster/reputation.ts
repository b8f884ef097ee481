import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { BroadcasterError } from "./errors.ts";

/**
 * What this broadcaster has seen of each orchestrator, across runs and streams: segments that
 * passed verification, results that failed it (and on which check), and the value sent with
 * the failed ones. Selection weighs it, spot checks sample by it, ticket caps depend on it.
 */
export interface OrchestratorRecord {
  address: string;
  verified: number;
  failed: number;
  /** The check the latest failure failed, and when (unix ms); null without failures. */
  lastFailure: { check: string; at: number } | null;
  /** Expected value of the tickets sent with rejected results, token wei. */
  rejectedValue: bigint;
}

/** The port the trust policy uses; ReputationStore is the SQLite one. */
export interface Reputation {
  get(address: string): OrchestratorRecord;
  recordVerified(address: string): void;
  recordFailure(address: string, check: string, value: bigint): void;
}

/** Append-only schema migrations, counted in PRAGMA user_version. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE orchestrators (
     address TEXT PRIMARY KEY,
     verified INTEGER NOT NULL DEFAULT 0,
     failed INTEGER NOT NULL DEFAULT 0,
     last_failure_check TEXT,
     last_failure_at INTEGER,
     rejected_value TEXT NOT NULL DEFAULT '0',
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE failures (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     address TEXT NOT NULL,
     check_name TEXT NOT NULL,
     value TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX failures_address ON failures (address);`,
  // Spend history (spend.ts): one row per broadcast or live stream and orchestrator.
  `CREATE TABLE spend (
     run TEXT NOT NULL,
     kind TEXT NOT NULL,
     label TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     orchestrator TEXT NOT NULL,
     segments INTEGER NOT NULL DEFAULT 0,
     tickets INTEGER NOT NULL DEFAULT 0,
     face_value TEXT NOT NULL DEFAULT '0',
     expected_value TEXT NOT NULL DEFAULT '0',
     winners INTEGER,
     failures INTEGER NOT NULL DEFAULT 0,
     rejected_value TEXT NOT NULL DEFAULT '0',
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (run, orchestrator)
   );
   CREATE INDEX spend_started ON spend (started_at);`,
];

/**
 * Opens (creating, migrating) the broadcaster's SQLite database at `path`, which holds the
 * reputation store and the spend history; ":memory:" keeps it for this process only.
 */
export function openBroadcasterDatabase(path: string): DatabaseSync {
  let db: DatabaseSync;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path, { timeout: 5_000 });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    const version = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
    if (version > MIGRATIONS.length) {
      db.close();
      throw new BroadcasterError(
        "REPUTATION_STORE_FAILED",
        `the broadcaster's store at ${path} was written by a newer Segmint (schema ${version})`,
        { path, version },
        { hint: "upgrade Segmint or set another --reputation-file" },
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec("BEGIN IMMEDIATE");
      // Another connection may have migrated it meanwhile.
      const now = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
      if (now > v) {
        db.exec("COMMIT");
        continue;
      }
      db.exec(MIGRATIONS[v] ?? "");
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    }
    return db;
  } catch (cause) {
    if (cause instanceof BroadcasterError) throw cause;
    throw new BroadcasterError(
      "REPUTATION_STORE_FAILED",
      `cannot open the broadcaster's store at ${path}`,
      { path },
      { hint: "check the folder is writable, or set another --reputation-file", cause },
    );
  }
}

/**
 * The reputation store in SQLite (node:sqlite), a file beside the broadcaster's data. Rows are
 * written as results are verified; a write lost in a crash costs one segment's record, so the
 * store runs with synchronous=NORMAL (WAL), unlike the orchestrator's ticket journal, whose
 * rows are money. Values are decimal text: SQLite integers stop at 2^63.
 */
export class ReputationStore implements Reputation {
  private readonly db: DatabaseSync;
  private readonly select: StatementSync;
  private readonly upsertVerified: StatementSync;
  private readonly upsertFailed: StatementSync;
  private readonly insertFailure: StatementSync;
  private readonly now: () => number;

  private constructor(db: DatabaseSync, now: () => number) {
    this.db = db;
    this.now = now;
    this.select = db.prepare("SELECT * FROM orchestrators WHERE address = ?");
    this.upsertVerified = db.prepare(
      `INSERT INTO orchestrators (address, verified, updated_at) VALUES (?, 1, ?)
       ON CONFLICT (address) DO UPDATE SET verified = verified + 1, updated_at = excluded.updated_at`,
    );
    this.upsertFailed = db.prepare(
      `INSERT INTO orchestrators
         (address, failed, last_failure_check, last_failure_at, rejected_value, updated_at)
       VALUES (?, 1, ?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET failed = failed + 1,
         last_failure_check = excluded.last_failure_check,
         last_failure_at = excluded.last_failure_at,
         rejected_value = excluded.rejected_value,
         updated_at = excluded.updated_at`,
    );
    this.insertFailure = db.prepare(
      "INSERT INTO failures (address, check_name, value, at) VALUES (?, ?, ?, ?)",
    );
  }

  /** Opens (creating) the store at `path`; ":memory:" keeps it for this process only. */
  static open(path: string, now: () => number = Date.now): ReputationStore {
    const db = openBroadcasterDatabase(path);
    return new ReputationStore(db, now);
  }

  get(address: string): OrchestratorRecord {
    const key = address.toLowerCase();
    const row = this.select.get(key);
    if (row === undefined) {
      return { address: key, verified: 0, failed: 0, lastFailure: null, rejectedValue: 0n };
    }
    const check = row.last_failure_check;
    const at = row.last_failure_at;
    return {
      address: key,
      verified: Number(row.verified),
      failed: Number(row.failed),
      lastFailure: typeof check === "string" && at !== null ? { check, at: Number(at) } : null,
      rejectedValue: BigInt(String(row.rejected_value)),
    };
  }

  recordVerified(address: string): void {
    this.upsertVerified.run(address.toLowerCase(), this.now());
  }

  recordFailure(address: string, check: string, value: bigint): void {
    const key = address.toLowerCase();
    const at = this.now();
    const total = this.get(key).rejectedValue + value;
    this.db.exec("BEGIN");
    try {
      this.upsertFailed.run(key, check, at, total.toString(), at);
      this.insertFailure.run(key, check, value.toString(), at);
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

/**
 * A record's weight in selection, 0 to 1: nothing known scores 0 (chance and stake carry a
 * newcomer), verified segments raise it towards 1, and each failure counts as much as fifty of
 * them (a cheat has to work honestly for a long time to be ranked as before).
 */
export function reputationScore(record: Pick<OrchestratorRecord, "verified" | "failed">): number {
  const FAILURE_WEIGHT = 50;
  // Half score after this many clean segments.
  const HALF = 20;
  const good = Math.max(0, record.verified - FAILURE_WEIGHT * record.failed);
  return good / (good + HALF);
}

/** Proven: enough verified segments, `provenAfter` more for each failure on record. */
export function isProven(
  record: Pick<OrchestratorRecord, "verified" | "failed">,
  provenAfter: number,
): boolean {
  return record.verified >= provenAfter * (1 + record.failed);
}
