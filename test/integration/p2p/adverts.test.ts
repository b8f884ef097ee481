import { Wallet } from "ethers";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { AdvertBook, AdvertPublisher, type AdvertVerdict } from "../../../node/src/p2p/adverts.ts";
import { ADVERT_TOPIC } from "../../../node/src/p2p/constants.ts";
import type { SegmintNode } from "../../../node/src/p2p/host.ts";
import { defaultP2pOptions } from "../../../node/src/p2p/options.ts";
import type { EthSigner } from "../../../node/src/p2p/signing.ts";
import { FakeRegistry } from "../../unit/p2p/fakes.ts";
import { fakeProfile, orchestratorWallet, Testbed } from "./helpers.ts";

function pubsubOf(node: SegmintNode) {
  const pubsub = node.services.pubsub;
  if (pubsub === undefined) throw new Error("host started without gossipsub");
  return pubsub;
}

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = AbortSignal.timeout(15_000);
  while (!condition()) {
    deadline.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("adverts over real gossipsub", () => {
  const bed = new Testbed();
  afterEach(() => bed.close());

  it("accepts a valid advert and drops expired, spoofed and inactive ones", async () => {
    const orchestrator = await bed.host({ gossipsub: true });
    const relay = await bed.host({ gossipsub: true });
    const broadcaster = await bed.host({ gossipsub: true });
    const registry = new FakeRegistry();
    registry.register(orchestratorWallet.address, orchestrator.peerId.toString(), false);

    const book = new AdvertBook({ registry, log: silentLogger() });
    const verdicts: AdvertVerdict[] = [];
    book.onVerdict((v) => verdicts.push(v));
    book.attach(pubsubOf(broadcaster));
    // The relay only forwards: it shows adverts reach a broadcaster it is not connected to
    // directly, and still carry the original publisher's identity.
    pubsubOf(relay).subscribe(ADVERT_TOPIC);
    pubsubOf(orchestrator).subscribe(ADVERT_TOPIC);

    await orchestrator.dial(relay.getMultiaddrs());
    await relay.dial(broadcaster.getMultiaddrs());
    await waitFor(
      () =>
        pubsubOf(orchestrator).getSubscribers(ADVERT_TOPIC).length > 0 &&
        pubsubOf(relay).getSubscribers(ADVERT_TOPIC).length > 1,
    );

    const publisherFor = (signer: EthSigner, clock: () => number = Date.now) =>
      new AdvertPublisher({
        pubsub: pubsubOf(orchestrator),
        peerId: orchestrator.peerId,
        multiaddrs: () => orchestrator.getMultiaddrs().map((a) => a.toString()),
        signer,
        profile: fakeProfile,
        log: silentLogger(),
        clock,
      });
    const ttl = defaultP2pOptions.adverts.ttlMs;

    // Not yet active on chain.
    await publisherFor(orchestratorWallet).publish();
    await waitFor(() => verdicts.length === 1);
    // Expired when signed.
    await publisherFor(orchestratorWallet, () => Date.now() - 2 * ttl).publish();
    await waitFor(() => verdicts.length === 2);
    registry.active.add(orchestratorWallet.address.toLowerCase());
    // Signed by an active orchestrator that does not own this peer id.
    const attacker = Wallet.createRandom();
    registry.register(attacker.address, "12D3KooWNotTheOrchestratorsPeerIdAtAllxxxxxxxxxxxx");
    await publisherFor(attacker).publish();
    await waitFor(() => verdicts.length === 3);
    // Valid.
    const valid = await publisherFor(orchestratorWallet).publish();
    await waitFor(() => verdicts.length === 4);

    expect(verdicts.map((v) => (v.accepted ? "accepted" : v.reason))).toEqual([
      "INACTIVE",
      "EXPIRED",
      "NOT_PEER_OWNER",
      "accepted",
    ]);
    expect(book.list()).toEqual([valid]);
    expect(valid.multiaddrs.length).toBeGreaterThan(0);
    book.detach();
  });
});
