import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { describe, expect, it } from "vitest";
import {
  peerIdClaimDigest,
  signPeerIdClaim,
  verifyPeerIdClaim,
} from "../../../node/src/p2p/peer-claim.ts";

const ORCH = "0x00000000000000000000000000000000000A11CE";
const REGISTRY = "0x0000000000000000000000000000000000000123";

describe("peer-id claims", () => {
  it("verifies the peer key's signature and nothing else", async () => {
    const key = await generateKeyPair("Ed25519");
    const peerId = peerIdFromPrivateKey(key).toString();
    const digest = peerIdClaimDigest(ORCH, 31337n, REGISTRY);
    const proof = await signPeerIdClaim(key, digest);
    expect(await verifyPeerIdClaim(peerId, digest, proof)).toBe(true);

    const other = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
    expect(await verifyPeerIdClaim(other, digest, proof)).toBe(false);
    const tampered = Uint8Array.from(proof);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(await verifyPeerIdClaim(peerId, digest, tampered)).toBe(false);
    expect(await verifyPeerIdClaim(peerId, digest, new Uint8Array())).toBe(false);
    expect(await verifyPeerIdClaim(peerId, digest, new Uint8Array(3))).toBe(false);
    expect(await verifyPeerIdClaim("not-a-peer-id", digest, proof)).toBe(false);
  });

  it("binds the digest to the address, the chain and the registry", () => {
    const base = peerIdClaimDigest(ORCH, 1n, REGISTRY);
    expect(base).toHaveLength(32);
    expect(peerIdClaimDigest(ORCH.toLowerCase(), 1n, REGISTRY)).toEqual(base);
    expect(peerIdClaimDigest(REGISTRY, 1n, REGISTRY)).not.toEqual(base);
    expect(peerIdClaimDigest(ORCH, 2n, REGISTRY)).not.toEqual(base);
    expect(peerIdClaimDigest(ORCH, 1n, ORCH)).not.toEqual(base);
  });
});
