import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Multiaddr } from "@multiformats/multiaddr";
import { getBytes, JsonRpcProvider, NonceManager } from "ethers";
import { segmintClients } from "../chain/contracts.ts";
import { readDeployment } from "../chain/deployment.ts";
import { loadWallet } from "../chain/keys.ts";
import { resolveConfig } from "../config/load.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { locateBinaries } from "../media/binaries.ts";
import type { MediaOptions } from "../media/options.ts";
import { resolveMediaOptions } from "../media/options.ts";
import { measureRendition, probeMedia } from "../media/probe.ts";
import { loadLadder, outputFps } from "../media/profiles.ts";
import { segmentFile } from "../media/segmenter.ts";
import { Discovery } from "../p2p/discovery.ts";
import { requestInfo } from "../p2p/info.ts";
import { BroadcasterNetwork } from "../p2p/network.ts";
import { defaultP2pOptions } from "../p2p/options.ts";
import { ChainRegistryReader } from "../p2p/registry-reader.ts";
import { requestTranscode } from "../p2p/transcode-client.ts";
import { TicketSender } from "../payments/sender.ts";
import { Dispatcher } from "./dispatcher.ts";
import { BroadcasterError } from "./errors.ts";
import { fundDepositAndReserve } from "./funding.ts";
import { HlsOutput } from "./hls-output.ts";
import { prepareInput } from "./input.ts";
import type { OrchestratorHandle } from "./interface.ts";
import { type BroadcastConfigInput, broadcastConfigSchema } from "./options.ts";
import { PaymentLedger } from "./payment.ts";
import { NetworkOrchestratorSource } from "./pool.ts";
import { type SelectionStrategy, WeightedSelection } from "./selection.ts";
import { SuspensionList } from "./suspension.ts";
import { NetworkSegmentWorker, type OrchestratorTransport } from "./worker.ts";

export interface BroadcastProgress {
  segments: number;
  mediaSeconds: number;
  totalSeconds: number;
}

export interface BroadcastDeps {
  log?: Logger;
  signal?: AbortSignal;
  onProgress?: (progress: BroadcastProgress) => void;
  /** Replaces the weighted stake/price/latency/capacity/chance selection. */
  strategy?: SelectionStrategy;
  media?: Partial<MediaOptions>;
  suspension?: SuspensionList;
}

/** What `segmint broadcast --json` prints, and what the devnet reads. */
export interface BroadcastSummary {
  segments: number;
  /** Variant streams written (one per profile). */
  renditions: number;
  variants: Array<{ name: string; width: number; height: number }>;
  /** Segments done per orchestrator address. */
  orchestrators: Record<string, number>;
  retries: number;
  ticketsSent: number;
  /** Expected value of all tickets sent, token wei as a decimal string. */
  expectedValuePaid: string;
  wallSeconds: number;
  mediaSeconds: number;
  realtimeFactor: number;
  hlsDir: string;
  master: string;
  /** The input was re-encoded to H.264 first, and why (null when not). */
  normalized: string | null;
  suspended: string[];
}

type Cleanup = () => Promise<void> | void;

/**
 * The broadcaster's composition root: input -> segmenter -> dispatcher (selection, payment,
 * transcode over libp2p, verification, retries) -> HLS. Everything it starts is stopped, and
 * every temp file removed, however it ends. A segment that failed every attempt makes it
 * throw SEGMENT_FAILED after the HLS of the others is written.
 */
export async function runBroadcast(
  config: BroadcastConfigInput,
  deps: BroadcastDeps = {},
): Promise<BroadcastSummary> {
  const started = performance.now();
  const cfg = resolveConfig(broadcastConfigSchema, { flags: { ...config } });
  const log = deps.log ?? silentLogger();
  const signal = deps.signal ?? new AbortController().signal;
  const profiles = await loadLadder(cfg.profiles);
  const media = resolveMediaOptions(deps.media);
  const { ffmpeg } = await locateBinaries(media);
  const cleanups: Cleanup[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log.warn({ err: error }, "cleanup step failed");
      }
    }
  };

  try {
    const input = await prepareInput(cfg.input, {
      ffmpegPath: ffmpeg.path,
      media,
      gopSeconds: cfg.segmentSeconds,
      log,
      signal,
    });
    cleanups.push(() => input.cleanup());
    const deployment = await readDeployment(cfg.deployment);

    const provider = new JsonRpcProvider(cfg.rpc, undefined, {
      staticNetwork: true,
      pollingInterval: 250,
    });
    cleanups.push(() => provider.destroy());
    let chainId: bigint;
    try {
      chainId = (await provider.getNetwork()).chainId;
    } catch (cause) {
      throw new BroadcasterError(
        "CHAIN_UNREACHABLE",
        `no JSON-RPC chain answers at ${cfg.rpc}`,
        { rpc: cfg.rpc },
        { hint: "check --rpc (a local chain starts with `segmint chain`)", cause },
      );
    }
    if (chainId !== BigInt(deployment.chainId)) {
      throw new BroadcasterError(
        "CHAIN_UNREACHABLE",
        `the chain at ${cfg.rpc} has id ${chainId}, the deployment is for ${deployment.chainId}`,
        { rpc: cfg.rpc, chainId: chainId.toString(), deploymentChainId: deployment.chainId },
        { hint: "pass the deployment file written for this chain" },
      );
    }
    if ((await provider.getCode(deployment.contracts.TicketBroker)) === "0x") {
      throw new BroadcasterError(
        "CHAIN_UNREACHABLE",
        "the deployment's TicketBroker has no code on this chain",
        { ticketBroker: deployment.contracts.TicketBroker },
        { hint: "the chain was restarted or the deployment file is stale: deploy again" },
      );
    }

    const wallet = await loadWallet({
      privateKey: cfg.privateKey,
      keystoreFile: cfg.keystore,
      passwordFile: cfg.passwordFile,
      password: cfg.keystorePassword,
    });
    const clients = segmintClients(deployment, new NonceManager(wallet.connect(provider)));
    if (cfg.deposit !== undefined || cfg.reserve !== undefined) {
      await fundDepositAndReserve(
        clients,
        wallet.address,
        { deposit: cfg.deposit ?? 0n, reserve: cfg.reserve ?? 0n },
        log,
      );
    }
    const ledger = new PaymentLedger(
      new TicketSender(
        getBytes(wallet.privateKey),
        { chainId, verifyingContract: deployment.contracts.TicketBroker },
        {
          maxPricePerPixel: cfg.maxPricePerPixel,
          maxTicketEV: cfg.maxTicketEV,
          maxTotalSpend: cfg.maxSpend,
        },
      ),
    );

    let dataDir = cfg.dataDir;
    if (dataDir === undefined) {
      const temp = await mkdtemp(join(tmpdir(), "segmint-bcast-p2p-"));
      cleanups.push(() => rm(temp, { recursive: true, force: true }));
      dataDir = temp;
    }
    const registry = ChainRegistryReader.connect(
      provider,
      {
        orchestratorRegistry: deployment.contracts.OrchestratorRegistry,
        bondingManager: deployment.contracts.BondingManager,
      },
      log,
    );
    const network = await BroadcasterNetwork.start({
      options: {
        ...defaultP2pOptions,
        host: { ...defaultP2pOptions.host, dataDir, listen: cfg.listen },
        bootstrap: cfg.bootstrap,
      },
      registry,
      log,
    });
    cleanups.push(() => network.stop());

    const dialTarget = (target: { peerId: string; multiaddrs: string[] }): PeerId | Multiaddr[] => {
      const addrs = Discovery.dialAddrs({ ...target, address: "", advert: null, sources: [] });
      return addrs.length > 0 ? addrs : peerIdFromString(target.peerId);
    };
    const source = new NetworkOrchestratorSource({
      discovery: network.discovery,
      info: (candidate) =>
        requestInfo(network.node, dialTarget(candidate), { sender: wallet.address, signal }),
      stakeOf: (address) => clients.bondingManager.orchestratorTotalStake(address),
      strategy: deps.strategy ?? new WeightedSelection({ maxPricePerPixel: cfg.maxPricePerPixel }),
      maxTicketEV: cfg.maxTicketEV,
      maxInFlightPerOrchestrator: cfg.maxInFlightPerOrchestrator,
      discoveryWaitMs: cfg.discoveryWaitMs,
      log,
    });
    const transport: OrchestratorTransport = {
      info: (handle: OrchestratorHandle, s) =>
        requestInfo(network.node, dialTarget(handle), { sender: wallet.address, signal: s }),
      transcode: (handle, request, segment, s) =>
        requestTranscode(network.node, dialTarget(handle), request, segment, {
          signal: s,
          expectedSigner: handle.address,
        }),
    };
    const sourceVideo = {
      width: input.video.width,
      height: input.video.height,
      fps: input.video.fps,
    };
    const streamId = `b-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const worker = new NetworkSegmentWorker({
      transport,
      ledger,
      profiles,
      source: sourceVideo,
      streamId,
      probeSegment: async (data) => {
        const info = await probeMedia(Buffer.from(data), {
          ffmpegPath: ffmpeg.path,
          format: "mpegts",
          signal,
        });
        return {
          frames: info.video?.frames ?? 0,
          durationSeconds: info.video?.durationSeconds ?? info.durationSeconds,
        };
      },
      measure: (data) => measureRendition(Buffer.from(data), { ffmpegPath: ffmpeg.path, signal }),
      knownInfo: (address) => source.infoOf(address),
      log,
    });

    const hlsDir = resolve(cfg.outDir);
    const hls = new HlsOutput({
      dir: hlsDir,
      profiles,
      hasAudio: input.info.audio !== undefined,
      frameRate: (profile) => outputFps(input.video.fps, profile) ?? input.video.fps,
    });
    await hls.init();

    let done = 0;
    let mediaDone = 0;
    const dispatcher = new Dispatcher({
      worker,
      source,
      suspension: deps.suspension ?? new SuspensionList(),
      sink: hls,
      log,
      options: { orchestrators: cfg.orchestrators, maxAttempts: cfg.maxAttempts },
      onSegmentDone: (segment) => {
        done += 1;
        mediaDone += segment.durationSeconds;
        deps.onProgress?.({
          segments: done,
          mediaSeconds: mediaDone,
          totalSeconds: input.info.durationSeconds,
        });
      },
    });
    const segments = segmentFile(input.path, {
      ffmpegPath: ffmpeg.path,
      targetSeconds: cfg.segmentSeconds,
      signal,
      timeoutMs: media.timeoutBaseMs + media.timeoutPerMediaSecondMs * input.info.durationSeconds,
    });
    log.info(
      { input: cfg.input, durationSeconds: input.info.durationSeconds, streamId },
      "broadcast started",
    );

    let dispatched: Awaited<ReturnType<Dispatcher["run"]>> | undefined;
    let runError: unknown;
    try {
      dispatched = await dispatcher.run(segments, signal);
    } catch (error) {
      runError = error;
    }
    // Whatever happened, what arrived is written out as playable HLS.
    const written = await hls.finish();
    if (runError !== undefined) throw runError;
    if (dispatched === undefined) throw new Error("dispatcher returned nothing");
    if (dispatched.failed.length > 0) {
      const names = dispatched.failed.map((f) => f.segment);
      throw new BroadcasterError(
        "SEGMENT_FAILED",
        `segment${names.length > 1 ? "s" : ""} ${names.join(", ")} failed on every attempt (last error: ${dispatched.failed[0]?.lastError})`,
        { failed: dispatched.failed, written: written.segments, hlsDir },
        {
          hint: "the HLS holds the other segments; add orchestrators or check their logs, then run again",
        },
      );
    }
    const wallSeconds = (performance.now() - started) / 1000;
    const variants = hls.variants();
    const summary: BroadcastSummary = {
      segments: dispatched.segments,
      renditions: variants.length,
      variants,
      orchestrators: dispatched.orchestrators,
      retries: dispatched.retries,
      ticketsSent: dispatched.ticketsSent,
      expectedValuePaid: ledger.totalSpent().toString(),
      wallSeconds,
      mediaSeconds: dispatched.mediaSeconds,
      realtimeFactor: wallSeconds > 0 ? dispatched.mediaSeconds / wallSeconds : 0,
      hlsDir,
      master: written.master,
      normalized: input.normalized,
      suspended: dispatched.suspended,
    };
    log.info(
      { segments: summary.segments, retries: summary.retries, wallSeconds },
      "broadcast finished",
    );
    return summary;
  } finally {
    await runCleanups();
  }
}
