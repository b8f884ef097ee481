import type { CodeOf } from "../error-catalog.ts";
import { SubsystemError } from "../errors.ts";

/**
 * Every deliberate failure of the broadcaster client; tests and callers match on the code. What
 * each means and what to do: the catalog (error-catalog.ts, docs/errors.md).
 */
export type BroadcasterErrorCode = CodeOf<"broadcaster">;

export class BroadcasterError extends SubsystemError<BroadcasterErrorCode> {
  override name = "BroadcasterError";
}

export function isBroadcasterError(
  error: unknown,
  code?: BroadcasterErrorCode,
): error is BroadcasterError {
  return error instanceof BroadcasterError && (code === undefined || error.code === code);
}
