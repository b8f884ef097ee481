import { beforeAll, describe, expect, it } from "vitest";
import {
  account,
  advanceRounds,
  type Connection,
  connect,
  deploySystem,
  makeTicket,
  send,
  TEST_PARAMS,
  TOKEN,
} from "./helpers.ts";

// Gas is deterministic, so the targets are asserted here as regressions guards (the
// full table is scripts/gas.ts's job). SEGMINT_PRINT_GAS=1 prints what was measured as JSON on
// stderr; SEGMINT_GAS_FULL_SET=1 adds the worst case of entering a full 100-member active set.
let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

describe("gas on a fresh deployment", () => {
  it("meets the targets: redeem from deposit <= 100k, bond <= 150k, reward <= 150k", async () => {
    const f = await deploySystem(conn, { ...TEST_PARAMS, maxActiveSetSize: 100 });
    const [orch, o2, del, bc] = [account(f, 0), account(f, 1), account(f, 2), account(f, 3)];
    const gas: Record<string, bigint> = {};
    const measure = async (name: string, receipt: Promise<{ gasUsed: bigint }>) => {
      gas[name] = (await receipt).gasUsed;
    };
    await measure(
      "setOrchestratorParams",
      send(f.bonding, orch, "setOrchestratorParams", 100_000n, 500_000n),
    );
    await measure("bondSelfFirst", send(f.bonding, orch, "bond", 10_000n * TOKEN, orch.address));
    await send(f.bonding, o2, "setOrchestratorParams", 100_000n, 500_000n);
    await measure(
      "bondSelfSecondOrchestrator",
      send(f.bonding, o2, "bond", 5_000n * TOKEN, o2.address),
    );
    await measure("bond", send(f.bonding, del, "bond", 1_000n * TOKEN, orch.address));
    await measure("bondMore", send(f.bonding, del, "bond", 1_000n * TOKEN, orch.address));
    await measure("unbond", send(f.bonding, del, "unbond", 100n * TOKEN));
    await send(f.bonding, del, "unbond", 100n * TOKEN);
    await measure("rebond", send(f.bonding, del, "rebond", 1n));
    await measure(
      "fundDepositAndReserve",
      send(f.broker, bc, "fundDepositAndReserve", 10n * TOKEN, 1_000n * TOKEN),
    );
    await advanceRounds(f);
    await measure("rewardFirstOfRound", send(f.bonding, orch, "reward"));
    await measure("reward", send(f.bonding, o2, "reward"));
    const t1 = await makeTicket(f, bc, orch.address, { senderNonce: 1n, faceValue: TOKEN });
    await measure(
      "redeemWinningTicket",
      send(f.broker, bc, "redeemWinningTicket", t1.ticket, t1.sig, t1.recipientRand),
    );
    const t2 = await makeTicket(f, bc, orch.address, { senderNonce: 2n, faceValue: 20n * TOKEN });
    await measure(
      "redeemWinningTicketFromReserve",
      send(f.broker, bc, "redeemWinningTicket", t2.ticket, t2.sig, t2.recipientRand),
    );
    await send(f.broker, bc, "fundDeposit", 100n * TOKEN);
    const batch = [];
    for (let i = 0n; i < 10n; i++) {
      batch.push(
        await makeTicket(f, bc, orch.address, { senderNonce: 100n + i, faceValue: TOKEN }),
      );
    }
    const receipt = await send(
      f.broker,
      bc,
      "batchRedeemWinningTickets",
      batch.map((b) => b.ticket),
      batch.map((b) => b.sig),
      batch.map((b) => b.recipientRand),
    );
    gas.batchRedeemWinningTicketsPerTicket = receipt.gasUsed / 10n;
    await measure("claimEarnings", send(f.bonding, del, "claimEarnings"));
    // Settled fees wait the unlock period.
    await advanceRounds(f, TEST_PARAMS.unlockPeriod);
    await measure("withdrawFees", send(f.bonding, del, "withdrawFees", del.address, 1n));
    await advanceRounds(f, TEST_PARAMS.unbondingPeriod);
    await measure("withdrawStake", send(f.bonding, del, "withdrawStake", 0n));
    await measure("unlock", send(f.broker, bc, "unlock"));
    await advanceRounds(f, TEST_PARAMS.unlockPeriod);
    await measure("withdraw", send(f.broker, bc, "withdraw"));

    if (process.env.SEGMINT_GAS_FULL_SET === "1") {
      for (let i = 0n; i < 98n; i++) {
        const w = conn.ethers.Wallet.createRandom().connect(conn.ethers.provider);
        await (await f.deployer.sendTransaction({ to: w.address, value: 10n ** 18n })).wait();
        await send(f.token, f.deployer, "transfer", w.address, 200n * TOKEN);
        await send(f.token, w, "approve", f.deployment.contracts.BondingManager, 10n ** 30n);
        await send(f.bonding, w, "setOrchestratorParams", 0n, 0n);
        await send(f.bonding, w, "bond", 100n * TOKEN + i, w.address);
      }
      const newcomer = account(f, 5);
      await send(f.bonding, newcomer, "setOrchestratorParams", 0n, 0n);
      await measure(
        "bondEnteringFullSetOf100",
        send(f.bonding, newcomer, "bond", 150n * TOKEN, newcomer.address),
      );
    }
    if (process.env.SEGMINT_PRINT_GAS === "1") {
      process.stderr.write(
        `${JSON.stringify(Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, Number(v)])))}\n`,
      );
    }
    expect(gas.redeemWinningTicket).toBeLessThanOrEqual(100_000n);
    expect(gas.bond).toBeLessThanOrEqual(150_000n);
    expect(gas.bondSelfFirst).toBeLessThanOrEqual(150_000n);
    expect(gas.rewardFirstOfRound).toBeLessThanOrEqual(150_000n);
  }, 300_000);
});
