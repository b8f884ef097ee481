import type { CodeOf } from "../error-catalog.ts";
import { SubsystemError } from "../errors.ts";

/**
 * Codes of the orchestrator daemon, thrown or reported on /status (redemption outcomes). Tests
 * match these. Chain faults (unreachable, wrong chain, reverts, funds) carry the chain session's
 * codes (chain/errors.ts). Meanings and hints: the catalog (error-catalog.ts).
 */
export type OrchestratorErrorCode = CodeOf<"orchestrator">;

export class OrchestratorError extends SubsystemError<OrchestratorErrorCode> {
  override name = "OrchestratorError";
}
