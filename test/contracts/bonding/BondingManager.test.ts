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
  PPM,
  parseEvents,
  type ReceiptLogs,
  read,
  registerOrchestrator,
  send,
  TEST_PARAMS,
  TOKEN,
} from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

function eventsOf(f: Fixture, receipt: ReceiptLogs) {
  return parseEvents(f.bonding, receipt);
}

describe("BondingManager: registration", () => {
  it("registers an orchestrator with its reward cut and fee share", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    const receipt = await send(f.bonding, orch, "setOrchestratorParams", 100_000n, 250_000n);
    const round = await currentRound(f);
    // On registration the values are in force at once.
    expect(eventsOf(f, receipt).map((e) => [e.name, ...e.args])).toEqual([
      ["OrchestratorUpdated", orch.address, 100_000n, 250_000n, round],
    ]);
    expect(await read(f.bonding, "isRegisteredOrchestrator", orch.address)).toBe(true);
    const info = await read<{
      registered: boolean;
      rewardCut: bigint;
      feeShare: bigint;
      lastRewardRound: bigint;
    }>(f.bonding, "getOrchestrator", orch.address);
    expect([info.registered, info.rewardCut, info.feeShare]).toEqual([true, 100_000n, 250_000n]);
    expect(info.lastRewardRound).toBe((1n << 256n) - 1n);
    const delegator = await read<{ delegate: string }>(f.bonding, "delegatorInfo", orch.address);
    expect(delegator.delegate).toBe(orch.address);
    // Updating keeps the registration and changes the values from the next round on.
    const update = await send(f.bonding, orch, "setOrchestratorParams", PPM, 0n);
    expect(eventsOf(f, update).map((e) => [e.name, ...e.args])).toEqual([
      ["OrchestratorUpdated", orch.address, PPM, 0n, round + 1n],
    ]);
    type Params = {
      rewardCut: bigint;
      feeShare: bigint;
      nextRewardCut: bigint;
      nextFeeShare: bigint;
    };
    const pending = await read<Params>(f.bonding, "getOrchestrator", orch.address);
    expect([
      pending.rewardCut,
      pending.feeShare,
      pending.nextRewardCut,
      pending.nextFeeShare,
    ]).toEqual([100_000n, 250_000n, PPM, 0n]);
    await advanceRounds(f);
    const updated = await read<Params>(f.bonding, "getOrchestrator", orch.address);
    expect([updated.rewardCut, updated.feeShare]).toEqual([PPM, 0n]);
  });

  it("rejects fractions above 100%", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    await expectRevert(
      fn(f.bonding, "setOrchestratorParams", orch)(PPM + 1n, 0n),
      f.bonding,
      "BondingManagerInvalidFraction",
      [PPM + 1n],
    );
    await expectRevert(
      fn(f.bonding, "setOrchestratorParams", orch)(0n, PPM + 1n),
      f.bonding,
      "BondingManagerInvalidFraction",
      [PPM + 1n],
    );
  });

  it("refuses to register an account that delegates elsewhere, until it unbonds", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    const alice = account(f, 1);
    await registerOrchestrator(f, orch, 1_000n * TOKEN);
    await send(f.bonding, alice, "bond", 10n * TOKEN, orch.address);
    await expectRevert(
      fn(f.bonding, "setOrchestratorParams", alice)(0n, 0n),
      f.bonding,
      "BondingManagerDelegatedElsewhere",
      [alice.address, orch.address],
    );
    await send(f.bonding, alice, "unbond", 10n * TOKEN);
    await send(f.bonding, alice, "setOrchestratorParams", 0n, 0n);
    expect(await read(f.bonding, "isRegisteredOrchestrator", alice.address)).toBe(true);
  });
});

describe("BondingManager: bonding", () => {
  it("self-bonds and delegates, moving tokens and stake", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    const alice = account(f, 1);
    await send(f.bonding, orch, "setOrchestratorParams", 0n, 0n);
    const selfBond = await send(f.bonding, orch, "bond", 1_000n * TOKEN, orch.address);
    expect(
      eventsOf(f, selfBond)
        .find((e) => e.name === "Bonded")
        ?.args.toArray(),
    ).toEqual([orch.address, orch.address, orch.address, 1_000n * TOKEN, 1_000n * TOKEN]);
    const balanceBefore = await read<bigint>(f.token, "balanceOf", alice.address);
    const receipt = await send(f.bonding, alice, "bond", 300n * TOKEN, orch.address);
    expect(
      eventsOf(f, receipt)
        .find((e) => e.name === "Bonded")
        ?.args.toArray(),
    ).toEqual([alice.address, orch.address, ZeroAddress, 300n * TOKEN, 300n * TOKEN]);
    expect(await read(f.token, "balanceOf", alice.address)).toBe(balanceBefore - 300n * TOKEN);
    expect(await read(f.token, "balanceOf", f.deployment.contracts.BondingManager)).toBe(
      1_300n * TOKEN,
    );
    expect(await read(f.bonding, "pendingStake", alice.address)).toBe(300n * TOKEN);
    expect(await read(f.bonding, "orchestratorTotalStake", orch.address)).toBe(1_300n * TOKEN);
    // Bonding more to the same orchestrator adds up.
    await send(f.bonding, alice, "bond", 200n * TOKEN, orch.address);
    expect(await read(f.bonding, "pendingStake", alice.address)).toBe(500n * TOKEN);
    const info = await read<{ delegate: string; shares: bigint; stake: bigint }>(
      f.bonding,
      "delegatorInfo",
      alice.address,
    );
    // Stake bonded this round holds no shares yet: it earns from the next round.
    expect([info.delegate, info.shares, info.stake]).toEqual([orch.address, 0n, 500n * TOKEN]);
    await advanceRounds(f);
    await send(f.bonding, alice, "claimEarnings");
    const later = await read<{ shares: bigint; stake: bigint }>(
      f.bonding,
      "delegatorInfo",
      alice.address,
    );
    expect([later.shares, later.stake]).toEqual([500n * TOKEN, 500n * TOKEN]);
  });

  it("moves a delegator's whole stake to a new orchestrator", async () => {
    const f = await loadSystem(conn);
    const [o1, o2, alice] = [account(f, 0), account(f, 1), account(f, 2)];
    await registerOrchestrator(f, o1, 1_000n * TOKEN);
    await registerOrchestrator(f, o2, 1_000n * TOKEN);
    await send(f.bonding, alice, "bond", 100n * TOKEN, o1.address);
    const receipt = await send(f.bonding, alice, "bond", 0n, o2.address);
    expect(
      eventsOf(f, receipt)
        .find((e) => e.name === "Bonded")
        ?.args.toArray(),
    ).toEqual([alice.address, o2.address, o1.address, 0n, 100n * TOKEN]);
    expect(await read(f.bonding, "orchestratorTotalStake", o1.address)).toBe(1_000n * TOKEN);
    expect(await read(f.bonding, "orchestratorTotalStake", o2.address)).toBe(1_100n * TOKEN);
    // Moving and adding at once.
    await send(f.bonding, alice, "bond", 50n * TOKEN, o1.address);
    expect(await read(f.bonding, "orchestratorTotalStake", o1.address)).toBe(1_150n * TOKEN);
    expect(await read(f.bonding, "orchestratorTotalStake", o2.address)).toBe(1_000n * TOKEN);
    expect(await read(f.bonding, "pendingStake", alice.address)).toBe(150n * TOKEN);
  });

  it("rejects bonds to non-orchestrators, orchestrators delegating, zero amounts and missing approval", async () => {
    const f = await loadSystem(conn);
    const [orch, other, alice] = [account(f, 0), account(f, 1), account(f, 2)];
    await registerOrchestrator(f, orch, 1_000n * TOKEN);
    await expectRevert(
      fn(f.bonding, "bond", alice)(1n, other.address),
      f.bonding,
      "BondingManagerNotOrchestrator",
      [other.address],
    );
    await registerOrchestrator(f, other, 0n);
    await expectRevert(
      fn(f.bonding, "bond", orch)(1n, other.address),
      f.bonding,
      "BondingManagerOrchestratorCannotDelegate",
      [orch.address, other.address],
    );
    await expectRevert(
      fn(f.bonding, "bond", alice)(0n, orch.address),
      f.bonding,
      "BondingManagerZeroAmount",
      [],
    );
    await send(f.bonding, alice, "bond", 1n * TOKEN, orch.address);
    await expectRevert(
      fn(f.bonding, "bond", alice)(0n, orch.address),
      f.bonding,
      "BondingManagerZeroAmount",
      [],
    );
    const stranger = account(f, 10);
    await send(f.token, f.deployer, "transfer", stranger.address, 5n * TOKEN);
    await expectRevert(
      fn(f.bonding, "bond", stranger)(5n * TOKEN, orch.address),
      f.token,
      "ERC20InsufficientAllowance",
      [f.deployment.contracts.BondingManager, 0n, 5n * TOKEN],
    );
  });
});

describe("BondingManager: unbonding", () => {
  it("unbonds into numbered locks, rebonds and withdraws after the unbonding period", async () => {
    const f = await loadSystem(conn);
    const [orch, alice] = [account(f, 0), account(f, 1)];
    await registerOrchestrator(f, orch, 1_000n * TOKEN);
    await send(f.bonding, alice, "bond", 100n * TOKEN, orch.address);
    const round = await currentRound(f);
    const withdrawRound = round + BigInt(TEST_PARAMS.unbondingPeriod);

    const r0 = await send(f.bonding, alice, "unbond", 30n * TOKEN);
    expect(
      eventsOf(f, r0)
        .find((e) => e.name === "Unbonded")
        ?.args.toArray(),
    ).toEqual([alice.address, orch.address, 0n, 30n * TOKEN, withdrawRound]);
    await send(f.bonding, alice, "unbond", 20n * TOKEN);
    expect(await read(f.bonding, "unbondingLock", alice.address, 0n)).toEqual([
      30n * TOKEN,
      withdrawRound,
    ]);
    expect(await read(f.bonding, "unbondingLock", alice.address, 1n)).toEqual([
      20n * TOKEN,
      withdrawRound,
    ]);
    expect(await read(f.bonding, "pendingStake", alice.address)).toBe(50n * TOKEN);
    expect(await read(f.bonding, "orchestratorTotalStake", orch.address)).toBe(1_050n * TOKEN);
    const info = await read<{ nextUnbondingLockId: bigint }>(
      f.bonding,
      "delegatorInfo",
      alice.address,
    );
    expect(info.nextUnbondingLockId).toBe(2n);

    const rebond = await send(f.bonding, alice, "rebond", 1n);
    expect(
      eventsOf(f, rebond)
        .find((e) => e.name === "Rebonded")
        ?.args.toArray(),
    ).toEqual([alice.address, orch.address, 1n, 20n * TOKEN]);
    expect(await read(f.bonding, "unbondingLock", alice.address, 1n)).toEqual([0n, 0n]);
    expect(await read(f.bonding, "pendingStake", alice.address)).toBe(70n * TOKEN);

    await expectRevert(
      fn(f.bonding, "withdrawStake", alice)(0n),
      f.bonding,
      "BondingManagerUnbondingLockNotWithdrawable",
      [0n, withdrawRound, round],
    );
    await advanceRounds(f, TEST_PARAMS.unbondingPeriod);
    const before = await read<bigint>(f.token, "balanceOf", alice.address);
    const withdrawn = await send(f.bonding, alice, "withdrawStake", 0n);
    expect(
      eventsOf(f, withdrawn)
        .find((e) => e.name === "StakeWithdrawn")
        ?.args.toArray(),
    ).toEqual([alice.address, 0n, 30n * TOKEN]);
    expect(await read(f.token, "balanceOf", alice.address)).toBe(before + 30n * TOKEN);
    await expectRevert(
      fn(f.bonding, "withdrawStake", alice)(0n),
      f.bonding,
      "BondingManagerUnknownUnbondingLock",
      [alice.address, 0n],
    );
    await expectRevert(
      fn(f.bonding, "rebond", alice)(0n),
      f.bonding,
      "BondingManagerUnknownUnbondingLock",
      [alice.address, 0n],
    );
  });

  it("rejects unbonding without stake, of zero, or of more than the stake", async () => {
    const f = await loadSystem(conn);
    const [orch, alice] = [account(f, 0), account(f, 1)];
    await registerOrchestrator(f, orch, 1_000n * TOKEN);
    await expectRevert(fn(f.bonding, "unbond", alice)(1n), f.bonding, "BondingManagerNotBonded", [
      alice.address,
    ]);
    await send(f.bonding, alice, "bond", 100n * TOKEN, orch.address);
    await expectRevert(
      fn(f.bonding, "unbond", alice)(0n),
      f.bonding,
      "BondingManagerZeroAmount",
      [],
    );
    await expectRevert(
      fn(f.bonding, "unbond", alice)(100n * TOKEN + 1n),
      f.bonding,
      "BondingManagerInsufficientStake",
      [100n * TOKEN + 1n, 100n * TOKEN],
    );
    // Fully unbonded: still delegated, but without stake.
    await send(f.bonding, alice, "unbond", 100n * TOKEN);
    await expectRevert(fn(f.bonding, "unbond", alice)(1n), f.bonding, "BondingManagerNotBonded", [
      alice.address,
    ]);
  });

  it("gives the last shareholder the whole pool", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    await registerOrchestrator(f, orch, 1_000n * TOKEN);
    await send(f.bonding, orch, "unbond", 1_000n * TOKEN);
    expect(await read(f.bonding, "orchestratorTotalStake", orch.address)).toBe(0n);
    expect(await read(f.bonding, "pendingStake", orch.address)).toBe(0n);
  });
});

describe("BondingManager: fees and claims", () => {
  it("rejects fee crediting by anyone but the TicketBroker", async () => {
    const f = await loadSystem(conn);
    const alice = account(f, 1);
    await expectRevert(
      fn(f.bonding, "updateOrchestratorWithFees", alice)(alice.address, 1n),
      f.bonding,
      "BondingManagerUnauthorizedCaller",
      [alice.address],
    );
  });

  it("rejects claims and withdrawals without earnings", async () => {
    const f = await loadSystem(conn);
    const [orch, alice] = [account(f, 0), account(f, 1)];
    await expectRevert(
      fn(f.bonding, "claimEarnings", alice)(),
      f.bonding,
      "BondingManagerNotBonded",
      [alice.address],
    );
    await expectRevert(
      fn(f.bonding, "withdrawFees", alice)(ZeroAddress, 1n),
      f.bonding,
      "BondingManagerInvalidAddress",
      [],
    );
    await expectRevert(
      fn(f.bonding, "withdrawFees", alice)(alice.address, 0n),
      f.bonding,
      "BondingManagerZeroAmount",
      [],
    );
    await expectRevert(
      fn(f.bonding, "withdrawFees", alice)(alice.address, 1n),
      f.bonding,
      "BondingManagerInsufficientFees",
      [1n, 0n],
    );
    await registerOrchestrator(f, orch, 1_000n * TOKEN);
    const receipt = await send(f.bonding, orch, "claimEarnings");
    expect(eventsOf(f, receipt).map((e) => [e.name, ...e.args])).toEqual([
      ["EarningsClaimed", orch.address, 0n],
    ]);
  });
});

describe("BondingManager: parameters and wiring", () => {
  it("sets the unbonding period and active set size within bounds, owner only", async () => {
    const f = await loadSystem(conn);
    const alice = account(f, 1);
    const r1 = await send(f.bonding, f.deployer, "setUnbondingPeriod", 9n);
    expect(eventsOf(f, r1).map((e) => [e.name, ...e.args])).toEqual([
      ["UnbondingPeriodUpdated", 9n],
    ]);
    expect(await read(f.bonding, "unbondingPeriod")).toBe(9n);
    await expectRevert(
      fn(f.bonding, "setUnbondingPeriod", f.deployer)(0n),
      f.bonding,
      "BondingManagerInvalidUnbondingPeriod",
      [0n],
    );
    await expectRevert(
      fn(f.bonding, "setUnbondingPeriod", f.deployer)(1n << 32n),
      f.bonding,
      "BondingManagerInvalidUnbondingPeriod",
      [1n << 32n],
    );
    await expectRevert(
      fn(f.bonding, "setUnbondingPeriod", alice)(3n),
      f.bonding,
      "OwnableUnauthorizedAccount",
      [alice.address],
    );

    const r2 = await send(f.bonding, f.deployer, "setMaxActiveSetSize", 100n);
    expect(eventsOf(f, r2).map((e) => [e.name, ...e.args])).toEqual([
      ["MaxActiveSetSizeUpdated", 100n],
    ]);
    expect(await read(f.bonding, "maxActiveSetSize")).toBe(100n);
    expect(await read(f.bonding, "MAX_ACTIVE_SET_SIZE")).toBe(100n);
    await expectRevert(
      fn(f.bonding, "setMaxActiveSetSize", f.deployer)(0n),
      f.bonding,
      "BondingManagerInvalidActiveSetSize",
      [0n, 0n],
    );
    await expectRevert(
      fn(f.bonding, "setMaxActiveSetSize", f.deployer)(101n),
      f.bonding,
      "BondingManagerInvalidActiveSetSize",
      [101n, 0n],
    );
    await registerOrchestrator(f, account(f, 0), 10n * TOKEN);
    await registerOrchestrator(f, account(f, 2), 10n * TOKEN);
    await expectRevert(
      fn(f.bonding, "setMaxActiveSetSize", f.deployer)(1n),
      f.bonding,
      "BondingManagerInvalidActiveSetSize",
      [1n, 2n],
    );
    await expectRevert(
      fn(f.bonding, "setMaxActiveSetSize", alice)(5n),
      f.bonding,
      "OwnableUnauthorizedAccount",
      [alice.address],
    );
  });

  it("is wired once with the Minter and TicketBroker", async () => {
    const f = await loadSystem(conn);
    expect(await read(f.bonding, "minter")).toBe(f.deployment.contracts.Minter);
    expect(await read(f.bonding, "ticketBroker")).toBe(f.deployment.contracts.TicketBroker);
    expect(await read(f.bonding, "token")).toBe(f.deployment.contracts.Token);
    expect(await read(f.bonding, "roundsManager")).toBe(f.deployment.contracts.RoundsManager);
    await expectRevert(
      fn(f.bonding, "setWiring", f.deployer)(f.deployer.address, f.deployer.address),
      f.bonding,
      "BondingManagerAlreadyWired",
      [],
    );
  });

  it("checks its constructor and wiring addresses, and needs wiring to reward", async () => {
    const f = await loadSystem(conn);
    const factory = await conn.ethers.getContractFactory("BondingManager");
    const owner = f.deployer.address;
    const { Token, RoundsManager } = f.deployment.contracts;
    await expectRevert(
      factory.deploy(owner, ZeroAddress, RoundsManager, 1n, 1n, 1n),
      factory,
      "BondingManagerInvalidAddress",
      [],
    );
    await expectRevert(
      factory.deploy(owner, Token, ZeroAddress, 1n, 1n, 1n),
      factory,
      "BondingManagerInvalidAddress",
      [],
    );
    await expectRevert(
      factory.deploy(owner, Token, RoundsManager, 0n, 1n, 1n),
      factory,
      "BondingManagerInvalidUnbondingPeriod",
      [0n],
    );
    await expectRevert(
      factory.deploy(owner, Token, RoundsManager, 1n, 0n, 1n),
      factory,
      "BondingManagerInvalidActiveSetSize",
      [0n, 0n],
    );
    await expectRevert(
      factory.deploy(owner, Token, RoundsManager, 1n, 1n, 0n),
      factory,
      "BondingManagerInvalidMinSelfStake",
      [0n],
    );
    const unwired = await factory.deploy(owner, Token, RoundsManager, 1n, 1n, TOKEN);
    expect(await read(unwired, "minSelfStake")).toBe(TOKEN);
    await unwired.waitForDeployment();
    await expectRevert(
      fn(unwired, "setWiring", f.deployer)(ZeroAddress, owner),
      unwired,
      "BondingManagerInvalidAddress",
      [],
    );
    await expectRevert(
      fn(unwired, "setWiring", f.deployer)(owner, ZeroAddress),
      unwired,
      "BondingManagerInvalidAddress",
      [],
    );
    await expectRevert(
      fn(unwired, "setWiring", account(f, 1))(owner, owner),
      unwired,
      "OwnableUnauthorizedAccount",
      [account(f, 1).address],
    );
    await expectRevert(fn(unwired, "reward", f.deployer)(), unwired, "BondingManagerNotWired", []);
  });
});
