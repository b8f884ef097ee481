import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { toBeHex, Wallet } from "ethers";
import type { SegmintClients } from "../chain/contracts.ts";
import { type DeployParams, defaultDeployParams, deploySegmint } from "../chain/deploy.ts";
import { writeDeployment } from "../chain/deployment.ts";
import { type DevChain, startDevChain } from "../chain/devchain.ts";
import {
  type ChainConnection,
  connectChain,
  type SigningSession,
  signWith,
  withDeployment,
} from "../chain/session.ts";
import { TxSender } from "../chain/tx.ts";
import { SegmintError } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import { REDEMPTION_STATUSES, type RedemptionStatus } from "../payments/interface.ts";
import { type ReadyOrchestrator, spawnOrchestrator, stopProcess } from "./processes.ts";

const TOKEN = 10n ** 18n;

/**
 * The devnet's economics, chosen so a short clip or a minute of live video shows the whole
 * market working: prices a broadcaster's defaults accept, tickets that win most of the time (so
 * several are redeemed during the demo), rounds short enough that orchestrators become active
 * within seconds.
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

/** What was won, redeemed and paid once the broadcaster is done. */
export interface MarketPayments {
  winningTickets: number;
  redeemedTickets: number;
  /** Token wei the TicketBroker paid out for redeemed tickets (deposit + reserve). */
  paid: string;
  /** How much the broadcaster's deposit and reserve fell on chain; equals `paid`. */
  broadcasterFundsSpent: string;
  orchestrators: DevnetOrchestratorReport[];
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

export interface MarketOptions {
  orchestrators: number;
  /** Port of the chain's JSON-RPC server on 127.0.0.1 (0: any free port). */
  chainPort: number;
  log: Logger;
}

/** A running market: chain, contracts and orchestrator processes, and a funded broadcaster key. */
export interface Market {
  chainUrl: string;
  deploymentFile: string;
  /** A folder for the devnet's own files, removed by stop(). */
  stateDir: string;
  orchestrators: ReadyOrchestrator[];
  broadcaster: { address: string; privateKey: string };
  reader: SegmintClients;
  /** The broadcaster's deposit + reserve now, token wei. */
  broadcasterFunds(): Promise<bigint>;
  /**
   * Waits until every orchestrator has redeemed its winning tickets (or the deadline), then
   * reads what was paid. `before` is the broadcaster's funds before it started plus what it
   * added since; `segments` counts what each orchestrator did.
   */
  settle(before: bigint, segments: Record<string, number>): Promise<MarketPayments>;
  stop(): Promise<void>;
}

/**
 * Starts the market the devnet runs on: a local chain, the contracts, N orchestrator processes
 * with their own keys and stake (active from the next round), and a broadcaster account holding
 * tokens. Everything is stopped again if a step fails.
 */
export async function startMarket(options: MarketOptions): Promise<Market> {
  const { log } = options;
  const stateDir = await mkdtemp(path.join(tmpdir(), "segmint-devnet-"));
  const orchestrators: ReadyOrchestrator[] = [];
  let chain: DevChain | undefined;
  let connection: ChainConnection | undefined;
  const stop = async () => {
    await Promise.all(orchestrators.map((o) => stopProcess(o.child)));
    connection?.close();
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
    const chainUrl = chain.url;
    connection = await connectChain(chainUrl);
    const provider = connection.provider;
    const [deployerKey, ...rest] = chain.accounts;
    const orchestratorKeys = rest.slice(0, n);
    const broadcasterKey = rest[n];
    if (deployerKey === undefined || broadcasterKey === undefined) throw new Error("dev accounts");
    const deployerWallet = new Wallet(deployerKey.privateKey);
    const deployment = await deploySegmint(
      new TxSender(deployerWallet, provider, log).signer,
      devnetSettings.deploy,
      { log },
    );
    const deploymentFile = path.join(stateDir, "deployment.json");
    await writeDeployment(deploymentFile, deployment);
    log.info({ contracts: deployment.contracts }, "contracts deployed");

    // The deployment is on the chain just connected: the session needs no second check.
    const deployer: SigningSession = signWith(
      withDeployment(connection, deployment),
      deployerWallet,
      log,
    );
    for (const [to, amount] of [
      ...orchestratorKeys.map((k) => [k.address, devnetSettings.orchestratorFunds] as const),
      [broadcasterKey.address, devnetSettings.broadcasterFunds] as const,
    ]) {
      await deployer.tx.checkAndSend("transfer", deployer.clients.token.transfer, to, amount);
    }

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
          chainUrl,
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
    const reader = deployer.reader;
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

    // Seated orchestrators publish their registry entry (peer id, addresses, key proof) within a
    // poll interval; broadcasters discover them there, so the market is ready once all have.
    const published = Date.now() + devnetSettings.startTimeoutMs;
    for (const o of orchestrators) {
      while ((await reader.registry.serviceInfo(o.address)).peerId !== o.peerId) {
        if (Date.now() > published) {
          throw new SegmintError(
            "DEVNET_ORCHESTRATOR_UNLISTED",
            `orchestrator ${o.index} (${o.address}) did not publish its registry entry once seated`,
            { address: o.address },
            { hint: `see its log: ${o.logFile}` },
          );
        }
        await sleep(250);
      }
    }

    const broadcasterFunds = async () => {
      const info = await reader.ticketBroker.getSenderInfo(broadcasterKey.address);
      return info.deposit + info.reserve;
    };

    const settle = async (
      before: bigint,
      segments: Record<string, number>,
    ): Promise<MarketPayments> => {
      // Winning tickets are journaled before each answer and redeemed within a poll interval
      // or two; wait until no orchestrator has one pending.
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
      const spent = before - (await broadcasterFunds());
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
          segments: segments[o.address] ?? segments[o.address.toLowerCase()] ?? 0,
          winningTickets: won,
          redeemedTickets: Number(tickets.redeemed ?? 0),
          feesEarned: fees.toString(),
          pendingFees: (pendingFees[i] ?? 0n).toString(),
          journalRedeemedValue: tickets.redeemedValue,
        };
      });
      return {
        winningTickets: reports.reduce((sum, r) => sum + r.winningTickets, 0),
        redeemedTickets: events.length,
        paid: paid.toString(),
        broadcasterFundsSpent: spent.toString(),
        orchestrators: reports,
      };
    };

    return {
      chainUrl,
      deploymentFile,
      stateDir,
      orchestrators,
      broadcaster: { address: broadcasterKey.address, privateKey: broadcasterKey.privateKey },
      reader,
      broadcasterFunds,
      settle,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
