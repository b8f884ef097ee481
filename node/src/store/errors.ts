import { SubsystemError } from "../errors.ts";

export type StoreErrorCode =
  | "STORE_OPEN_FAILED"
  | "STORE_NOT_FOUND"
  | "STORE_SCHEMA_TOO_NEW"
  | "STORE_CORRUPT_ROW";

export class StoreError extends SubsystemError<StoreErrorCode> {
  override name = "StoreError";
}
