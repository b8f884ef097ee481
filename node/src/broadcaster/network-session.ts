import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Multiaddr } from "@multiformats/multiaddr";
import { getBytes, JsonRpcProvider, NonceManager, type Wallet } from "ethers";
import { type SegmintClients, segmintClients } from "../chain/contracts.ts";
import { type Deployment, readDeployment } from "../chain/deployment.ts";
import { loadWallet } from "../chain/keys.ts";
import type { Logger } from "../log/index.ts";
import { Discovery } from "../p2p/discovery.ts";
import { requestInfo } from "../p2p/info.ts";
import { BroadcasterNetwork } from "../p2p/network.ts";
import { defaultP2pOptions } from "../p2p/options.ts";
import { ChainRegistryReader } from "../p2p/registry-reader.ts";
import { requestTranscode } from "../p2p/transcode-client.ts";
import { TicketSender } from "../payments/sender.ts";
import { BroadcasterError } from "./errors.ts";
import { fundDepositAndReserve } from "./funding.ts";
import type { OrchestratorHandle } from "./interface.ts";
import {
  type BroadcasterSessionConfig,
  type VerificationOptions,
  verificationOptions,
} from "./options.ts";
import { PaymentLedger } from "./payment.ts";
import { NetworkOrchestratorSource } from "./pool.ts";
import { isProven, type Reputation, ReputationStore, reputationScore } from "./reputation.ts";
import { type SelectionStrategy, WeightedSelection } from "./selection.ts";
import type { OrchestratorTransport } from "./worker.ts";

/**
 * What a broadcaster holds while it works, whether it broadcasts one file (`segmint broadcast`)
 * or serves live streams (`segmint broadcaster`): the chain connection and key, the libp2p
 * network with discovery, the orchestrator source (selection) and the protocol transport.
 * Payment sessions (one TicketSender and ledger each, with its own spend cap) are opened per
 * broadcast or per stream.
 */
export interface BroadcasterSession {
  readonly address: string;
  readonly chainId: bigint;
  readonly deployment: Deployment;
  readonly provider: JsonRpcProvider;
  readonly clients: SegmintClients;
  readonly network: BroadcasterNetwork;
  readonly source: NetworkOrchestratorSource;
  readonly transport: OrchestratorTransport;
  /** What this broadcaster knows of each orchestrator, kept across runs (reputation.ts). */
  readonly reputation: Reputation;
  readonly verification: VerificationOptions;
  /** A new payment session: its own ticket nonces, credit bookkeeping and spend cap. */
  newLedger(maxSpend: bigint): PaymentLedger;
  /** Stops the network and the chain connection; removes the temporary key folder. */
  close(): Promise<void>;
}

export interface BroadcasterSessionDeps {
  log: Logger;
  signal: AbortSignal;
  /** Replaces the weighted stake/price/latency/capacity/chance selection. */
  strategy?: SelectionStrategy;
}

type Cleanup = () => Promise<void> | void;

/** Connects to the chain and checks the deployment is there: one coded error per fault. */
async function connectChain(
  cfg: BroadcasterSessionConfig,
  deployment: Deployment,
): Promise<{ provider: JsonRpcProvider; chainId: bigint }> {
  const provider = new JsonRpcProvider(cfg.rpc, undefined, {
    staticNetwork: true,
    pollingInterval: 250,
  });
  try {
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
    return { provider, chainId };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

/**
 * Opens a broadcaster session: chain, key, optional deposit/reserve funding, libp2p network
 * and orchestrator selection. Everything started is stopped again if a later step fails.
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
    const deployment = await readDeployment(cfg.deployment);
    const { provider, chainId } = await connectChain(cfg, deployment);
    cleanups.push(() => provider.destroy());

    const wallet: Wallet = await loadWallet({
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
    const verification = verificationOptions(cfg);

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
    const transport: OrchestratorTransport = {
      info: (handle: OrchestratorHandle, s) =>
        requestInfo(network.node, dialTarget(handle), { sender: wallet.address, signal: s }),
      transcode: (handle, request, segment, s) =>
        requestTranscode(network.node, dialTarget(handle), request, segment, {
          signal: s,
          expectedSigner: handle.address,
        }),
    };
    const key = getBytes(wallet.privateKey);
    const domain = { chainId, verifyingContract: deployment.contracts.TicketBroker };
    return {
      address: wallet.address,
      chainId,
      deployment,
      provider,
      clients,
      network,
      source,
      transport,
      reputation,
      verification,
      newLedger: (maxSpend) =>
        new PaymentLedger(
          new TicketSender(key, domain, {
            maxPricePerPixel: cfg.maxPricePerPixel,
            maxTicketEV: cfg.maxTicketEV,
            maxTotalSpend: maxSpend,
          }),
        ),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
