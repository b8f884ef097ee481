import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

export interface LogOptions {
  level?: string;
  /** Pretty, human lines; defaults to whether stderr is a terminal. */
  pretty?: boolean;
  name?: string;
  /**
   * Keep error stacks in logged errors (`err`); off by default, where an error's code and
   * message say what a person needs. SEGMINT_LOG_STACKS=1 turns it on too.
   */
  stacks?: boolean;
  /** Where JSON lines go instead of stderr (tests read them back). */
  destination?: DestinationStream;
}

/** A logged error as a person reads it: its class, code and message, no stack. */
function briefError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = "code" in error ? error.code : undefined;
  return { type: error.name, ...(code === undefined ? {} : { code }), message: error.message };
}

/**
 * Structured logs (pino) to stderr: JSON when read by machines, pretty on a terminal.
 * Stdout stays free for a command's own output (`--json` results).
 */
export function createLogger(options: LogOptions = {}): Logger {
  const pretty =
    options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true);
  const level = options.level ?? process.env.SEGMINT_LOG_LEVEL ?? "info";
  const stacks = options.stacks ?? process.env.SEGMINT_LOG_STACKS === "1";
  const base = {
    name: options.name ?? "segmint",
    level,
    redact: ["*.privateKey", "*.password"],
    ...(stacks ? {} : { serializers: { err: briefError } }),
  };
  if (pretty) {
    return pino({
      ...base,
      transport: { target: "pino-pretty", options: { destination: 2, colorize: true } },
    });
  }
  return pino(base, options.destination ?? pino.destination(2));
}

/** A logger that drops everything, for tests and library callers that want silence. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
