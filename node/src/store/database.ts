import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { StoreError } from "./errors.ts";

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run.
 * Append only: a released migration never changes.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE winning_tickets (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     ticket_hash TEXT NOT NULL UNIQUE,
     recipient TEXT NOT NULL,
     sender TEXT NOT NULL,
     face_value TEXT NOT NULL,
     win_prob TEXT NOT NULL,
     sender_nonce TEXT NOT NULL,
     recipient_rand_hash TEXT NOT NULL,
     creation_round TEXT NOT NULL,
     creation_round_block_hash TEXT NOT NULL,
     signature TEXT NOT NULL,
     recipient_rand TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN
       ('pending','submitted','redeemed','failed','expired','uneconomic')),
     tx_hash TEXT,
     reason TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX winning_tickets_status ON winning_tickets (status);
   CREATE INDEX winning_tickets_sender ON winning_tickets (sender);`,
  // What a redeemed ticket actually paid (token wei, decimal text): less than its face value
  // when the sender's deposit and reserve ran short; NULL where no receipt said.
  "ALTER TABLE winning_tickets ADD COLUMN paid_value TEXT;",
  // Earnings history (store/earnings.ts). Tickets received and their expected value per round
  // (token wei, decimal text); each reward() call with what it minted; and each redeemed
  // winner's share of its redemption transaction's fee (ETH wei, decimal text; NULL until the
  // receipt is read, and on rows written before this migration). Older rows stay as they were.
  `CREATE TABLE round_receipts (
     round INTEGER PRIMARY KEY,
     tickets INTEGER NOT NULL,
     expected_value TEXT NOT NULL
   );
   CREATE TABLE round_rewards (
     round INTEGER PRIMARY KEY,
     minted TEXT NOT NULL,
     orchestrator_cut TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     gas_fee TEXT,
     at INTEGER NOT NULL
   );
   ALTER TABLE winning_tickets ADD COLUMN gas_fee TEXT;
   CREATE INDEX winning_tickets_round ON winning_tickets (CAST(creation_round AS INTEGER));
   CREATE INDEX winning_tickets_tx ON winning_tickets (tx_hash);`,
];

/**
 * Opens (creating if needed) the node's SQLite file for what must survive a crash. WAL lets
 * readers run beside the writer; synchronous=FULL fsyncs the WAL on every commit, so a row is
 * on disk when the insert returns: the journal's promise to the caller depends on it.
 */
export function openDatabase(path: string): DatabaseSync {
  let db: DatabaseSync;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path, { timeout: 5_000 });
  } catch (cause) {
    throw new StoreError(
      "STORE_OPEN_FAILED",
      `cannot open the database at ${path}`,
      { path },
      { hint: "check the data directory exists and is writable", cause },
    );
  }
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: DatabaseSync, path: string): void {
  const row = db.prepare("PRAGMA user_version").get();
  const version = Number(row?.user_version ?? 0);
  if (version > MIGRATIONS.length) {
    throw new StoreError(
      "STORE_SCHEMA_TOO_NEW",
      `the database at ${path} was written by a newer Segmint (schema ${version})`,
      { path, version, known: MIGRATIONS.length },
      { hint: "upgrade Segmint or point it at another data directory" },
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[v] ?? "");
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}

/**
 * Opens a database another process writes (a running daemon's), for reading beside it: WAL lets
 * the reader see every committed row without blocking the writer. Unlike openDatabase it
 * creates nothing: STORE_NOT_FOUND when there is no file, so a mistyped folder is said as such.
 * A file from an older release is brought to the current schema, as the daemon would.
 */
export function openExistingDatabase(path: string, what: string): DatabaseSync {
  if (!existsSync(path)) {
    throw new StoreError(
      "STORE_NOT_FOUND",
      `no ${what} at ${path}`,
      { path },
      { hint: "give the orchestrator's --data-dir (or SEGMINT_DATA_DIR)" },
    );
  }
  return openDatabase(path);
}
