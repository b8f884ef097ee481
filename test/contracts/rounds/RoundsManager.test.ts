import { beforeAll, describe, expect, it } from "vitest";
import { type Connection, connect, expectRevert, fn, read, send } from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

async function deployRounds(length: bigint) {
  const [owner, other] = await conn.ethers.getSigners();
  if (owner === undefined || other === undefined) throw new Error("signers");
  const rounds = await conn.ethers.deployContract("RoundsManager", [owner.address, length]);
  await rounds.waitForDeployment();
  return { owner, other, rounds };
}

async function blockNumber(): Promise<bigint> {
  return BigInt(await conn.ethers.provider.getBlockNumber());
}

describe("RoundsManager", () => {
  it("counts rounds as block.number / roundLength and initializes the deployment round", async () => {
    const { rounds } = await deployRounds(10n);
    const block = await blockNumber();
    const round = block / 10n;
    expect(await read(rounds, "roundLength")).toBe(10n);
    expect(await read(rounds, "currentRound")).toBe(round);
    expect(await read(rounds, "currentRoundStartBlock")).toBe(round * 10n);
    expect(await read(rounds, "currentRoundInitialized")).toBe(true);
    expect(await read(rounds, "lastInitializedRound")).toBe(round);
    expect(await read(rounds, "blockHashForRound", round)).not.toBe(conn.ethers.ZeroHash);
  });

  it("initializes a round lazily, once, storing the start block's hash", async () => {
    const { rounds, other } = await deployRounds(10n);
    const before = await read<bigint>(rounds, "currentRound");
    const start = (before + 1n) * 10n;
    await conn.networkHelpers.mine(start + 3n - (await blockNumber()));
    expect(await read(rounds, "currentRound")).toBe(before + 1n);
    expect(await read(rounds, "currentRoundInitialized")).toBe(false);
    expect(await read(rounds, "blockHashForRound", before + 1n)).toBe(conn.ethers.ZeroHash);
    const [current, hash] = await read<[bigint, string]>(
      rounds,
      "currentRoundAndBlockHash",
      before + 1n,
    );
    expect([current, hash]).toEqual([before + 1n, conn.ethers.ZeroHash]);

    const receipt = await send(rounds, other, "initializeRound");
    const startBlock = await conn.ethers.provider.getBlock(Number(start));
    const events = receipt.logs.map((l) => rounds.interface.parseLog(l)).filter((e) => e !== null);
    expect(events.map((e) => [e.name, e.args[0], e.args[1]])).toEqual([
      ["RoundInitialized", before + 1n, startBlock?.hash],
    ]);
    expect(await read(rounds, "blockHashForRound", before + 1n)).toBe(startBlock?.hash);
    expect(await read(rounds, "currentRoundInitialized")).toBe(true);
    expect(await read(rounds, "lastInitializedRound")).toBe(before + 1n);
    // Idempotent: a second call changes nothing and emits nothing.
    const again = await send(rounds, other, "initializeRound");
    expect(again.logs).toHaveLength(0);
  });

  it("falls back to the previous block's hash when the start block's is gone", async () => {
    const { rounds, other } = await deployRounds(300n);
    const round = await read<bigint>(rounds, "currentRound");
    await conn.networkHelpers.mine((round + 1n) * 300n + 280n - (await blockNumber()));
    const receipt = await send(rounds, other, "initializeRound");
    const previous = await conn.ethers.provider.getBlock(receipt.blockNumber - 1);
    expect(await read(rounds, "blockHashForRound", round + 1n)).toBe(previous?.hash);
  });

  it("applies a new round length from the next round, never renumbering", async () => {
    const { rounds, owner } = await deployRounds(10n);
    const round = await read<bigint>(rounds, "currentRound");
    const start = await read<bigint>(rounds, "currentRoundStartBlock");
    const receipt = await send(rounds, owner, "setRoundLength", 100n);
    const events = receipt.logs.map((l) => rounds.interface.parseLog(l)).filter((e) => e !== null);
    expect(events.map((e) => [e.name, e.args[0], e.args[1]])).toEqual([
      ["RoundLengthUpdated", round + 1n, 100n],
    ]);
    // The current round keeps its number, start and old length.
    expect(await read(rounds, "currentRound")).toBe(round);
    expect(await read(rounds, "currentRoundStartBlock")).toBe(start);
    await conn.networkHelpers.mine(start + 10n - (await blockNumber()));
    expect(await read(rounds, "currentRound")).toBe(round + 1n);
    expect(await read(rounds, "currentRoundStartBlock")).toBe(start + 10n);
    await conn.networkHelpers.mine(99n);
    expect(await read(rounds, "currentRound")).toBe(round + 1n);
    await conn.networkHelpers.mine(1n);
    expect(await read(rounds, "currentRound")).toBe(round + 2n);
    expect(await read(rounds, "currentRoundStartBlock")).toBe(start + 110n);
    await send(rounds, owner, "initializeRound");
    expect(await read(rounds, "blockHashForRound", round + 2n)).toBe(
      (await conn.ethers.provider.getBlock(Number(start + 110n)))?.hash,
    );
  });

  it("never jumps when the length is shortened mid-round, even twice", async () => {
    const { rounds, owner } = await deployRounds(20n);
    const round = await read<bigint>(rounds, "currentRound");
    const start = await read<bigint>(rounds, "currentRoundStartBlock");
    await conn.networkHelpers.mine(start + 13n - (await blockNumber()));
    await send(rounds, owner, "setRoundLength", 2n);
    expect(await read(rounds, "currentRound")).toBe(round);
    // A second change in the same round still waits for the same boundary.
    await send(rounds, owner, "setRoundLength", 3n);
    expect(await read(rounds, "currentRound")).toBe(round);
    expect(await read(rounds, "currentRoundStartBlock")).toBe(start);
    expect(await read(rounds, "roundLength")).toBe(3n);
    await conn.networkHelpers.mine(start + 20n - (await blockNumber()));
    expect(await read(rounds, "currentRound")).toBe(round + 1n);
    await conn.networkHelpers.mine(3n);
    expect(await read(rounds, "currentRound")).toBe(round + 2n);
    expect(await read(rounds, "currentRoundStartBlock")).toBe(start + 23n);
  });

  it("rejects a bad round length and a non-owner", async () => {
    const { rounds, owner, other } = await deployRounds(10n);
    await expectRevert(
      fn(rounds, "setRoundLength", owner)(0n),
      rounds,
      "RoundsManagerInvalidRoundLength",
      [0n],
    );
    await expectRevert(
      fn(rounds, "setRoundLength", owner)(1n << 32n),
      rounds,
      "RoundsManagerInvalidRoundLength",
      [1n << 32n],
    );
    await expectRevert(
      fn(rounds, "setRoundLength", other)(5n),
      rounds,
      "OwnableUnauthorizedAccount",
      [other.address],
    );
    const factory = await conn.ethers.getContractFactory("RoundsManager");
    await expectRevert(
      factory.deploy(owner.address, 0n),
      factory,
      "RoundsManagerInvalidRoundLength",
      [0n],
    );
  });
});
