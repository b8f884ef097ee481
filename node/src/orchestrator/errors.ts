import { SubsystemError } from "../errors.ts";

/**
 * Codes of the orchestrator daemon. Tests match these. Chain faults (unreachable, wrong chain,
 * reverts, funds) carry the chain session's codes (chain/errors.ts).
 */
export type OrchestratorErrorCode =
  | "TICKET_PARAMS_INVALID"
  | "FACE_VALUE_BELOW_GAS"
  | "NOT_ORCHESTRATOR"
  | "NODE_STOPPING";

export class OrchestratorError extends SubsystemError<OrchestratorErrorCode> {
  override name = "OrchestratorError";
}
