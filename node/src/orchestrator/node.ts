import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Wallet } from "ethers";
import { DEV_CHAIN_ID } from "../chain/devchain.ts";
import { openSigningSession } from "../chain/session.ts";
import { errorMessage } from "../errors.ts";
import { createLogger, type Logger } from "../log/index.ts";
import {
  type Capabilities,
  getCapabilities,
  parseLadder,
  SegmentTranscoder,
} from "../media/index.ts";
import { createOrchestratorMetrics, type OrchestratorMetrics } from "../metrics/index.ts";
import {
  defaultP2pOptions,
  loadOrCreatePeerKey,
  OrchestratorNetwork,
  type P2pOptions,
  toMultiaddrs,
} from "../p2p/index.ts";
import {
  Balances,
  BrokerClient,
  ChainStateCache,
  defaultRedeemerOptions,
  defaultValidatorOptions,
  Redeemer,
  TicketParamsIssuer,
  TicketValidator,
} from "../payments/index.ts";
import { FixedTokenPrice, formatTokenPrice, PARITY } from "../payments/token-price.ts";
import { PollLoop } from "../poll-loop.ts";
import { EarningsHistory, openDatabase, TicketJournal } from "../store/index.ts";
import { NodeActivity } from "./activity.ts";
import { ChainWatch, chainWatchReads, queuedRedeemChain } from "./chain.ts";
import { bondingManagerEarnings, EarningsScanner } from "./earnings.ts";
import { OrchestratorError } from "./errors.ts";
import { HistoryKeeper, historyChain, STORE_FILE } from "./history.ts";
import { startStatusServer } from "./http.ts";
import { loadOrCreateTicketSecret, MeteredJournal } from "./journal.ts";
import { lockDataDir, lockKey } from "./lock.ts";
import type { OrchestratorConfig } from "./options.ts";
import { checkListenPorts } from "./ports.ts";
import { ticketEconomics } from "./pricing.ts";
import { Registration } from "./registration.ts";
import { RoundService } from "./reward-service.ts";
import {
  type NodeState,
  type OrchestratorStatus,
  readStatus,
  startingStatus,
  statusChain,
} from "./status.ts";
import { PaidTranscodeService, profileKeys, ticketParamsProvider } from "./transcode-service.ts";

/**
 * How long a stop waits for segments in flight. A 2 s segment transcodes in about a second on
 * two cores (docs/performance.md); 30 s covers slow machines without hanging a shutdown on a stuck one.
 */
const DRAIN_TIMEOUT_MS = 30_000;

export interface OrchestratorDeps {
  log?: Logger;
  /** The signing key; by default loaded from the config's key settings. */
  wallet?: Wallet;
  /** A capability document; by default detected by test transcodes (once per process). */
  capabilities?: Capabilities;
  metrics?: OrchestratorMetrics | null;
  /** Aborting it during start-up stops what was started and rejects with NODE_STOPPING. */
  signal?: AbortSignal;
}

export interface OrchestratorNode {
  address: string;
  peerId: string;
  multiaddrs: string[];
  httpUrl: string;
  status(): Promise<OrchestratorStatus>;
  /** Stops taking work, lets in-flight segments finish, then closes everything in reverse. */
  stop(): Promise<void>;
}

/** The JSON line printed on stdout when the node is ready (the devnet parses it). */
export function readyLine(node: OrchestratorNode): string {
  return JSON.stringify({
    event: "ready",
    address: node.address,
    peerId: node.peerId,
    multiaddrs: node.multiaddrs,
    httpUrl: node.httpUrl,
  });
}

/**
 * The orchestrator's composition root. Start-up order: the data-dir lock; the metrics registry
 * and the status server (answering "starting"); the libp2p ports; key, deployment and chain checks (the chain
 * session) and the key's lock; capabilities; the journal;
 * registration and stake; the round (initialized before any ticket params are issued); the
 * libp2p network, then its real peer id and addresses in the registry; the redeemer (which
 * resumes journaled winners) and the round/reward service; then /status serves the full
 * document. Anything started before a failure is stopped again, in reverse.
 */
export async function startOrchestrator(
  config: OrchestratorConfig,
  deps: OrchestratorDeps = {},
): Promise<OrchestratorNode> {
  const log = (deps.log ?? createLogger({ level: config.logLevel, name: "orchestrator" })).child({
    role: "orchestrator",
  });
  const startedAt = Date.now();
  let state: NodeState = "starting";
  // One registry for every subsystem; each gets its part (or null when metrics are off).
  const metrics = deps.metrics === undefined ? createOrchestratorMetrics() : deps.metrics;
  const closers: Array<{ name: string; close: () => Promise<void> | void }> = [];
  const closeAll = async () => {
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        log.warn({ err: error, step: name }, "error while stopping");
      }
    }
    closers.length = 0;
  };

  // Checked between start-up steps, so a SIGTERM while starting stops promptly and cleanly.
  const checkpoint = () => {
    if (deps.signal?.aborted) {
      throw new OrchestratorError(
        "NODE_STOPPING",
        "start-up was interrupted by a stop request",
        {},
      );
    }
  };
  try {
    // Before anything else: a second node on this data dir (or key, below) would fight this
    // one over the journal and the registry entry.
    await mkdir(config.dataDir, { recursive: true });
    const dataDirLock = await lockDataDir(config.dataDir);
    closers.push({ name: "data-dir lock", close: () => dataDirLock.release() });

    // The status server comes up first, so an operator sees "starting" (and a taken port fails
    // before any gas is spent), and closes last, so a stopping node says so while it drains.
    let fullStatus: (() => Promise<OrchestratorStatus>) | null = null;
    let watch: ChainWatch | null = null;
    const http = await startStatusServer({
      port: config.httpPort,
      status: () => fullStatus?.() ?? startingStatus(state, startedAt),
      healthy: () => state === "serving" && (watch?.health.ok ?? true),
      metrics: metrics?.registry ?? null,
    });
    closers.push({ name: "http", close: () => http.close() });
    const listen = toMultiaddrs("--listen", config.listen);
    const announce = toMultiaddrs("--announce", config.announce);
    await checkListenPorts(listen);

    const chain = await openSigningSession({
      rpc: config.rpc,
      deployment: config.deployment,
      key: deps.wallet ?? {
        privateKey: config.privateKey,
        keystoreFile: config.keystore,
        passwordFile: config.passwordFile,
        password: config.keystorePassword,
      },
      metrics: metrics?.chain ?? null,
      log,
    });
    closers.push({ name: "provider", close: () => chain.close() });
    const { address, wallet, chainId, deployment, provider, clients, tx } = chain;
    const keyLock = await lockKey(chain, address);
    closers.push({ name: "key lock", close: () => keyLock.release() });
    checkpoint();
    // Reads for ticket issuance and validation; its sends go through the queue (below).
    // Tickets are backed by what a sender holds at a block as deep as redemptions must be.
    const broker = new BrokerClient(clients, provider, config.redeemConfirmations - 1);
    log.info({ address, chainId: chainId.toString(), rpc: config.rpc }, "chain connected");

    const capabilities = deps.capabilities ?? (await getCapabilities());
    checkpoint();
    const transcoder = new SegmentTranscoder({
      ffmpegPath: capabilities.ffmpeg.path,
      capabilities,
      options: { maxConcurrentTranscodes: config.maxSessions },
      logger: log.child({ subsystem: "media" }),
      metrics: metrics?.media ?? null,
    });
    const capacity = transcoder.capacity;
    metrics?.capacity.set(capacity);
    log.info({ capacity, ffmpeg: capabilities.ffmpeg.path }, "capabilities ready");

    const db = openDatabase(path.join(config.dataDir, STORE_FILE));
    closers.push({ name: "journal", close: () => db.close() });
    // Served streams, accepted tickets and refusals (the service's and the redeemer's) for /status.
    const activity = new NodeActivity();
    const journal = new MeteredJournal(
      new TicketJournal(db, Date.now, metrics?.store ?? null),
      metrics?.payments ?? null,
      activity,
    );
    metrics?.store.observeJournal(() => journal.totals());
    // Earnings per round and per ticket, in the same file (read by `segmint earnings`).
    const history = new HistoryKeeper(
      new EarningsHistory(db),
      historyChain(provider, clients.bondingManager),
      log.child({ subsystem: "history" }),
    );
    const historyLoop = new PollLoop(
      () => history.tick(),
      config.pollIntervalMs,
      (error) => log.warn({ err: errorMessage(error) }, "earnings history pass failed"),
    );
    historyLoop.start({ delayFirst: true });
    closers.push({
      name: "earnings history",
      close: async () => {
        await historyLoop.stop();
        history.close();
      },
    });
    const resumed = journal.listByStatus(["pending", "submitted"]).length;
    if (resumed > 0)
      log.info({ winners: resumed }, "unsettled winning tickets found in the journal");

    const registration = new Registration({ session: chain, log });
    await registration.ensureParams(config.rewardCut, config.feeShare);
    if (config.stake !== undefined) await registration.ensureStake(config.stake);
    checkpoint();

    const cache = new ChainStateCache(broker, address, defaultValidatorOptions.chainCacheTtlMs);
    // TicketBroker and round events drop cached funds and rounds at once; the TTL is a backstop.
    const unwatch = await broker.watch(cache);
    closers.push({ name: "events", close: unwatch });
    const rounds = new RoundService({
      address,
      roundsManager: clients.roundsManager,
      bondingManager: clients.bondingManager,
      tx,
      reward: config.reward,
      pollIntervalMs: config.pollIntervalMs,
      onNewRound: (round) => {
        cache.invalidateRound();
        metrics?.chain.round.set(Number(round));
      },
      onRewarded: (round, txHash) => history.rewarded(round, txHash),
      log: log.child({ subsystem: "rounds" }),
    });
    await rounds.tick();
    checkpoint();

    const tokenPrice = new FixedTokenPrice(config.tokenPriceEth ?? PARITY);
    if (config.tokenPriceEth === undefined && chainId !== BigInt(DEV_CHAIN_ID)) {
      log.warn(
        { chainId: chainId.toString() },
        "no token price set: tokens and ETH are counted 1:1 when face values are weighed against redemption gas; set --token-price-eth",
      );
    }
    const economics = ticketEconomics(
      config,
      (await broker.feeQuote()).price,
      await tokenPrice.nativePerToken(),
    );
    log.info(
      {
        faceValue: economics.faceValue.toString(),
        ticketEV: economics.ticketEV.toString(),
        pricePerPixel: config.pricePerPixel.toString(),
        tokenPriceEth: formatTokenPrice(economics.tokenPrice),
      },
      "ticket economics",
    );
    const secret = await loadOrCreateTicketSecret(config.dataDir);
    const issuer = new TicketParamsIssuer(address, secret, cache, journal, {
      ...economics,
      pricePerPixel: config.pricePerPixel,
    });
    const balances = new Balances();
    const validator = new TicketValidator({
      recipient: address,
      secret,
      domain: { chainId, verifyingContract: deployment.contracts.TicketBroker },
      cache,
      journal,
      balances,
      options: defaultValidatorOptions,
      log: log.child({ subsystem: "payments" }),
    });
    const service = new PaidTranscodeService({
      tickets: validator,
      balances,
      issuer,
      transcoder,
      pricePerPixel: config.pricePerPixel,
      allowedProfiles: config.profiles === undefined ? null : allowedProfileKeys(config.profiles),
      metrics,
      activity,
      history,
      log: log.child({ subsystem: "transcode" }),
    });

    const p2p: P2pOptions = {
      ...defaultP2pOptions,
      host: {
        ...defaultP2pOptions.host,
        dataDir: config.dataDir,
        listen,
        announce,
        mdns: config.mdns,
      },
      transcode: { ...defaultP2pOptions.transcode, capacity },
      bootstrap: config.bootstrap,
    };
    const network = await OrchestratorNetwork.start({
      options: p2p,
      signer: wallet,
      profile: {
        pricePerPixel: () => config.pricePerPixel.toString(),
        capabilities: () => capabilities,
      },
      tickets: ticketParamsProvider(issuer),
      service,
      metrics: metrics?.p2p ?? null,
      log,
    });
    if (metrics) {
      const connections = () => metrics.p2p.connections.set(network.node.getConnections().length);
      network.node.addEventListener("connection:open", connections);
      network.node.addEventListener("connection:close", connections);
    }
    // In-flight segments finish (or fail) before the network goes away.
    closers.push({
      name: "network",
      close: async () => {
        // A segment normally takes a second or two; one that is still running after the drain
        // timeout is failed by the network's stop (its stream is aborted) rather than waited on.
        // The protocol's drain waits for answers to be written too: a segment transcoded
        // during the stop is delivered, not cut off with its stream.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
        });
        await Promise.race([
          Promise.all([service.drain(), network.transcode.drain(DRAIN_TIMEOUT_MS)]),
          timeout,
        ]);
        clearTimeout(timer);
        await network.stop();
      },
    });
    const peerId = network.node.peerId.toString();
    const multiaddrs = network.node.getMultiaddrs().map((a) => a.toString());
    // The host loaded (or created) this key already; the registry entry carries its proof.
    const peerKey = await loadOrCreatePeerKey(config.dataDir);
    const registryAddrs = publishable(multiaddrs, peerId);
    // Only seated orchestrators may publish: retried each poll until the seat arrives (and again
    // after the chain watch registers anew).
    let published = (await registration.ensureServiceInfo(peerKey, registryAddrs)) !== "not-active";
    const publisher = new PollLoop(
      async () => {
        if (published) return;
        published = (await registration.ensureServiceInfo(peerKey, registryAddrs)) !== "not-active";
      },
      config.pollIntervalMs,
      (error) => log.warn({ err: errorMessage(error) }, "publishing service info failed"),
    );
    publisher.start({ delayFirst: true });
    closers.push({ name: "registry", close: () => publisher.stop() });
    checkpoint();

    const redeemer = new Redeemer({
      journal,
      chain: queuedRedeemChain(broker, tx),
      tokenPrice,
      options: {
        ...defaultRedeemerOptions,
        batchSize: config.redeemBatchSize,
        confirmations: config.redeemConfirmations,
        maxGasPrice: config.maxGasPrice,
        pollIntervalMs: config.pollIntervalMs,
      },
      log: log.child({ subsystem: "redeemer" }),
      onSettled: (entry) => cache.invalidateSender(entry.ticket.sender),
      // A redemption makes its recipientRand public: from then on a sender could tell winning
      // tickets on those params from losing ones, so the validator stops accepting them.
      onRevealing: (entries) => {
        for (const e of entries) {
          validator.markRandRevealed(e.ticket.recipientRandHash, e.ticket.creationRound);
        }
      },
    });
    redeemer.start();
    closers.push({ name: "redeemer", close: () => redeemer.stop() });
    rounds.start();
    closers.push({ name: "rounds", close: () => rounds.stop() });

    // A chain restart or redeploy under a running node: unhealthy with the reason, and (unless
    // --no-reregister) registered, staked and published again.
    const chainWatch = new ChainWatch({
      observe: chainWatchReads(chain, address),
      reregister: config.reregister
        ? async () => {
            await registration.ensureParams(config.rewardCut, config.feeShare);
            if (config.stake !== undefined) await registration.ensureStake(config.stake);
            published = false;
          }
        : null,
      onReset: () => cache.invalidateRound(),
      log: log.child({ subsystem: "chain" }),
    });
    await chainWatch.tick();
    watch = chainWatch;
    const watching = new PollLoop(
      () => chainWatch.tick(),
      config.pollIntervalMs,
      () => {},
    );
    watching.start({ delayFirst: true });
    closers.push({ name: "chain watch", close: () => watching.stop() });

    const earnings = new EarningsScanner(
      bondingManagerEarnings(clients.bondingManager, provider, address),
      deployment.deploymentBlock,
    );
    const status = () =>
      readStatus({
        state: () => state,
        startedAt,
        address,
        peerId,
        multiaddrs,
        chain: statusChain(clients),
        journal,
        // Sessions held, as info and adverts count them: one source for both.
        service: { sessions: network.transcode.slots.inUse },
        activity,
        earnings,
        capacity,
        pricePerPixel: config.pricePerPixel,
        economics,
        rewardCalls: () => rounds.rewardCalls,
        history,
        health: () => chainWatch.health,
      });
    fullStatus = status;
    state = "serving";
    log.info({ peerId, multiaddrs, http: http.url }, "orchestrator ready");

    let stopping: Promise<void> | null = null;
    return {
      address,
      peerId,
      multiaddrs,
      httpUrl: http.url,
      status,
      stop: () => {
        state = "stopping";
        stopping ??= closeAll().then(() => log.info("orchestrator stopped"));
        return stopping;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Keys of the profiles an operator offers (preset names or a JSON ladder). */
function allowedProfileKeys(specs: readonly string[]): Set<string> {
  const keys = new Set<string>();
  for (const spec of specs) {
    for (const profile of parseLadder(spec)) for (const key of profileKeys(profile)) keys.add(key);
  }
  return keys;
}

/** Addresses for the registry: without the /p2p suffix (the registry holds the peer id). */
function publishable(multiaddrs: readonly string[], peerId: string): string[] {
  const suffix = `/p2p/${peerId}`;
  return [...new Set(multiaddrs.map((a) => (a.endsWith(suffix) ? a.slice(0, -suffix.length) : a)))];
}
