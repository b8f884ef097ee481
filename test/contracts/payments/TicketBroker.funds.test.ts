import { ZeroAddress } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  account,
  advanceRounds,
  type Connection,
  connect,
  currentRound,
  expectRevert,
  type Fixture,
  fn,
  loadSystem,
  parseEvents,
  type ReceiptLogs,
  read,
  send,
  TEST_PARAMS,
  TOKEN,
} from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

function events(f: Fixture, receipt: ReceiptLogs) {
  return parseEvents(f.broker, receipt).map((e) => [e.name, ...e.args.toArray()]);
}

interface SenderInfo {
  deposit: bigint;
  reserve: bigint;
  withdrawRound: bigint;
  reserveClaimedInCurrentRound: bigint;
}

describe("TicketBroker: deposit and reserve", () => {
  it("funds a deposit, a reserve, or both with one transfer", async () => {
    const f = await loadSystem(conn);
    const sender = account(f, 3);
    const start = await read<bigint>(f.token, "balanceOf", sender.address);
    expect(events(f, await send(f.broker, sender, "fundDeposit", 10n * TOKEN))).toEqual([
      ["DepositFunded", sender.address, 10n * TOKEN, 10n * TOKEN],
    ]);
    expect(events(f, await send(f.broker, sender, "fundReserve", 20n * TOKEN))).toEqual([
      ["ReserveFunded", sender.address, 20n * TOKEN, 20n * TOKEN],
    ]);
    expect(
      events(f, await send(f.broker, sender, "fundDepositAndReserve", 1n * TOKEN, 2n * TOKEN)),
    ).toEqual([
      ["DepositFunded", sender.address, 1n * TOKEN, 11n * TOKEN],
      ["ReserveFunded", sender.address, 2n * TOKEN, 22n * TOKEN],
    ]);
    const info = await read<SenderInfo>(f.broker, "getSenderInfo", sender.address);
    expect([
      info.deposit,
      info.reserve,
      info.withdrawRound,
      info.reserveClaimedInCurrentRound,
    ]).toEqual([11n * TOKEN, 22n * TOKEN, 0n, 0n]);
    expect(await read(f.token, "balanceOf", sender.address)).toBe(start - 33n * TOKEN);
    expect(await read(f.token, "balanceOf", f.deployment.contracts.TicketBroker)).toBe(33n * TOKEN);
  });

  it("rejects zero amounts and missing approval", async () => {
    const f = await loadSystem(conn);
    const sender = account(f, 3);
    await expectRevert(
      fn(f.broker, "fundDeposit", sender)(0n),
      f.broker,
      "TicketBrokerZeroAmount",
      [],
    );
    await expectRevert(
      fn(f.broker, "fundReserve", sender)(0n),
      f.broker,
      "TicketBrokerZeroAmount",
      [],
    );
    await expectRevert(
      fn(f.broker, "fundDepositAndReserve", sender)(0n, 0n),
      f.broker,
      "TicketBrokerZeroAmount",
      [],
    );
    const stranger = account(f, 10);
    await expectRevert(
      fn(f.broker, "fundDeposit", stranger)(1n),
      f.token,
      "ERC20InsufficientAllowance",
      [f.deployment.contracts.TicketBroker, 0n, 1n],
    );
  });

  it("unlocks, cancels and withdraws after the unlock period", async () => {
    const f = await loadSystem(conn);
    const sender = account(f, 3);
    await expectRevert(
      fn(f.broker, "unlock", sender)(),
      f.broker,
      "TicketBrokerEmptyDepositAndReserve",
      [sender.address],
    );
    await expectRevert(
      fn(f.broker, "withdraw", sender)(),
      f.broker,
      "TicketBrokerEmptyDepositAndReserve",
      [sender.address],
    );
    await send(f.broker, sender, "fundDepositAndReserve", 5n * TOKEN, 7n * TOKEN);
    await expectRevert(fn(f.broker, "withdraw", sender)(), f.broker, "TicketBrokerNotUnlocking", [
      sender.address,
    ]);
    await expectRevert(
      fn(f.broker, "cancelUnlock", sender)(),
      f.broker,
      "TicketBrokerNotUnlocking",
      [sender.address],
    );

    const round = await currentRound(f);
    const withdrawRound = round + BigInt(TEST_PARAMS.unlockPeriod);
    expect(events(f, await send(f.broker, sender, "unlock"))).toEqual([
      ["UnlockStarted", sender.address, withdrawRound],
    ]);
    expect(await read(f.broker, "isUnlockInProgress", sender.address)).toBe(true);
    expect((await read<SenderInfo>(f.broker, "getSenderInfo", sender.address)).withdrawRound).toBe(
      withdrawRound,
    );
    await expectRevert(fn(f.broker, "unlock", sender)(), f.broker, "TicketBrokerAlreadyUnlocking", [
      sender.address,
      withdrawRound,
    ]);
    await expectRevert(
      fn(f.broker, "withdraw", sender)(),
      f.broker,
      "TicketBrokerUnlockPeriodNotOver",
      [sender.address, withdrawRound, round],
    );
    expect(events(f, await send(f.broker, sender, "cancelUnlock"))).toEqual([
      ["UnlockCancelled", sender.address],
    ]);
    expect(await read(f.broker, "isUnlockInProgress", sender.address)).toBe(false);

    await send(f.broker, sender, "unlock");
    await advanceRounds(f, TEST_PARAMS.unlockPeriod);
    const before = await read<bigint>(f.token, "balanceOf", sender.address);
    expect(events(f, await send(f.broker, sender, "withdraw"))).toEqual([
      ["Withdrawn", sender.address, 5n * TOKEN, 7n * TOKEN],
    ]);
    expect(await read(f.token, "balanceOf", sender.address)).toBe(before + 12n * TOKEN);
    const info = await read<SenderInfo>(f.broker, "getSenderInfo", sender.address);
    expect([info.deposit, info.reserve, info.withdrawRound]).toEqual([0n, 0n, 0n]);
    expect(await read(f.broker, "isUnlockInProgress", sender.address)).toBe(false);
  });
});

describe("TicketBroker: parameters", () => {
  it("sets the unlock period and ticket validity within bounds, owner only", async () => {
    const f = await loadSystem(conn);
    const other = account(f, 1);
    expect(await read(f.broker, "unlockPeriod")).toBe(BigInt(TEST_PARAMS.unlockPeriod));
    expect(await read(f.broker, "ticketValidityRounds")).toBe(
      BigInt(TEST_PARAMS.ticketValidityRounds),
    );
    expect(events(f, await send(f.broker, f.deployer, "setUnlockPeriod", 5n))).toEqual([
      ["UnlockPeriodUpdated", 5n],
    ]);
    expect(events(f, await send(f.broker, f.deployer, "setTicketValidityRounds", 4n))).toEqual([
      ["TicketValidityRoundsUpdated", 4n],
    ]);
    expect(await read(f.broker, "unlockPeriod")).toBe(5n);
    expect(await read(f.broker, "ticketValidityRounds")).toBe(4n);
    // The validity stays below the unlock period, whichever setter would break it.
    await expectRevert(
      fn(f.broker, "setTicketValidityRounds", f.deployer)(5n),
      f.broker,
      "TicketBrokerValidityNotBelowUnlockPeriod",
      [5n, 5n],
    );
    await expectRevert(
      fn(f.broker, "setUnlockPeriod", f.deployer)(4n),
      f.broker,
      "TicketBrokerValidityNotBelowUnlockPeriod",
      [4n, 4n],
    );
    for (const bad of [0n, 1n << 32n]) {
      await expectRevert(
        fn(f.broker, "setUnlockPeriod", f.deployer)(bad),
        f.broker,
        "TicketBrokerInvalidUnlockPeriod",
        [bad],
      );
      await expectRevert(
        fn(f.broker, "setTicketValidityRounds", f.deployer)(bad),
        f.broker,
        "TicketBrokerInvalidTicketValidity",
        [bad],
      );
    }
    await expectRevert(
      fn(f.broker, "setUnlockPeriod", other)(3n),
      f.broker,
      "OwnableUnauthorizedAccount",
      [other.address],
    );
    await expectRevert(
      fn(f.broker, "setTicketValidityRounds", other)(3n),
      f.broker,
      "OwnableUnauthorizedAccount",
      [other.address],
    );
  });

  it("exposes its wiring, checks constructor addresses and guards transferFees", async () => {
    const f = await loadSystem(conn);
    const { Token, RoundsManager, BondingManager } = f.deployment.contracts;
    expect(await read(f.broker, "token")).toBe(Token);
    expect(await read(f.broker, "roundsManager")).toBe(RoundsManager);
    expect(await read(f.broker, "bondingManager")).toBe(BondingManager);
    const other = account(f, 1);
    await expectRevert(
      fn(f.broker, "transferFees", other)(other.address, 1n),
      f.broker,
      "TicketBrokerUnauthorizedCaller",
      [other.address],
    );
    const factory = await conn.ethers.getContractFactory("TicketBroker");
    const owner = f.deployer.address;
    await expectRevert(
      factory.deploy(owner, ZeroAddress, RoundsManager, BondingManager, 1n, 1n),
      factory,
      "TicketBrokerInvalidAddress",
      [],
    );
    await expectRevert(
      factory.deploy(owner, Token, ZeroAddress, BondingManager, 1n, 1n),
      factory,
      "TicketBrokerInvalidAddress",
      [],
    );
    await expectRevert(
      factory.deploy(owner, Token, RoundsManager, ZeroAddress, 1n, 1n),
      factory,
      "TicketBrokerInvalidAddress",
      [],
    );
    await expectRevert(
      factory.deploy(owner, Token, RoundsManager, BondingManager, 0n, 1n),
      factory,
      "TicketBrokerInvalidUnlockPeriod",
      [0n],
    );
    await expectRevert(
      factory.deploy(owner, Token, RoundsManager, BondingManager, 1n, 0n),
      factory,
      "TicketBrokerInvalidTicketValidity",
      [0n],
    );
  });
});
