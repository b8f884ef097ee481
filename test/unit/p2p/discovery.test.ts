import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PeerId, PeerInfo } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { AdvertBook, AdvertPublisher } from "../../../node/src/p2p/adverts.ts";
import { Discovery, type DiscoveryNode } from "../../../node/src/p2p/discovery.ts";
import { isP2pError } from "../../../node/src/p2p/errors.ts";
import { encodeJson } from "../../../node/src/p2p/framing.ts";
import type { SegmintNode } from "../../../node/src/p2p/host.ts";
import { FakeRegistry } from "./fakes.ts";

const newPeerId = async () => peerIdFromPrivateKey(await generateKeyPair("Ed25519"));

/** The slice of a libp2p node Discovery uses: dial and the discovery event. */
class FakeNode {
  readonly dialed: string[] = [];
  unreachable = new Set<string>();
  private readonly listeners = new Set<(event: CustomEvent<PeerInfo>) => void>();
  constructor(readonly peerId: PeerId) {}
  addEventListener(_type: "peer:discovery", listener: (event: CustomEvent<PeerInfo>) => void) {
    this.listeners.add(listener);
  }
  removeEventListener(_type: "peer:discovery", listener: (event: CustomEvent<PeerInfo>) => void) {
    this.listeners.delete(listener);
  }
  discover(peer: PeerInfo): void {
    for (const listener of this.listeners)
      listener(new CustomEvent("peer:discovery", { detail: peer }));
  }
  async dial(target: unknown): Promise<void> {
    const text = String(target);
    this.dialed.push(text);
    if (this.unreachable.has(text)) throw new Error("connection refused");
  }
}

async function setup() {
  const self = await newPeerId();
  const node = new FakeNode(self);
  const registry = new FakeRegistry();
  const adverts = new AdvertBook({ registry, log: silentLogger() });
  return { node, registry, adverts };
}

describe("Discovery", () => {
  it("refuses bootstrap entries that are not multiaddrs or do not name their peer", async () => {
    const { node } = await setup();
    const make = (bootstrap: string[]) =>
      new Discovery({ node, registry: null, adverts: null, bootstrap, log: silentLogger() });
    for (const bad of ["not-an-addr", "/ip4/127.0.0.1/tcp/4001"]) {
      let code: unknown;
      try {
        make([bad]);
      } catch (error) {
        code = isP2pError(error) ? error.code : undefined;
      }
      expect(code).toBe("P2P_BAD_OPTIONS");
    }
  });

  it("dials bootstrap peers (an unreachable one is not fatal) and mDNS finds", async () => {
    const { node } = await setup();
    const a = `/ip4/127.0.0.1/tcp/4001/p2p/${(await newPeerId()).toString()}`;
    const b = `/ip4/127.0.0.1/tcp/4002/p2p/${(await newPeerId()).toString()}`;
    node.unreachable.add(b);
    const discovery = new Discovery({
      node,
      registry: null,
      adverts: null,
      bootstrap: [a, b],
      log: silentLogger(),
    });
    await discovery.start();
    expect(node.dialed.sort()).toEqual([a, b].sort());
    const found = await newPeerId();
    node.discover({ id: found, multiaddrs: [] });
    node.discover({ id: node.peerId, multiaddrs: [] });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(node.dialed).toContain(found.toString());
    expect(node.dialed).not.toContain(node.peerId.toString());
    discovery.stop();
  });

  it("merges registry entries with valid adverts and keeps the last list when the chain fails", async () => {
    const { node, registry, adverts } = await setup();
    const listed = Wallet.createRandom();
    const listedPeer = await newPeerId();
    const gossiped = Wallet.createRandom();
    const gossipedPeer = await newPeerId();
    registry.listed.push({
      address: listed.address,
      peerId: listedPeer.toString(),
      multiaddrs: ["/ip4/10.0.0.1/tcp/4001"],
    });
    registry.register(listed.address, listedPeer.toString());
    registry.register(gossiped.address, gossipedPeer.toString());

    const profile = {
      pricePerPixel: () => "5",
      capabilities: () => ({}),
      capacity: () => ({ total: 1, free: 1 }),
    };
    for (const [signer, peerId, addr] of [
      [listed, listedPeer, "/ip4/10.0.0.9/tcp/4001"],
      [gossiped, gossipedPeer, "/ip4/10.0.0.2/tcp/4001"],
    ] as const) {
      const advert = await new AdvertPublisher({
        pubsub: { publish: async () => ({ recipients: [] }) },
        peerId,
        multiaddrs: () => [addr],
        signer,
        profile,
        log: silentLogger(),
      }).advert();
      expect((await adverts.consider(encodeJson(advert), peerId.toString())).accepted).toBe(true);
    }

    const discovery = new Discovery({
      node,
      registry,
      adverts,
      bootstrap: [],
      log: silentLogger(),
    });
    await discovery.start();
    const candidates = discovery.candidates();
    const byAddress = new Map(candidates.map((c) => [c.address, c]));
    expect(byAddress.get(listed.address)).toMatchObject({
      peerId: listedPeer.toString(),
      sources: ["registry", "advert"],
      multiaddrs: ["/ip4/10.0.0.1/tcp/4001", "/ip4/10.0.0.9/tcp/4001"],
    });
    expect(byAddress.get(listed.address)?.advert?.pricePerPixel).toBe("5");
    expect(byAddress.get(gossiped.address)).toMatchObject({ sources: ["advert"] });
    const first = byAddress.get(listed.address);
    if (first === undefined) throw new Error("missing candidate");
    expect(Discovery.dialAddrs(first).map(String)).toEqual([
      `/ip4/10.0.0.1/tcp/4001/p2p/${listedPeer.toString()}`,
      `/ip4/10.0.0.9/tcp/4001/p2p/${listedPeer.toString()}`,
    ]);

    registry.failing = true;
    await discovery.refresh();
    expect(discovery.candidates().map((c) => c.address)).toContain(listed.address);
  });
});

// A real host must fit the narrow node type Discovery asks for (checked by tsc).
const hostFits: SegmintNode extends DiscoveryNode ? true : never = true;
void hostFits;
