import type { AbortOptions, PeerId, PeerInfo } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import type { Logger } from "../log/index.ts";
import type { SignedAdvert } from "../protocol/index.ts";
import type { AdvertBook } from "./adverts.ts";
import { P2pError } from "./errors.ts";
import type { RegisteredOrchestrator, RegistryReader } from "./interface.ts";

/**
 * Where a broadcaster's orchestrators come from: the on-chain registry (the source of trust),
 * adverts checked against it, and, to join the network at all, bootstrap addresses and mDNS.
 */

export interface DiscoveredCandidate {
  /** The orchestrator's Ethereum address (checksummed as the source gave it). */
  address: string;
  peerId: string;
  multiaddrs: string[];
  /** Its latest valid advert (price, capabilities, capacity), when one was heard. */
  advert: SignedAdvert | null;
  sources: Array<"registry" | "advert">;
}

/** The slice of a libp2p node discovery uses (a SegmintNode satisfies it). */
export interface DiscoveryNode {
  readonly peerId: PeerId;
  dial(target: PeerId | Multiaddr, options?: AbortOptions): Promise<unknown>;
  addEventListener(type: "peer:discovery", listener: (event: CustomEvent<PeerInfo>) => void): void;
  removeEventListener(
    type: "peer:discovery",
    listener: (event: CustomEvent<PeerInfo>) => void,
  ): void;
}

export interface DiscoveryInit {
  node: DiscoveryNode;
  registry: Pick<RegistryReader, "listOrchestrators"> | null;
  adverts: AdvertBook | null;
  /** Multiaddrs with /p2p/<peer id> to dial at start (config `bootstrap`). */
  bootstrap: string[];
  log: Logger;
}

export class Discovery {
  private registered: RegisteredOrchestrator[] = [];
  private readonly onPeer = (event: CustomEvent<PeerInfo>) =>
    void this.dialDiscovered(event.detail);

  constructor(private readonly init: DiscoveryInit) {
    for (const addr of init.bootstrap) parseBootstrap(addr);
  }

  /** Dials the bootstrap peers, follows mDNS finds, and loads the registry once. */
  async start(): Promise<void> {
    this.init.node.addEventListener("peer:discovery", this.onPeer);
    await Promise.all([this.dialBootstrap(), this.refresh()]);
  }

  stop(): void {
    this.init.node.removeEventListener("peer:discovery", this.onPeer);
  }

  /** Re-reads the active orchestrators from the chain registry. */
  async refresh(): Promise<void> {
    if (this.init.registry === null) return;
    try {
      this.registered = await this.init.registry.listOrchestrators();
      this.init.log.debug({ count: this.registered.length }, "registry orchestrators loaded");
    } catch (error) {
      // Keep the last good list: a flaky RPC endpoint must not empty the candidate set.
      this.init.log.warn({ err: error }, "registry read failed; keeping the previous list");
    }
  }

  /**
   * Orchestrators a broadcaster may use: the registry's active ones merged with valid
   * adverts (which passed the registry's owner and activity checks when they arrived).
   */
  candidates(): DiscoveredCandidate[] {
    const byAddress = new Map<string, DiscoveredCandidate>();
    for (const entry of this.registered) {
      byAddress.set(entry.address.toLowerCase(), {
        address: entry.address,
        peerId: entry.peerId,
        multiaddrs: [...entry.multiaddrs],
        advert: null,
        sources: ["registry"],
      });
    }
    for (const advert of this.init.adverts?.list() ?? []) {
      const key = advert.ethAddress.toLowerCase();
      const known = byAddress.get(key);
      if (known === undefined) {
        byAddress.set(key, {
          address: advert.ethAddress,
          peerId: advert.peerId,
          multiaddrs: [...advert.multiaddrs],
          advert,
          sources: ["advert"],
        });
      } else if (known.peerId === advert.peerId) {
        known.advert = advert;
        known.sources.push("advert");
        for (const addr of advert.multiaddrs)
          if (!known.multiaddrs.includes(addr)) known.multiaddrs.push(addr);
      }
      // A registry entry naming another peer id wins: the chain is the newer truth until
      // the advert's owner check is re-run against it.
    }
    return [...byAddress.values()];
  }

  /** Multiaddrs to dial a candidate, each ending in its /p2p/ peer id. */
  static dialAddrs(candidate: DiscoveredCandidate): Multiaddr[] {
    const out: Multiaddr[] = [];
    for (const text of candidate.multiaddrs) {
      try {
        const addr = multiaddr(text);
        out.push(
          addr.getComponents().some((c) => c.name === "p2p")
            ? addr
            : addr.encapsulate(`/p2p/${candidate.peerId}`),
        );
      } catch {
        // A bad address in an advert or the registry is skipped, not fatal.
      }
    }
    return out;
  }

  private async dialBootstrap(): Promise<void> {
    await Promise.all(
      this.init.bootstrap.map(async (text) => {
        try {
          await this.init.node.dial(multiaddr(text), { signal: AbortSignal.timeout(10_000) });
          this.init.log.info({ addr: text }, "bootstrap peer connected");
        } catch (error) {
          this.init.log.warn({ addr: text, err: error }, "bootstrap peer unreachable");
        }
      }),
    );
  }

  private async dialDiscovered(peer: PeerInfo): Promise<void> {
    if (peer.id.equals(this.init.node.peerId)) return;
    try {
      await this.init.node.dial(peer.id, { signal: AbortSignal.timeout(10_000) });
      this.init.log.debug({ peerId: peer.id.toString() }, "discovered peer connected");
    } catch (error) {
      this.init.log.debug(
        { peerId: peer.id.toString(), err: error },
        "discovered peer unreachable",
      );
    }
  }
}

/** Checks a bootstrap entry up front: it must parse and name its peer, or dialing is blind. */
export function parseBootstrap(text: string): Multiaddr {
  let addr: Multiaddr;
  try {
    addr = multiaddr(text);
  } catch (error) {
    throw new P2pError(
      "P2P_BAD_OPTIONS",
      `bootstrap address "${text}" is not a multiaddr`,
      { addr: text },
      {
        hint: "write it like /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...",
        cause: error,
      },
    );
  }
  const p2p = addr.getComponents().find((c) => c.name === "p2p");
  if (p2p?.value === undefined) {
    throw new P2pError(
      "P2P_BAD_OPTIONS",
      `bootstrap address "${text}" has no /p2p/<peer id>`,
      { addr: text },
      {
        hint: "append /p2p/<peer id> so the connection is authenticated",
      },
    );
  }
  peerIdFromString(p2p.value);
  return addr;
}
