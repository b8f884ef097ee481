export { openDatabase } from "./database.ts";
export { StoreError, type StoreErrorCode } from "./errors.ts";
export { createStoreMetrics, type StoreMetrics } from "./metrics.ts";
export { type JournalStore, type JournalTotals, TicketJournal } from "./ticket-journal.ts";
