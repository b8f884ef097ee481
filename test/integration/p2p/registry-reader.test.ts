import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { network } from "hardhat";
import { describe, expect, it, onTestFinished } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { peerIdClaimDigest, signPeerIdClaim } from "../../../node/src/p2p/peer-claim.ts";
import { ChainRegistryReader } from "../../../node/src/p2p/registry-reader.ts";

const ADDRS = ["/ip4/127.0.0.1/tcp/4001", "/dns4/orch.example/tcp/4001"];

async function newPeer(): Promise<{ key: PrivateKey; peerId: string }> {
  const key = await generateKeyPair("Ed25519");
  return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

describe("ChainRegistryReader on a real Hardhat chain", () => {
  it("lists active orchestrators whose peer id is proven by its key, and ignores squatters", async () => {
    const connection = await network.connect();
    onTestFinished(() => connection.close());
    const { ethers, networkHelpers } = connection;
    const [owner, honest, squatter, leaver] = await ethers.getSigners();
    if (!owner || !honest || !squatter || !leaver) throw new Error("no signers");
    const roundLength = 5;
    const token = await ethers.deployContract("Token", [owner.address, 10n ** 24n]);
    const rounds = await ethers.deployContract("RoundsManager", [owner.address, roundLength]);
    const bonding = await ethers.deployContract("BondingManager", [
      owner.address,
      await token.getAddress(),
      await rounds.getAddress(),
      2n,
      10n,
      // Minimum self-stake per seat: 1 token, well under each orchestrator's bond below.
      10n ** 18n,
    ]);
    const registry = await ethers.deployContract("OrchestratorRegistry", [
      await bonding.getAddress(),
    ]);
    const registryAddress = await registry.getAddress();
    const { chainId } = await ethers.provider.getNetwork();

    const stake = 10n ** 21n;
    for (const signer of [honest, squatter, leaver]) {
      await (await token.getFunction("transfer")(signer.address, stake)).wait();
      const bm = bonding.connect(signer);
      await (await bm.getFunction("setOrchestratorParams")(100_000n, 500_000n)).wait();
      await (
        await token.connect(signer).getFunction("approve")(await bonding.getAddress(), stake)
      ).wait();
      await (await bm.getFunction("bond")(stake, signer.address)).wait();
    }
    // Seats count from the next round on; only seated orchestrators may publish.
    await networkHelpers.mine(roundLength * 2);

    const publish = async (
      signer: typeof honest,
      peerId: string,
      key: PrivateKey,
    ): Promise<void> => {
      const proof = await signPeerIdClaim(
        key,
        peerIdClaimDigest(signer.address, chainId, registryAddress),
      );
      await (
        await registry.connect(signer).getFunction("setServiceInfo")(peerId, ADDRS, "{}", proof)
      ).wait();
    };
    const honestPeer = await newPeer();
    const leaverPeer = await newPeer();
    // The squatter names the honest orchestrator's peer id, proven only by its own key.
    await publish(squatter, honestPeer.peerId, (await newPeer()).key);
    await publish(honest, honestPeer.peerId, honestPeer.key);
    await publish(leaver, leaverPeer.peerId, leaverPeer.key);
    // The leaver unbonds everything and is out of the set from the next round.
    await (await bonding.connect(leaver).getFunction("unbond")(stake)).wait();
    await networkHelpers.mine(roundLength * 2);

    const reader = ChainRegistryReader.connect(
      ethers.provider,
      { orchestratorRegistry: registryAddress, bondingManager: await bonding.getAddress() },
      silentLogger(),
    );
    expect(await reader.listOrchestrators()).toEqual([
      { address: honest.address, peerId: honestPeer.peerId, multiaddrs: ADDRS },
    ]);
    expect(await reader.provenPeerId(honest.address)).toBe(honestPeer.peerId);
    expect(await reader.provenPeerId(squatter.address)).toBeNull();
    expect(await reader.provenPeerId(leaver.address)).toBe(leaverPeer.peerId);
    expect(await reader.provenPeerId(owner.address)).toBeNull();
    expect(await reader.isActive(honest.address)).toBe(true);
    expect(await reader.isActive(leaver.address)).toBe(false);
  });
});
