export { openDatabase, openExistingDatabase } from "./database.ts";
export {
  DEFAULT_HISTORY_ROUNDS,
  EarningsHistory,
  MAX_HISTORY_ROWS,
  type RewardRecord,
  type RoundEarnings,
  type TicketEarnings,
} from "./earnings.ts";
export { StoreError, type StoreErrorCode } from "./errors.ts";
export { createStoreMetrics, type StoreMetrics } from "./metrics.ts";
export { type JournalStore, type JournalTotals, TicketJournal } from "./ticket-journal.ts";
