import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { getBytes } from "ethers";
import { approveIfNeeded, requireTokens, type TokenSession } from "../chain/funding.ts";
import type { Logger } from "../log/index.ts";
import { signPeerIdClaim, verifyPeerIdClaim } from "../p2p/peer-claim.ts";

/** A first registration's terms when the operator names none: Livepeer-typical values. */
export const DEFAULT_REWARD_CUT_PPM = 100_000; // keeps 10% of rewards
export const DEFAULT_FEE_SHARE_PPM = 500_000; // passes half the fees to delegators

/** The registry takes at most 8 multiaddrs (OrchestratorRegistry.MAX_MULTIADDRS). */
const MAX_REGISTRY_MULTIADDRS = 8;

/**
 * What ensureServiceInfo did: published the entry, found it already there (with a valid
 * peer-key proof), or waits because only orchestrators in the active set may publish.
 */
export type ServiceInfoOutcome = "published" | "unchanged" | "not-active";

/** The orchestrator's signing session (reads through `reader`, sends through `tx`). */
export interface RegistrationDeps {
  session: TokenSession;
  log: Logger;
}

/**
 * Makes the on-chain state match what the operator asked for, sending a transaction only for
 * what differs, so restarting an orchestrator costs no gas.
 */
export class Registration {
  constructor(private readonly deps: RegistrationDeps) {}

  /** Registers, or updates the reward cut and fee share when they differ from the chain's. */
  async ensureParams(
    rewardCut: number | undefined,
    feeShare: number | undefined,
  ): Promise<boolean> {
    const { session, log } = this.deps;
    const info = await session.reader.bondingManager.getOrchestrator(session.address);
    const wantCut = BigInt(
      rewardCut ?? (info.registered ? info.rewardCut : DEFAULT_REWARD_CUT_PPM),
    );
    const wantShare = BigInt(feeShare ?? (info.registered ? info.feeShare : DEFAULT_FEE_SHARE_PPM));
    if (info.registered && info.rewardCut === wantCut && info.feeShare === wantShare) return false;
    await session.tx.checkAndSend(
      "setOrchestratorParams",
      session.clients.bondingManager.setOrchestratorParams,
      wantCut,
      wantShare,
    );
    log.info(
      { rewardCut: Number(wantCut), feeShare: Number(wantShare), registered: !info.registered },
      info.registered ? "orchestrator params updated" : "registered as an orchestrator",
    );
    return true;
  }

  /** Bonds what is missing for the self-stake to reach `target` token wei; returns the amount. */
  async ensureStake(target: bigint): Promise<bigint> {
    const { session, log } = this.deps;
    const address = session.address;
    const current = await session.reader.bondingManager.pendingStake(address);
    if (current >= target) return 0n;
    const missing = target - current;
    await requireTokens(session, missing, "bond up to --stake");
    const bm = session.clients.bondingManager;
    await approveIfNeeded(session, await bm.getAddress(), missing);
    await session.tx.checkAndSend("bond", bm.bond, missing, address);
    log.info({ bonded: missing.toString(), stake: target.toString() }, "stake bonded");
    return missing;
  }

  /**
   * Publishes the peer key's peer id and the multiaddrs in the registry, with the key's proof
   * of the claim, when they differ from what is there (or the stored proof does not verify).
   * Only an orchestrator in the current active set may publish: until it is, this sends
   * nothing and answers "not-active", and the caller tries again later.
   */
  async ensureServiceInfo(
    peerKey: PrivateKey,
    multiaddrs: readonly string[],
  ): Promise<ServiceInfoOutcome> {
    const { session, log } = this.deps;
    const address = session.address;
    const peerId = peerIdFromPrivateKey(peerKey).toString();
    const addrs = multiaddrs.slice(0, MAX_REGISTRY_MULTIADDRS);
    const registry = session.reader.registry;
    const [current, digestHex, status] = await Promise.all([
      registry.serviceInfo(address),
      registry.peerIdClaimDigest(address),
      session.reader.bondingManager.activeStatus(address),
    ]);
    const digest = getBytes(digestHex);
    const same =
      current.peerId === peerId &&
      current.multiaddrs.length === addrs.length &&
      current.multiaddrs.every((a, i) => a === addrs[i]) &&
      (await verifyPeerIdClaim(peerId, digest, getBytes(current.peerIdSignature)));
    if (same) return "unchanged";
    if (!status.active) {
      log.info({ peerId }, "not in the active set yet: service info is published once it is");
      return "not-active";
    }
    const signature = await signPeerIdClaim(peerKey, digest);
    await session.tx.checkAndSend(
      "setServiceInfo",
      session.clients.registry.setServiceInfo,
      peerId,
      addrs,
      "",
      signature,
    );
    log.info({ peerId, multiaddrs: addrs }, "service info published");
    return "published";
  }
}
