import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { network } from "hardhat";
import { describe, expect, it, onTestFinished } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { ChainRegistryReader } from "../../../node/src/p2p/registry-reader.ts";

const newPeerId = async () => peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();

describe("ChainRegistryReader on a real Hardhat chain", () => {
  it("lists active orchestrators with their service info and answers owner/active lookups", async () => {
    const connection = await network.connect();
    onTestFinished(() => connection.close());
    const { ethers, networkHelpers } = connection;
    const [owner, active, inactive] = await ethers.getSigners();
    if (owner === undefined || active === undefined || inactive === undefined)
      throw new Error("no signers");
    const roundLength = 5n;
    const token = await ethers.deployContract("Token", [owner.address, 10n ** 24n]);
    const rounds = await ethers.deployContract("RoundsManager", [owner.address, roundLength]);
    const bonding = await ethers.deployContract("BondingManager", [
      owner.address,
      await token.getAddress(),
      await rounds.getAddress(),
      2n,
      10n,
    ]);
    const registry = await ethers.deployContract("OrchestratorRegistry", [
      await bonding.getAddress(),
    ]);

    const stake = 10n ** 21n;
    const activePeer = await newPeerId();
    const inactivePeer = await newPeerId();
    for (const [signer, peerId, bonded] of [
      [active, activePeer, true],
      [inactive, inactivePeer, false],
    ] as const) {
      await (await token.getFunction("transfer")(signer.address, stake)).wait();
      await (
        await bonding.connect(signer).getFunction("setOrchestratorParams")(100_000n, 500_000n)
      ).wait();
      if (bonded) {
        await (
          await token.connect(signer).getFunction("approve")(await bonding.getAddress(), stake)
        ).wait();
        await (await bonding.connect(signer).getFunction("bond")(stake, signer.address)).wait();
      }
      await (
        await registry.connect(signer).getFunction("setServiceInfo")(
          peerId,
          ["/ip4/127.0.0.1/tcp/4001", "/dns4/orch.example/tcp/4001"],
          "{}",
        )
      ).wait();
    }
    // Stake counts from the next round on.
    await networkHelpers.mine(Number(roundLength) * 2);

    const reader = ChainRegistryReader.connect(
      ethers.provider,
      {
        orchestratorRegistry: await registry.getAddress(),
        bondingManager: await bonding.getAddress(),
      },
      silentLogger(),
    );
    expect(await reader.listOrchestrators()).toEqual([
      {
        address: active.address,
        peerId: activePeer,
        multiaddrs: ["/ip4/127.0.0.1/tcp/4001", "/dns4/orch.example/tcp/4001"],
      },
    ]);
    expect(await reader.ownerOfPeerId(activePeer)).toBe(active.address);
    expect(await reader.ownerOfPeerId(inactivePeer)).toBe(inactive.address);
    expect(await reader.ownerOfPeerId(await newPeerId())).toBeNull();
    expect(await reader.isActive(active.address)).toBe(true);
    expect(await reader.isActive(inactive.address)).toBe(false);
  });
});
