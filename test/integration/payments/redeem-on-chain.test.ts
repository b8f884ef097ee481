import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import { type JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../../node/src/chain/bytes.ts";
import { type SegmintClients, segmintClients } from "../../../node/src/chain/contracts.ts";
import { type Deployment, serializeDeployment } from "../../../node/src/chain/deployment.ts";
import { fundDepositAndReserve } from "../../../node/src/chain/funding.ts";
import {
  openChainSession,
  type SigningSession,
  signWith,
} from "../../../node/src/chain/session.ts";
import { MAX_WIN_PROB } from "../../../node/src/chain/ticket.ts";
import type { AccountNonces } from "../../../node/src/chain/tx.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import {
  BrokerClient,
  ChainStateCache,
  defaultRedeemerOptions,
  Redeemer,
  TicketSender,
} from "../../../node/src/payments/index.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { type MarketChain, startMarketChain } from "../../helpers/market.ts";
import { ticketDesk } from "../../helpers/payments.ts";

const TOKEN = 10n ** 18n;
const FACE_VALUE = TOKEN / 10n;
const ROUND_LENGTH = 10;

let market: MarketChain;
let provider: JsonRpcProvider;
let deployment: Deployment;
let orchestrator: Wallet;
let broadcaster: Wallet;
// Transactions go through NonceManagers: ethers briefly caches eth_getTransactionCount, so
// back-to-back sends from a bare Wallet can reuse a nonce.
let orchestratorSigner: NonceManager;
let broadcasterSigner: AccountNonces;
let broadcasterSession: SigningSession;
let asOrchestrator: SegmintClients;
let dir: string;

async function mine(blocks: number): Promise<void> {
  await provider.send("hardhat_mine", [`0x${blocks.toString(16)}`]);
}

beforeAll(async () => {
  market = await startMarketChain({
    dirPrefix: "segmint-payments-",
    accounts: 3,
    roundLength: ROUND_LENGTH,
    deployParams: { maxActiveSetSize: 10 },
  });
  ({ provider, deployment, dir } = market);
  const [o, b] = market.accounts;
  if (!o || !b) throw new Error("dev chain has too few accounts");
  orchestrator = new Wallet(o.privateKey, provider);
  broadcaster = new Wallet(b.privateKey, provider);
  orchestratorSigner = new NonceManager(orchestrator);
  for (const to of [orchestrator.address, broadcaster.address]) {
    await market.fund(to, 1_000n * TOKEN);
  }
  // The orchestrator registers with feeShare 0 (it keeps every fee) and bonds 100 SGM.
  asOrchestrator = segmintClients(deployment, orchestratorSigner);
  await (await asOrchestrator.bondingManager.setOrchestratorParams(0n, 0n)).wait();
  await (
    await asOrchestrator.token.approve(deployment.contracts.BondingManager, 100n * TOKEN)
  ).wait();
  await (await asOrchestrator.bondingManager.bond(100n * TOKEN, orchestrator.address)).wait();
  // The broadcaster funds its deposit and reserve as every broadcaster does (chain/funding.ts),
  // in a chain session whose nonce manager its other sends below share.
  broadcasterSession = signWith(
    await openChainSession({
      rpc: market.chain.url,
      deployment: { value: deployment, source: "test" },
    }),
    broadcaster,
    silentLogger(),
  );
  broadcasterSigner = broadcasterSession.tx.signer;
  await fundDepositAndReserve(broadcasterSession, { deposit: 10n * TOKEN, reserve: 2n * TOKEN });
  const funded = await broadcasterSession.reader.ticketBroker.getSenderInfo(broadcaster.address);
  expect(funded.deposit).toBe(10n * TOKEN);
  expect(funded.reserve).toBe(2n * TOKEN);
  // Into the next round, where the orchestrator is active, and initialize it.
  await mine(ROUND_LENGTH);
  await (await asOrchestrator.roundsManager.initializeRound()).wait();
});

afterAll(async () => {
  broadcasterSession?.close();
  await market?.close();
});

describe("payments on a real chain (JSON-RPC)", () => {
  it("validates a winning ticket, journals it, and after a restart redeems it for exactly its face value", async () => {
    const client = await BrokerClient.connect(deployment, orchestratorSigner);
    const domain = await client.ticketDomain();
    const secret = Uint8Array.from(randomBytes(32));
    const dbPath = join(dir, "orchestrator.db");
    const db = openDatabase(dbPath);
    const journal = new TicketJournal(db);
    const cache = new ChainStateCache(client, orchestrator.address, 0);
    const { issuer, validator } = ticketDesk({
      recipient: orchestrator.address,
      secret,
      domain,
      cache,
      journal,
      faceValue: FACE_VALUE,
      ticketEV: FACE_VALUE, // winProb = max: every ticket wins
    });
    const sender = new TicketSender(fromHex(broadcaster.privateKey, 32), domain, {
      maxPricePerPixel: 10n,
      maxTicketEV: TOKEN,
      maxTotalSpend: 100n * TOKEN,
    });
    expect(sender.address).toBe(broadcaster.address.toLowerCase());

    const params = await issuer.issue(broadcaster.address);
    expect(params.winProb).toBe(MAX_WIN_PROB);
    expect(params.creationRound).toBe(await client.currentRound());
    // One ticket for a single segment, then two more in one request (the batch path).
    const single = sender.createTickets(params, FACE_VALUE - 1n);
    const pair = sender.createTickets(await issuer.issue(broadcaster.address), 2n * FACE_VALUE);
    expect(single).toHaveLength(1);
    expect(pair).toHaveLength(2);
    const accepted = [
      ...(await validator.receiveAll(single)),
      ...(await validator.receiveAll(pair)),
    ];
    expect(accepted.every((a) => a.won)).toBe(true);
    expect(journal.pendingFaceValue(broadcaster.address)).toBe(3n * FACE_VALUE);
    // The journaled hash is the contract's own ticket hash.
    const first = journal.listByStatus(["pending"])[0];
    if (!first) throw new Error("nothing journaled");
    const onChainHash = await asOrchestrator.ticketBroker.getTicketHash(first.ticket);
    expect(first.ticketHash).toBe(onChainHash.toLowerCase());

    // The orchestrator "crashes" right after acknowledging: nothing but the SQLite file survives.
    db.close();

    const feesBefore = await asOrchestrator.bondingManager.pendingFees(orchestrator.address);
    const depositBefore = (await client.senderInfo(broadcaster.address)).deposit;
    const restartedDb = openDatabase(dbPath);
    try {
      const restarted = new TicketJournal(restartedDb);
      expect(restarted.listByStatus(["pending"])).toHaveLength(3);
      const redeemer = new Redeemer({
        journal: restarted,
        chain: client,
        options: { ...defaultRedeemerOptions, batchSize: 2 },
      });
      await redeemer.tick(); // submits a batch of two and a single
      expect(restarted.listByStatus(["submitted"])).toHaveLength(3);
      for (let i = 0; i < 20 && restarted.listByStatus(["submitted"]).length > 0; i++) {
        await redeemer.tick();
      }
      const redeemed = restarted.listByStatus(["redeemed"]);
      expect(redeemed).toHaveLength(3);
      expect(new Set(redeemed.map((r) => r.txHash)).size).toBe(2);
      // Paid in full, as the receipts' WinningTicketRedeemed events say: nothing noted.
      expect(redeemed.map((r) => r.reason)).toEqual([null, null, null]);
      for (const r of redeemed) expect(await client.isTicketUsed(r.ticketHash)).toBe(true);
      expect(restarted.pendingFaceValue(broadcaster.address)).toBe(0n);
    } finally {
      restartedDb.close();
    }

    // Fee accounting moved by exactly the face values: out of the deposit, into the fee pool.
    const depositAfter = (await client.senderInfo(broadcaster.address)).deposit;
    expect(depositBefore - depositAfter).toBe(3n * FACE_VALUE);
    const feesAfter = await asOrchestrator.bondingManager.pendingFees(orchestrator.address);
    expect(feesAfter - feesBefore).toBe(3n * FACE_VALUE);
    // And the orchestrator's token balance rises by exactly that when it withdraws them, once
    // they have been settled and waited the unlock period.
    await (await asOrchestrator.bondingManager.claimEarnings()).wait();
    await mine(Number(await asOrchestrator.ticketBroker.unlockPeriod()) * ROUND_LENGTH);
    const balanceBefore = await asOrchestrator.token.balanceOf(orchestrator.address);
    await (
      await asOrchestrator.bondingManager.withdrawFees(orchestrator.address, 3n * FACE_VALUE)
    ).wait();
    const balanceAfter = await asOrchestrator.token.balanceOf(orchestrator.address);
    expect(balanceAfter - balanceBefore).toBe(3n * FACE_VALUE);
  });

  it("refuses a ticket above the sender's float and one from an unlocking sender, on real chain data", async () => {
    const client = await BrokerClient.connect(deployment, orchestratorSigner);
    const domain = await client.ticketDomain();
    const secret = Uint8Array.from(randomBytes(32));
    const db = openDatabase(":memory:");
    try {
      const journal = new TicketJournal(db);
      const cache = new ChainStateCache(client, orchestrator.address, 0);
      const info = await client.senderInfo(broadcaster.address);
      const status = await client.activeStatus(orchestrator.address);
      expect(status.active).toBe(true);
      // Ask for more than deposit + this orchestrator's reserve share can back.
      const tooBig = info.deposit + info.reserve + 1n;
      const { issuer, validator } = ticketDesk({
        recipient: orchestrator.address,
        secret,
        domain,
        cache,
        journal,
        faceValue: tooBig,
        ticketEV: TOKEN / 1000n,
      });
      const params = await issuer.issue(broadcaster.address);
      // The issuer lowered the face value to the float: deposit + reserve / active count.
      expect(params.faceValue).toBe(info.deposit + info.reserve / status.activeCount);
      const sender = new TicketSender(fromHex(broadcaster.privateKey, 32), domain, {
        maxPricePerPixel: 10n,
        maxTicketEV: TOKEN,
        maxTotalSpend: 100n * TOKEN,
      });
      const [ticket] = sender.createTickets(params, 1n);
      if (!ticket) throw new Error("no ticket");

      const asBroadcaster = segmintClients(deployment, broadcasterSigner);
      await (await asBroadcaster.ticketBroker.unlock()).wait();
      cache.invalidateSender(broadcaster.address);
      await expect(validator.receive(ticket)).rejects.toMatchObject({ code: "SENDER_UNLOCKING" });
      await (await asBroadcaster.ticketBroker.cancelUnlock()).wait();
      cache.invalidateSender(broadcaster.address);
      await expect(validator.receive(ticket)).resolves.toMatchObject({ won: expect.any(Boolean) });
    } finally {
      db.close();
    }
  });

  it("redeems a winner acknowledged just before the orchestrator process was SIGKILLed", async () => {
    const dbPath = join(dir, "killed.db");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "crash-child.ts")],
      {
        env: {
          ...process.env,
          CHAIN_URL: market.chain.url,
          DEPLOYMENT: serializeDeployment(deployment),
          ORCHESTRATOR_KEY: orchestrator.privateKey,
          BROADCASTER_KEY: broadcaster.privateKey,
          FACE_VALUE: FACE_VALUE.toString(),
          DB_PATH: dbPath,
          SECRET: toHex(randomBytes(32)),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, "exit");
    let ticketHash: string;
    try {
      ticketHash = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /ACK (0x[0-9a-f]{64})\n/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.on("exit", (code) =>
          reject(new Error(`child exited (${code}) before ACK: ${stderr}`)),
        );
      });
    } finally {
      // The instant after the acknowledgement: no clean shutdown, no close().
      child.kill("SIGKILL");
      await exited;
    }

    const client = await BrokerClient.connect(deployment, orchestratorSigner);
    const depositBefore = (await client.senderInfo(broadcaster.address)).deposit;
    const db = openDatabase(dbPath);
    try {
      const journal = new TicketJournal(db);
      const [entry] = journal.listByStatus(["pending"]);
      expect(entry?.ticketHash).toBe(ticketHash);
      const redeemer = new Redeemer({ journal, chain: client, options: defaultRedeemerOptions });
      for (let i = 0; i < 20 && journal.listByStatus(["redeemed"]).length === 0; i++) {
        await redeemer.tick();
      }
      expect(journal.listByStatus(["redeemed"]).map((e) => e.ticketHash)).toEqual([ticketHash]);
    } finally {
      db.close();
    }
    expect(await client.isTicketUsed(ticketHash)).toBe(true);
    const depositAfter = (await client.senderInfo(broadcaster.address)).deposit;
    expect(depositBefore - depositAfter).toBe(FACE_VALUE);
  });

  it("drops cached sender funds when TicketBroker reports a change (event watcher)", async () => {
    const client = await BrokerClient.connect(deployment, orchestratorSigner);
    // A TTL of an hour: only the event can make the cache read the chain again.
    const cache = new ChainStateCache(client, orchestrator.address, 3_600_000);
    const stop = await client.watch(cache, 50);
    try {
      const before = (await cache.senderFunds(broadcaster.address)).info.deposit;
      await fundDepositAndReserve(broadcasterSession, { deposit: TOKEN, reserve: 0n });
      let seen = before;
      for (let i = 0; i < 200 && seen === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = (await cache.senderFunds(broadcaster.address)).info.deposit;
      }
      expect(seen).toBe(before + TOKEN);
    } finally {
      await stop();
    }
  });
});
