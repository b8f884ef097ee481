import { type Logger, pino } from "pino";

export type { Logger } from "pino";

export interface LogOptions {
  level?: string;
  /** Pretty, human lines; defaults to whether stderr is a terminal. */
  pretty?: boolean;
  name?: string;
}

/**
 * Structured logs (pino) to stderr: JSON when read by machines, pretty on a terminal.
 * Stdout stays free for a command's own output (`--json` results).
 */
export function createLogger(options: LogOptions = {}): Logger {
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  const level = options.level ?? process.env.SEGMINT_LOG_LEVEL ?? "info";
  const base = { name: options.name ?? "segmint", level, redact: ["*.privateKey", "*.password"] };
  if (pretty) {
    return pino({
      ...base,
      transport: { target: "pino-pretty", options: { destination: 2, colorize: true } },
    });
  }
  return pino(base, pino.destination(2));
}

/** A logger that drops everything, for tests and library callers that want silence. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
