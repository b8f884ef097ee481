import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { parseTokenAmount } from "../config/amounts.ts";
import { SegmintError } from "../errors.ts";
import { type LogFormat, resolveLogFormat } from "../log/index.ts";

/** A commander option parser for an integer within [min, max], with an error naming the range. */
export function parseIntegerOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/**
 * A commander option parser for an amount in wei that may exceed 2^53, or in tokens
 * ("2.5tokens" or "2.5 SGM" = 2.5 * 10^18 wei).
 */
export function parseBigIntOption(value: string): bigint {
  const tokens = parseTokenAmount(value);
  if (tokens !== undefined) return tokens;
  if (!/^\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(
      `expected a whole number of wei or an amount of tokens ("10 SGM", "10tokens"), got "${value}"`,
    );
  }
  return BigInt(value.trim());
}

/**
 * OUT_NOT_A_DIRECTORY when `dir` exists and is not a folder: said at once, not after the work
 * that would have been written there.
 */
export async function checkOutDir(dir: string, flag = "--out"): Promise<void> {
  const found = await stat(dir).catch(() => null);
  if (found !== null && !found.isDirectory()) {
    throw new SegmintError(
      "OUT_NOT_A_DIRECTORY",
      `${flag} ${dir} is a file, not a folder`,
      { dir },
      { hint: `give ${flag} a folder (it is created when missing)` },
    );
  }
}

/**
 * For daemons: the first SIGINT or SIGTERM aborts `signal` and resolves `stopRequested`, logged
 * once. Installed before start-up, so a signal while starting unwinds what was started.
 */
export function stopOnSignals(log: { info(obj: object, msg: string): void }): {
  signal: AbortSignal;
  stopRequested: Promise<void>;
} {
  const abort = new AbortController();
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, "shutting down");
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      abort.abort();
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  return { signal: abort.signal, stopRequested };
}

/** --log-format's help, the same for every command that logs. */
export const LOG_FORMAT_HELP =
  "log lines on stderr: pretty or json (default: pretty on a terminal, json otherwise; or SEGMINT_LOG_FORMAT)";

/** The log format from --log-format or SEGMINT_LOG_FORMAT, else by where stderr goes. */
export function logFormatFlag(flags: { logFormat?: string }, env = process.env): LogFormat {
  return resolveLogFormat(flags.logFormat ?? env.SEGMINT_LOG_FORMAT, process.stderr.isTTY === true);
}

/** A repeatable option's values, in the order given. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** --deposit and --reserve, which both broadcaster commands take. */
export function addFundingFlags(command: Command): Command {
  return command
    .option(
      "--deposit <amount>",
      "first add this much to the TicketBroker deposit",
      parseBigIntOption,
    )
    .option(
      "--reserve <amount>",
      "first add this much to the TicketBroker reserve",
      parseBigIntOption,
    );
}

/** --orchestrator and --exclude-orchestrator, which both broadcaster commands take. */
export function addOrchestratorListFlags(command: Command): Command {
  return command
    .option(
      "--orchestrator <address>",
      "use only this orchestrator (repeatable; fails naming any not found or refused)",
      collect,
    )
    .option(
      "--exclude-orchestrator <address>",
      "never use this orchestrator (repeatable)",
      collect,
    );
}

/** The flags every broadcaster command takes (`segmint broadcast` and `segmint broadcaster`). */
export interface BroadcasterSessionFlags {
  rpc?: string;
  deployment?: string;
  key?: string;
  keystore?: string;
  passwordFile?: string;
  profiles?: string;
  maxPricePerPixel?: bigint;
  maxTicketEv?: bigint;
  maxSpend?: bigint;
  deposit?: bigint;
  reserve?: bigint;
  orchestrators?: number;
  orchestrator?: string[];
  excludeOrchestrator?: string[];
  bootstrap?: string[];
  listen?: string[];
  segment?: number;
  dataDir?: string;
  config?: string;
}

/** Those flags under their setting names (broadcasterSessionFields); unset ones stay undefined. */
export function sessionSettings(flags: BroadcasterSessionFlags): Record<string, unknown> {
  return {
    rpc: flags.rpc,
    deployment: flags.deployment,
    privateKey: flags.key,
    keystore: flags.keystore,
    passwordFile: flags.passwordFile,
    profiles: flags.profiles,
    maxPricePerPixel: flags.maxPricePerPixel,
    maxTicketEV: flags.maxTicketEv,
    maxSpend: flags.maxSpend,
    deposit: flags.deposit,
    reserve: flags.reserve,
    orchestrators: flags.orchestrators,
    pinnedOrchestrators: flags.orchestrator,
    excludedOrchestrators: flags.excludeOrchestrator,
    bootstrap: flags.bootstrap,
    listen: flags.listen,
    segmentSeconds: flags.segment,
    dataDir: flags.dataDir,
  };
}
