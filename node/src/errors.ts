import { describeError, type ErrorCode } from "./error-catalog.ts";

export type { ErrorCode } from "./error-catalog.ts";

/**
 * The base of every error Segmint reports on purpose. `code` is stable and is what tests
 * and callers match on; it must be in the catalog (error-catalog.ts), which says who owns it,
 * what it means and what to do. `details` carries the values behind the message; `hint` tells
 * an operator what to do about it: the thrower's own words, else the catalog's.
 */
export class SegmintError<
  Code extends ErrorCode = ErrorCode,
  Details extends Record<string, unknown> = Record<string, unknown>,
> extends Error {
  readonly code: Code;
  readonly details: Details;
  readonly hint: string;

  constructor(
    code: Code,
    message: string,
    details: Details,
    options?: { hint?: string; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SegmintError";
    this.code = code;
    this.details = details;
    this.hint = options?.hint ?? describeError(code)?.hint ?? "";
  }
}

/**
 * The base of each subsystem's error class (MediaError, P2pError, ...): the subsystem's own code
 * union (`CodeOf<"media">` from the catalog), details optional. A subclass only names itself
 * (`override name = "MediaError"`), so `instanceof` and the code type still tell the
 * subsystems apart.
 */
export abstract class SubsystemError<Code extends ErrorCode> extends SegmintError<Code> {
  constructor(
    code: Code,
    message: string,
    details: Record<string, unknown> = {},
    options?: { hint?: string; cause?: unknown },
  ) {
    super(code, message, details, options);
  }
}

export function isSegmintError(error: unknown): error is SegmintError {
  return error instanceof SegmintError;
}

/**
 * One line for a terminal: the code, the message and what to do (the error's own hint, else
 * the catalog's for its code).
 */
export function formatErrorLine(error: unknown): string {
  if (isSegmintError(error)) {
    const hint = error.hint || describeError(error.code)?.hint;
    return `error [${error.code}]: ${error.message}${hint ? ` (${hint})` : ""}`;
  }
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}

/** The message of an Error, or the text of anything else thrown, for logs and error details. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
