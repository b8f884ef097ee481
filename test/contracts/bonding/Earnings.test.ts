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
  makeTicket,
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

const INFLATION = TEST_PARAMS.inflationPerRound;

/** Orchestrator (10% reward cut, 50% fee share) with 1,000 self-bonded; Alice 1,000 and Bob 2,000 delegated. */
async function pool(f: Fixture) {
  const [orch, alice, bob, broadcaster] = [
    account(f, 0),
    account(f, 1),
    account(f, 2),
    account(f, 3),
  ];
  await registerOrchestrator(f, orch, 1_000n * TOKEN, 100_000n, 500_000n);
  await send(f.bonding, alice, "bond", 1_000n * TOKEN, orch.address);
  await send(f.bonding, bob, "bond", 2_000n * TOKEN, orch.address);
  return { orch, alice, bob, broadcaster };
}

async function redeem(
  f: Fixture,
  sender: ReturnType<typeof account>,
  recipient: string,
  faceValue: bigint,
  nonce: bigint,
) {
  const t = await makeTicket(f, sender, recipient, { faceValue, senderNonce: nonce });
  return send(f.broker, sender, "redeemWinningTicket", t.ticket, t.sig, t.recipientRand);
}

describe("BondingManager: reward", () => {
  it("mints the orchestrator's share of inflation and compounds it into every delegator's stake", async () => {
    const f = await loadSystem(conn);
    const { orch, alice, bob } = await pool(f);
    await expectRevert(
      fn(f.bonding, "reward", orch)(),
      f.bonding,
      "BondingManagerOrchestratorNotActive",
      [orch.address, await currentRound(f)],
    );
    await advanceRounds(f);
    const round = await currentRound(f);
    // reward() needs no initialized round and initializes none: the round comes from the block.
    expect(await read(f.rounds, "currentRoundInitialized")).toBe(false);
    const receipt = await send(f.bonding, orch, "reward");
    expect(await read(f.rounds, "currentRoundInitialized")).toBe(false);
    const rewarded = receipt.logs
      .map((l) => f.bonding.interface.parseLog(l))
      .find((e) => e?.name === "Rewarded")
      ?.args.toArray();
    // Sole active orchestrator: the whole round's inflation; 10% cut.
    expect(rewarded).toEqual([orch.address, round, INFLATION, INFLATION / 10n]);
    expect(await read(f.bonding, "orchestratorTotalStake", orch.address)).toBe(
      4_000n * TOKEN + INFLATION,
    );
    // 900 for delegators by stake: 1/4, 1/4, 1/2.
    expect(await read(f.bonding, "pendingStake", alice.address)).toBe(1_225n * TOKEN);
    expect(await read(f.bonding, "pendingStake", bob.address)).toBe(2_450n * TOKEN);
    expect(
      1_325n * TOKEN - (await read<bigint>(f.bonding, "pendingStake", orch.address)),
    ).toBeLessThanOrEqual(1n);
    const info = await read<{ lastRewardRound: bigint; cutStake: bigint }>(
      f.bonding,
      "getOrchestrator",
      orch.address,
    );
    expect([info.lastRewardRound, info.cutStake]).toEqual([round, 100n * TOKEN]);
    expect(await read(f.token, "balanceOf", f.deployment.contracts.BondingManager)).toBe(
      4_000n * TOKEN + INFLATION,
    );

    await expectRevert(
      fn(f.bonding, "reward", orch)(),
      f.bonding,
      "BondingManagerRewardAlreadyCalled",
      [orch.address, round],
    );
    // Claiming turns the orchestrator's cut into shares exactly as pendingStake predicted.
    const predicted = await read<bigint>(f.bonding, "pendingStake", orch.address);
    await send(f.bonding, orch, "claimEarnings");
    expect(await read(f.bonding, "pendingStake", orch.address)).toBe(predicted);
    expect(await read(f.bonding, "pendingStake", alice.address)).toBe(1_225n * TOKEN);
    // Withdrawing everything leaves no more than rounding dust in the contract.
    await send(
      f.bonding,
      alice,
      "unbond",
      await read<bigint>(f.bonding, "pendingStake", alice.address),
    );
    await send(
      f.bonding,
      bob,
      "unbond",
      await read<bigint>(f.bonding, "pendingStake", bob.address),
    );
    await send(
      f.bonding,
      orch,
      "unbond",
      await read<bigint>(f.bonding, "pendingStake", orch.address),
    );
    expect(await read(f.bonding, "orchestratorTotalStake", orch.address)).toBe(0n);
  });

  it("lets an orchestrator unbond exactly its pending stake before claiming its cut", async () => {
    const f = await loadSystem(conn);
    const { orch, alice } = await pool(f);
    await advanceRounds(f);
    await send(f.bonding, orch, "reward");
    await send(f.bonding, alice, "bond", 3n * TOKEN + 1n, orch.address);
    await advanceRounds(f);
    await send(f.bonding, orch, "reward");
    await send(
      f.bonding,
      orch,
      "unbond",
      await read<bigint>(f.bonding, "pendingStake", orch.address),
    );
    expect(await read(f.bonding, "pendingStake", orch.address)).toBe(0n);
  });

  it("gives no seat to an orchestrator below the minimum self-stake, whatever is delegated", async () => {
    const f = await loadSystem(conn);
    const [orch, alice] = [account(f, 0), account(f, 1)];
    await registerOrchestrator(f, orch, TEST_PARAMS.minSelfStake - 1n, 0n, 500_000n);
    await send(f.bonding, alice, "bond", 1_000n * TOKEN, orch.address);
    await advanceRounds(f);
    expect(await read(f.bonding, "isActiveOrchestrator", orch.address)).toBe(false);
    await expectRevert(
      fn(f.bonding, "reward", orch)(),
      f.bonding,
      "BondingManagerOrchestratorNotActive",
      [orch.address, await currentRound(f)],
    );
    // Topping the self-stake up to the minimum takes a free seat from the next round.
    await send(f.bonding, orch, "bond", 1n, orch.address);
    const info = await read<{ eligible: boolean; inNextActiveSet: boolean }>(
      f.bonding,
      "getOrchestrator",
      orch.address,
    );
    expect([info.eligible, info.inNextActiveSet]).toEqual([true, true]);
    await advanceRounds(f);
    await send(f.bonding, orch, "reward");
    // Unbonding below the minimum gives the seat up from the next round.
    const selfStake = await read<bigint>(f.bonding, "pendingStake", orch.address);
    await send(f.bonding, orch, "unbond", selfStake - TEST_PARAMS.minSelfStake + 1n);
    expect(await read(f.bonding, "isActiveOrchestrator", orch.address)).toBe(true);
    await advanceRounds(f);
    expect(await read(f.bonding, "isActiveOrchestrator", orch.address)).toBe(false);
  });

  it("splits inflation between active orchestrators by their stake at the round's start", async () => {
    const f = await loadSystem(conn);
    const [o1, o2] = [account(f, 0), account(f, 1)];
    await registerOrchestrator(f, o1, 1_000n * TOKEN, 0n, 0n);
    await registerOrchestrator(f, o2, 3_000n * TOKEN, 0n, 0n);
    await advanceRounds(f);
    // Stake added during the round counts from the next round only.
    await send(f.bonding, o1, "bond", 4_000n * TOKEN, o1.address);
    expect(await read(f.bonding, "totalActiveStake")).toBe(4_000n * TOKEN);
    expect(await read(f.bonding, "nextRoundTotalActiveStake")).toBe(8_000n * TOKEN);
    await send(f.bonding, o1, "reward");
    await send(f.bonding, o2, "reward");
    expect(await read(f.bonding, "orchestratorTotalStake", o1.address)).toBe(
      5_000n * TOKEN + INFLATION / 4n,
    );
    expect(await read(f.bonding, "orchestratorTotalStake", o2.address)).toBe(
      3_000n * TOKEN + (INFLATION * 3n) / 4n,
    );
    expect(await read(f.minter, "mintableInRound", await currentRound(f))).toBe(0n);
  });

  it("costs the same gas whatever the number of delegators", async () => {
    const f = await loadSystem(conn);
    const [few, many] = [account(f, 0), account(f, 1)];
    await registerOrchestrator(f, few, 1_000n * TOKEN);
    await registerOrchestrator(f, many, 1_000n * TOKEN);
    await send(f.bonding, account(f, 2), "bond", 10n * TOKEN, few.address);
    for (const i of [3, 4, 5, 6, 7])
      await send(f.bonding, account(f, i), "bond", 10n * TOKEN, many.address);
    await advanceRounds(f);
    await send(f.rounds, f.deployer, "initializeRound");
    // Round 1: both pay first-reward costs. Round 2 compares steady state.
    await send(f.bonding, few, "reward");
    await send(f.bonding, many, "reward");
    await advanceRounds(f);
    await send(f.rounds, f.deployer, "initializeRound");
    const a = await send(f.bonding, few, "reward");
    const b = await send(f.bonding, many, "reward");
    // The first reward of a round rolls the Minter's round over, so compare like with like:
    // swap the order next round; 1 and 5 delegators must then cost exactly the same.
    await advanceRounds(f);
    await send(f.rounds, f.deployer, "initializeRound");
    const c = await send(f.bonding, many, "reward");
    const d = await send(f.bonding, few, "reward");
    expect(c.gasUsed).toBe(a.gasUsed);
    expect(d.gasUsed).toBe(b.gasUsed);
  });
});

describe("BondingManager: fees", () => {
  it("shares fees by fee share and stake, and pays them out from the TicketBroker", async () => {
    const f = await loadSystem(conn);
    const { orch, alice, bob, broadcaster } = await pool(f);
    await send(f.broker, broadcaster, "fundDeposit", 100n * TOKEN);
    // Stake earns fees from the round after it was bonded.
    await advanceRounds(f);
    await send(f.rounds, broadcaster, "initializeRound");
    await redeem(f, broadcaster, orch.address, 10n * TOKEN, 1n);
    // 5 to delegators by shares (1/4, 1/4, 1/2), 5 to the orchestrator's cut.
    expect(await read(f.bonding, "pendingFees", alice.address)).toBe((5n * TOKEN) / 4n);
    expect(await read(f.bonding, "pendingFees", bob.address)).toBe((5n * TOKEN) / 2n);
    expect(await read(f.bonding, "pendingFees", orch.address)).toBe((5n * TOKEN) / 4n + 5n * TOKEN);

    // A claim settles; later fees add up on top.
    const claim = await send(f.bonding, alice, "claimEarnings");
    const claimed = claim.logs
      .map((l) => f.bonding.interface.parseLog(l))
      .find((e) => e?.name === "EarningsClaimed");
    expect(claimed?.args.toArray()).toEqual([alice.address, (5n * TOKEN) / 4n]);
    await redeem(f, broadcaster, orch.address, 20n * TOKEN, 2n);
    expect(await read(f.bonding, "pendingFees", alice.address)).toBe((15n * TOKEN) / 4n);

    // Settled fees wait the unlock period before they can be withdrawn.
    await send(f.bonding, alice, "claimEarnings");
    await send(f.bonding, orch, "claimEarnings");
    const round = await read<bigint>(f.rounds, "currentRound");
    await expectRevert(
      fn(f.bonding, "withdrawFees", alice)(alice.address, 3n * TOKEN),
      f.bonding,
      "BondingManagerFeesLocked",
      [3n * TOKEN, 0n, round + BigInt(TEST_PARAMS.unlockPeriod)],
    );
    await advanceRounds(f, TEST_PARAMS.unlockPeriod);

    const carol = account(f, 4);
    const before = await read<bigint>(f.token, "balanceOf", carol.address);
    const receipt = await send(f.bonding, alice, "withdrawFees", carol.address, 3n * TOKEN);
    const withdrawn = receipt.logs
      .map((l) => f.bonding.interface.parseLog(l))
      .find((e) => e?.name === "FeesWithdrawn");
    expect(withdrawn?.args.toArray()).toEqual([alice.address, carol.address, 3n * TOKEN]);
    expect(await read(f.token, "balanceOf", carol.address)).toBe(before + 3n * TOKEN);
    expect(await read(f.bonding, "pendingFees", alice.address)).toBe((3n * TOKEN) / 4n);
    await expectRevert(
      fn(f.bonding, "withdrawFees", alice)(alice.address, TOKEN),
      f.bonding,
      "BondingManagerInsufficientFees",
      [TOKEN, (3n * TOKEN) / 4n],
    );
    // The orchestrator's cuts (5 + 10) and its quarter of the delegators' halves (1.25 + 2.5).
    const orchFees = await read<bigint>(f.bonding, "pendingFees", orch.address);
    expect(orchFees).toBe(15n * TOKEN + (30n * TOKEN) / 8n);
    await send(f.bonding, orch, "withdrawFees", orch.address, orchFees);
    expect(await read(f.bonding, "pendingFees", orch.address)).toBe(0n);
  });

  it("keeps a delegator's fees when it moves, unbonds or rebonds", async () => {
    const f = await loadSystem(conn);
    const { orch, alice, broadcaster } = await pool(f);
    const other = account(f, 5);
    await registerOrchestrator(f, other, 1_000n * TOKEN);
    await send(f.broker, broadcaster, "fundDeposit", 100n * TOKEN);
    // Tickets pay only an orchestrator seated in their creation round, and stake earns fees
    // from the round after it was bonded.
    await advanceRounds(f);
    await redeem(f, broadcaster, orch.address, 8n * TOKEN, 1n);
    expect(await read(f.bonding, "pendingFees", alice.address)).toBe(TOKEN);
    await send(f.bonding, alice, "bond", 0n, other.address);
    expect(await read(f.bonding, "pendingFees", alice.address)).toBe(TOKEN);
    // Fees of the old pool no longer reach Alice.
    await redeem(f, broadcaster, orch.address, 8n * TOKEN, 2n);
    expect(await read(f.bonding, "pendingFees", alice.address)).toBe(TOKEN);
    await send(f.bonding, alice, "unbond", 500n * TOKEN);
    await send(f.bonding, alice, "rebond", 0n);
    const info = await read<{ fees: bigint; stake: bigint; delegate: string }>(
      f.bonding,
      "delegatorInfo",
      alice.address,
    );
    expect([info.fees, info.stake, info.delegate]).toEqual([TOKEN, 1_000n * TOKEN, other.address]);
  });

  it("gives all fees to the orchestrator when its pool has no shares", async () => {
    const f = await loadSystem(conn);
    const [orch, broadcaster] = [account(f, 0), account(f, 3)];
    await registerOrchestrator(f, orch, 1_000n * TOKEN);
    await send(f.broker, broadcaster, "fundDeposit", 100n * TOKEN);
    // Seated from the next round; unbonding all its stake then empties the pool of shares but
    // keeps the seat for the rest of that round, so its tickets still pay.
    await advanceRounds(f);
    await send(f.bonding, orch, "unbond", 1_000n * TOKEN);
    const info = await read<{ totalShares: bigint; active: boolean }>(
      f.bonding,
      "getOrchestrator",
      orch.address,
    );
    expect([info.totalShares, info.active]).toEqual([0n, true]);
    await redeem(f, broadcaster, orch.address, 4n * TOKEN, 1n);
    expect(await read(f.bonding, "pendingFees", orch.address)).toBe(4n * TOKEN);
  });

  it("rejects a bond too small to buy a share once the share price has grown", async () => {
    const f = await loadSystem(conn);
    const { orch, alice } = await pool(f);
    await advanceRounds(f);
    await send(f.bonding, orch, "reward");
    await expectRevert(
      fn(f.bonding, "bond", alice)(1n, orch.address),
      f.bonding,
      "BondingManagerAmountTooSmall",
      [1n],
    );
  });
});
