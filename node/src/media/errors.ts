import { SubsystemError } from "../errors.ts";

/**
 * Every deliberate failure of the media subsystem. Callers and tests match on the code;
 * `details` carries the measured values so an orchestrator can report them to a broadcaster.
 */
export type MediaErrorCode =
  | "FFMPEG_NOT_FOUND"
  | "FFMPEG_FAILED"
  | "INPUT_NOT_FOUND"
  | "INPUT_EMPTY"
  | "INPUT_TOO_LARGE"
  | "INPUT_INVALID"
  | "INPUT_NO_VIDEO"
  | "INPUT_UNSUPPORTED_CODEC"
  | "INPUT_RESOLUTION_TOO_LARGE"
  | "INPUT_DURATION_TOO_LONG"
  | "INPUT_NO_KEYFRAME"
  | "OUTPUT_TOO_LARGE"
  | "TRANSCODE_TIMEOUT"
  | "TRANSCODE_ABORTED"
  | "PROFILE_INVALID"
  | "PROFILE_UNKNOWN"
  | "CAPABILITIES_INVALID";

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
