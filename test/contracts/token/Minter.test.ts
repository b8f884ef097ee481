import { ZeroAddress } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { type Connection, connect, expectRevert, fn, read, send } from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

/** A Minter whose "BondingManager" is a plain account, so tests can call mintReward directly. */
async function standalone() {
  const [owner, bonding, other] = await conn.ethers.getSigners();
  if (owner === undefined || bonding === undefined || other === undefined)
    throw new Error("signers");
  const token = await conn.ethers.deployContract("Token", [owner.address, 0n]);
  const minter = await conn.ethers.deployContract("Minter", [
    owner.address,
    token,
    bonding.address,
    1000n,
  ]);
  await send(token, owner, "setMinter", await minter.getAddress());
  return { owner, bonding, other, token, minter };
}

describe("Minter", () => {
  it("rejects zero addresses at construction", async () => {
    const [owner] = await conn.ethers.getSigners();
    if (owner === undefined) throw new Error("signers");
    const factory = await conn.ethers.getContractFactory("Minter");
    await expectRevert(
      factory.deploy(owner.address, conn.ethers.ZeroAddress, owner.address, 1n),
      factory,
      "MinterInvalidAddress",
      [],
    );
    await expectRevert(
      factory.deploy(owner.address, owner.address, conn.ethers.ZeroAddress, 1n),
      factory,
      "MinterInvalidAddress",
      [],
    );
  });

  it("exposes its wiring and inflation", async () => {
    const { minter, token, bonding } = await standalone();
    expect(await read(minter, "token")).toBe(await token.getAddress());
    expect(await read(minter, "bondingManager")).toBe(bonding.address);
    expect(await read(minter, "inflationPerRound")).toBe(1000n);
    expect(await read(minter, "mintableInRound", 5n)).toBe(1000n);
  });

  it("mints shares of a round's inflation, never more than the round's amount", async () => {
    const { minter, token, bonding } = await standalone();
    const first = await fn(minter, "mintReward", bonding).staticCall(3n, 1n, 4n);
    expect(first).toBe(250n);
    const receipt = await send(minter, bonding, "mintReward", 3n, 1n, 4n);
    // The mint shows as the token's Transfer from the zero address (no Minter event of its own).
    const mints = receipt.logs
      .map((l) => token.interface.parseLog(l))
      .filter((e) => e?.name === "Transfer")
      .map((e) => e?.args.toArray());
    expect(mints).toEqual([[ZeroAddress, bonding.address, 250n]]);
    expect(await read(token, "balanceOf", bonding.address)).toBe(250n);
    expect(await read(minter, "mintableInRound", 3n)).toBe(750n);
    // Asking for more than is left is capped at what is left.
    await send(minter, bonding, "mintReward", 3n, 1n, 1n);
    expect(await read(token, "balanceOf", bonding.address)).toBe(1000n);
    expect(await read(minter, "mintableInRound", 3n)).toBe(0n);
    expect(await fn(minter, "mintReward", bonding).staticCall(3n, 1n, 1n)).toBe(0n);
    // A new round starts afresh.
    await send(minter, bonding, "mintReward", 4n, 1n, 2n);
    expect(await read(token, "balanceOf", bonding.address)).toBe(1500n);
  });

  it("applies an inflation change from the next round that mints", async () => {
    const { minter, owner, bonding, token } = await standalone();
    await send(minter, bonding, "mintReward", 1n, 1n, 2n);
    const receipt = await send(minter, owner, "setInflationPerRound", 4000n);
    expect(receipt.logs.map((l) => minter.interface.parseLog(l)?.name)).toContain(
      "InflationPerRoundUpdated",
    );
    expect(await read(minter, "inflationPerRound")).toBe(4000n);
    await send(minter, bonding, "mintReward", 1n, 1n, 2n);
    expect(await read(token, "balanceOf", bonding.address)).toBe(1000n);
    await send(minter, bonding, "mintReward", 2n, 1n, 2n);
    expect(await read(token, "balanceOf", bonding.address)).toBe(3000n);
  });

  it("lets only the BondingManager mint and only the owner set inflation", async () => {
    const { minter, other, bonding } = await standalone();
    await expectRevert(
      fn(minter, "mintReward", other)(1n, 1n, 1n),
      minter,
      "MinterUnauthorizedCaller",
      [other.address],
    );
    await expectRevert(
      fn(minter, "mintReward", bonding)(1n, 1n, 0n),
      minter,
      "MinterInvalidFraction",
      [1n, 0n],
    );
    await expectRevert(
      fn(minter, "setInflationPerRound", other)(1n),
      minter,
      "OwnableUnauthorizedAccount",
      [other.address],
    );
    await expectRevert(
      fn(minter, "setInflationPerRound", bonding)(1n),
      minter,
      "OwnableUnauthorizedAccount",
      [bonding.address],
    );
  });

  it("rejects inflation that does not fit in 104 bits", async () => {
    const { minter, owner } = await standalone();
    await expectRevert(
      fn(minter, "setInflationPerRound", owner)(1n << 104n),
      minter,
      "SafeCastOverflowedUintDowncast",
      [104n, 1n << 104n],
    );
  });
});
