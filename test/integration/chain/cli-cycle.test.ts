import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  hexlify,
  JsonRpcProvider,
  keccak256,
  NonceManager,
  randomBytes,
  toBeHex,
  Wallet,
} from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SegmintClients, segmintClients } from "../../../node/src/chain/contracts.ts";
import { readDeployment } from "../../../node/src/chain/deployment.ts";
import { MAX_WIN_PROB, TICKET_EIP712_TYPES } from "../../../node/src/chain/ticket.ts";
import { type LongRunning, runCli, startCli } from "../../helpers/cli.ts";

const TOKEN = 10n ** 18n;
const ROUND_LENGTH = 10;

/**
 * The contracts' whole life cycle on a real `segmint chain` process over JSON-RPC, deployed by
 * the real `segmint deploy` command, driven with ethers as any client would.
 */
describe("segmint chain + segmint deploy: a full protocol cycle over JSON-RPC", () => {
  let chain: LongRunning;
  let dir: string;
  let provider: JsonRpcProvider;
  let deploymentFile: string;
  let accounts: { address: string; privateKey: string }[];
  let chainUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "segmint-cycle-"));
    // --block-time 0: blocks only on transactions, so the test moves rounds itself.
    chain = await startCli([
      "chain",
      "--port",
      "0",
      "--block-time",
      "0",
      "--accounts",
      "5",
      "--json",
    ]);
    const info = JSON.parse(chain.firstLine) as { url: string; accounts: typeof accounts };
    accounts = info.accounts;
    chainUrl = info.url;
    provider = new JsonRpcProvider(info.url, undefined, {
      staticNetwork: true,
      pollingInterval: 50,
    });
    deploymentFile = path.join(dir, "deployment.json");
    const deployed = await runCli([
      "deploy",
      "--rpc",
      info.url,
      "--out",
      deploymentFile,
      "--round-length",
      String(ROUND_LENGTH),
      "--unbonding-period",
      "2",
      "--unlock-period",
      "3",
    ]);
    expect(deployed.stderr).not.toContain("error");
    expect(deployed.code).toBe(0);
  });

  afterAll(async () => {
    provider?.destroy();
    expect(await chain?.stop()).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });

  const mineRounds = async (rounds: number) => {
    await provider.send("hardhat_mine", [toBeHex(rounds * ROUND_LENGTH)]);
  };

  it("registers, bonds, delegates, rewards, pays a winning ticket, unbonds and withdraws", async () => {
    const deployment = await readDeployment(deploymentFile);
    expect(deployment.chainId).toBe(31337);
    for (const address of Object.values(deployment.contracts)) {
      expect(await provider.getCode(address)).not.toBe("0x");
    }
    const [deployerKey, orchKey, delegatorKey, senderKey] = accounts;
    if (!deployerKey || !orchKey || !delegatorKey || !senderKey) throw new Error("accounts");
    const wallet = (k: { privateKey: string }) => new Wallet(k.privateKey, provider);
    const deployer = wallet(deployerKey);
    const orch = wallet(orchKey);
    const delegator = wallet(delegatorKey);
    const sender = wallet(senderKey);
    // One NonceManager per account: ethers' provider briefly caches eth_getTransactionCount, so
    // back-to-back sends from a bare Wallet can reuse a nonce.
    const as = (w: Wallet): SegmintClients => segmintClients(deployment, new NonceManager(w));
    const send = async (promise: Promise<{ wait(): Promise<unknown> }>) => {
      await (await promise).wait();
    };
    const c0 = as(deployer);
    const token = c0.token;
    const balance = async (who: string): Promise<bigint> => token.balanceOf(who);

    for (const w of [orch, delegator, sender]) {
      await send(c0.token.transfer(w.address, 10_000n * TOKEN));
    }

    // Register with a 10% reward cut and half the fees to delegators; self-bond; delegate.
    const co = as(orch);
    await send(co.bondingManager.setOrchestratorParams(100_000n, 500_000n));
    await send(co.token.approve(deployment.contracts.BondingManager, 1_000n * TOKEN));
    await send(co.bondingManager.bond(1_000n * TOKEN, orch.address));
    const cd = as(delegator);
    await send(cd.token.approve(deployment.contracts.BondingManager, 1_000n * TOKEN));
    await send(cd.bondingManager.bond(1_000n * TOKEN, orch.address));
    expect(await co.bondingManager.orchestratorTotalStake(orch.address)).toBe(2_000n * TOKEN);

    // Active from the next round on; reward() then mints and compounds into the pool.
    expect(await co.bondingManager.isActiveOrchestrator(orch.address)).toBe(false);
    await mineRounds(1);
    expect(await co.bondingManager.isActiveOrchestrator(orch.address)).toBe(true);
    await send(co.bondingManager.reward());
    const stakeAfterReward: bigint = await co.bondingManager.orchestratorTotalStake(orch.address);
    expect(stakeAfterReward).toBe(2_000n * TOKEN + deployment.params.inflationPerRound);
    expect(await cd.bondingManager.pendingStake(delegator.address)).toBeGreaterThan(1_000n * TOKEN);

    // The broadcaster funds a deposit and a reserve and signs a ticket that always wins.
    const cs = as(sender);
    await send(cs.token.approve(deployment.contracts.TicketBroker, 300n * TOKEN));
    await send(cs.ticketBroker.fundDepositAndReserve(200n * TOKEN, 100n * TOKEN));
    const rm = co.roundsManager;
    const round: bigint = await rm.currentRound();
    const recipientRand = BigInt(hexlify(randomBytes(32)));
    const ticket = {
      recipient: orch.address,
      sender: sender.address,
      faceValue: 50n * TOKEN,
      winProb: MAX_WIN_PROB,
      senderNonce: 1n,
      recipientRandHash: keccak256(toBeHex(recipientRand, 32)),
      creationRound: round,
      creationRoundBlockHash: await rm.blockHashForRound(round),
    };
    const sig = await sender.signTypedData(
      {
        name: "Segmint",
        version: "1",
        chainId: 31337n,
        verifyingContract: deployment.contracts.TicketBroker,
      },
      { Ticket: [...TICKET_EIP712_TYPES.Ticket] },
      ticket,
    );
    await send(co.ticketBroker.redeemWinningTicket(ticket, sig, recipientRand));
    expect((await cs.ticketBroker.getSenderInfo(sender.address)).deposit).toBe(150n * TOKEN);
    const orchFees: bigint = await co.bondingManager.pendingFees(orch.address);
    const delegatorFees: bigint = await cd.bondingManager.pendingFees(delegator.address);
    // Half the fee to the pool, shared by stake; rounding may leave dust, never create value.
    expect(orchFees + delegatorFees).toBeLessThanOrEqual(50n * TOKEN);
    expect(orchFees + delegatorFees).toBeGreaterThan(50n * TOKEN - 1_000n);
    expect(orchFees).toBeGreaterThan(delegatorFees);
    // A replay is refused (staticCall: a send that fails its gas estimate would still use
    // up a NonceManager nonce).
    await expect(
      co.ticketBroker.redeemWinningTicket.staticCall(ticket, sig, recipientRand),
    ).rejects.toMatchObject({ revert: { name: "TicketBrokerTicketUsed" } });

    // The orchestrator withdraws its fees with the CLI. Fees wait the unlock period (3 rounds
    // here) once settled: the first try settles them and says, in one coded line, from which
    // round they can be withdrawn; from that round its balance rises by exactly that much.
    const withdrawFees = () =>
      runCli(["stake", "withdraw-fees", "--json"], {
        env: {
          SEGMINT_RPC: chainUrl,
          SEGMINT_DEPLOYMENT: deploymentFile,
          SEGMINT_PRIVATE_KEY: orchKey.privateKey,
        },
      });
    const settledIn = await rm.currentRound();
    const locked = await withdrawFees();
    expect(locked.code).toBe(1);
    const errors = locked.stderr.split("\n").filter((l) => l.startsWith("error"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("error [FEES_LOCKED]");
    expect(errors[0]).toContain(`round ${settledIn + 3n}`);
    await mineRounds(3);
    const before = await balance(orch.address);
    const withdrawn = await withdrawFees();
    expect(withdrawn.code).toBe(0);
    expect(JSON.parse(withdrawn.stdout)).toMatchObject({ amount: orchFees.toString() });
    expect(await balance(orch.address)).toBe(before + orchFees);

    // The delegator unbonds part of its stake and withdraws it after the unbonding period.
    await send(cd.bondingManager.unbond(400n * TOKEN));
    await expect(cd.bondingManager.withdrawStake.staticCall(0n)).rejects.toMatchObject({
      revert: { name: "BondingManagerUnbondingLockNotWithdrawable" },
    });
    await mineRounds(2);
    const dBefore = await balance(delegator.address);
    await send(cd.bondingManager.withdrawStake(0n));
    expect(await balance(delegator.address)).toBe(dBefore + 400n * TOKEN);

    // The broadcaster unlocks and withdraws what is left of its deposit and reserve.
    await send(cs.ticketBroker.unlock());
    await expect(cs.ticketBroker.withdraw.staticCall()).rejects.toMatchObject({
      revert: { name: "TicketBrokerUnlockPeriodNotOver" },
    });
    await mineRounds(3);
    const sBefore = await balance(sender.address);
    await send(cs.ticketBroker.withdraw());
    expect(await balance(sender.address)).toBe(sBefore + 250n * TOKEN);
  });

  it("calls reward() and initializes a round by command, refusing each repeat in one line", async () => {
    const [, orchKey, , , otherKey] = accounts;
    if (!orchKey || !otherKey) throw new Error("accounts");
    const as = (key: { privateKey: string }, args: string[]) =>
      runCli(args, {
        env: {
          SEGMINT_RPC: chainUrl,
          SEGMINT_DEPLOYMENT: deploymentFile,
          SEGMINT_PRIVATE_KEY: key.privateKey,
        },
      });
    const errorLine = (result: { code: number | null; stderr: string }) => {
      expect(result.code).toBe(1);
      const lines = result.stderr.split("\n").filter((l) => l.startsWith("error"));
      expect(lines).toHaveLength(1);
      return lines[0];
    };
    // Blocks come only with transactions here, so nobody has initialized the new round.
    await mineRounds(1);
    const deployment = await readDeployment(deploymentFile);
    const rm = segmintClients(deployment, provider).roundsManager;
    const round = await rm.currentRound();
    expect(await rm.currentRoundInitialized()).toBe(false);

    const init = await as(otherKey, ["round", "initialize", "--json"]);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ round: round.toString() });
    expect(await rm.currentRoundInitialized()).toBe(true);
    expect(errorLine(await as(otherKey, ["round", "initialize"]))).toContain(
      "error [ROUND_ALREADY_INITIALIZED]",
    );

    const reward = await as(orchKey, ["reward", "--json"]);
    expect(reward.code).toBe(0);
    const rewarded = JSON.parse(reward.stdout) as { round: string; amount: string };
    expect(rewarded.round).toBe(round.toString());
    expect(BigInt(rewarded.amount)).toBeGreaterThan(0n);
    const bm = segmintClients(deployment, provider).bondingManager;
    expect((await bm.getOrchestrator(orchKey.address)).lastRewardRound).toBe(round);
    expect(errorLine(await as(orchKey, ["reward"]))).toContain("error [REWARD_ALREADY_CALLED]");

    // Not registered, then registered but holding no seat: each its own line.
    expect(errorLine(await as(otherKey, ["reward"]))).toContain("error [NOT_ORCHESTRATOR]");
    expect((await as(otherKey, ["orchestrator-params"])).code).toBe(0);
    expect(errorLine(await as(otherKey, ["reward", "--json"]))).toContain(
      "error [NOT_ACTIVE_ORCHESTRATOR]",
    );
  });

  it("imports Ignition's deployed_addresses.json into the same deployment file", async () => {
    const deployment = await readDeployment(deploymentFile);
    // What `npx hardhat ignition deploy ignition/modules/Segmint.ts` writes: addresses only.
    const ignitionFile = path.join(dir, "deployed_addresses.json");
    await writeFile(
      ignitionFile,
      JSON.stringify(
        Object.fromEntries(
          Object.entries(deployment.contracts).map(([name, address]) => [
            `Segmint#${name}`,
            address,
          ]),
        ),
      ),
    );
    // Passed as it is, it is refused with the conversion to run.
    const asIs = await runCli([
      "status",
      accounts[0]?.address ?? "",
      "--rpc",
      chainUrl,
      "--deployment",
      ignitionFile,
    ]);
    expect(asIs.stderr.trim()).toMatch(/^error \[DEPLOYMENT_IS_IGNITION\].*import-deployment/);
    const out = path.join(dir, "imported.json");
    const imported = await runCli([
      "import-deployment",
      ignitionFile,
      "--rpc",
      chainUrl,
      "--out",
      out,
    ]);
    expect(imported.code).toBe(0);
    expect(await readDeployment(out)).toEqual({
      ...deployment,
      params: { ...deployment.params, minSelfStake: deployment.params.minSelfStake },
    });
  });

  it("prints its version, and the protocol's parameters and round as the contracts hold them", async () => {
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const protocol = await runCli([
      "protocol",
      "--json",
      "--rpc",
      chainUrl,
      "--deployment",
      deploymentFile,
    ]);
    expect(protocol.code).toBe(0);
    const deployment = await readDeployment(deploymentFile);
    expect(JSON.parse(protocol.stdout)).toMatchObject({
      chainId: "31337",
      round: { length: String(ROUND_LENGTH) },
      unbondingPeriod: "2",
      unlockPeriod: "3",
      inflationPerRound: deployment.params.inflationPerRound.toString(),
    });
  });

  it("refuses a chain that is not there with one clear line", async () => {
    const result = await runCli([
      "deploy",
      "--rpc",
      "http://127.0.0.1:1",
      "--out",
      path.join(dir, "x.json"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^error \[CHAIN_UNREACHABLE\]/);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);

    // Not a URL at all: said as such, not as a chain that does not answer.
    const notUrl = await runCli([
      "deploy",
      "--rpc",
      "127.0.0.1:8545",
      "--out",
      path.join(dir, "y.json"),
    ]);
    expect(notUrl.code).toBe(1);
    expect(notUrl.stderr.trim()).toMatch(/^error \[RPC_URL_INVALID\]/);
    expect(notUrl.stderr.trim().split("\n")).toHaveLength(1);
  });
});
