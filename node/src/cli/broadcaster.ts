import type { Command } from "commander";
import { defaultBroadcastOptions } from "../broadcaster/options.ts";
import { readConfigFile, resolveConfig } from "../config/load.ts";
import { toJson } from "../json.ts";
import { createLogger } from "../log/index.ts";
import {
  addFundingFlags,
  addOrchestratorListFlags,
  type BroadcasterSessionFlags,
  collect,
  LOG_FORMAT_HELP,
  logFormatFlag,
  parseBigIntOption,
  parseIntegerOption,
  sessionSettings,
  stopOnSignals,
} from "./options.ts";

interface BroadcasterFlags extends BroadcasterSessionFlags {
  rtmp?: string;
  http?: string;
  out?: string;
  streamKey?: string[];
  allowAnyKey?: boolean;
  autoDeposit?: bigint;
  maxStreams?: number;
  allow4k?: boolean;
  deadline?: number;
  window?: number;
  logLevel?: string;
  logFormat?: string;
}

export function registerBroadcaster(program: Command): void {
  addOrchestratorListFlags(addFundingFlags(program.command("broadcaster")))
    .summary(
      "the live broadcaster daemon: RTMP in, live HLS out, transcoded and paid on the network",
    )
    .description(
      "Take live streams over RTMP (rtmp://HOST:PORT/live/STREAM_KEY, from OBS, ffmpeg or a " +
        "camera), cut each into ~2 s pieces as it arrives, have every piece transcoded by " +
        "orchestrators on the network (paid with tickets, verified, retried within a deadline), and " +
        "serve live HLS over HTTP: /live/KEY/index.m3u8, a player at /watch/KEY, the list of streams " +
        "at /, and /status, /metrics, /healthz. Each stream is also recorded under --out as VOD HLS. " +
        "Settings may also come from --config FILE (JSON, camelCase names) and SEGMINT_* variables; " +
        "flags win. Token amounts are wei or 'N tokens'.",
    )
    .option("--rpc <url>", "JSON-RPC endpoint of the chain, e.g. http://127.0.0.1:8545")
    .option("--deployment <file>", "the deployment JSON written by `segmint deploy`")
    .option("--key <hex>", "the broadcaster's private key (or SEGMINT_PRIVATE_KEY)")
    .option("--keystore <file>", "the broadcaster's encrypted JSON keystore")
    .option("--password-file <file>", "file holding the keystore password")
    .option("--rtmp <host:port>", "where publishers connect (default 127.0.0.1:1935)")
    .option("--http <host:port>", "live HLS, player, /status and /metrics (default 127.0.0.1:8935)")
    .option("--out <dir>", "record every stream here as VOD HLS (default ./segmint-live)")
    .option("--stream-key <key>", "a stream key publishers may use (repeatable)", collect)
    .option("--allow-any-key", "accept any stream key (dev chains only)")
    .option(
      "--auto-deposit <amount>",
      "top the deposit and reserve up from the token balance, at most this much in all",
      parseBigIntOption,
    )
    .option("--max-streams <n>", "live streams at once (default 4)", parseIntegerOption(1, 256))
    .option("--allow-4k", "accept publishers up to 3840x2160 (default: up to 1080p)")
    .option("--profiles <list>", `the ladder (default ${defaultBroadcastOptions.profiles})`)
    .option(
      "--max-price-per-pixel <wei>",
      "never pay an orchestrator more per pixel",
      parseBigIntOption,
    )
    .option(
      "--max-ticket-ev <amount>",
      "refuse ticket params worth more per ticket",
      parseBigIntOption,
    )
    .option(
      "--max-spend <amount>",
      "expected value of all tickets one stream may send",
      parseBigIntOption,
    )
    .option(
      "--orchestrators <n>",
      "orchestrators per stream at once (default 2)",
      parseIntegerOption(1, 64),
    )
    .option("--bootstrap <multiaddr>", "a peer to join the network through (repeatable)", collect)
    .option(
      "--listen <address>",
      "libp2p listen address, HOST:PORT or a multiaddr (repeatable; default 0.0.0.0:0)",
      collect,
    )
    .option("--segment <seconds>", "target segment length (default 2)", parseIntegerOption(1, 10))
    .option(
      "--deadline <seconds>",
      "skip a segment's renditions when not back this long after it was cut (default 6)",
      parseIntegerOption(1, 60),
    )
    .option(
      "--window <segments>",
      "segments in each live playlist (default 6)",
      parseIntegerOption(3, 60),
    )
    .option("--data-dir <dir>", "keep the libp2p peer key here (default: a temporary one)")
    .option("--config <file>", "JSON file with any of the settings above (camelCase)")
    .option("--log-level <level>", "trace, debug, info, warn, error or silent (default info)")
    .option("--log-format <format>", LOG_FORMAT_HELP)
    .action(async (flags: BroadcasterFlags) => {
      // Loaded here: libp2p, media and the RTMP server take seconds to import.
      const { daemonConfigSchema, startBroadcasterDaemon } = await import("../live/index.ts");
      const file = flags.config === undefined ? {} : await readConfigFile(flags.config);
      const config = resolveConfig(daemonConfigSchema, {
        file,
        env: process.env,
        flags: {
          ...sessionSettings(flags),
          rtmp: flags.rtmp,
          http: flags.http,
          outDir: flags.out,
          streamKeys: flags.streamKey,
          allowAnyKey: flags.allowAnyKey,
          autoDeposit: flags.autoDeposit,
          maxStreams: flags.maxStreams,
          allow4k: flags.allow4k,
          deadlineSeconds: flags.deadline,
          windowSegments: flags.window,
        },
      });
      const log = createLogger({
        level: flags.logLevel ?? process.env.SEGMINT_LOG_LEVEL ?? "info",
        format: logFormatFlag(flags),
        name: "broadcaster",
      });
      const { signal, stopRequested } = stopOnSignals(log);
      let daemon: Awaited<ReturnType<typeof startBroadcasterDaemon>>;
      try {
        daemon = await startBroadcasterDaemon(config, { log, signal });
      } catch (error) {
        if (signal.aborted) process.exit(0);
        throw error;
      }
      process.stdout.write(
        `${toJson({
          event: "ready",
          address: daemon.address,
          rtmpUrl: daemon.rtmpUrl,
          httpUrl: daemon.httpUrl,
        })}\n`,
      );
      await stopRequested;
      const final = await daemon.stop();
      process.stdout.write(`${toJson({ event: "stopped", streams: final.streams })}\n`);
      process.exit(0);
    });
}
