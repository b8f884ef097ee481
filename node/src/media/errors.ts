import type { CodeOf } from "../error-catalog.ts";
import { SubsystemError } from "../errors.ts";

/**
 * Every deliberate failure of the media subsystem. Callers and tests match on the code;
 * `details` carries the measured values so an orchestrator can report them to a broadcaster.
 * The catalog (error-catalog.ts) says what each means and which wire code it is answered with.
 */
export type MediaErrorCode = CodeOf<"media">;

export class MediaError extends SubsystemError<MediaErrorCode> {
  override name = "MediaError";
}

export function isMediaError(error: unknown, code?: MediaErrorCode): error is MediaError {
  return error instanceof MediaError && (code === undefined || error.code === code);
}

/** The last few meaningful lines of ffmpeg's stderr, enough to say why it failed. */
export function stderrTail(stderr: string, lines = 3): string {
  return stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .slice(-lines)
    .join(" | ");
}
