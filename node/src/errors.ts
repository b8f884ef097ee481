/**
 * The base of every error Segmint reports on purpose. `code` is stable and is what tests
 * and callers match on; `details` carries the values behind the message; `hint` tells an
 * operator what to do about it. Each subsystem defines its own codes in its errors.ts.
 */
export class SegmintError<
  Code extends string = string,
  Details extends Record<string, unknown> = Record<string, unknown>,
> extends Error {
  readonly code: Code;
  readonly details: Details;
  readonly hint: string | undefined;

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
    this.hint = options?.hint;
  }
}

/**
 * The base of each subsystem's error class (MediaError, P2pError, ...): the subsystem's own code
 * union, details optional. A subclass only names itself (`override name = "MediaError"`), so
 * `instanceof` and the code type still tell the subsystems apart.
 */
export abstract class SubsystemError<Code extends string> extends SegmintError<Code> {
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

/** One line for a terminal: the code, the message and, when there is one, what to do. */
export function formatErrorLine(error: unknown): string {
  if (isSegmintError(error)) {
    return `error [${error.code}]: ${error.message}${error.hint ? ` (${error.hint})` : ""}`;
  }
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}

/** The message of an Error, or the text of anything else thrown, for logs and error details. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
