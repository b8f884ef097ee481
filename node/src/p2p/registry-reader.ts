import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { type ContractRunner, getAddress, getBytes } from "ethers";
import { registryClients } from "../chain/contracts.ts";
import type { Logger } from "../log/index.ts";
import type { RegisteredOrchestrator, RegistryReader } from "./interface.ts";
import { peerIdClaimDigest, verifyPeerIdClaim } from "./peer-claim.ts";

/**
 * RegistryReader over the deployed contracts (contracts/registry/OrchestratorRegistry.sol for
 * peer ids and addresses, the BondingManager for who is active), through the typed clients
 * generated from the contracts (chain/contracts.ts).
 *
 * The registry does not own peer ids (anyone seated may name any peer id); an entry's peer id
 * is trusted only when the entry's peer-key proof verifies (peer-claim.ts), so a squatter's
 * copy of someone's peer id is ignored and never blocks the real owner.
 */

/** An entry as the registry returns it. */
export interface ServiceInfoEntry {
  peerId: string;
  multiaddrs: readonly string[];
  /** Hex string, as ethers returns `bytes`. */
  peerIdSignature: string;
}

/** The registry calls we make; the typed OrchestratorRegistry client provides them. */
export interface RegistryContract {
  listed(offset: bigint, limit: bigint): Promise<readonly string[]>;
  serviceInfo(orchestrator: string): Promise<ServiceInfoEntry>;
}

export interface BondingContract {
  activeStatus(orchestrator: string): Promise<readonly [boolean, bigint] | { 0: boolean }>;
}

/** The digest an orchestrator's peer key signs (OrchestratorRegistry.peerIdClaimDigest). */
export type ClaimDigest = (orchestrator: string) => Promise<Uint8Array>;

/**
 * Page size for `listed(offset, limit)`: each entry costs one serviceInfo and one activeStatus
 * call afterwards, so pages of 100 keep each burst of eth_calls modest for public RPC limits.
 */
const PAGE = 100n;

export class ChainRegistryReader implements RegistryReader {
  constructor(
    private readonly registry: RegistryContract,
    private readonly bonding: BondingContract,
    private readonly claimDigest: ClaimDigest,
    private readonly log: Logger,
  ) {}

  /** Builds the reader from deployed addresses and an ethers provider (or signer). */
  static connect(
    runner: ContractRunner,
    addresses: { orchestratorRegistry: string; bondingManager: string },
    log: Logger,
  ): ChainRegistryReader {
    const { registry, bondingManager } = registryClients(addresses, runner);
    // The chain id never changes under a running node: read it once, on first use.
    let chainId: Promise<bigint> | null = null;
    const claimDigest: ClaimDigest = async (orchestrator) => {
      const provider = runner.provider;
      if (!provider) throw new Error("the registry reader's runner has no provider");
      chainId ??= provider.getNetwork().then((n) => n.chainId);
      return peerIdClaimDigest(orchestrator, await chainId, addresses.orchestratorRegistry);
    };
    return new ChainRegistryReader(
      {
        listed: (offset, limit) => registry.listed(offset, limit),
        serviceInfo: (orchestrator) => registry.serviceInfo(orchestrator),
      },
      { activeStatus: (orchestrator) => bondingManager.activeStatus(orchestrator) },
      claimDigest,
      log,
    );
  }

  async listOrchestrators(): Promise<RegisteredOrchestrator[]> {
    const out: RegisteredOrchestrator[] = [];
    for (let offset = 0n; ; offset += PAGE) {
      const page = await this.registry.listed(offset, PAGE);
      const entries = await Promise.all(page.map((address) => this.entry(address)));
      for (const entry of entries) if (entry !== null) out.push(entry);
      if (BigInt(page.length) < PAGE) return out;
    }
  }

  /** A listed orchestrator if it is active and its peer id is proven; null otherwise. */
  private async entry(address: string): Promise<RegisteredOrchestrator | null> {
    const [info, active] = await Promise.all([
      this.registry.serviceInfo(address),
      this.isActive(address),
    ]);
    if (!active || info.peerId === "") return null;
    try {
      peerIdFromString(info.peerId);
    } catch {
      this.log.warn(
        { address, peerId: info.peerId },
        "registry entry has an invalid peer id; skipped",
      );
      return null;
    }
    if (!(await this.proves(address, info))) {
      this.log.warn(
        { address, peerId: info.peerId },
        "registry entry's peer id is not proven by its key; skipped",
      );
      return null;
    }
    const multiaddrs = info.multiaddrs.filter((text) => {
      try {
        multiaddr(text);
        return true;
      } catch {
        this.log.warn({ address, addr: text }, "registry entry has an invalid multiaddr; skipped");
        return false;
      }
    });
    return { address: getAddress(address), peerId: info.peerId, multiaddrs };
  }

  async provenPeerId(address: string): Promise<string | null> {
    const info = await this.registry.serviceInfo(address);
    if (info.peerId === "") return null;
    return (await this.proves(address, info)) ? info.peerId : null;
  }

  async isActive(address: string): Promise<boolean> {
    const status = await this.bonding.activeStatus(address);
    return status[0];
  }

  private async proves(address: string, info: ServiceInfoEntry): Promise<boolean> {
    let signature: Uint8Array;
    try {
      signature = getBytes(info.peerIdSignature);
    } catch {
      return false;
    }
    return verifyPeerIdClaim(info.peerId, await this.claimDigest(address), signature);
  }
}
