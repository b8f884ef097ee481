import { SegmintError } from "../errors.ts";

export type StoreErrorCode = "STORE_OPEN_FAILED" | "STORE_SCHEMA_TOO_NEW" | "STORE_CORRUPT_ROW";

export class StoreError extends SegmintError<StoreErrorCode> {
  constructor(
    code: StoreErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { hint?: string; cause?: unknown },
  ) {
    super(code, message, details, options);
    this.name = "StoreError";
  }
}
