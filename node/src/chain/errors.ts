import { SubsystemError } from "../errors.ts";

/** One code per chain fault, whichever role or command meets it. Tests match these. */
export type ChainErrorCode =
  /** --rpc is not an http(s):// or ws(s):// URL. */
  | "RPC_URL_INVALID"
  /** Nothing answers JSON-RPC at the URL. */
  | "CHAIN_UNREACHABLE"
  /** The deployment file is for another chain than the one at the URL. */
  | "CHAIN_ID_MISMATCH"
  /** A contract of the deployment has no code on the chain (restarted chain, stale file). */
  | "DEPLOYMENT_NO_CODE"
  /** A transaction would revert (preflight) or did; details name the contract's error. */
  | "TX_REVERTED"
  /** The sending account cannot pay the gas (and value) of a transaction. */
  | "INSUFFICIENT_ETH"
  /** The account holds fewer tokens than a command needs. */
  | "INSUFFICIENT_TOKENS"
  /** A command that only a local dev chain allows (its funded accounts are public). */
  | "NOT_DEV_CHAIN";

export class ChainError extends SubsystemError<ChainErrorCode> {
  override name = "ChainError";
}
