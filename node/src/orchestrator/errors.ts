import { SubsystemError } from "../errors.ts";

/** Codes of the orchestrator daemon and the staking/funds commands. Tests match these. */
export type OrchestratorErrorCode =
  | "CHAIN_UNREACHABLE"
  | "CHAIN_ID_MISMATCH"
  | "DEPLOYMENT_NO_CODE"
  | "TICKET_PARAMS_INVALID"
  | "FACE_VALUE_BELOW_GAS"
  | "NOT_ORCHESTRATOR"
  | "INSUFFICIENT_TOKENS"
  | "TX_REVERTED"
  | "NODE_STOPPING";

export class OrchestratorError extends SubsystemError<OrchestratorErrorCode> {
  override name = "OrchestratorError";
}
