export { openDatabase } from "./database.ts";
export { StoreError, type StoreErrorCode } from "./errors.ts";
export { TicketJournal } from "./ticket-journal.ts";
