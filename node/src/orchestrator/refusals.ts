import { wireCodeOf } from "../error-catalog.ts";
import { isSegmintError, SegmintError } from "../errors.ts";
import { isMediaError } from "../media/index.ts";
import { PaymentsError } from "../payments/errors.ts";
import { isWireCode, type WireErrorCode } from "../protocol/index.ts";

/**
 * What a broadcaster is told when the orchestrator's own subsystems refuse: the catalog
 * (error-catalog.ts) gives each media and payments code its wire code, and the local code
 * travels as the refusal's `reason`, so the broadcaster learns the cause (SENDER_UNLOCKING,
 * INPUT_NO_VIDEO) and not INTERNAL. A payments code without a wire code is a fault of this node
 * (its options, its chain reads) and stays INTERNAL; a media code without one is ffmpeg's or the
 * machine's fault, answered INTERNAL with the code as its reason.
 */

/**
 * The error a refusal is sent as: already wire-coded errors unchanged, payments and media
 * errors under their wire code with the local code as `reason`, anything else unchanged (the
 * transport answers it INTERNAL and keeps it in the log).
 */
export function asWireRefusal(error: unknown): unknown {
  if (!isSegmintError(error) || isWireCode(error.code)) return error;
  if (error instanceof PaymentsError) {
    const code = wireCodeOf(error.code);
    if (code === undefined) return error;
    // A sender with nothing at the broker at all is told so: it has a deposit to make.
    const reason =
      error.code === "SENDER_FUNDS_TOO_LOW" && error.details.maxFloat === "0"
        ? "NO_DEPOSIT"
        : error.code;
    return wireCoded(code, error, { ...error.details, reason });
  }
  if (isMediaError(error)) {
    // ffmpeg's details (paths, stderr) stay here; the code says what was wrong with the input.
    return wireCoded(wireCodeOf(error.code) ?? "INTERNAL", error, { reason: error.code });
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
