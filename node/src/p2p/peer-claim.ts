import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { AbiCoder, getBytes, keccak256, toUtf8Bytes } from "ethers";

/**
 * Peer-id claims in the OrchestratorRegistry. The chain cannot check a libp2p key, so an entry
 * proves its peer id with the peer key's signature over a digest of (orchestrator address,
 * chain id, registry address): only the key's holder can make it, and it names one address on
 * one chain and registry, so copying it into another entry proves nothing. Every node checks
 * the proof before trusting an entry's peer id (registry-reader.ts).
 */

const CLAIM_TYPEHASH = keccak256(
  toUtf8Bytes("SegmintPeerIdClaim(address orchestrator,uint256 chainId,address registry)"),
);

/** What the peer key signs: OrchestratorRegistry.peerIdClaimDigest(orchestrator), natively. */
export function peerIdClaimDigest(
  orchestrator: string,
  chainId: bigint,
  registry: string,
): Uint8Array {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["bytes32", "address", "uint256", "address"],
    [CLAIM_TYPEHASH, orchestrator, chainId, registry],
  );
  return getBytes(keccak256(encoded));
}

/** The peer key's proof that `digest`'s orchestrator may publish the key's peer id. */
export async function signPeerIdClaim(key: PrivateKey, digest: Uint8Array): Promise<Uint8Array> {
  return await key.sign(digest);
}

/**
 * Whether `signature` is `peerId`'s key signing `digest`. False, never a throw, for a peer id
 * that does not parse or does not embed its public key (as Ed25519 and secp256k1 ids do), and
 * for a malformed signature: an entry that cannot be checked is not trusted.
 */
export async function verifyPeerIdClaim(
  peerId: string,
  digest: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    const key = peerIdFromString(peerId).publicKey;
    if (key === undefined || signature.length === 0) return false;
    return await key.verify(digest, signature);
  } catch {
    return false;
  }
}
