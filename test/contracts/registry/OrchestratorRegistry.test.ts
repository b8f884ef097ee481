import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { getBytes, hexlify, ZeroAddress } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  peerIdClaimDigest,
  signPeerIdClaim,
  verifyPeerIdClaim,
} from "../../../node/src/p2p/peer-claim.ts";
import {
  account,
  advanceRounds,
  type Connection,
  connect,
  expectRevert,
  type Fixture,
  fn,
  loadSystem,
  parseEvents,
  type ReceiptLogs,
  read,
  registerOrchestrator,
  send,
  TOKEN,
} from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

const ADDRS = ["/ip4/127.0.0.1/tcp/4001", "/ip6/::1/tcp/4001"];
const SIG = `0x${"51".repeat(64)}`;

interface ServiceInfo {
  peerId: string;
  multiaddrs: string[];
  metadata: string;
  peerIdSignature: string;
  updatedAtBlock: bigint;
}

function events(f: Fixture, receipt: ReceiptLogs) {
  return parseEvents(f.registry, receipt).map((e) => [
    e.name,
    ...e.args.toArray().map((v: unknown) => (Array.isArray(v) ? [...v] : v)),
  ]);
}

async function info(f: Fixture, who: string): Promise<ServiceInfo> {
  const r = await read<ServiceInfo>(f.registry, "serviceInfo", who);
  return {
    peerId: r.peerId,
    multiaddrs: [...r.multiaddrs],
    metadata: r.metadata,
    peerIdSignature: r.peerIdSignature,
    updatedAtBlock: r.updatedAtBlock,
  };
}

/** Registers and bonds `signers`, then moves to the round in which they hold seats. */
async function seat(f: Fixture, ...signers: ReturnType<typeof account>[]): Promise<void> {
  for (const s of signers) await registerOrchestrator(f, s, 1_000n * TOKEN);
  await advanceRounds(f, 1);
}

async function newPeer(): Promise<{ key: PrivateKey; peerId: string }> {
  const key = await generateKeyPair("Ed25519");
  return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

describe("OrchestratorRegistry", () => {
  it("publishes, replaces and lists an orchestrator's service information", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    await seat(f, orch);
    const a = await newPeer();
    const digest = await read<string>(f.registry, "peerIdClaimDigest", orch.address);
    const sig = hexlify(await signPeerIdClaim(a.key, getBytes(digest)));
    const receipt = await send(
      f.registry,
      orch,
      "setServiceInfo",
      a.peerId,
      ADDRS,
      '{"price":1}',
      sig,
    );
    expect(events(f, receipt)).toEqual([
      ["ServiceInfoUpdated", orch.address, a.peerId, ADDRS, '{"price":1}', sig],
    ]);
    expect(await info(f, orch.address)).toEqual({
      peerId: a.peerId,
      multiaddrs: ADDRS,
      metadata: '{"price":1}',
      peerIdSignature: sig,
      updatedAtBlock: BigInt(receipt.blockNumber),
    });
    expect(await read(f.registry, "listedCount")).toBe(1n);
    expect(await read(f.registry, "listedAt", 0n)).toBe(orch.address);

    // Another peer id and fewer multiaddrs replace the entry.
    const b = await newPeer();
    await send(f.registry, orch, "setServiceInfo", b.peerId, [ADDRS[0]], "", SIG);
    expect(await info(f, orch.address)).toMatchObject({
      peerId: b.peerId,
      multiaddrs: [ADDRS[0]],
      metadata: "",
      peerIdSignature: SIG,
    });
    expect(await read(f.registry, "listedCount")).toBe(1n);
    await send(f.registry, orch, "setServiceInfo", b.peerId, ADDRS, "x", SIG);
    expect((await info(f, orch.address)).multiaddrs).toEqual(ADDRS);
  });

  it("computes the peer-id claim digest exactly as the node does", async () => {
    const f = await loadSystem(conn);
    const [a, b] = [account(f, 0), account(f, 1)];
    const { chainId } = await conn.ethers.provider.getNetwork();
    const registry = f.deployment.contracts.OrchestratorRegistry;
    for (const who of [a, b]) {
      expect(await read(f.registry, "peerIdClaimDigest", who.address)).toBe(
        hexlify(peerIdClaimDigest(who.address, chainId, registry)),
      );
    }
    // A proof for one address, chain or registry proves nothing for another.
    const peer = await newPeer();
    const proof = await signPeerIdClaim(peer.key, peerIdClaimDigest(a.address, chainId, registry));
    expect(
      await verifyPeerIdClaim(peer.peerId, peerIdClaimDigest(a.address, chainId, registry), proof),
    ).toBe(true);
    for (const digest of [
      peerIdClaimDigest(b.address, chainId, registry),
      peerIdClaimDigest(a.address, chainId + 1n, registry),
      peerIdClaimDigest(a.address, chainId, f.deployment.contracts.TicketBroker),
    ]) {
      expect(await verifyPeerIdClaim(peer.peerId, digest, proof)).toBe(false);
    }
  });

  it("pages through listed orchestrators and removes entries", async () => {
    const f = await loadSystem(conn);
    const [a, b, c] = [account(f, 0), account(f, 1), account(f, 2)];
    await seat(f, a, b, c);
    for (const [i, o] of [a, b, c].entries()) {
      await send(f.registry, o, "setServiceInfo", `peer-${i}`, ADDRS, "", SIG);
    }
    expect([...(await read<string[]>(f.registry, "listed", 0n, 2n))]).toEqual([
      a.address,
      b.address,
    ]);
    expect([...(await read<string[]>(f.registry, "listed", 2n, 2n))]).toEqual([c.address]);
    expect([...(await read<string[]>(f.registry, "listed", 3n, 2n))]).toEqual([]);
    expect([...(await read<string[]>(f.registry, "listed", 0n, 100n))]).toEqual([
      a.address,
      b.address,
      c.address,
    ]);

    const receipt = await send(f.registry, a, "clearServiceInfo");
    expect(events(f, receipt)).toEqual([["ServiceInfoCleared", a.address]]);
    expect([...(await read<string[]>(f.registry, "listed", 0n, 10n))]).toEqual([
      c.address,
      b.address,
    ]);
    expect(await info(f, a.address)).toMatchObject({ peerId: "", peerIdSignature: "0x" });
    await send(f.registry, c, "clearServiceInfo");
    expect([...(await read<string[]>(f.registry, "listed", 0n, 10n))]).toEqual([b.address]);
    await expectRevert(
      fn(f.registry, "clearServiceInfo", a)(),
      f.registry,
      "OrchestratorRegistryNotListed",
      [a.address],
    );
    await expectRevert(
      fn(f.registry, "listedAt", a)(1n),
      f.registry,
      "OrchestratorRegistryIndexOutOfBounds",
      [1n, 1n],
    );
    // A cleared orchestrator may publish again; it is listed at the end.
    await send(f.registry, a, "setServiceInfo", "peer-0", ADDRS, "", SIG);
    expect([...(await read<string[]>(f.registry, "listed", 0n, 10n))]).toEqual([
      b.address,
      a.address,
    ]);
  });

  it("accepts only orchestrators in the active set, and lets nobody block a peer id", async () => {
    const f = await loadSystem(conn);
    const [a, b, stranger, waiting] = [account(f, 0), account(f, 1), account(f, 2), account(f, 3)];
    await expectRevert(
      fn(f.registry, "setServiceInfo", stranger)("p", ADDRS, "", SIG),
      f.registry,
      "OrchestratorRegistryNotActive",
      [stranger.address],
    );
    await seat(f, a, b);
    // Registered and bonded this round: seated only from the next, so not yet.
    await registerOrchestrator(f, waiting, 1_000n * TOKEN);
    await expectRevert(
      fn(f.registry, "setServiceInfo", waiting)("p", ADDRS, "", SIG),
      f.registry,
      "OrchestratorRegistryNotActive",
      [waiting.address],
    );
    // A squatter publishing a's peer id first does not stop a from publishing it with its proof.
    const peer = await newPeer();
    await send(f.registry, b, "setServiceInfo", peer.peerId, ADDRS, "", SIG);
    const digest = getBytes(await read<string>(f.registry, "peerIdClaimDigest", a.address));
    const proof = hexlify(await signPeerIdClaim(peer.key, digest));
    await send(f.registry, a, "setServiceInfo", peer.peerId, ADDRS, "", proof);
    expect((await info(f, a.address)).peerId).toBe(peer.peerId);
    expect((await info(f, b.address)).peerId).toBe(peer.peerId);
  });

  it("caps every length", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    await seat(f, orch);
    const PEER_A = (await newPeer()).peerId;
    const setWith = fn(f.registry, "setServiceInfo", orch);
    const set = (peerId: string, addrs: readonly (string | undefined)[], metadata: string) =>
      setWith(peerId, addrs, metadata, SIG);
    const R = f.registry;
    await expectRevert(set("", ADDRS, ""), R, "OrchestratorRegistryInvalidPeerId", [0n, 128n]);
    await expectRevert(set("p".repeat(129), ADDRS, ""), R, "OrchestratorRegistryInvalidPeerId", [
      129n,
      128n,
    ]);
    await send(f.registry, orch, "setServiceInfo", "p".repeat(128), ADDRS, "", SIG);
    await expectRevert(set(PEER_A, [], ""), R, "OrchestratorRegistryInvalidMultiaddrCount", [
      0n,
      8n,
    ]);
    await expectRevert(
      set(PEER_A, Array(9).fill(ADDRS[0]), ""),
      R,
      "OrchestratorRegistryInvalidMultiaddrCount",
      [9n, 8n],
    );
    await expectRevert(set(PEER_A, [ADDRS[0], ""], ""), R, "OrchestratorRegistryInvalidMultiaddr", [
      1n,
      0n,
      256n,
    ]);
    await expectRevert(
      set(PEER_A, ["m".repeat(257)], ""),
      R,
      "OrchestratorRegistryInvalidMultiaddr",
      [0n, 257n, 256n],
    );
    await expectRevert(
      set(PEER_A, ADDRS, "x".repeat(1025)),
      R,
      "OrchestratorRegistryMetadataTooLong",
      [1025n, 1024n],
    );
    await send(
      f.registry,
      orch,
      "setServiceInfo",
      PEER_A,
      Array(8).fill("m".repeat(256)),
      "x".repeat(1024),
      `0x${"ab".repeat(128)}`,
    );
    await expectRevert(
      setWith(PEER_A, ADDRS, "", "0x"),
      R,
      "OrchestratorRegistryInvalidPeerIdSignature",
      [0n, 128n],
    );
    await expectRevert(
      setWith(PEER_A, ADDRS, "", `0x${"ab".repeat(129)}`),
      R,
      "OrchestratorRegistryInvalidPeerIdSignature",
      [129n, 128n],
    );
    expect(await read(f.registry, "MAX_PEER_ID_LENGTH")).toBe(128n);
    expect(await read(f.registry, "MAX_MULTIADDRS")).toBe(8n);
    expect(await read(f.registry, "MAX_MULTIADDR_LENGTH")).toBe(256n);
    expect(await read(f.registry, "MAX_METADATA_LENGTH")).toBe(1024n);
    expect(await read(f.registry, "MAX_PEER_ID_SIGNATURE_LENGTH")).toBe(128n);
  });

  it("checks its BondingManager address", async () => {
    const f = await loadSystem(conn);
    expect(await read(f.registry, "bondingManager")).toBe(f.deployment.contracts.BondingManager);
    const factory = await conn.ethers.getContractFactory("OrchestratorRegistry");
    await expectRevert(
      factory.deploy(ZeroAddress),
      factory,
      "OrchestratorRegistryInvalidAddress",
      [],
    );
  });
});
