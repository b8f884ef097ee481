import { NonceManager, Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import SegmintModule from "../../../ignition/modules/Segmint.ts";
import {
  connectContracts,
  defaultDeployParams,
  deploySegmint,
} from "../../../node/src/chain/deploy.ts";
import type { SegmintError } from "../../../node/src/errors.ts";
import { type Connection, connect, TEST_PARAMS } from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

async function caught(action: () => Promise<unknown>): Promise<SegmintError> {
  try {
    await action();
  } catch (error) {
    return error as SegmintError;
  }
  throw new Error("expected an error");
}

describe("deploySegmint", () => {
  it("deploys, wires and parameterizes every contract, from a NonceManager wallet", async () => {
    const [funder] = await conn.ethers.getSigners();
    if (funder === undefined) throw new Error("signers");
    const wallet = Wallet.createRandom().connect(conn.ethers.provider);
    await (await funder.sendTransaction({ to: wallet.address, value: 10n ** 19n })).wait();
    const signer = new NonceManager(wallet);
    const firstBlock = (await conn.ethers.provider.getBlockNumber()) + 1;
    const deployment = await deploySegmint(signer, TEST_PARAMS);

    const { chainId } = await conn.ethers.provider.getNetwork();
    expect(deployment.chainId).toBe(Number(chainId));
    expect(deployment.deployer).toBe(wallet.address);
    expect(deployment.deploymentBlock).toBe(firstBlock);
    expect(deployment.params).toEqual(TEST_PARAMS);
    for (const address of Object.values(deployment.contracts)) {
      expect(await conn.ethers.provider.getCode(address)).not.toBe("0x");
    }
    const c = await connectContracts(deployment, conn.ethers.provider);
    expect(await c.Token.balanceOf(wallet.address)).toBe(TEST_PARAMS.initialSupply);
    expect(await c.Token.minter()).toBe(deployment.contracts.Minter);
    expect(await c.Token.owner()).toBe(wallet.address);
    expect(await c.RoundsManager.roundLength()).toBe(BigInt(TEST_PARAMS.roundLength));
    expect(await c.BondingManager.unbondingPeriod()).toBe(BigInt(TEST_PARAMS.unbondingPeriod));
    expect(await c.BondingManager.maxActiveSetSize()).toBe(BigInt(TEST_PARAMS.maxActiveSetSize));
    expect(await c.BondingManager.minter()).toBe(deployment.contracts.Minter);
    expect(await c.BondingManager.ticketBroker()).toBe(deployment.contracts.TicketBroker);
    expect(await c.Minter.inflationPerRound()).toBe(TEST_PARAMS.inflationPerRound);
    expect(await c.Minter.bondingManager()).toBe(deployment.contracts.BondingManager);
    expect(await c.TicketBroker.unlockPeriod()).toBe(BigInt(TEST_PARAMS.unlockPeriod));
    expect(await c.TicketBroker.ticketValidityRounds()).toBe(
      BigInt(TEST_PARAMS.ticketValidityRounds),
    );
    expect(await c.TicketBroker.bondingManager()).toBe(deployment.contracts.BondingManager);
    expect(await c.OrchestratorRegistry.bondingManager()).toBe(deployment.contracts.BondingManager);
  });

  it("refuses bad parameters before sending anything", async () => {
    const [signer] = await conn.ethers.getSigners();
    if (signer === undefined) throw new Error("signers");
    const nonce = await signer.getNonce();
    const error = await caught(() =>
      deploySegmint(signer, { ...TEST_PARAMS, maxActiveSetSize: 0 }),
    );
    expect(error.code).toBe("DEPLOY_PARAMS_INVALID");
    expect(await signer.getNonce()).toBe(nonce);
  });

  it("says so when the deployer cannot pay", async () => {
    const broke = Wallet.createRandom().connect(conn.ethers.provider);
    const error = await caught(() => deploySegmint(broke, TEST_PARAMS));
    expect(error.code).toBe("DEPLOY_INSUFFICIENT_FUNDS");
  });

  it("needs a signer connected to a chain", async () => {
    const error = await caught(() => deploySegmint(Wallet.createRandom(), TEST_PARAMS));
    expect(error.code).toBe("DEPLOY_NO_PROVIDER");
  });
});

describe("Ignition module", () => {
  it("deploys and wires the same system", async () => {
    const { token, roundsManager, bondingManager, minter, ticketBroker, orchestratorRegistry } =
      await conn.ignition.deploy(SegmintModule, {
        parameters: { Segmint: { roundLength: 33, maxActiveSetSize: 7 } },
      });
    const [deployer] = await conn.ethers.getSigners();
    const address = async (c: { getAddress(): Promise<string> }) => c.getAddress();
    expect(await token.getFunction("minter")()).toBe(await address(minter));
    expect(await token.getFunction("balanceOf")(deployer?.address)).toBe(
      defaultDeployParams.initialSupply,
    );
    expect(await roundsManager.getFunction("roundLength")()).toBe(33n);
    expect(await bondingManager.getFunction("maxActiveSetSize")()).toBe(7n);
    expect(await bondingManager.getFunction("minter")()).toBe(await address(minter));
    expect(await bondingManager.getFunction("ticketBroker")()).toBe(await address(ticketBroker));
    expect(await minter.getFunction("inflationPerRound")()).toBe(
      defaultDeployParams.inflationPerRound,
    );
    expect(await ticketBroker.getFunction("bondingManager")()).toBe(await address(bondingManager));
    expect(await orchestratorRegistry.getFunction("bondingManager")()).toBe(
      await address(bondingManager),
    );
  });
});
