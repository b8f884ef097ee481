import type { CodeOf } from "../error-catalog.ts";
import { SubsystemError } from "../errors.ts";
import type { WireErrorCode } from "../protocol/refusals.ts";

/**
 * Codes that travel on the wire in a refusal. The protocol module defines them (they are part
 * of the messages, docs/protocol.md); they are re-exported here beside the local codes.
 */
export { isWireCode, WIRE_ERROR_CODES, type WireErrorCode } from "../protocol/refusals.ts";

/** Local codes: what went wrong on this side of a stream, or in the p2p subsystem itself. */
export type P2pLocalErrorCode = Exclude<CodeOf<"p2p">, WireErrorCode>;

/**
 * A local code or a wire code. Every wire code is a catalog code (the catalog also says which
 * wire code each local code is answered with), so adding one here without its catalog entry
 * fails to compile.
 */
export type P2pErrorCode = P2pLocalErrorCode | WireErrorCode;

export class P2pError extends SubsystemError<P2pErrorCode> {
  override name = "P2pError";
}

/**
 * An error answer from the remote orchestrator. `code` is the wire code it sent (so callers
 * match `BAD_TICKET` the same way on both sides); `remote` tells it apart from a failure of
 * this side's stream, which carries a P2P_* code instead.
 */
export class RemoteError extends P2pError {
  readonly remote = true;

  constructor(code: WireErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, `orchestrator refused the request: ${message}`, details);
    this.name = "RemoteError";
  }

  /** The refusal's reason (BAD_TICKET's STALE_PARAMS, ...) when the orchestrator gave one. */
  get reason(): string | undefined {
    const reason = this.details.reason;
    return typeof reason === "string" ? reason : undefined;
  }
}

export function isP2pError(error: unknown): error is P2pError {
  return error instanceof P2pError;
}
