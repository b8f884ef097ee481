import { SubsystemError } from "../errors.ts";

/**
 * Why the RTMP ingest refused or ended a publisher. Each refusal is one structured log line
 * (`code`, `reason`) and a dropped connection; nothing else on the ingest is disturbed.
 */
export type IngestRefusalCode =
  /** The bytes on the port are not RTMP (bad handshake, malformed chunks or commands). */
  | "INGEST_PROTOCOL_ERROR"
  /** The URL's application is not `live` (rtmp://HOST:PORT/live/STREAM_KEY). */
  | "INGEST_WRONG_APP"
  /** The stream key is empty or has characters a key cannot have. */
  | "INGEST_BAD_KEY"
  /** The broadcaster does not know the key (or will not take it now: its reason is logged). */
  | "INGEST_KEY_REFUSED"
  /** Another publisher is live on the key (one silent for 3 s is replaced instead: a reconnect). */
  | "INGEST_KEY_BUSY"
  | "INGEST_TOO_MANY_STREAMS"
  /** A play request, or no publish command within the connect limit. */
  | "INGEST_NOT_PUBLISHING"
  /** Video other than H.264, or audio other than AAC or MP3. */
  | "INGEST_UNSUPPORTED_CODEC"
  /** No H.264 keyframe within the connect limit: nothing can be cut. */
  | "INGEST_NO_VIDEO"
  | "INGEST_RESOLUTION_TOO_LARGE"
  | "INGEST_FRAME_RATE_TOO_HIGH"
  | "INGEST_BITRATE_TOO_HIGH"
  /** The publisher sent nothing for the idle limit (a stalled encoder or a dead link). */
  | "INGEST_IDLE";

export type IngestErrorCode =
  | IngestRefusalCode
  /** The ingest could not listen on its address. */
  | "INGEST_LISTEN_FAILED"
  | "INGEST_OPTIONS_INVALID";

export class IngestError extends SubsystemError<IngestErrorCode> {
  override name = "IngestError";
}

/** A refusal as the ingest logs it and as the publisher's connection is ended with. */
export interface IngestRefusal {
  code: IngestRefusalCode;
  /** One sentence an operator or a streamer can act on. */
  reason: string;
  details?: Record<string, unknown>;
}

export function refusal(
  code: IngestRefusalCode,
  reason: string,
  details?: Record<string, unknown>,
): IngestRefusal {
  return details === undefined ? { code, reason } : { code, reason, details };
}
