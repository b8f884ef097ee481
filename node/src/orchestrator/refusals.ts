import { isSegmintError, SegmintError } from "../errors.ts";
import { isMediaError, type MediaErrorCode } from "../media/index.ts";
import { PaymentsError, type PaymentsErrorCode } from "../payments/errors.ts";
import { isWireCode, type WireErrorCode } from "../protocol/index.ts";

/**
 * What a broadcaster is told when the orchestrator's own subsystems refuse: each media and
 * payments code maps to a wire code, and the local code travels as the refusal's `reason`, so
 * the broadcaster learns the cause (SENDER_UNLOCKING, INPUT_NO_VIDEO) and not INTERNAL. Both
 * tables are exhaustive: a new local code does not compile until it is given its wire code.
 */

/** null: a fault of this node (its options, its chain reads), answered INTERNAL. */
const PAYMENTS_WIRE_CODES: Record<PaymentsErrorCode, WireErrorCode | null> = {
  BAD_TICKET: "BAD_TICKET",
  INSUFFICIENT_BALANCE: "INSUFFICIENT_BALANCE",
  // The sender's funds at the broker cannot back what it sends: it must fund or cancel its
  // unlock, the same advice as an empty balance here.
  FACE_VALUE_TOO_HIGH: "INSUFFICIENT_BALANCE",
  SENDER_UNLOCKING: "INSUFFICIENT_BALANCE",
  SENDER_FUNDS_TOO_LOW: "INSUFFICIENT_BALANCE",
  ORCHESTRATOR_NOT_ACTIVE: "NOT_ACTIVE",
  // Broadcaster-side checks and this node's own faults never reach a sender as a cause.
  BAD_TICKET_PARAMS: null,
  PRICE_TOO_HIGH: null,
  TICKET_EV_TOO_HIGH: null,
  SPEND_CAP_REACHED: null,
  BAD_PAYMENTS_OPTIONS: null,
  CHAIN_UNAVAILABLE: null,
};

const MEDIA_WIRE_CODES: Record<MediaErrorCode, WireErrorCode> = {
  INPUT_NOT_FOUND: "BAD_SEGMENT",
  INPUT_EMPTY: "BAD_SEGMENT",
  INPUT_INVALID: "BAD_SEGMENT",
  INPUT_NO_VIDEO: "BAD_SEGMENT",
  INPUT_UNSUPPORTED_CODEC: "BAD_SEGMENT",
  INPUT_RESOLUTION_TOO_LARGE: "BAD_SEGMENT",
  INPUT_DURATION_TOO_LONG: "BAD_SEGMENT",
  INPUT_NO_KEYFRAME: "BAD_SEGMENT",
  INPUT_TOO_LARGE: "SEGMENT_TOO_LARGE",
  PROFILE_INVALID: "BAD_REQUEST",
  PROFILE_UNKNOWN: "BAD_REQUEST",
  TRANSCODE_TIMEOUT: "TIMEOUT",
  FFMPEG_NOT_FOUND: "INTERNAL",
  FFMPEG_FAILED: "INTERNAL",
  OUTPUT_TOO_LARGE: "INTERNAL",
  TRANSCODE_ABORTED: "INTERNAL",
  CAPABILITIES_INVALID: "INTERNAL",
};

/**
 * The error a refusal is sent as: already wire-coded errors unchanged, payments and media
 * errors under their wire code with the local code as `reason`, anything else unchanged (the
 * transport answers it INTERNAL and keeps it in the log).
 */
export function asWireRefusal(error: unknown): unknown {
  if (!isSegmintError(error) || isWireCode(error.code)) return error;
  if (error instanceof PaymentsError) {
    const code = PAYMENTS_WIRE_CODES[error.code];
    if (code === null) return error;
    // A sender with nothing at the broker at all is told so: it has a deposit to make.
    const reason =
      error.code === "SENDER_FUNDS_TOO_LOW" && error.details.maxFloat === "0"
        ? "NO_DEPOSIT"
        : error.code;
    return wireCoded(code, error, { ...error.details, reason });
  }
  if (isMediaError(error)) {
    // ffmpeg's details (paths, stderr) stay here; the code says what was wrong with the input.
    return wireCoded(MEDIA_WIRE_CODES[error.code], error, { reason: error.code });
  }
  return error;
}

function wireCoded(
  code: WireErrorCode,
  cause: SegmintError,
  details: Record<string, unknown>,
): SegmintError {
  return new SegmintError(code, cause.message, details, {
    cause,
    ...(cause.hint === undefined ? {} : { hint: cause.hint }),
  });
}
