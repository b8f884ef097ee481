import { beforeAll, describe, expect, it } from "vitest";
import {
  account,
  advanceRounds,
  type Connection,
  connect,
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
} from "./helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

/** Sum of every account's stake, unbonding locks and fees, against what the contracts hold. */
async function audit(
  f: Fixture,
  accounts: ReturnType<typeof account>[],
  senders: ReturnType<typeof account>[],
) {
  let stakes = 0n;
  let locks = 0n;
  let fees = 0n;
  for (const a of accounts) {
    stakes += await read<bigint>(f.bonding, "pendingStake", a.address);
    fees += await read<bigint>(f.bonding, "pendingFees", a.address);
    const info = await read<{ nextUnbondingLockId: bigint }>(f.bonding, "delegatorInfo", a.address);
    for (let id = 0n; id < info.nextUnbondingLockId; id++) {
      const [amount] = await read<[bigint, bigint]>(f.bonding, "unbondingLock", a.address, id);
      locks += amount;
    }
  }
  let funds = 0n;
  for (const s of senders) {
    const info = await read<{ deposit: bigint; reserve: bigint }>(
      f.broker,
      "getSenderInfo",
      s.address,
    );
    funds += info.deposit + info.reserve;
  }
  return {
    bondingHeld: await read<bigint>(f.token, "balanceOf", f.deployment.contracts.BondingManager),
    bondingOwed: stakes + locks,
    brokerHeld: await read<bigint>(f.token, "balanceOf", f.deployment.contracts.TicketBroker),
    brokerOwed: funds + fees,
  };
}

async function expectSolvent(
  f: Fixture,
  accounts: ReturnType<typeof account>[],
  senders: ReturnType<typeof account>[],
): Promise<void> {
  const a = await audit(f, accounts, senders);
  expect(a.bondingHeld).toBeGreaterThanOrEqual(a.bondingOwed);
  expect(a.bondingHeld - a.bondingOwed).toBeLessThan(100n);
  expect(a.brokerHeld).toBeGreaterThanOrEqual(a.brokerOwed);
  expect(a.brokerHeld - a.brokerOwed).toBeLessThan(100n);
}

describe("accounting across a full cycle", () => {
  it("never owes more than it holds, and loses no more than rounding dust", async () => {
    const f = await loadSystem(conn);
    const [o1, o2, d1, d2, d3, s1, s2] = [0, 1, 2, 4, 5, 3, 6].map((i) =>
      account(f, i),
    ) as ReturnType<typeof account>[];
    if (!o1 || !o2 || !d1 || !d2 || !d3 || !s1 || !s2) throw new Error("accounts");
    const stakers = [o1, o2, d1, d2, d3];
    const senders = [s1, s2];
    await registerOrchestrator(f, o1, 3_000n * TOKEN, 150_000n, 700_000n);
    await registerOrchestrator(f, o2, 1_234n * TOKEN, 50_000n, 300_000n);
    await send(f.bonding, d1, "bond", 777n * TOKEN + 13n, o1.address);
    await send(f.bonding, d2, "bond", 101n * TOKEN + 7n, o2.address);
    await send(f.broker, s1, "fundDepositAndReserve", 50n * TOKEN, 30n * TOKEN);
    await send(f.broker, s2, "fundDeposit", 9n * TOKEN + 3n);
    let nonce = 0n;
    for (let round = 0; round < 4; round++) {
      await advanceRounds(f);
      await send(f.bonding, o1, "reward");
      await send(f.bonding, o2, "reward");
      for (const [sender, recipient, face] of [
        [s1, o1, 7n * TOKEN + 1n],
        [s2, o2, 3n * TOKEN + 5n],
        [s1, o2, 11n * TOKEN],
      ] as const) {
        const t = await makeTicket(f, sender, recipient.address, {
          faceValue: face,
          senderNonce: ++nonce,
        });
        await send(f.broker, sender, "redeemWinningTicket", t.ticket, t.sig, t.recipientRand);
      }
      if (round === 1) {
        await send(f.bonding, d3, "bond", 55n * TOKEN, o1.address);
        await send(f.bonding, d1, "unbond", 100n * TOKEN + 1n);
        await send(f.bonding, d2, "bond", 0n, o1.address);
        await send(f.bonding, o1, "claimEarnings");
      }
      if (round === 2) {
        await send(f.bonding, d1, "rebond", 0n);
        // Settles d3's fees, which then wait the unlock period (withdrawn after the loop).
        await send(f.bonding, d3, "claimEarnings");
        await send(f.bonding, o2, "unbond", 34n * TOKEN);
      }
      await expectSolvent(f, stakers, senders);
    }
    await advanceRounds(f, TEST_PARAMS.unlockPeriod);
    const { withdrawable } = await read<{ withdrawable: bigint }>(
      f.bonding,
      "feeBalance",
      d3.address,
    );
    expect(withdrawable).toBeGreaterThan(0n);
    await send(f.bonding, d3, "withdrawFees", d3.address, withdrawable);
    await expectSolvent(f, stakers, senders);
    // Supply grew by the four rounds' inflation, less each orchestrator's share rounded down.
    const minted = (await read<bigint>(f.token, "totalSupply")) - 10_000_000n * TOKEN;
    expect(minted).toBeLessThanOrEqual(4_000n * TOKEN);
    expect(4_000n * TOKEN - minted).toBeLessThan(8n);
  });
});

describe("ownership", () => {
  it("moves in two steps", async () => {
    const f = await loadSystem(conn);
    const next = account(f, 1);
    await send(f.bonding, f.deployer, "transferOwnership", next.address);
    expect(await read(f.bonding, "owner")).toBe(f.deployer.address);
    expect(await read(f.bonding, "pendingOwner")).toBe(next.address);
    await expectRevert(
      fn(f.bonding, "acceptOwnership", account(f, 2))(),
      f.bonding,
      "OwnableUnauthorizedAccount",
      [account(f, 2).address],
    );
    await send(f.bonding, next, "acceptOwnership");
    expect(await read(f.bonding, "owner")).toBe(next.address);
    await expectRevert(
      fn(f.bonding, "setUnbondingPeriod", f.deployer)(3n),
      f.bonding,
      "OwnableUnauthorizedAccount",
      [f.deployer.address],
    );
  });
});
