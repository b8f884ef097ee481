import type { Command } from "commander";
import { loadWallet } from "../chain/keys.ts";
import { checkRpcUrl } from "../chain/session.ts";
import { formatTokens, parseEthOrWei } from "../config/amounts.ts";
import { type DevnetSummary, type ExternalChain, runDevnet } from "../devnet/index.ts";
import type { LiveDevnetReady, LiveDevnetSummary } from "../devnet/live.ts";
import { SegmintError } from "../errors.ts";
import { createLogger } from "../log/index.ts";
import { LOG_FORMAT_HELP, logFormatFlag, parseIntegerOption } from "./options.ts";

interface DevnetFlags {
  orchestrators: number;
  live?: boolean;
  push?: boolean;
  duration?: number;
  rtmp: string;
  http: string;
  streamKey: string;
  input?: string;
  out: string;
  profiles: string;
  chainPort: number;
  rpc?: string;
  deployment?: string;
  key?: string;
  fundEth: string;
  keepRunning?: boolean;
  json?: boolean;
  logLevel: string;
  logFormat?: string;
}

function describe(s: DevnetSummary, running: boolean): string {
  const lines = [
    "",
    `HLS written to ${s.hlsDir} (master playlist ${s.master})`,
    `  ${s.segments} segments x ${s.renditions} renditions, ${s.retries} retries, ` +
      `${s.realtimeFactor.toFixed(2)}x realtime, ${s.wallSeconds.toFixed(1)} s in all`,
    `Payments: ${s.ticketsSent} tickets sent (expected value ${formatTokens(BigInt(s.expectedValuePaid))}), ` +
      `${s.winningTickets} won, ${s.redeemedTickets} redeemed on chain for ${formatTokens(BigInt(s.paid))}`,
    `  the broadcaster's deposit and reserve fell by ${formatTokens(BigInt(s.broadcasterFundsSpent))}`,
    ...s.orchestrators.map(
      (o) =>
        `  ${o.address}: ${o.segments} segments, ${o.winningTickets} winning tickets, ` +
        `${o.redeemedTickets} redeemed, ${formatTokens(BigInt(o.feesEarned))} in fees` +
        (running ? ` (status ${o.httpUrl}/status, log ${o.logFile})` : ""),
    ),
    ...(running
      ? [
          `Chain: ${s.chainUrl} (deployment ${s.deploymentFile})`,
          `Broadcaster account: ${s.broadcaster} (its deposit pays the tickets; a dev account of this chain)`,
        ]
      : []),
  ];
  return `${lines.join("\n")}\n`;
}

function describeReady(r: LiveDevnetReady, push: boolean): string {
  return [
    "",
    "The devnet is live.",
    `  publish to  ${r.rtmpUrl}${push ? "   (the test clip is being pushed there)" : ""}`,
    `  watch       ${r.playerUrl}`,
    `  HLS         ${r.hlsUrl}`,
    `  status      ${r.statusUrl}`,
    ...r.dashboards.map((d, i) => `  orchestrator ${i + 1} dashboard ${d}`),
    `  chain       ${r.chainUrl} (deployment ${r.deploymentFile})`,
    push
      ? "Stop with Ctrl-C."
      : `Point OBS (Server ${r.rtmpUrl.slice(0, r.rtmpUrl.lastIndexOf("/"))}, key ${r.rtmpUrl.slice(r.rtmpUrl.lastIndexOf("/") + 1)}) or ffmpeg (-f flv ${r.rtmpUrl}) at it. Stop with Ctrl-C.`,
    "",
  ].join("\n");
}

function describeLive(s: LiveDevnetSummary): string {
  const seconds = (v: number | null) => (v === null ? "-" : `${v.toFixed(2)} s`);
  const lines = [
    "",
    `Live: ${s.segments} segments, ${s.lost} lost, ${s.late} late; segments available after ` +
      `${seconds(s.availabilityP50Seconds)} (p50), ${seconds(s.availabilityP95Seconds)} (p95)`,
    `Payments: ${s.ticketsSent} tickets sent (expected value ${formatTokens(BigInt(s.expectedValuePaid))}), ` +
      `${s.winningTickets} won, ${s.redeemedTickets} redeemed on chain for ${formatTokens(BigInt(s.paid))}`,
    `  the broadcaster's deposit and reserve fell by ${formatTokens(BigInt(s.broadcasterFundsSpent))}`,
    ...s.orchestrators.map(
      (o) =>
        `  ${o.address}: ${o.segments} segments, ${o.winningTickets} winning tickets, ` +
        `${o.redeemedTickets} redeemed, ${formatTokens(BigInt(o.feesEarned))} in fees`,
    ),
    ...s.streams.map((st) => `  recording of ${st.streamKey}: ${st.recording}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** The chain flags, checked: none of them without --rpc, and amounts in a known unit. */
async function externalChain(flags: DevnetFlags): Promise<ExternalChain | undefined> {
  if (flags.rpc === undefined) {
    if (flags.deployment !== undefined || flags.key !== undefined) {
      throw new SegmintError(
        "DEVNET_FLAGS_INVALID",
        "--deployment and --key choose contracts and a funder on an existing chain",
        {},
        { hint: "add --rpc URL, or drop them to run on the devnet's own chain" },
      );
    }
    return undefined;
  }
  checkRpcUrl(flags.rpc);
  const fundEth = parseEthOrWei(flags.fundEth, "--fund-eth");
  const funder = flags.key === undefined ? undefined : await loadWallet({ privateKey: flags.key });
  return {
    rpc: flags.rpc,
    fundEth,
    ...(funder === undefined ? {} : { funderKey: funder.privateKey }),
    ...(flags.deployment === undefined ? {} : { deploymentFile: flags.deployment }),
  };
}

export function registerDevnet(program: Command): void {
  program
    .command("devnet")
    .summary("run the whole market locally: chain, contracts, orchestrators and a broadcast")
    .description(
      "Start a local chain, deploy the contracts, fund accounts, start N orchestrators as separate " +
        "processes with their own keys and stake, broadcast a clip (a generated 10 s 1080p one " +
        "unless --input is given) into HLS, and report what was paid and redeemed on chain. " +
        "Everything it started is stopped at the end unless --keep-running.",
    )
    .option("--orchestrators <n>", "orchestrator processes to start", parseIntegerOption(1, 16), 2)
    .option("--input <file>", "video file to broadcast instead of the generated clip")
    .option("--out <dir>", "folder the HLS is written to", "devnet-output")
    .option("--profiles <list>", "renditions to produce", "720p,480p,360p")
    .option(
      "--chain-port <n>",
      "JSON-RPC port on 127.0.0.1 (0: any free port)",
      parseIntegerOption(0, 65535),
      0,
    )
    .option(
      "--rpc <url>",
      "run on this existing chain (any EVM JSON-RPC node) instead of starting one",
    )
    .option("--deployment <file>", "with --rpc: use these contracts instead of deploying")
    .option(
      "--key <hex>",
      "with --rpc: the funding account (default: the first development account, as anvil funds)",
    )
    .option("--fund-eth <amount>", "with --rpc: ETH given to each new account for gas", "1 ETH")
    .option(
      "--keep-running",
      "leave the chain and orchestrators up after the broadcast, until Ctrl-C",
    )
    .option(
      "--live",
      "run a live broadcaster instead of a file broadcast: RTMP in, live HLS and a player out",
    )
    .option("--push", "with --live: stream the test clip (or --input) to the ingest, looped")
    .option(
      "--duration <seconds>",
      "with --live: stop after this long (default: at Ctrl-C)",
      parseIntegerOption(1, 86_400),
    )
    .option("--rtmp <host:port>", "with --live: the RTMP ingest", "127.0.0.1:1935")
    .option("--http <host:port>", "with --live: live HLS, the player and /status", "127.0.0.1:8935")
    .option("--stream-key <key>", "with --live: the stream key publishers use", "devnet")
    .option("--json", "print one JSON object with the results as the last line")
    .option("--log-level <level>", "progress logs on stderr: info, warn, error or silent", "info")
    .option("--log-format <format>", LOG_FORMAT_HELP)
    .action(async (flags: DevnetFlags) => {
      const log = createLogger({
        level: flags.logLevel,
        format: logFormatFlag(flags),
        name: "devnet",
      });
      const chain = await externalChain(flags);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      if (flags.live) {
        const { runLiveDevnet } = await import("../devnet/live.ts");
        const summary = await runLiveDevnet(
          {
            orchestrators: flags.orchestrators,
            profiles: flags.profiles,
            chainPort: flags.chainPort,
            ...(chain === undefined ? {} : { chain }),
            outDir: flags.out,
            rtmp: flags.rtmp,
            http: flags.http,
            streamKey: flags.streamKey,
            push: flags.push === true,
            ...(flags.input === undefined ? {} : { input: flags.input }),
            ...(flags.duration === undefined ? {} : { durationSeconds: flags.duration }),
            log,
            signal: abort.signal,
          },
          (ready) =>
            process.stdout.write(
              flags.json ? `${JSON.stringify(ready)}\n` : describeReady(ready, flags.push === true),
            ),
        );
        process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : describeLive(summary));
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        return;
      }
      const running = await runDevnet({
        orchestrators: flags.orchestrators,
        ...(flags.input === undefined ? {} : { input: flags.input }),
        outDir: flags.out,
        profiles: flags.profiles,
        chainPort: flags.chainPort,
        ...(chain === undefined ? {} : { chain }),
        keepRunning: flags.keepRunning === true,
        log,
        signal: abort.signal,
      });
      if (!flags.json) process.stdout.write(describe(running.summary, flags.keepRunning === true));
      if (flags.keepRunning) {
        process.stderr.write(
          `The devnet keeps running (chain ${running.summary.chainUrl}, deployment ` +
            `${running.summary.deploymentFile}). Stop it with Ctrl-C.\n`,
        );
        if (!abort.signal.aborted) {
          await new Promise<void>((resolve) =>
            abort.signal.addEventListener("abort", () => resolve()),
          );
        }
        await running.stop();
      }
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(running.summary)}\n`);
      }
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    });
}
