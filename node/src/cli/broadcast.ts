import type { Command } from "commander";
import {
  type BroadcastSummary,
  broadcastConfigSchema,
  defaultBroadcastOptions,
  isBroadcasterError,
  runBroadcast,
} from "../broadcaster/index.ts";
import { formatTokens } from "../config/amounts.ts";
import { readConfigFile, resolveConfig } from "../config/load.ts";
import { toJson } from "../json.ts";
import { createLogger } from "../log/index.ts";
import {
  addFundingFlags,
  addOrchestratorListFlags,
  type BroadcasterSessionFlags,
  checkOutDir,
  collect,
  LOG_FORMAT_HELP,
  logFormatFlag,
  parseBigIntOption,
  parseIntegerOption,
  sessionSettings,
} from "./options.ts";
import { runMediaCommand } from "./progress.ts";

interface BroadcastFlags extends BroadcasterSessionFlags {
  logFormat?: string;
  out?: string;
  overwrite?: boolean;
  json?: boolean;
  verbose?: boolean;
}

function pinnedLines(pins: BroadcastSummary["pinnedUnavailable"]): string[] {
  if (pins === null) return [];
  return [
    ...pins.notFound.map((a) => `  pinned orchestrator ${a} was not found`),
    ...pins.refused.map(
      (a) => `  pinned orchestrator ${a} was refused (no answer, price or ticket cap)`,
    ),
  ];
}

/** Orchestrators the run could use at once: --orchestrators, or fewer when fewer are pinned. */
export function requestedOrchestrators(config: {
  orchestrators: number;
  pinnedOrchestrators: string[];
}) {
  const pins = new Set(config.pinnedOrchestrators.map((a) => a.toLowerCase())).size;
  return pins > 0 ? Math.min(pins, config.orchestrators) : config.orchestrators;
}

/** The text summary of `segmint broadcast` (without --json). */
export function formatSummary(s: BroadcastSummary, requested: number): string {
  const used = Object.keys(s.orchestrators).length;
  const lines = [
    `Broadcast ${s.segments} segments (${s.mediaSeconds.toFixed(2)} media s) in ${s.wallSeconds.toFixed(2)} s ` +
      `(${s.realtimeFactor.toFixed(2)}x realtime)`,
    ...s.variants.map((v) => `  ${v.name.padEnd(8)} ${v.width}x${v.height}`),
    ...s.spend.map(
      (e) =>
        `  orchestrator ${e.orchestrator}: ${e.segments} segments, ${e.tickets} tickets, ` +
        `face value ${formatTokens(BigInt(e.faceValue))}, expected value ${formatTokens(BigInt(e.expectedValue))}` +
        (e.verificationFailures > 0 ? `, ${e.verificationFailures} failed verification` : ""),
    ),
    ...(used < requested
      ? [`  only ${used} of the ${requested} orchestrators asked for (--orchestrators) took work`]
      : []),
    ...pinnedLines(s.pinnedUnavailable),
    ...(s.funded === null
      ? []
      : [
          `  funded   deposit +${formatTokens(BigInt(s.funded.deposit))}, reserve +${formatTokens(BigInt(s.funded.reserve))} before starting`,
        ]),
    `  retries ${s.retries}, tickets sent ${s.ticketsSent}, expected value paid ${formatTokens(BigInt(s.expectedValuePaid))}`,
    ...(s.normalized === null ? [] : [`  input re-encoded to H.264 first (${s.normalized})`]),
    `  master   ${s.master}`,
  ];
  return `${lines.join("\n")}\n`;
}

export function registerBroadcast(program: Command): void {
  addOrchestratorListFlags(addFundingFlags(program.command("broadcast")))
    .summary("transcode a video file on the network into HLS, paying orchestrators with tickets")
    .description(
      "Cut INPUT (any file ffmpeg reads) into segments, discover orchestrators (chain registry, " +
        "adverts, --bootstrap), choose --orchestrators of them by stake, price, latency and free " +
        "capacity, send segments to them in parallel paying each with probabilistic tickets, verify " +
        "every result (signature, hashes, resolution, pixels and duration measured again), retry a " +
        "failed segment on another orchestrator (3 attempts), and write HLS into --out as segments " +
        "arrive. Settings may also come from --config FILE (JSON, camelCase names) and SEGMINT_* " +
        "variables (e.g. SEGMINT_PRIVATE_KEY, SEGMINT_MAX_SPEND); flags win. Amounts are wei " +
        '(1 SGM = 10^18 wei) or tokens with a unit ("10 SGM", "10tokens").',
    )
    .argument("<input>", "the video file to broadcast")
    .option("--out <dir>", "output folder for the HLS (master.m3u8 + one folder per rendition)")
    .option(
      "--overwrite",
      "remove the Segmint HLS files of an earlier run from --out first (otherwise refused unless it is the same broadcast resuming)",
    )
    .option("--rpc <url>", "JSON-RPC endpoint of the chain, e.g. http://127.0.0.1:8545")
    .option("--deployment <file>", "the deployment JSON written by `segmint deploy`")
    .option("--key <hex>", "the broadcaster's private key (or SEGMINT_PRIVATE_KEY)")
    .option("--keystore <file>", "the broadcaster's encrypted JSON keystore")
    .option(
      "--password-file <file>",
      "file holding the keystore password (or SEGMINT_KEYSTORE_PASSWORD)",
    )
    .option(
      "--profiles <list>",
      `renditions: comma-separated presets, JSON, or a .json file (default ${defaultBroadcastOptions.profiles})`,
    )
    .option(
      "--max-price-per-pixel <wei>",
      `never use an orchestrator asking more per pixel (default ${defaultBroadcastOptions.maxPricePerPixel})`,
      parseBigIntOption,
    )
    .option(
      "--max-ticket-ev <amount>",
      `refuse ticket params where one ticket is worth more (default ${defaultBroadcastOptions.maxTicketEV})`,
      parseBigIntOption,
    )
    .option(
      "--max-spend <amount>",
      `stop paying once tickets worth this much were sent (default ${defaultBroadcastOptions.maxSpend})`,
      parseBigIntOption,
    )
    .option(
      "--orchestrators <n>",
      `orchestrators to use at once (default ${defaultBroadcastOptions.orchestrators})`,
      parseIntegerOption(1, 64),
    )
    .option(
      "--bootstrap <multiaddr>",
      "a peer to join the network through, ending in /p2p/<peer id> (repeatable)",
      collect,
    )
    .option(
      "--listen <address>",
      "libp2p listen address, HOST:PORT or a multiaddr (repeatable; default 0.0.0.0:0)",
      collect,
    )
    .option(
      "--segment <seconds>",
      "target segment length in seconds (default 2)",
      parseIntegerOption(1, 10),
    )
    .option("--data-dir <dir>", "keep the libp2p peer key here (default: a temporary one)")
    .option("--config <file>", "JSON file with any of the settings above (camelCase)")
    .option("--json", "print one JSON summary object on stdout at the end")
    .option("--verbose", "log progress (info) and keep error stacks in warnings")
    .option("--log-format <format>", LOG_FORMAT_HELP)
    .action(async (input: string, flags: BroadcastFlags) => {
      const file = flags.config === undefined ? {} : await readConfigFile(flags.config);
      const config = resolveConfig(broadcastConfigSchema, {
        file,
        env: process.env,
        flags: { input, outDir: flags.out, overwrite: flags.overwrite, ...sessionSettings(flags) },
      });
      await checkOutDir(config.outDir);
      const log = createLogger({
        level: process.env.SEGMINT_LOG_LEVEL ?? (flags.verbose ? "info" : "warn"),
        format: logFormatFlag(flags),
        ...(flags.verbose ? { stacks: true } : {}),
      });
      try {
        await runMediaCommand(
          "broadcasting",
          flags,
          ({ signal, onProgress }) => runBroadcast(config, { log, signal, onProgress }),
          (summary: BroadcastSummary) => formatSummary(summary, requestedOrchestrators(config)),
        );
      } catch (error) {
        // Stopped or failed part-way: with --json, what was kept and spent still goes to
        // stdout as one object (the coded line goes to stderr as always).
        if (flags.json && isBroadcasterError(error)) {
          process.stdout.write(`${toJson({ error: error.code, ...error.details })}\n`);
        }
        throw error;
      }
    });
}
