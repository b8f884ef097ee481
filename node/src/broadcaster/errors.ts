import { SubsystemError } from "../errors.ts";

/** Every deliberate failure of the broadcaster client; tests and callers match on the code. */
export type BroadcasterErrorCode =
  /** No usable orchestrator was found (none discovered, none answered, all too expensive). */
  | "NO_ORCHESTRATORS"
  /** None of the orchestrators pinned with --orchestrator could be used; details say why. */
  | "PINNED_ORCHESTRATORS_UNAVAILABLE"
  /** A segment failed on every attempt; details name it. */
  | "SEGMENT_FAILED"
  /** A result did not match what was asked or claimed (hash, signature, size, pixels, duration). */
  | "VERIFICATION_FAILED"
  /** --out holds files of another run (no broadcast record for them); --overwrite clears them. */
  | "OUT_DIR_NOT_EMPTY"
  /** The broadcast was stopped (signal) before it finished. */
  | "BROADCAST_ABORTED"
  /** The broadcaster has no ticket deposit, so every orchestrator would refuse its tickets. */
  | "NO_DEPOSIT"
  /** The broadcaster's deposit is unlocking, so every orchestrator would refuse its tickets. */
  | "DEPOSIT_UNLOCKING"
  /** `segmint spend` found no spend history where it looked (no broadcast kept one there). */
  | "SPEND_HISTORY_NOT_FOUND"
  /** The orchestrator reputation store cannot be opened or written. */
  | "REPUTATION_STORE_FAILED"
  /** The live daemon's settings cannot work together (no stream key, any key off a dev chain). */
  | "LIVE_SETTINGS_INVALID"
  /** Live HLS was set up with a rendition list or window that cannot work (a wiring fault). */
  | "LIVE_HLS_OPTIONS_INVALID";

export class BroadcasterError extends SubsystemError<BroadcasterErrorCode> {
  override name = "BroadcasterError";
}

export function isBroadcasterError(
  error: unknown,
  code?: BroadcasterErrorCode,
): error is BroadcasterError {
  return error instanceof BroadcasterError && (code === undefined || error.code === code);
}
