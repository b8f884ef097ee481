import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type BroadcastSummary, runBroadcast } from "../broadcaster/index.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { generateTestMedia, locateBinaries } from "../media/index.ts";
import { devnetSettings, type ExternalChain, type MarketPayments, startMarket } from "./market.ts";

export {
  type DevnetOrchestratorReport,
  devnetSettings,
  type ExternalChain,
  type Market,
  type MarketPayments,
  startMarket,
} from "./market.ts";

export interface DevnetOptions {
  orchestrators: number;
  /** A video file to broadcast; a 10 s 1080p30 test clip is generated when unset. */
  input?: string;
  outDir: string;
  profiles: string;
  /** Port of the chain's JSON-RPC server on 127.0.0.1 (0: any free port). */
  chainPort: number;
  /** Run on this existing chain instead of starting one. */
  chain?: ExternalChain;
  /** Leave the chain and orchestrators running after the broadcast, until `signal` aborts. */
  keepRunning: boolean;
  log?: Logger;
  signal?: AbortSignal;
}

export interface DevnetSummary extends MarketPayments {
  hlsDir: string;
  master: string;
  chainUrl: string;
  deploymentFile: string;
  /** The broadcaster's account (a dev account of the devnet's chain). */
  broadcaster: string;
  segments: number;
  renditions: number;
  retries: number;
  ticketsSent: number;
  expectedValuePaid: string;
  wallSeconds: number;
  realtimeFactor: number;
}

export interface RunningDevnet {
  summary: DevnetSummary;
  /** Stops everything the devnet started (already done unless keepRunning). */
  stop(): Promise<void>;
}

/**
 * The whole market on one machine: a local chain, the contracts, N orchestrator processes with
 * their own keys and stake, and a broadcaster paying them to transcode a clip into HLS.
 */
export async function runDevnet(options: DevnetOptions): Promise<RunningDevnet> {
  const log = options.log ?? silentLogger();
  const started = performance.now();
  const outDir = path.resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const market = await startMarket({
    orchestrators: options.orchestrators,
    chainPort: options.chainPort,
    ...(options.chain === undefined ? {} : { chain: options.chain }),
    log,
  });
  try {
    let input = options.input;
    if (input === undefined) {
      const { ffmpeg } = await locateBinaries({});
      input = path.join(market.stateDir, "clip-1080p30.ts");
      await generateTestMedia(ffmpeg.path, input, {
        width: 1920,
        height: 1080,
        fps: 30,
        durationSeconds: 10,
      });
      log.info({ input }, "generated a 10 s 1080p30 test clip");
    }

    const fundsBefore = await market.broadcasterFunds();
    const broadcast: BroadcastSummary = await runBroadcast(
      {
        input,
        outDir,
        rpc: market.chainUrl,
        deployment: market.deploymentFile,
        privateKey: market.broadcaster.privateKey,
        profiles: options.profiles,
        deposit: devnetSettings.deposit,
        reserve: devnetSettings.reserve,
        orchestrators: options.orchestrators,
        listen: ["/ip4/127.0.0.1/tcp/0"],
        bootstrap: market.orchestrators.flatMap((o) => o.multiaddrs.slice(0, 1)),
      },
      {
        log: log.child({ role: "broadcaster" }),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    log.info({ segments: broadcast.segments, hls: broadcast.master }, "broadcast done");

    const payments = await market.settle(
      fundsBefore + devnetSettings.deposit + devnetSettings.reserve,
      broadcast.orchestrators,
    );
    const summary: DevnetSummary = {
      hlsDir: broadcast.hlsDir,
      master: broadcast.master,
      chainUrl: market.chainUrl,
      deploymentFile: market.deploymentFile,
      broadcaster: market.broadcaster.address,
      segments: broadcast.segments,
      renditions: broadcast.renditions,
      retries: broadcast.retries,
      ticketsSent: broadcast.ticketsSent,
      expectedValuePaid: broadcast.expectedValuePaid,
      ...payments,
      wallSeconds: (performance.now() - started) / 1000,
      realtimeFactor: broadcast.realtimeFactor,
    };
    if (!options.keepRunning) await market.stop();
    return { summary, stop: () => market.stop() };
  } catch (error) {
    await market.stop();
    throw error;
  }
}
