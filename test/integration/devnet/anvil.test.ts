import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, parseEther, parseUnits, toBeHex, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDeployment } from "../../../node/src/chain/deployment.ts";
import { devAccounts } from "../../../node/src/chain/devchain.ts";
import { TxSender } from "../../../node/src/chain/tx.ts";
import { type DevnetSummary, type Market, startMarket } from "../../../node/src/devnet/index.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import { BrokerClient } from "../../../node/src/payments/broker-client.ts";
import { type Anvil, startAnvil } from "../../helpers/anvil.ts";
import { runCli } from "../../helpers/cli.ts";
import { createMediaWorkspace, type MediaWorkspace } from "../../helpers/media.ts";

/**
 * The node on a chain that is not Hardhat: anvil (Foundry's node) with its own chain id. The
 * devnet's whole cycle runs there; a base-fee spike holds a winning ticket without losing it; a
 * reorganization that drops a redemption makes the daemon send it again and the ticket is paid
 * once; a second sender on the daemon's key does not break its nonces.
 */
describe("on anvil", () => {
  let media: MediaWorkspace;
  let dir: string;
  let clip: string;

  beforeAll(async () => {
    media = await createMediaWorkspace();
    dir = await mkdtemp(path.join(tmpdir(), "segmint-anvil-it-"));
    // One 2 s segment at 240p keeps the transcoding small: these tests are about the chain.
    clip = await media.clip("source.ts", { width: 426, height: 240, fps: 30, durationSeconds: 2 });
  });

  afterAll(async () => {
    await media?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the devnet's cycle: deploy, fund fresh keys, bond, rounds, broadcast, redeem", async () => {
    const anvil = await startAnvil({ chainId: 4242, blockTime: 1 });
    try {
      const result = await runCli(
        [
          "devnet",
          "--rpc",
          anvil.url,
          "--fund-eth",
          "10 ETH",
          "--orchestrators",
          "1",
          "--json",
          "--input",
          clip,
          "--out",
          path.join(dir, "devnet-hls"),
          "--profiles",
          "240p",
          "--log-level",
          "warn",
        ],
        { timeoutMs: 280_000 },
      );
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.trim().split("\n");
      const summary = JSON.parse(lines[lines.length - 1] ?? "") as DevnetSummary;
      expect(summary.chainUrl).toBe(anvil.url);
      expect(summary.segments).toBe(1);
      const [orchestrator] = summary.orchestrators;
      expect(orchestrator?.segments).toBe(1);
      // Fresh keys, not the well-known development accounts.
      expect(orchestrator?.address).not.toBe(new Wallet(DEV_KEY_0).address);
      expect(summary.ticketsSent).toBeGreaterThan(0);
      expect(summary.redeemedTickets).toBe(summary.winningTickets);
      expect(BigInt(summary.paid)).toBe(BigInt(summary.broadcasterFundsSpent));
      expect(BigInt(orchestrator?.journalRedeemedValue ?? -1)).toBe(BigInt(summary.paid));
      expect(BigInt(orchestrator?.pendingFees ?? -1)).toBe(BigInt(summary.paid));
    } finally {
      await anvil.stop();
    }
  });

  describe("a daemon through a fee spike and a reorganization", () => {
    let anvil: Anvil;
    let market: Market;

    beforeAll(async () => {
      // One block per transaction: the test decides when anything else is mined.
      anvil = await startAnvil({ chainId: 4243 });
      market = await startMarket({
        orchestrators: 1,
        chainPort: 0,
        chain: { rpc: anvil.url, fundEth: parseEther("10") },
        orchestratorArgs: [
          "--win-prob",
          "1",
          "--max-gas-price",
          "100000000000", // 100 gwei
          "--redeem-confirmations",
          "3",
        ],
        log: silentLogger(),
      });
    });

    afterAll(async () => {
      await market?.stop();
      await anvil?.stop();
    });

    /** `segmint deposit fund FLAGS` as the market's broadcaster. */
    const fund = async (flags: string[]) => {
      const result = await runCli(
        [
          "deposit",
          "fund",
          ...flags,
          "--rpc",
          anvil.url,
          "--deployment",
          market.deploymentFile,
          "--key",
          market.broadcaster.privateKey,
        ],
        { timeoutMs: 60_000 },
      );
      expect(result.code, result.stderr).toBe(0);
    };

    it("holds a winner while gas is over the cap, re-sends it after a reorg, pays it once", async () => {
      const [orchestrator] = market.orchestrators;
      if (orchestrator === undefined) throw new Error("no orchestrator");
      const reader = market.reader;
      const status = async () => {
        const response = await fetch(`${orchestrator.httpUrl}/status`);
        const doc = (await response.json()) as { tickets: Record<string, number | string> };
        return doc.tickets;
      };
      const logMessages = async (msg: string) =>
        (await readFile(orchestrator.logFile, "utf8")).split(msg).length - 1;
      const until = async (what: string, check: () => Promise<boolean>) => {
        const deadline = Date.now() + 60_000;
        while (!(await check())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      };

      // The deposit first, buried under the confirmations the daemon asks for: it believes
      // only funds a reorganization of its last blocks cannot take away.
      await fund(["--deposit", "5 SGM", "--reserve", "5 SGM"]);
      await anvil.send("anvil_mine", [toBeHex(3)]);

      // A spike: 1,000 gwei, ten times the daemon's cap, decaying at most 12.5% a block.
      await anvil.send("anvil_setNextBlockBaseFeePerGas", [toBeHex(parseUnits("1000", "gwei"))]);
      await anvil.send("evm_mine");

      const funds = async () => {
        const info = await reader.ticketBroker.getSenderInfo(market.broadcaster.address);
        return info.deposit + info.reserve;
      };
      const broadcast = await runCli(
        [
          "broadcast",
          clip,
          "--out",
          path.join(dir, "spike-hls"),
          "--rpc",
          anvil.url,
          "--deployment",
          market.deploymentFile,
          "--key",
          market.broadcaster.privateKey,
          "--profiles",
          "240p",
          "--orchestrators",
          "1",
          "--listen",
          "/ip4/127.0.0.1/tcp/0",
          "--json",
        ],
        { timeoutMs: 150_000 },
      );
      expect(broadcast.code, broadcast.stderr).toBe(0);
      const fundsAfterBroadcast = await funds();

      // The winner is journaled and held: nothing was sent while gas is above the cap.
      await until("the winner to be journaled", async () => Number((await status()).pending) === 1);
      await until("the redeemer to see the spike", async () => {
        return (await logMessages("gas price above cap; holding winning tickets")) > 0;
      });
      expect(Number((await status()).submitted ?? 0)).toBe(0);
      expect(await funds()).toBe(fundsAfterBroadcast);

      const reorganizeAndConfirm = async () => {
        await anvil.send("anvil_setNextBlockBaseFeePerGas", [toBeHex(parseUnits("1", "gwei"))]);
        await anvil.send("evm_mine");
        await until(
          "the redemption to be sent",
          async () => (await logMessages("redemption submitted")) === 1,
        );

        // Mined in one block, then that block is reorganized away (the transaction lost with it).
        const snapshot = await anvil.send("evm_snapshot");
        await anvil.send("evm_mine");
        await until("the redeemer to see it mined", async () => {
          return (await logMessages("redemption mined; waiting for confirmations")) === 1;
        });
        await anvil.send("evm_revert", [snapshot]);
        await anvil.send("anvil_dropAllTransactions");
        await anvil.send("evm_mine");
        await until("the redemption to be sent again", async () => {
          return (await logMessages("redemption submitted")) === 2;
        });
        expect(await logMessages("redemption removed by a chain reorganization")).toBe(1);

        // Three blocks: mined and confirmed.
        await anvil.send("anvil_mine", [toBeHex(3)]);
        await until("the redemption to count", async () => Number((await status()).redeemed) === 1);
      };
      // From here the test mines every block itself (until the end of this test).
      await anvil.send("evm_setAutomine", [false]);
      try {
        await reorganizeAndConfirm();
      } finally {
        await anvil.send("evm_setAutomine", [true]);
      }
      const events = await reader.ticketBroker.queryFilter(
        reader.ticketBroker.filters.WinningTicketRedeemed(undefined, market.broadcaster.address),
      );
      expect(events).toHaveLength(1);
      const paid = events.reduce(
        (sum, e) => sum + e.args.paidFromDeposit + e.args.paidFromReserve,
        0n,
      );
      expect(fundsAfterBroadcast - (await funds())).toBe(paid);
      expect(await reader.bondingManager.pendingFees(orchestrator.address)).toBe(paid);
    });

    it("backs tickets only with funds a reorganization of the last blocks cannot take", async () => {
      const deployment = await readDeployment(market.deploymentFile);
      const safe = BrokerClient.readOnly(deployment, anvil.provider, 2);
      const before = await safe.senderInfo(market.broadcaster.address);
      await fund(["--deposit", "1 SGM"]);
      const latest = BrokerClient.readOnly(deployment, anvil.provider);
      expect((await latest.senderInfo(market.broadcaster.address)).deposit).toBe(
        before.deposit + parseEther("1"),
      );
      // Only in the head block (and the approval's): not yet believed at depth 2.
      expect((await safe.senderInfo(market.broadcaster.address)).deposit).toBe(before.deposit);
      await anvil.send("anvil_mine", [toBeHex(2)]);
      // A new provider: ethers answers a repeated block-number query from a short cache.
      const fresh = new JsonRpcProvider(anvil.url, anvil.chainId, { staticNetwork: true });
      try {
        const deeper = BrokerClient.readOnly(deployment, fresh, 2);
        expect((await deeper.senderInfo(market.broadcaster.address)).deposit).toBe(
          before.deposit + parseEther("1"),
        );
      } finally {
        fresh.destroy();
      }
    });
  });

  it("lets two senders share a key without losing a transaction to a nonce", async () => {
    const anvil = await startAnvil({ chainId: 4244 });
    try {
      const wallet = new Wallet(DEV_KEY_0);
      // Two senders on one key, as a daemon and a CLI command are: each counts nonces itself.
      const daemon = new TxSender(wallet, anvil.provider, silentLogger());
      const cli = new TxSender(wallet, anvil.provider, silentLogger());
      const to = Wallet.createRandom().address;
      const pay = (sender: TxSender) =>
        sender.sendAndWait("pay", () => sender.signer.sendTransaction({ to, value: 1n }));
      await pay(daemon);
      await pay(cli); // takes the nonce the daemon counted next
      await pay(daemon); // refused for its nonce once, sent again with a fresh one
      await pay(cli);
      expect(await anvil.provider.getBalance(to)).toBe(4n);
    } finally {
      await anvil.stop();
    }
  });
});

/** The first well-known development key, which anvil funds like Hardhat does. */
const DEV_KEY_0 = devAccounts(1)[0]?.privateKey ?? "";
