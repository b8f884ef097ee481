import type { CodeOf } from "../error-catalog.ts";
import { SubsystemError } from "../errors.ts";

/**
 * Why the RTMP ingest refused or ended a publisher. Each refusal is one structured log line
 * (`code`, `reason`) and a dropped connection; nothing else on the ingest is disturbed. What
 * each code means and what a streamer does about it: the catalog (error-catalog.ts).
 */
export type IngestRefusalCode = Exclude<IngestErrorCode, IngestFaultCode>;

/** The ingest's own faults: it could not listen, or its settings cannot work. */
type IngestFaultCode = "INGEST_LISTEN_FAILED" | "INGEST_OPTIONS_INVALID";

export type IngestErrorCode = CodeOf<"ingest">;

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
