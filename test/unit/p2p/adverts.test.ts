import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { Wallet } from "ethers";
import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { silentLogger } from "../../../node/src/log/index.ts";
import { AdvertBook, AdvertPublisher } from "../../../node/src/p2p/adverts.ts";
import { encodeJson } from "../../../node/src/p2p/framing.ts";
import type { OrchestratorProfile } from "../../../node/src/p2p/interface.ts";
import { defaultP2pOptions } from "../../../node/src/p2p/options.ts";
import type { EthSigner } from "../../../node/src/p2p/signing.ts";
import type { SignedAdvert } from "../../../node/src/protocol/index.ts";
import { FakeRegistry } from "./fakes.ts";

const orchestrator = Wallet.createRandom();
const attacker = Wallet.createRandom();
const profile: OrchestratorProfile = {
  pricePerPixel: () => "1000",
  capabilities: () => ({ encoders: ["libx264"] }),
  capacity: () => ({ total: 2, free: 2 }),
};
const peerId = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
const ttl = defaultP2pOptions.adverts.ttlMs;

function publisher(signer: EthSigner, clock: () => number): AdvertPublisher {
  return new AdvertPublisher({
    pubsub: { publish: async () => ({ recipients: [] }) },
    peerId,
    multiaddrs: () => ["/ip4/127.0.0.1/tcp/4001"],
    signer,
    profile,
    log: silentLogger(),
    clock,
  });
}

describe("AdvertBook", () => {
  let now = 1_700_000_000_000;
  const clock = () => now;
  let registry: FakeRegistry;
  let book: AdvertBook;

  beforeEach(() => {
    now = 1_700_000_000_000;
    registry = new FakeRegistry();
    registry.register(orchestrator.address, peerId.toString());
    registry.register(attacker.address, "12D3KooWAttackerPeerIdThatIsNotTheVictimsOneAtAll1", true);
    book = new AdvertBook({ registry, log: silentLogger(), clock });
  });

  async function consider(advert: SignedAdvert, from: string | undefined = advert.peerId) {
    return book.consider(encodeJson(advert), from);
  }

  it("accepts a valid advert and keeps the latest per orchestrator", async () => {
    const first = await publisher(orchestrator, clock).advert();
    expect(await consider(first)).toEqual({ accepted: true, advert: first });
    now += 1000;
    const second = await publisher(orchestrator, clock).advert();
    expect((await consider(second)).accepted).toBe(true);
    expect(await consider(first)).toEqual({ accepted: false, reason: "STALE" });
    expect(book.list()).toEqual([second]);
    expect(book.get(orchestrator.address)).toEqual(second);
  });

  it("drops an expired advert, and forgets a stored one once it expires", async () => {
    const old = await publisher(orchestrator, () => now - ttl - 1).advert();
    expect(await consider(old)).toEqual({ accepted: false, reason: "EXPIRED" });
    const fresh = await publisher(orchestrator, clock).advert();
    await consider(fresh);
    now += ttl;
    expect(book.list()).toEqual([]);
    expect(book.get(orchestrator.address)).toBeUndefined();
  });

  it("drops an advert whose expiry is further out than the protocol allows", async () => {
    const far = await publisher(orchestrator, () => now + 2 * ttl).advert();
    expect(await consider(far)).toEqual({ accepted: false, reason: "EXPIRY_TOO_FAR" });
  });

  it("drops a spoofed advert: signer is not the registered owner of the peer id", async () => {
    const spoofed = await publisher(attacker, clock).advert();
    expect(spoofed.peerId).toBe(peerId.toString());
    expect(await consider(spoofed)).toEqual({ accepted: false, reason: "NOT_PEER_OWNER" });
    const unregistered = new FakeRegistry();
    unregistered.active.add(orchestrator.address.toLowerCase());
    const strict = new AdvertBook({ registry: unregistered, log: silentLogger(), clock });
    const valid = await publisher(orchestrator, clock).advert();
    expect(await strict.consider(encodeJson(valid), valid.peerId)).toEqual({
      accepted: false,
      reason: "NOT_PEER_OWNER",
    });
    expect(book.list()).toEqual([]);
  });

  it("drops an advert from an orchestrator that is not active", async () => {
    registry.active.clear();
    const advert = await publisher(orchestrator, clock).advert();
    expect(await consider(advert)).toEqual({ accepted: false, reason: "INACTIVE" });
    expect(book.list()).toEqual([]);
  });

  it("drops tampered, mis-signed, malformed, oversized and relayed-as-own adverts", async () => {
    const advert = await publisher(orchestrator, clock).advert();
    expect(await consider({ ...advert, pricePerPixel: "1" })).toEqual({
      accepted: false,
      reason: "BAD_SIGNATURE",
    });
    const { signature: _signature, ...payload } = advert;
    const other = await publisher(attacker, clock).advert();
    expect(await consider({ ...payload, signature: other.signature })).toEqual({
      accepted: false,
      reason: "BAD_SIGNATURE",
    });
    expect(await book.consider(new TextEncoder().encode("{nope"), undefined)).toEqual({
      accepted: false,
      reason: "MALFORMED",
    });
    expect(await consider({ ...advert, multiaddrs: ["not a multiaddr"] })).toEqual({
      accepted: false,
      reason: "MALFORMED",
    });
    expect(
      await book.consider(new Uint8Array(defaultP2pOptions.adverts.maxAdvertBytes + 1)),
    ).toEqual({
      accepted: false,
      reason: "TOO_LARGE",
    });
    expect(await consider(advert, "12D3KooWSomeOtherPublisherPeerIdXXXXXXXXXXXXXXXXXXX")).toEqual({
      accepted: false,
      reason: "WRONG_PUBLISHER",
    });
    expect(book.list()).toEqual([]);
  });

  it("drops an advert whose capability document fails the media schema", async () => {
    const strict = new AdvertBook({
      registry,
      capabilitiesSchema: z.object({ encoders: z.array(z.string()), schema: z.literal(1) }),
      log: silentLogger(),
      clock,
    });
    const advert = await publisher(orchestrator, clock).advert();
    expect(await strict.consider(encodeJson(advert), advert.peerId)).toEqual({
      accepted: false,
      reason: "MALFORMED",
    });
  });

  it("does not consult the chain for adverts that fail cheap checks", async () => {
    const expired = await publisher(orchestrator, () => now - ttl - 1).advert();
    await consider(expired);
    await consider({ ...(await publisher(orchestrator, clock).advert()), expiresAt: now + 5 });
    expect(registry.lookups).toBe(0);
  });

  it("reports REGISTRY_UNAVAILABLE rather than guessing when the chain cannot be read", async () => {
    registry.failing = true;
    const advert = await publisher(orchestrator, clock).advert();
    expect(await consider(advert)).toEqual({ accepted: false, reason: "REGISTRY_UNAVAILABLE" });
    registry.failing = false;
    expect((await consider(advert)).accepted).toBe(true);
  });

  it("tells listeners every verdict", async () => {
    const seen: string[] = [];
    const off = book.onVerdict((v) => seen.push(v.accepted ? "accepted" : v.reason));
    await consider(await publisher(attacker, clock).advert());
    await consider(await publisher(orchestrator, clock).advert());
    off();
    await consider(await publisher(orchestrator, clock).advert());
    expect(seen).toEqual(["NOT_PEER_OWNER", "accepted"]);
  });
});
