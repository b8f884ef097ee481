import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, toBeHex, Wallet } from "ethers";
import { type BroadcastSummary, runBroadcast } from "../broadcaster/index.ts";
import { segmintClients } from "../chain/contracts.ts";
import { type DeployParams, defaultDeployParams, deploySegmint } from "../chain/deploy.ts";
import { writeDeployment } from "../chain/deployment.ts";
import { type DevChain, startDevChain } from "../chain/devchain.ts";
import { SegmintError } from "../errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { generateTestMedia, locateBinaries } from "../media/index.ts";
import { REDEMPTION_STATUSES, type RedemptionStatus } from "../payments/interface.ts";
import { type ReadyOrchestrator, spawnOrchestrator, stopProcess } from "./processes.ts";

const TOKEN = 10n ** 18n;

export interface DevnetOptions {
  orchestrators: number;
  /** A video file to broadcast; a 10 s 1080p30 test clip is generated when unset. */
  input?: string;
  outDir: string;
  profiles: string;
  /** Port of the chain's JSON-RPC server on 127.0.0.1 (0: any free port). */
  chainPort: number;
  /** Leave the chain and orchestrators running after the broadcast, until `signal` aborts. */
  keepRunning: boolean;
  log?: Logger;
  signal?: AbortSignal;
}

/**
 * The devnet's economics, chosen so a 10 s clip shows the whole market working: prices a
 * broadcaster's defaults accept, tickets that win most of the time (so several are redeemed during
 * the demo), rounds short enough that orchestrators become active within seconds.
 */
export const devnetSettings = {
  // 250 ms blocks with 40-block rounds: a round every ~10 s, tickets valid for 2 of them.
  blockIntervalMs: 250,
  deploy: {
    ...defaultDeployParams,
    roundLength: 40,
    unbondingPeriod: 2,
    unlockPeriod: 3,
    // Below the unlock period: no ticket is still redeemable once its sender may withdraw.
    ticketValidityRounds: 2,
    inflationPerRound: 100n * TOKEN,
    // A seat needs this much of an orchestrator's own stake; well under orchestratorStake.
    minSelfStake: 100n * TOKEN,
  } satisfies DeployParams,
  // 0.5 gwei-token per pixel: the 720p+480p+360p ladder costs ~0.05 token per 2 s segment.
  pricePerPixel: 500_000_000n,
  // Four in five tickets win: a 5-segment demo redeems several (none at all: 1 in 3,000 runs).
  winProb: "0.8",
  orchestratorFunds: 20_000n * TOKEN,
  orchestratorStake: 10_000n * TOKEN,
  broadcasterFunds: 1_000n * TOKEN,
  deposit: 20n * TOKEN,
  reserve: 20n * TOKEN,
  startTimeoutMs: 120_000,
  redemptionTimeoutMs: 90_000,
} as const;

export interface DevnetOrchestratorReport {
  address: string;
  peerId: string;
  httpUrl: string;
  logFile: string;
  segments: number;
  winningTickets: number;
  redeemedTickets: number;
  /** Face value paid to this orchestrator by the TicketBroker, per its redemption events, wei. */
  feesEarned: string;
  /** The BondingManager's pendingFees for the orchestrator (its cut plus its pool share), wei. */
  pendingFees: string;
  /** What the orchestrator's own journal records as redeemed, wei. */
  journalRedeemedValue: string;
}

export interface DevnetSummary {
  hlsDir: string;
  master: string;
  chainUrl: string;
  deploymentFile: string;
  segments: number;
  renditions: number;
  retries: number;
  ticketsSent: number;
  expectedValuePaid: string;
  winningTickets: number;
  redeemedTickets: number;
  /** Token wei the TicketBroker paid out for redeemed tickets (deposit + reserve). */
  paid: string;
  /** How much the broadcaster's deposit and reserve fell on chain; equals `paid`. */
  broadcasterFundsSpent: string;
  orchestrators: DevnetOrchestratorReport[];
  wallSeconds: number;
  realtimeFactor: number;
}

export interface RunningDevnet {
  summary: DevnetSummary;
  /** Stops everything the devnet started (already done unless keepRunning). */
  stop(): Promise<void>;
}

/** The part of an orchestrator's /status the devnet reads: its journal's ticket counts. */
type StatusDoc = {
  tickets: { redeemedValue: string } & Partial<Record<RedemptionStatus, number>>;
};

async function fetchStatus(httpUrl: string): Promise<StatusDoc> {
  const response = await fetch(`${httpUrl}/status`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as StatusDoc;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The whole market on one machine: a local chain, the contracts, N orchestrator processes with
 * their own keys and stake, and a broadcaster paying them to transcode a clip into HLS.
 */
export async function runDevnet(options: DevnetOptions): Promise<RunningDevnet> {
  const log = options.log ?? silentLogger();
  const started = performance.now();
  const stateDir = await mkdtemp(path.join(tmpdir(), "segmint-devnet-"));
  const outDir = path.resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const orchestrators: ReadyOrchestrator[] = [];
  let chain: DevChain | undefined;
  let provider: JsonRpcProvider | undefined;
  const stop = async () => {
    await Promise.all(orchestrators.map((o) => stopProcess(o.child)));
    provider?.destroy();
    await chain?.close();
    await rm(stateDir, { recursive: true, force: true });
  };

  try {
    const n = options.orchestrators;
    chain = await startDevChain({
      port: options.chainPort,
      blockIntervalMs: devnetSettings.blockIntervalMs,
      accounts: n + 2,
    });
    log.info({ url: chain.url }, "chain started");
    provider = new JsonRpcProvider(chain.url, undefined, {
      staticNetwork: true,
      pollingInterval: 250,
    });
    const [deployerKey, ...rest] = chain.accounts;
    const orchestratorKeys = rest.slice(0, n);
    const broadcasterKey = rest[n];
    if (deployerKey === undefined || broadcasterKey === undefined) throw new Error("dev accounts");
    const deployer = new NonceManager(new Wallet(deployerKey.privateKey, provider));
    const deployment = await deploySegmint(deployer, devnetSettings.deploy, { log });
    const deploymentFile = path.join(stateDir, "deployment.json");
    await writeDeployment(deploymentFile, deployment);
    log.info({ contracts: deployment.contracts }, "contracts deployed");

    const clients = segmintClients(deployment, deployer);
    for (const key of orchestratorKeys) {
      await (await clients.token.transfer(key.address, devnetSettings.orchestratorFunds)).wait();
    }
    await (
      await clients.token.transfer(broadcasterKey.address, devnetSettings.broadcasterFunds)
    ).wait();

    // Orchestrators start one after another: each runs its capability test transcodes, and on
    // a small machine doing them all at once only makes every one slower.
    for (const [i, key] of orchestratorKeys.entries()) {
      const dataDir = path.join(stateDir, `orchestrator-${i + 1}`);
      await mkdir(dataDir, { recursive: true });
      const bootstrap = orchestrators[0]?.multiaddrs[0];
      const ready = await spawnOrchestrator(
        i + 1,
        [
          "--rpc",
          chain.url,
          "--deployment",
          deploymentFile,
          "--key",
          key.privateKey,
          "--data-dir",
          dataDir,
          "--price-per-pixel",
          devnetSettings.pricePerPixel.toString(),
          "--stake",
          devnetSettings.orchestratorStake.toString(),
          "--win-prob",
          devnetSettings.winProb,
          "--listen",
          "/ip4/127.0.0.1/tcp/0",
          "--http-port",
          "0",
          "--poll-interval",
          "500",
          ...(bootstrap === undefined ? [] : ["--bootstrap", bootstrap]),
        ],
        path.join(stateDir, `orchestrator-${i + 1}.log`),
        devnetSettings.startTimeoutMs,
      );
      orchestrators.push(ready);
      log.info(
        { address: ready.address, peerId: ready.peerId, http: ready.httpUrl },
        "orchestrator ready",
      );
    }

    // Bonds count from the next round: move the chain there instead of waiting ~10 s.
    await provider.send("hardhat_mine", [toBeHex(devnetSettings.deploy.roundLength)]);
    const reader = segmintClients(deployment, provider);
    for (const o of orchestrators) {
      if (!(await reader.bondingManager.isActiveOrchestrator(o.address))) {
        throw new SegmintError(
          "DEVNET_ORCHESTRATOR_INACTIVE",
          `orchestrator ${o.index} (${o.address}) is not active after its stake was bonded`,
          { address: o.address },
          { hint: `see its log: ${o.logFile}` },
        );
      }
    }

    let input = options.input;
    if (input === undefined) {
      const { ffmpeg } = await locateBinaries({});
      input = path.join(stateDir, "clip-1080p30.ts");
      await generateTestMedia(ffmpeg.path, input, {
        width: 1920,
        height: 1080,
        fps: 30,
        durationSeconds: 10,
      });
      log.info({ input }, "generated a 10 s 1080p30 test clip");
    }

    const fundsBefore = await reader.ticketBroker.getSenderInfo(broadcasterKey.address);
    const broadcast: BroadcastSummary = await runBroadcast(
      {
        input,
        outDir,
        rpc: chain.url,
        deployment: deploymentFile,
        privateKey: broadcasterKey.privateKey,
        profiles: options.profiles,
        deposit: devnetSettings.deposit,
        reserve: devnetSettings.reserve,
        orchestrators: n,
        listen: ["/ip4/127.0.0.1/tcp/0"],
        bootstrap: orchestrators.flatMap((o) => o.multiaddrs.slice(0, 1)),
      },
      {
        log: log.child({ role: "broadcaster" }),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    log.info({ segments: broadcast.segments, hls: broadcast.master }, "broadcast done");

    // Winning tickets are journaled before each answer and redeemed within a poll interval or
    // two; wait until no orchestrator has one pending.
    const deadline = Date.now() + devnetSettings.redemptionTimeoutMs;
    let statuses: StatusDoc[] = [];
    for (;;) {
      statuses = await Promise.all(orchestrators.map((o) => fetchStatus(o.httpUrl)));
      const open = statuses.reduce(
        (sum, s) => sum + (s.tickets.pending ?? 0) + (s.tickets.submitted ?? 0),
        0,
      );
      if (open === 0) break;
      if (Date.now() > deadline) {
        log.warn({ open }, "winning tickets still unredeemed at the deadline");
        break;
      }
      await sleep(500);
    }

    const events = await reader.ticketBroker.queryFilter(
      reader.ticketBroker.filters.WinningTicketRedeemed(undefined, broadcasterKey.address),
      deployment.deploymentBlock,
    );
    const paid = events.reduce(
      (sum, e) => sum + e.args.paidFromDeposit + e.args.paidFromReserve,
      0n,
    );
    const fundsAfter = await reader.ticketBroker.getSenderInfo(broadcasterKey.address);
    const spent =
      fundsBefore.deposit +
      fundsBefore.reserve +
      devnetSettings.deposit +
      devnetSettings.reserve -
      (fundsAfter.deposit + fundsAfter.reserve);

    const pendingFees = await Promise.all(
      orchestrators.map((o) => reader.bondingManager.pendingFees(o.address)),
    );
    const reports: DevnetOrchestratorReport[] = orchestrators.map((o, i) => {
      const tickets: StatusDoc["tickets"] = statuses[i]?.tickets ?? { redeemedValue: "0" };
      const won = REDEMPTION_STATUSES.reduce((sum, status) => sum + (tickets[status] ?? 0), 0);
      const fees = events
        .filter((e) => e.args.recipient.toLowerCase() === o.address.toLowerCase())
        .reduce((sum, e) => sum + e.args.paidFromDeposit + e.args.paidFromReserve, 0n);
      return {
        address: o.address,
        peerId: o.peerId,
        httpUrl: o.httpUrl,
        logFile: o.logFile,
        segments:
          broadcast.orchestrators[o.address] ??
          broadcast.orchestrators[o.address.toLowerCase()] ??
          0,
        winningTickets: won,
        redeemedTickets: Number(tickets.redeemed ?? 0),
        feesEarned: fees.toString(),
        pendingFees: (pendingFees[i] ?? 0n).toString(),
        journalRedeemedValue: tickets.redeemedValue,
      };
    });

    const summary: DevnetSummary = {
      hlsDir: broadcast.hlsDir,
      master: broadcast.master,
      chainUrl: chain.url,
      deploymentFile,
      segments: broadcast.segments,
      renditions: broadcast.renditions,
      retries: broadcast.retries,
      ticketsSent: broadcast.ticketsSent,
      expectedValuePaid: broadcast.expectedValuePaid,
      winningTickets: reports.reduce((s, r) => s + r.winningTickets, 0),
      redeemedTickets: events.length,
      paid: paid.toString(),
      broadcasterFundsSpent: spent.toString(),
      orchestrators: reports,
      wallSeconds: (performance.now() - started) / 1000,
      realtimeFactor: broadcast.realtimeFactor,
    };
    if (!options.keepRunning) await stop();
    return { summary, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
