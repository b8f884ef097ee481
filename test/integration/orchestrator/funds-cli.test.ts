import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.ts";
import { startTestChain, type TestChain, TOKEN } from "./helpers.ts";

describe("segmint stake / orchestrator-params / deposit / status on a real chain", () => {
  let t: TestChain;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    t = await startTestChain();
    env = {
      SEGMINT_RPC: t.chain.url,
      SEGMINT_DEPLOYMENT: t.deploymentFile,
      SEGMINT_PRIVATE_KEY: "",
    };
  });

  afterAll(async () => {
    await t?.close();
  });

  const cli = async (args: string[], key?: string) => {
    const result = await runCli(args, {
      env: { ...env, ...(key === undefined ? {} : { SEGMINT_PRIVATE_KEY: key }) },
    });
    return { ...result, json: () => JSON.parse(result.stdout) as Record<string, unknown> };
  };

  /** A failed command prints exactly one line, `error [CODE]: ...`, and exits 1. */
  const expectError = (result: { code: number | null; stderr: string }, code: string) => {
    expect(result.code).toBe(1);
    const lines = result.stderr
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("error"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`error [${code}]`);
  };

  it("registers, bonds, delegates, unbonds, withdraws and rebonds as it says", async () => {
    const orch = t.wallet(1);
    const delegator = t.wallet(2);
    await t.fund(orch.address, 1_000n * TOKEN);
    await t.fund(delegator.address, 1_000n * TOKEN);
    const token = t.as(0).token;
    const bm = t.as(0).bondingManager;

    // Bonding to self before registering is refused before any approval is sent.
    expectError(await cli(["stake", "bond", "1token"], t.key(1)), "NOT_ORCHESTRATOR");
    expect(await token.allowance(orch.address, t.deployment.contracts.BondingManager)).toBe(0n);

    const params = await cli(
      ["orchestrator-params", "--reward-cut", "100000", "--fee-share", "250000", "--json"],
      t.key(1),
    );
    expect(params.code).toBe(0);
    expect(params.json()).toMatchObject({ rewardCut: "100000", feeShare: "250000" });
    const info = await bm.getOrchestrator(orch.address);
    expect([info.registered, info.rewardCut, info.feeShare]).toEqual([true, 100_000n, 250_000n]);

    const bond = await cli(["stake", "bond", "100tokens"], t.key(1));
    expect(bond.code).toBe(0);
    expect(bond.stdout).toMatch(/^Bonded 100 SGM/);
    expect(await bm.pendingStake(orch.address)).toBe(100n * TOKEN);
    expect(await token.balanceOf(orch.address)).toBe(900n * TOKEN);

    const delegate = await cli(
      ["stake", "bond", (50n * TOKEN).toString(), "--to", orch.address, "--json"],
      t.key(2),
    );
    expect(delegate.code).toBe(0);
    expect(delegate.json()).toMatchObject({
      orchestrator: orch.address,
      stake: (50n * TOKEN).toString(),
    });
    expect((await bm.delegatorInfo(delegator.address)).delegate).toBe(orch.address);
    expect(await bm.orchestratorTotalStake(orch.address)).toBe(150n * TOKEN);

    const unbond = await cli(["stake", "unbond", "20tokens", "--json"], t.key(2));
    expect(unbond.code).toBe(0);
    expect(unbond.json()).toMatchObject({ lockId: "0", amount: (20n * TOKEN).toString() });
    expect(await bm.pendingStake(delegator.address)).toBe(30n * TOKEN);

    // Too early: the contract's reason, in one line, and no transaction.
    const early = await cli(["stake", "withdraw", "0"], t.key(2));
    expectError(early, "TX_REVERTED");
    expect(early.stderr).toContain("BondingManagerUnbondingLockNotWithdrawable");

    await t.mineRounds(2);
    const before = await token.balanceOf(delegator.address);
    expect((await cli(["stake", "withdraw", "0"], t.key(2))).code).toBe(0);
    expect(await token.balanceOf(delegator.address)).toBe(before + 20n * TOKEN);

    // A second lock, put back: the stake is whole again.
    const unbond2 = await cli(["stake", "unbond", "10tokens"], t.key(2));
    expect(unbond2.stdout).toContain("lock 1");
    expect((await cli(["stake", "rebond", "1"], t.key(2))).code).toBe(0);
    expect(await bm.pendingStake(delegator.address)).toBe(30n * TOKEN);

    // Bad input, each one line with its code.
    expectError(await cli(["stake", "bond", "1token", "--to", "0x12"], t.key(2)), "BAD_ADDRESS");
    expectError(
      await cli(["stake", "bond", "100000tokens", "--to", orch.address], t.key(2)),
      "INSUFFICIENT_TOKENS",
    );
    expectError(await cli(["stake", "unbond", "1token"]), "KEY_MISSING");
  });

  it("funds a deposit and reserve, unlocks, cancels, and withdraws exactly what was funded", async () => {
    const sender = t.wallet(3);
    await t.fund(sender.address, 100n * TOKEN);
    const token = t.as(0).token;
    const broker = t.as(0).ticketBroker;

    expectError(await cli(["deposit", "fund"], t.key(3)), "BAD_AMOUNT");
    const fund = await cli(
      ["deposit", "fund", "--deposit", "30tokens", "--reserve", "10tokens", "--json"],
      t.key(3),
    );
    expect(fund.code).toBe(0);
    expect(fund.json()).toMatchObject({
      deposit: (30n * TOKEN).toString(),
      reserve: (10n * TOKEN).toString(),
    });
    const funds = await broker.getSenderInfo(sender.address);
    expect([funds.deposit, funds.reserve]).toEqual([30n * TOKEN, 10n * TOKEN]);
    expect(await token.balanceOf(sender.address)).toBe(60n * TOKEN);

    const early = await cli(["deposit", "withdraw"], t.key(3));
    expectError(early, "TX_REVERTED");
    expect(early.stderr).toContain("TicketBrokerNotUnlocking");

    expect((await cli(["deposit", "unlock"], t.key(3))).code).toBe(0);
    expect((await broker.getSenderInfo(sender.address)).withdrawRound).not.toBe(0n);
    expect((await cli(["deposit", "cancel-unlock"], t.key(3))).code).toBe(0);
    expect((await broker.getSenderInfo(sender.address)).withdrawRound).toBe(0n);

    expect((await cli(["deposit", "unlock"], t.key(3))).code).toBe(0);
    await t.mineRounds(3); // the unlock period
    const withdraw = await cli(["deposit", "withdraw", "--json"], t.key(3));
    expect(withdraw.code).toBe(0);
    expect(await token.balanceOf(sender.address)).toBe(100n * TOKEN);
    const after = await broker.getSenderInfo(sender.address);
    expect([after.deposit, after.reserve, after.withdrawRound]).toEqual([0n, 0n, 0n]);
  });

  it("a new key gets tokens and ETH with documented commands; lacking gas is one line", async () => {
    const fresh = Wallet.createRandom();
    const other = t.wallet(4);
    // No ETH yet: the address and the shortfall, one line, nothing sent.
    const broke = await cli(["orchestrator-params"], fresh.privateKey);
    expectError(broke, "INSUFFICIENT_ETH");
    expect(broke.stderr).toContain(fresh.address);
    expect(broke.stderr).toMatch(/needs [0-9.]+ ETH more/);

    const faucet = await cli(["faucet", fresh.address, "--json"]);
    expect(faucet.code).toBe(0);
    expect(await t.as(0).token.balanceOf(fresh.address)).toBe(1_000n * TOKEN);
    expect(await t.provider.getBalance(fresh.address)).toBe(10n * TOKEN);

    const tokens = await cli(
      ["transfer", "5SGM", "--to", other.address, "--json"],
      fresh.privateKey,
    );
    expect(tokens.code).toBe(0);
    expect(tokens.json()).toMatchObject({ asset: "SGM", amount: (5n * TOKEN).toString() });
    expect(await t.as(0).token.balanceOf(fresh.address)).toBe(995n * TOKEN);
    const before = await t.provider.getBalance(other.address);
    const eth = await cli(["transfer", "0.5 ETH", "--to", other.address], fresh.privateKey);
    expect(eth.code).toBe(0);
    expect(eth.stdout).toMatch(/^Sent 0.5 ETH/);
    expect(await t.provider.getBalance(other.address)).toBe(before + TOKEN / 2n);

    // Funded, the same command now registers.
    expect((await cli(["orchestrator-params"], fresh.privateKey)).code).toBe(0);
  });

  it("segmint status shows stake, delegation, terms, fees and funds; bad input is one line", async () => {
    const orch = t.wallet(1);
    const result = await cli(["status", orch.address, "--json"]);
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({
      address: orch.address,
      delegator: { delegate: orch.address, stake: (100n * TOKEN).toString() },
      orchestrator: { registered: true, rewardCut: "100000", feeShare: "250000" },
      broadcaster: { deposit: "0", reserve: "0", unlocking: false },
    });
    const text = await cli(["status", orch.address]);
    expect(text.stdout).toContain("reward cut 100000 ppm");
    expectError(await cli(["status", "nobody"]), "BAD_ADDRESS");
    const noChain = await runCli(["status", orch.address], {
      env: { SEGMINT_RPC: "", SEGMINT_DEPLOYMENT: "" },
    });
    expectError(noChain, "CONFIG_INVALID");
    const deadChain = await runCli(["status", orch.address, "--rpc", "http://127.0.0.1:1"], {
      env: { SEGMINT_DEPLOYMENT: t.deploymentFile },
    });
    expectError(deadChain, "CHAIN_UNREACHABLE");
  });
});
