import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type JsonRpcProvider, toBeHex, Wallet } from "ethers";
import type { SegmintClients } from "../chain/contracts.ts";
import { type DeployParams, defaultDeployParams, deploySegmint } from "../chain/deploy.ts";
import { type Deployment, readDeployment, writeDeployment } from "../chain/deployment.ts";
import { type DevChain, devAccounts, startDevChain } from "../chain/devchain.ts";
import {
  type ChainConnection,
  checkDeployment,
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

/** The funder must pay every account's ETH and its own gas: say so before spending any. */
async function requireFunderEth(
  provider: JsonRpcProvider,
  funder: string,
  orchestrators: number,
  external: ExternalChain,
): Promise<void> {
  const balance = await provider.getBalance(funder);
  const needed = external.fundEth * BigInt(orchestrators + 1);
  if (balance <= needed) {
    throw new SegmintError(
      "DEVNET_FUNDER_SHORT",
      `the funder ${funder} holds ${balance} wei of ETH; the market's accounts need ${needed} plus gas`,
      { funder, balance: balance.toString(), needed: needed.toString() },
      { hint: "pass --key of a funded account, or a smaller --fund-eth" },
    );
  }
}

/**
 * An existing chain to run the market on (any EVM JSON-RPC node: anvil, geth, a testnet) instead
 * of the devnet's own. Its accounts are fresh keys funded from `funderKey`.
 */
export interface ExternalChain {
  rpc: string;
  /**
   * Pays the gas, the accounts' ETH and, without `deploymentFile`, deploys (and so holds the
   * tokens). Unset: the first well-known development account, which anvil and Hardhat fund.
   */
  funderKey?: string;
  /** Use these contracts instead of deploying; the funder must then hold enough tokens. */
  deploymentFile?: string;
  /** ETH sent to each orchestrator and the broadcaster for their gas, wei. */
  fundEth: bigint;
}

export interface MarketOptions {
  orchestrators: number;
  /** Port of the chain's JSON-RPC server on 127.0.0.1 (0: any free port). */
  chainPort: number;
  /** Run on this chain instead of starting one (chainPort is then unused). */
  chain?: ExternalChain;
  /** Extra `segmint orchestrator` flags, after the devnet's own (a later flag wins). */
  orchestratorArgs?: readonly string[];
  log: Logger;
}

/**
 * Moves the chain `blocks` ahead: at once where the node can mine on request (Hardhat, anvil),
 * otherwise by waiting for its blocks to come.
 */
async function advanceBlocks(provider: JsonRpcProvider, blocks: number): Promise<void> {
  for (const method of ["hardhat_mine", "anvil_mine"]) {
    try {
      await provider.send(method, [toBeHex(blocks)]);
      return;
    } catch {
      // Not this node's dialect: try the next, then wait.
    }
  }
  const target = (await provider.getBlockNumber()) + blocks;
  while ((await provider.getBlockNumber()) < target) await sleep(500);
}

interface MarketAccount {
  address: string;
  privateKey: string;
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
    const external = options.chain;
    let chainUrl: string;
    let deployerKey: MarketAccount | undefined;
    let orchestratorKeys: MarketAccount[];
    let broadcasterKey: MarketAccount | undefined;
    if (external === undefined) {
      chain = await startDevChain({
        port: options.chainPort,
        blockIntervalMs: devnetSettings.blockIntervalMs,
        accounts: n + 2,
      });
      log.info({ url: chain.url }, "chain started");
      chainUrl = chain.url;
      const [first, ...rest] = chain.accounts;
      deployerKey = first;
      orchestratorKeys = rest.slice(0, n);
      broadcasterKey = rest[n];
    } else {
      chainUrl = external.rpc;
      deployerKey = external.funderKey
        ? { address: new Wallet(external.funderKey).address, privateKey: external.funderKey }
        : devAccounts(1)[0];
      // Fresh keys: on a shared chain the well-known development keys are anybody's.
      orchestratorKeys = Array.from({ length: n }, () => Wallet.createRandom());
      broadcasterKey = Wallet.createRandom();
    }
    if (deployerKey === undefined || broadcasterKey === undefined) throw new Error("dev accounts");
    connection = await connectChain(chainUrl);
    const provider = connection.provider;
    if (external !== undefined) await requireFunderEth(provider, deployerKey.address, n, external);
    const deployerWallet = new Wallet(deployerKey.privateKey);
    let deployment: Deployment;
    let deploymentFile = path.join(stateDir, "deployment.json");
    if (external?.deploymentFile !== undefined) {
      deploymentFile = path.resolve(external.deploymentFile);
      deployment = await readDeployment(deploymentFile);
      await checkDeployment(connection, deployment, deploymentFile);
      log.info({ contracts: deployment.contracts }, "using deployed contracts");
    } else {
      deployment = await deploySegmint(
        new TxSender(deployerWallet, provider, log).signer,
        devnetSettings.deploy,
        { log },
      );
      await writeDeployment(deploymentFile, deployment);
      log.info({ contracts: deployment.contracts }, "contracts deployed");
    }

    // The deployment is on the chain just connected (or was checked against it).
    const deployer: SigningSession = signWith(
      withDeployment(connection, deployment),
      deployerWallet,
      log,
    );
    const grants = [
      ...orchestratorKeys.map((k) => [k.address, devnetSettings.orchestratorFunds] as const),
      [broadcasterKey.address, devnetSettings.broadcasterFunds] as const,
    ];
    if (external !== undefined) {
      const tokens = await deployer.reader.token.balanceOf(deployerKey.address);
      const needed = grants.reduce((sum, [, amount]) => sum + amount, 0n);
      if (tokens < needed) {
        throw new SegmintError(
          "DEVNET_FUNDER_SHORT",
          `the funder ${deployerKey.address} holds ${tokens} token wei; the market needs ${needed}`,
          { funder: deployerKey.address, tokens: tokens.toString(), needed: needed.toString() },
          { hint: "fund it with tokens, or drop --deployment so the devnet deploys its own" },
        );
      }
      for (const [to] of grants) {
        await deployer.tx.sendAndWait("fund gas", () =>
          deployer.tx.signer.sendTransaction({ to, value: external.fundEth }),
        );
      }
    }
    for (const [to, amount] of grants) {
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
          ...(options.orchestratorArgs ?? []),
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

    // Bonds count from the next round: move the chain there instead of waiting for it.
    await advanceBlocks(provider, Number(deployment.params.roundLength));
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
