import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { type GossipSub, gossipsub } from "@libp2p/gossipsub";
import { type Identify, identify } from "@libp2p/identify";
import type { Libp2p } from "@libp2p/interface";
import { mdns } from "@libp2p/mdns";
import { type Ping, ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import { P2pError } from "./errors.ts";
import { PendingPerHostGater } from "./gater.ts";
import type { HostOptions } from "./options.ts";
import { loadOrCreatePeerKey } from "./peer-key.ts";

export interface SegmintServices extends Record<string, unknown> {
  identify: Identify;
  ping: Ping;
  /** Present when the host was created with `gossipsub: true`. */
  pubsub?: GossipSub;
}

export type SegmintNode = Libp2p<SegmintServices>;

/**
 * Builds and starts the libp2p host: TCP, noise, yamux, identify, ping, and optionally
 * gossipsub and mDNS. The identity comes from the data dir, so the peer id is stable.
 */
export async function createHost(options: HostOptions, log: Logger): Promise<SegmintNode> {
  for (const addr of [...options.listen, ...options.announce, ...options.allow]) {
    try {
      multiaddr(addr);
    } catch (error) {
      throw new P2pError(
        "P2P_BAD_OPTIONS",
        `"${addr}" is not a valid multiaddr`,
        { addr },
        {
          hint: "write addresses like /ip4/0.0.0.0/tcp/4001",
          cause: error,
        },
      );
    }
  }
  const privateKey = await loadOrCreatePeerKey(options.dataDir);
  const peerDiscovery = options.mdns ? [mdns()] : [];

  const services = {
    identify: identify(),
    ping: ping(),
    ...(options.gossipsub
      ? {
          pubsub: gossipsub({
            // Adverts are signed by the orchestrator's Ethereum key, checked by the AdvertBook;
            // the libp2p message signature still binds each message to its publishing peer.
            globalSignaturePolicy: "StrictSign",
            // An orchestrator may be the only subscriber for a while (first node of a devnet);
            // publishing must not fail then.
            allowPublishToZeroTopicPeers: true,
          }),
        }
      : {}),
  };

  let node: SegmintNode;
  try {
    node = await createLibp2p({
      privateKey,
      addresses: { listen: options.listen, announce: options.announce },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery,
      // Every limit's reason is in options.ts (HostOptions).
      connectionManager: {
        maxConnections: options.maxConnections,
        maxIncomingPendingConnections: options.maxPendingConnections,
        inboundUpgradeTimeout: options.handshakeTimeoutMs,
        inboundConnectionThreshold: options.inboundConnectionsPerSecond,
        allow: options.allow,
      },
      connectionGater: new PendingPerHostGater(options.maxPendingPerHost),
      services,
    });
  } catch (error) {
    throw new P2pError(
      "P2P_BAD_OPTIONS",
      `cannot start the libp2p host: ${errorMessage(error)}`,
      { listen: options.listen },
      {
        hint: "check that the listen ports are free and the addresses belong to this machine",
        cause: error,
      },
    );
  }
  log.info(
    {
      peerId: node.peerId.toString(),
      addrs: node.getMultiaddrs().map((a) => a.toString()),
      gossipsub: options.gossipsub,
      mdns: options.mdns,
    },
    "p2p host started",
  );
  return node;
}
