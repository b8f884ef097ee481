import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Multiaddr } from "@multiformats/multiaddr";
import { getBytes, type JsonRpcProvider } from "ethers";
import type { SegmintClients } from "../chain/contracts.ts";
import type { Deployment } from "../chain/deployment.ts";
import { fundDepositAndReserve } from "../chain/funding.ts";
import { openSigningSession, type SigningSession } from "../chain/session.ts";
import { formatTokens } from "../config/amounts.ts";
import type { Logger } from "../log/index.ts";
import { Discovery } from "../p2p/discovery.ts";
import { requestInfo } from "../p2p/info.ts";
import { BroadcasterNetwork } from "../p2p/network.ts";
import { defaultP2pOptions } from "../p2p/options.ts";
import { ChainRegistryReader } from "../p2p/registry-reader.ts";
import { requestTranscode } from "../p2p/transcode-client.ts";
import { TicketSigner } from "../payments/sender.ts";
import { ticketParamsFromWire } from "../protocol/index.ts";
import { PaymentChannels, type TicketParamsSource } from "./channel.ts";
import { BroadcasterError } from "./errors.ts";
import {
  type BroadcasterSessionConfig,
  type VerificationOptions,
  verificationOptions,
} from "./options.ts";
import { NetworkOrchestratorSource } from "./pool.ts";
import { isProven, type Reputation, ReputationStore, reputationScore } from "./reputation.ts";
import { OrchestratorLists, type SelectionStrategy, WeightedSelection } from "./selection.ts";
import { type SpendLog, SpendStore } from "./spend.ts";
import type { OrchestratorTransport } from "./worker.ts";

/**
 * What a broadcaster holds while it works, whether it broadcasts one file (`segmint broadcast`)
 * or serves live streams (`segmint broadcaster`): the chain connection and key, the libp2p
 * network with discovery, the orchestrator source (selection) and the protocol transport.
 * Payments are opened per broadcast or per stream: their own channel per orchestrator (lanes,
 * nonces, credit) and their own spend cap.
 */
export interface BroadcasterSession {
  readonly address: string;
  readonly chainId: bigint;
  readonly deployment: Deployment;
  readonly provider: JsonRpcProvider;
  readonly clients: SegmintClients;
  /** The chain session the broadcaster signs in (its deposit, its transactions). */
  readonly chain: SigningSession;
  readonly network: BroadcasterNetwork;
  readonly source: NetworkOrchestratorSource;
  readonly transport: OrchestratorTransport;
  /** What this broadcaster knows of each orchestrator, kept across runs (reputation.ts). */
  readonly reputation: Reputation;
  readonly verification: VerificationOptions;
  /** What this broadcaster spent, per run and orchestrator, beside the reputation (spend.ts). */
  readonly spend: SpendLog;
  /** The pinned and excluded orchestrators (--orchestrator, --exclude-orchestrator). */
  readonly lists: OrchestratorLists;
  /** What this session added to the deposit and reserve before starting (null: nothing). */
  readonly funded: { deposit: bigint; reserve: bigint } | null;
  /** New payments for one broadcast or stream: a channel per orchestrator, one spend cap. */
  openPayments(maxSpend: bigint): PaymentChannels;
  /** Stops the network and the chain connection; removes the temporary key folder. */
  close(): Promise<void>;
}

export interface BroadcasterSessionDeps {
  log: Logger;
  signal: AbortSignal;
  /** Replaces the weighted stake/price/latency/capacity/chance selection. */
  strategy?: SelectionStrategy;
  /**
   * Refuse to start (NO_DEPOSIT, DEPOSIT_UNLOCKING) unless the deposit can back tickets; on by
   * default. The live daemon turns it off: its deposit keeper funds and refuses streams itself.
   */
  requireDeposit?: boolean;
}

type Cleanup = () => Promise<void> | void;

/**
 * Every orchestrator refuses the tickets of a sender with no deposit or an unlocking one, so a
 * broadcast would only find out segment by segment: say so at once, with what to do.
 */
export async function checkSenderFunds(chain: SigningSession): Promise<void> {
  const address = chain.address;
  const info = await chain.reader.ticketBroker.getSenderInfo(address);
  if (info.withdrawRound !== 0n) {
    throw new BroadcasterError(
      "DEPOSIT_UNLOCKING",
      `the deposit of ${address} is unlocking (withdrawable from round ${info.withdrawRound}); orchestrators refuse its tickets`,
      { address, withdrawRound: info.withdrawRound.toString() },
      {
        hint: "cancel the unlock with `segmint deposit cancel-unlock`, or withdraw and fund again",
      },
    );
  }
  if (info.deposit === 0n) {
    throw new BroadcasterError(
      "NO_DEPOSIT",
      `${address} has no ticket deposit (reserve ${formatTokens(info.reserve)}); orchestrators refuse its tickets`,
      { address, reserve: info.reserve.toString() },
      { hint: "fund it: add --deposit 10SGM --reserve 1SGM, or run `segmint deposit fund`" },
    );
  }
}

/**
 * Opens a broadcaster session: chain, key, optional deposit/reserve funding, the deposit's
 * state, libp2p network and orchestrator selection. Everything started is stopped again if a later step fails.
 */
export async function openBroadcasterSession(
  cfg: BroadcasterSessionConfig,
  deps: BroadcasterSessionDeps,
): Promise<BroadcasterSession> {
  const { log, signal } = deps;
  const cleanups: Cleanup[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log.warn({ err: error }, "cleanup step failed");
      }
    }
  };
  try {
    const chain = await openSigningSession({
      rpc: cfg.rpc,
      deployment: cfg.deployment,
      key: {
        privateKey: cfg.privateKey,
        keystoreFile: cfg.keystore,
        passwordFile: cfg.passwordFile,
        password: cfg.keystorePassword,
      },
      log,
    });
    cleanups.push(() => chain.close());
    const { wallet, provider, chainId, deployment, clients } = chain;
    const added = { deposit: cfg.deposit ?? 0n, reserve: cfg.reserve ?? 0n };
    const funded = (await fundDepositAndReserve(chain, added)) === null ? null : added;
    if (funded !== null) {
      log.info(
        { deposit: added.deposit.toString(), reserve: added.reserve.toString() },
        "deposit and reserve funded",
      );
    }

    if (deps.requireDeposit !== false) await checkSenderFunds(chain);

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

    const reputationFile =
      cfg.reputationFile ??
      (cfg.dataDir === undefined ? ":memory:" : join(cfg.dataDir, "reputation.sqlite"));
    const reputation = ReputationStore.open(reputationFile);
    cleanups.push(() => reputation.close());
    const spend = SpendStore.open(reputationFile);
    cleanups.push(() => spend.close());
    const verification = verificationOptions(cfg);

    const dialTarget = (target: { peerId: string; multiaddrs: string[] }): PeerId | Multiaddr[] => {
      const addrs = Discovery.dialAddrs({ ...target, address: "", advert: null, sources: [] });
      return addrs.length > 0 ? addrs : peerIdFromString(target.peerId);
    };
    const lists = new OrchestratorLists(cfg);
    // The one wiring of the protocol calls: selection, payment channels and workers use it.
    const transport: OrchestratorTransport = {
      info: (target, s) =>
        requestInfo(network.node, dialTarget(target), { sender: wallet.address, signal: s }),
      transcode: (handle, request, segment, s) =>
        requestTranscode(network.node, dialTarget(handle), request, segment, {
          signal: s,
          expectedSigner: handle.address,
        }),
    };
    const source = new NetworkOrchestratorSource({
      discovery: lists.over(network.discovery),
      info: (candidate) => transport.info(candidate, signal),
      stakeOf: (address) => clients.bondingManager.orchestratorTotalStake(address),
      strategy: deps.strategy ?? new WeightedSelection({ maxPricePerPixel: cfg.maxPricePerPixel }),
      maxTicketEV: cfg.maxTicketEV,
      standing: (address) => {
        const record = reputation.get(address);
        return {
          score: reputationScore(record),
          proven: isProven(record, verification.provenAfterSegments),
        };
      },
      unprovenMaxTicketEV: cfg.unprovenMaxTicketEV,
      maxInFlightPerOrchestrator: cfg.maxInFlightPerOrchestrator,
      discoveryWaitMs: cfg.discoveryWaitMs,
      log,
    });
    // Ticket params come from selection's info answer first (once), then from /segmint/info.
    const ticketParams: TicketParamsSource = {
      chosen: (address) => source.takeParams(address),
      fetch: async (handle, s) => {
        const info = await transport.info(handle, s);
        return ticketParamsFromWire(info.ticketParams, BigInt(info.pricePerPixel));
      },
    };
    const signer = new TicketSigner(
      getBytes(wallet.privateKey),
      { chainId, verifyingContract: deployment.contracts.TicketBroker },
      { maxPricePerPixel: cfg.maxPricePerPixel, maxTicketEV: cfg.maxTicketEV },
    );
    return {
      address: wallet.address,
      chainId,
      deployment,
      provider,
      clients,
      chain,
      network,
      source,
      transport,
      reputation,
      verification,
      spend,
      lists,
      funded,
      openPayments: (maxSpend) => new PaymentChannels({ signer, params: ticketParams, maxSpend }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
