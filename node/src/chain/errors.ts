import type { CodeOf } from "../error-catalog.ts";
import { SubsystemError } from "../errors.ts";

/**
 * One code per chain fault, whichever role or command meets it: the connection, the deployment
 * file and its contracts, transactions, keys and keystores. Tests match these; what each means
 * and what to do is in the catalog (error-catalog.ts, docs/errors.md).
 */
export type ChainErrorCode = CodeOf<"chain">;

export class ChainError extends SubsystemError<ChainErrorCode> {
  override name = "ChainError";
}
