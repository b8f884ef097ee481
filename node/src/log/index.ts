import { type DestinationStream, type Logger, pino } from "pino";
import pretty from "pino-pretty";
import { formatEth, formatTokens } from "../config/amounts.ts";
import { SegmintError } from "../errors.ts";

export type { Logger } from "pino";

/** `pretty`: a line a person reads (local time, level, message, fields); `json`: one object a line. */
export type LogFormat = "pretty" | "json";

export interface LogOptions {
  level?: string;
  /**
   * The line format; by default SEGMINT_LOG_FORMAT, else pretty when stderr is a terminal and
   * JSON otherwise (a file, a pipe, a service manager's journal).
   */
  format?: LogFormat;
  name?: string;
  /**
   * Keep error stacks in logged errors (`err`); off by default, where an error's code and
   * message say what a person needs. SEGMINT_LOG_STACKS=1 turns it on too.
   */
  stacks?: boolean;
  /** Where lines go instead of stderr (tests read them back). */
  destination?: DestinationStream;
}

/**
 * Log fields that carry token wei (decimal strings), shown as tokens with the unit in pretty
 * lines; JSON lines keep the exact wei.
 */
export const TOKEN_LOG_FIELDS = [
  "bonded",
  "deposit",
  "expectedValue",
  "faceValue",
  "minted",
  "needed",
  "reserve",
  "spent",
  "stake",
  "ticketEV",
] as const;
/** Log fields that carry ETH wei, shown as ETH in pretty lines. */
export const ETH_LOG_FIELDS = ["balance", "fee", "gasFee", "shortfall"] as const;

/**
 * The format `asked` names (a --log-format value or SEGMINT_LOG_FORMAT), or the default for
 * where the lines go; CONFIG_INVALID, naming the value, for anything else.
 */
export function resolveLogFormat(asked: string | undefined, terminal: boolean): LogFormat {
  const value = asked?.trim().toLowerCase();
  if (value === undefined || value === "") return terminal ? "pretty" : "json";
  if (value === "pretty" || value === "json") return value;
  throw new SegmintError(
    "CONFIG_INVALID",
    `log format "${asked}" is neither pretty nor json`,
    { setting: "logFormat", value: asked },
    { hint: "give --log-format pretty or --log-format json (or SEGMINT_LOG_FORMAT)" },
  );
}

/** A logged error as a person reads it: its class, code and message, no stack. */
function briefError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = "code" in error ? error.code : undefined;
  return { type: error.name, ...(code === undefined ? {} : { code }), message: error.message };
}

/** A wei field as tokens or ETH; anything that is not a whole number is shown as it is. */
function amountPrettifier(format: (wei: bigint) => string): (value: unknown) => string {
  return (value) => {
    const text = typeof value === "bigint" ? value.toString() : String(value);
    return /^\d+$/.test(text) ? format(BigInt(text)) : text;
  };
}

/**
 * The pretty stream: written in this thread and synchronously (no transport worker), so the
 * last lines before a daemon's exit are never lost; colours only on a terminal, local
 * wall-clock times, and amounts in tokens or ETH.
 */
function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  const prettifiers: Record<string, (value: unknown) => string> = {};
  for (const field of TOKEN_LOG_FIELDS) prettifiers[field] = amountPrettifier(formatTokens);
  for (const field of ETH_LOG_FIELDS) prettifiers[field] = amountPrettifier(formatEth);
  return pretty({
    destination: destination ?? 2,
    sync: true,
    colorize: destination === undefined && process.stderr.isTTY === true,
    translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
    ignore: "pid,hostname",
    customPrettifiers: prettifiers,
  });
}

/**
 * Structured logs (pino) to stderr: pretty or JSON (see LogOptions.format). Stdout stays free
 * for a command's own output (`--json` results).
 */
export function createLogger(options: LogOptions = {}): Logger {
  const format =
    options.format ??
    resolveLogFormat(
      process.env.SEGMINT_LOG_FORMAT,
      options.destination === undefined && process.stderr.isTTY === true,
    );
  const level = options.level ?? process.env.SEGMINT_LOG_LEVEL ?? "info";
  const stacks = options.stacks ?? process.env.SEGMINT_LOG_STACKS === "1";
  const base = {
    name: options.name ?? "segmint",
    level,
    redact: ["*.privateKey", "*.password"],
    ...(stacks ? {} : { serializers: { err: briefError } }),
  };
  if (format === "pretty") return pino(base, prettyStream(options.destination));
  return pino(base, options.destination ?? pino.destination(2));
}

/** A logger that drops everything, for tests and library callers that want silence. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
