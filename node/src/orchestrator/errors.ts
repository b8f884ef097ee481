import { SubsystemError } from "../errors.ts";

/**
 * Codes of the orchestrator daemon. Tests match these. Chain faults (unreachable, wrong chain,
 * reverts, funds) carry the chain session's codes (chain/errors.ts).
 */
export type OrchestratorErrorCode =
  | "TICKET_PARAMS_INVALID"
  | "FACE_VALUE_BELOW_GAS"
  | "NOT_ORCHESTRATOR"
  | "NODE_STOPPING"
  /** Another live orchestrator holds this data directory. */
  | "DATA_DIR_IN_USE"
  /** Another live orchestrator on this machine signs with this key on this chain. */
  | "KEY_IN_USE"
  /** A fixed libp2p listen port is taken (found before any transaction). */
  | "P2P_PORT_IN_USE"
  /** A --listen or --announce value is no multiaddr (found before any transaction). */
  | "P2P_ADDRESS_INVALID";

export class OrchestratorError extends SubsystemError<OrchestratorErrorCode> {
  override name = "OrchestratorError";
}
