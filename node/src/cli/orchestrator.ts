import type { Command } from "commander";
import { readConfigFile, resolveConfig } from "../config/load.ts";
import { createLogger, resolveLogFormat } from "../log/index.ts";
import type { OrchestratorNode } from "../orchestrator/index.ts";
import { LOG_FORMAT_HELP, stopOnSignals } from "./options.ts";

interface OrchestratorFlags {
  config?: string;
  rpc?: string;
  deployment?: string;
  key?: string;
  keystore?: string;
  passwordFile?: string;
  dataDir?: string;
  pricePerPixel?: string;
  rewardCut?: string;
  feeShare?: string;
  stake?: string;
  listen?: string[];
  announce?: string[];
  bootstrap?: string[];
  mdns?: boolean;
  httpPort?: string;
  maxSessions?: string;
  profiles?: string;
  ticketEv?: string;
  ticketEvSegments?: string;
  faceValue?: string;
  winProb?: string;
  maxGasPrice?: string;
  tokenPriceEth?: string;
  redeemConfirmations?: string;
  redeemBatchSize?: string;
  pollInterval?: string;
  reward?: boolean;
  reregister?: boolean;
  logLevel?: string;
  logFormat?: string;
}

export function registerOrchestrator(program: Command): void {
  const command = program
    .command("orchestrator")
    .summary("run an orchestrator: transcode for broadcasters, get paid in tickets, earn rewards")
    .description(
      "Run the orchestrator daemon. Settings come from --config FILE (JSON, camelCase names as\n" +
        "in docs/operator-guide.md), then SEGMINT_* variables (SEGMINT_PRICE_PER_PIXEL, ...),\n" +
        "then these flags; every bad setting is reported at once. When ready it prints one JSON\n" +
        'line on stdout: {"event":"ready","address",...,"peerId","multiaddrs","httpUrl"}; logs\n' +
        "go to stderr. SIGINT/SIGTERM finish in-flight segments and exit 0.",
    )
    .option("--config <file>", "JSON config file (any setting below, camelCase)")
    .option("--rpc <url>", "JSON-RPC endpoint of the chain")
    .option("--deployment <file>", "deployment JSON written by `segmint deploy`")
    .option("--key <hex>", "orchestrator private key (or SEGMINT_PRIVATE_KEY)")
    .option("--keystore <file>", "encrypted JSON keystore instead of --key")
    .option("--password-file <file>", "keystore password file (or SEGMINT_KEYSTORE_PASSWORD)")
    .option(
      "--data-dir <dir>",
      "peer key, ticket secret and winning-ticket journal (default .segmint)",
    )
    .option("--price-per-pixel <wei>", "price in token wei per output pixel (required)")
    .option(
      "--reward-cut <ppm>",
      "share of rewards kept, parts per million (default: on-chain, or 100000)",
    )
    .option(
      "--fee-share <ppm>",
      "share of fees given to delegators, ppm (default: on-chain, or 500000)",
    )
    .option(
      "--stake <amount>",
      'bond until the self-stake reaches this (wei, "1000 SGM" or "1000tokens")',
    )
    .option(
      "--listen <address...>",
      "libp2p listen addresses, HOST:PORT or multiaddrs (default 0.0.0.0:4001)",
    )
    .option(
      "--announce <address...>",
      "addresses to publish instead of the listen addresses (HOST:PORT, NAME:PORT or multiaddrs)",
    )
    .option("--bootstrap <multiaddr...>", "peers to join the network through (with /p2p/ID)")
    .option("--mdns", "discover peers on the local network with mDNS")
    .option("--http-port <port>", "status/metrics port on 127.0.0.1 (default 7935, 0 = any)")
    .option("--max-sessions <n>", "segments transcoded at once (default: detected capacity)")
    .option("--profiles <list>", "only accept these profiles, e.g. 720p30,480p30,360p30")
    .option(
      "--ticket-ev <amount>",
      "expected value of one ticket (default: a typical segment's fee)",
    )
    .option("--ticket-ev-segments <n>", "typical segments one ticket pays for (default 1)")
    .option("--face-value <amount>", "ticket face value (default: 100x its redemption gas cost)")
    .option("--win-prob <p>", "ticket win probability in (0, 1]; sets face value = EV / p")
    .option("--max-gas-price <wei>", "never redeem above this gas price (default 500 gwei)")
    .option(
      "--redeem-confirmations <n>",
      "blocks a redemption needs before its tickets count as redeemed (default 1)",
    )
    .option(
      "--token-price-eth <eth>",
      "what one token is worth in ETH (e.g. 0.0004), to weigh face values against gas (default 1)",
    )
    .option("--redeem-batch-size <n>", "winning tickets per redemption transaction (default 10)")
    .option("--poll-interval <ms>", "how often rounds and redemptions are checked (default 2000)")
    .option("--no-reward", "do not call reward() each round")
    .option(
      "--no-reregister",
      "when the chain loses this registration (a reset or redeploy), only report it: do not register again",
    )
    .option("--log-level <level>", "trace, debug, info, warn, error or silent (default info)")
    .option("--log-format <format>", LOG_FORMAT_HELP)
    .action(async (flags: OrchestratorFlags) => {
      // Loaded here, not at the top: libp2p, media and payments take seconds to import, and
      // every other segmint command would pay for them.
      const { orchestratorConfigSchema, readyLine, startOrchestrator } = await import(
        "../orchestrator/index.ts"
      );
      const file = flags.config === undefined ? {} : await readConfigFile(flags.config);
      const fromFlags: Record<string, unknown> = {
        rpc: flags.rpc,
        deployment: flags.deployment,
        privateKey: flags.key,
        keystore: flags.keystore,
        passwordFile: flags.passwordFile,
        dataDir: flags.dataDir,
        pricePerPixel: flags.pricePerPixel,
        rewardCut: flags.rewardCut,
        feeShare: flags.feeShare,
        stake: flags.stake,
        listen: flags.listen,
        announce: flags.announce,
        bootstrap: flags.bootstrap,
        mdns: flags.mdns,
        httpPort: flags.httpPort,
        maxSessions: flags.maxSessions,
        profiles: flags.profiles,
        ticketEv: flags.ticketEv,
        ticketEvSegments: flags.ticketEvSegments,
        faceValue: flags.faceValue,
        winProb: flags.winProb,
        maxGasPrice: flags.maxGasPrice,
        tokenPriceEth: flags.tokenPriceEth,
        redeemConfirmations: flags.redeemConfirmations,
        redeemBatchSize: flags.redeemBatchSize,
        pollIntervalMs: flags.pollInterval,
        // --no-reward defaults to true; only an explicit flag may override file and env.
        reward: command.getOptionValueSource("reward") === "cli" ? flags.reward : undefined,
        reregister:
          command.getOptionValueSource("reregister") === "cli" ? flags.reregister : undefined,
        logLevel: flags.logLevel,
        logFormat: flags.logFormat,
      };
      const config = resolveConfig(orchestratorConfigSchema, {
        file,
        env: process.env,
        flags: fromFlags,
      });
      const log = createLogger({
        level: config.logLevel,
        format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true),
        name: "orchestrator",
      });
      const { signal, stopRequested } = stopOnSignals(log);
      let node: OrchestratorNode;
      try {
        node = await startOrchestrator(config, { log, signal });
      } catch (error) {
        // Stopped on request while starting: not a failure.
        if (signal.aborted) process.exit(0);
        throw error;
      }
      process.stdout.write(`${readyLine(node)}\n`);
      await stopRequested;
      await node.stop();
      // libp2p and the JSON-RPC provider can keep sockets referenced for a while after stop.
      process.exit(0);
    });
}
