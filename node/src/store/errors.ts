import type { CodeOf } from "../error-catalog.ts";
import { SubsystemError } from "../errors.ts";

export type StoreErrorCode = CodeOf<"store">;

export class StoreError extends SubsystemError<StoreErrorCode> {
  override name = "StoreError";
}
