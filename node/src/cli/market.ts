import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { Wallet } from "ethers";
import type { ChainSession } from "../chain/session.ts";
import { formatTokens } from "../config/amounts.ts";
import { errorMessage } from "../errors.ts";
import { silentLogger } from "../log/index.ts";
import {
  addChainFlags,
  addressFlag,
  type ChainFlags,
  printJson,
  withChain,
} from "./chain-flags.ts";

const MAX_UINT = (1n << 256n) - 1n;
/** Registry entries read per call (the registry's `listed` pages). */
const PAGE = 100n;
/** How long an orchestrator has to answer the info request before it counts as unreachable. */
const PROBE_TIMEOUT_MS = 5_000;

interface MarketFlags extends ChainFlags {
  json?: boolean;
  probe?: boolean;
  sender?: string;
}

interface Listed {
  address: string;
  peerId: string;
  multiaddrs: string[];
  totalStake: bigint;
  active: boolean;
  inNextActiveSet: boolean;
  rewardCut: bigint;
  feeShare: bigint;
  lastRewardRound: bigint | null;
  /** The block of the orchestrator's last registry update. */
  updatedAtBlock: bigint;
  pricePerPixel: string | null;
  reachable: boolean | null;
  probeError: string | null;
}

async function listOrchestrators(s: ChainSession): Promise<Listed[]> {
  const { registry, bondingManager } = s.reader;
  const addresses: string[] = [];
  for (let offset = 0n; ; offset += PAGE) {
    const page = await registry.listed(offset, PAGE);
    addresses.push(...page);
    if (BigInt(page.length) < PAGE) break;
  }
  return Promise.all(
    addresses.map(async (address) => {
      const [info, entry] = await Promise.all([
        bondingManager.getOrchestrator(address),
        registry.serviceInfo(address),
      ]);
      return {
        address,
        peerId: entry.peerId,
        multiaddrs: [...entry.multiaddrs],
        totalStake: info.totalStake,
        active: info.active,
        inNextActiveSet: info.inNextActiveSet,
        rewardCut: info.rewardCut,
        feeShare: info.feeShare,
        lastRewardRound: info.lastRewardRound === MAX_UINT ? null : info.lastRewardRound,
        updatedAtBlock: entry.updatedAtBlock,
        pricePerPixel: null,
        reachable: null,
        probeError: null,
      };
    }),
  );
}

/**
 * Asks each orchestrator for its signed info over libp2p (/segmint/info/1.0.0), as a
 * broadcaster does: an answer means reachable and carries its price. Dials only: nothing
 * listens, and the temporary peer key is removed again.
 */
async function probe(list: Listed[], sender: string): Promise<void> {
  const [{ createHost, defaultP2pOptions, Discovery, RemoteError, requestInfo }, dataDir] =
    await Promise.all([import("../p2p/index.ts"), mkdtemp(path.join(tmpdir(), "segmint-market-"))]);
  const node = await createHost(
    {
      ...defaultP2pOptions.host,
      dataDir,
      listen: [],
      announce: [],
      gossipsub: false,
      mdns: false,
      maxConnections: 64,
    },
    silentLogger(),
  );
  try {
    await Promise.all(
      list.map(async (o) => {
        const addrs = Discovery.dialAddrs({ ...o, advert: null, sources: [] });
        if (addrs.length === 0) {
          o.reachable = false;
          o.probeError = "no address in the registry";
          return;
        }
        try {
          const info = await requestInfo(node, addrs, { sender, timeoutMs: PROBE_TIMEOUT_MS });
          o.reachable = true;
          o.pricePerPixel = info.pricePerPixel;
        } catch (error) {
          // A coded refusal still came from the orchestrator: it is reachable.
          o.reachable = error instanceof RemoteError;
          o.probeError = errorMessage(error);
        }
      }),
    );
  } finally {
    await node.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function probeText(o: Listed): string {
  if (o.reachable === null) return "not probed";
  if (!o.reachable) return `unreachable (${o.probeError})`;
  if (o.pricePerPixel !== null) return `reachable, price ${o.pricePerPixel} wei per pixel`;
  return `reachable, no quote (${o.probeError}; --sender a funded broadcaster to see its price)`;
}

export function registerMarket(program: Command): void {
  addChainFlags(
    program
      .command("orchestrators")
      .summary(
        "the market: every orchestrator in the registry with stake, terms, price, reachability",
      )
      .description(
        "List every orchestrator that published a registry entry: its total stake, whether it is\n" +
          "active this round and in the next round's set, its reward cut and fee share, its last\n" +
          "reward round and registry update, and (asked over libp2p as a broadcaster would, unless\n" +
          "--no-probe) whether it answers and its price per pixel. No key is needed.",
      )
      .option("--no-probe", "read the chain only: do not contact the orchestrators")
      .option(
        "--sender <address>",
        "ask as this broadcaster: orchestrators quote (price, ticket params) only to a sender with a deposit",
      )
      .option("--json", "print one JSON object"),
    false,
  ).action(async (flags: MarketFlags) => {
    await withChain(flags, async (s) => {
      const list = await listOrchestrators(s);
      // Without a funded sender an orchestrator still answers (reachable), with a refusal.
      const sender = addressFlag("--sender", flags.sender) ?? Wallet.createRandom().address;
      if (flags.probe !== false && list.length > 0) await probe(list, sender);
      list.sort((a, b) => (b.totalStake > a.totalStake ? 1 : b.totalStake < a.totalStake ? -1 : 0));
      if (flags.json) {
        printJson({ round: await s.reader.roundsManager.currentRound(), orchestrators: list });
        return;
      }
      if (list.length === 0) {
        process.stdout.write("No orchestrator has published a registry entry yet.\n");
        return;
      }
      const lines = list.flatMap((o) => [
        `${o.address}  ${o.active ? "active" : "not active"}${o.inNextActiveSet ? ", in next set" : ""}  stake ${formatTokens(o.totalStake)}`,
        `  reward cut ${o.rewardCut} ppm, fee share ${o.feeShare} ppm, last reward round ${o.lastRewardRound ?? "never"}, entry updated at block ${o.updatedAtBlock}`,
        `  ${probeText(o)}; ${o.multiaddrs.join(" ") || "no addresses"}`,
      ]);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
  });

  addChainFlags(
    program
      .command("protocol")
      .summary("the protocol's parameters, the round and inflation")
      .description(
        "Read the deployment's parameters as the contracts hold them, the current round (and\n" +
          "whether it is initialized), the active set, total supply and inflation. No key is needed.",
      )
      .option("--json", "print one JSON object"),
    false,
  ).action(async (flags: MarketFlags) => {
    await withChain(flags, async (s) => {
      const { roundsManager: rm, bondingManager: bm, ticketBroker: tb, minter, token } = s.reader;
      const [round, initialized, roundStart, roundLength, block] = await Promise.all([
        rm.currentRound(),
        rm.currentRoundInitialized(),
        rm.currentRoundStartBlock(),
        rm.roundLength(),
        s.provider.getBlockNumber(),
      ]);
      const [unbondingPeriod, unlockPeriod, ticketValidity, maxActive, activeCount, minSelfStake] =
        await Promise.all([
          bm.unbondingPeriod(),
          tb.unlockPeriod(),
          tb.ticketValidityRounds(),
          bm.maxActiveSetSize(),
          bm.activeOrchestratorCount(),
          bm.minSelfStake(),
        ]);
      const [activeStake, inflation, supply] = await Promise.all([
        bm.totalActiveStake(),
        minter.inflationPerRound(),
        token.totalSupply(),
      ]);
      const result = {
        chainId: s.chainId,
        block,
        round: { current: round, initialized, startBlock: roundStart, length: roundLength },
        unbondingPeriod,
        unlockPeriod,
        ticketValidityRounds: ticketValidity,
        activeSet: { max: maxActive, active: activeCount, totalActiveStake: activeStake },
        minSelfStake,
        inflationPerRound: inflation,
        totalSupply: supply,
        contracts: s.deployment.contracts,
      };
      if (flags.json) {
        printJson(result);
        return;
      }
      const nextRound = roundStart + roundLength;
      process.stdout.write(
        `${[
          `Chain ${s.chainId} at block ${block}`,
          `  round          ${round} (${initialized ? "initialized" : "not initialized yet"}), started at block ${roundStart}, next at block ${nextRound}; ${roundLength} blocks per round`,
          `  active set     ${activeCount} of at most ${maxActive}, ${formatTokens(activeStake)} staked; a seat needs ${formatTokens(minSelfStake)} of self-stake`,
          `  inflation      ${formatTokens(inflation)} per round; total supply ${formatTokens(supply)}`,
          `  periods        unbonding ${unbondingPeriod} rounds, deposit unlock ${unlockPeriod} rounds, tickets valid ${ticketValidity} rounds`,
        ].join("\n")}\n`,
      );
    });
  });
}
