import { ZeroAddress } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  account,
  type Connection,
  connect,
  expectRevert,
  fn,
  loadSystem,
  read,
  send,
  TEST_PARAMS,
  TOKEN,
} from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

describe("Token", () => {
  it("has its name, symbol and the initial allocation at the deployer", async () => {
    const f = await loadSystem(conn);
    expect(await read(f.token, "name")).toBe("Segmint Token");
    expect(await read(f.token, "symbol")).toBe("SGM");
    expect(await read(f.token, "decimals")).toBe(18n);
    expect(await read(f.token, "totalSupply")).toBe(TEST_PARAMS.initialSupply);
    // deploySystem handed 8 accounts 100,000 SGM each.
    expect(await read(f.token, "balanceOf", f.deployer.address)).toBe(
      TEST_PARAMS.initialSupply - 800_000n * TOKEN,
    );
    expect(await read(f.token, "minter")).toBe(f.deployment.contracts.Minter);
    expect(await read(f.token, "owner")).toBe(f.deployer.address);
  });

  it("lets only the Minter mint", async () => {
    const f = await loadSystem(conn);
    const alice = account(f, 0);
    await expectRevert(
      fn(f.token, "mint", alice)(alice.address, 1n),
      f.token,
      "TokenUnauthorizedMinter",
      [alice.address],
    );
    await expectRevert(
      fn(f.token, "mint", f.deployer)(alice.address, 1n),
      f.token,
      "TokenUnauthorizedMinter",
      [f.deployer.address],
    );
  });

  it("sets the Minter only once, only by the owner, never to zero", async () => {
    const conn2 = await connect();
    const [owner, other] = await conn2.ethers.getSigners();
    if (owner === undefined || other === undefined) throw new Error("signers");
    const token = await conn2.ethers.deployContract("Token", [owner.address, 1000n]);
    await expectRevert(
      fn(token, "setMinter", other)(other.address),
      token,
      "OwnableUnauthorizedAccount",
      [other.address],
    );
    await expectRevert(fn(token, "setMinter", owner)(ZeroAddress), token, "TokenInvalidMinter", [
      ZeroAddress,
    ]);
    const receipt = await send(token, owner, "setMinter", other.address);
    expect(receipt.logs.map((l) => token.interface.parseLog(l)?.name)).toContain("MinterSet");
    await expectRevert(
      fn(token, "setMinter", owner)(owner.address),
      token,
      "TokenMinterAlreadySet",
      [other.address],
    );
    await send(token, other, "mint", owner.address, 5n);
    expect(await read(token, "totalSupply")).toBe(1005n);
  });

  it("accepts an ERC-2612 permit", async () => {
    const f = await loadSystem(conn);
    const alice = account(f, 0);
    const bob = account(f, 1);
    const { chainId } = await conn.ethers.provider.getNetwork();
    const nonce = await read<bigint>(f.token, "nonces", alice.address);
    const deadline = 2n ** 40n;
    const signature = await alice.signTypedData(
      {
        name: "Segmint Token",
        version: "1",
        chainId,
        verifyingContract: f.deployment.contracts.Token,
      },
      {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      },
      { owner: alice.address, spender: bob.address, value: 7n, nonce, deadline },
    );
    const sig = conn.ethers.Signature.from(signature);
    await send(
      f.token,
      bob,
      "permit",
      alice.address,
      bob.address,
      7n,
      deadline,
      sig.v,
      sig.r,
      sig.s,
    );
    expect(await read(f.token, "allowance", alice.address, bob.address)).toBe(7n);
  });
});
