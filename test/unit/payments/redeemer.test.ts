import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { toHex } from "../../../node/src/chain/bytes.ts";
import {
  defaultRedeemerOptions,
  type FeeQuote,
  type RedeemChain,
  Redeemer,
  type RedeemerOptions,
  type RedeemReceipt,
  type TxFees,
  type WinningTicket,
} from "../../../node/src/payments/index.ts";
import { FixedTokenPrice, type TokenPriceSource } from "../../../node/src/payments/token-price.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { randomWin } from "../../helpers/tickets.ts";

/** A chain that mines on demand and can be told to fail. */
class FakeRedeemChain implements RedeemChain {
  round = 10n;
  validity = 2n;
  price = 1n;
  used = new Set<string>();
  sent: { txHash: string; hashes: string[]; fees: TxFees }[] = [];
  /** Set to play an EIP-1559 chain: the latest base fee; `price` is then unused. */
  baseFee: bigint | null = null;
  tip = 0n;
  receipts = new Map<string, RedeemReceipt>();
  failSends = 0;
  /** Ticket hashes a batch will refuse even though the transaction succeeds. */
  refuse = new Set<string>();
  autoMine = true;
  head = 100n;

  async currentRound() {
    return this.round;
  }
  async ticketValidityRounds() {
    return this.validity;
  }
  async feeQuote(): Promise<FeeQuote> {
    if (this.baseFee === null) return { price: this.price, baseFee: null, priorityFee: 0n };
    return { price: this.baseFee + this.tip, baseFee: this.baseFee, priorityFee: this.tip };
  }
  async isTicketUsed(hash: string) {
    return this.used.has(hash);
  }
  async redeemWinningTicket(win: WinningTicket, fees: TxFees) {
    return this.send([win], fees);
  }
  async batchRedeemWinningTickets(wins: readonly WinningTicket[], fees: TxFees) {
    return this.send(wins, fees);
  }
  async receipt(txHash: string) {
    return this.receipts.get(txHash) ?? null;
  }
  async blockNumber() {
    return this.head;
  }
  mine(txHash: string, success = true) {
    const tx = this.sent.find((t) => t.txHash === txHash);
    if (!tx) throw new Error("unknown tx");
    if (success) for (const h of tx.hashes) if (!this.refuse.has(h)) this.used.add(h);
    this.head += 1n;
    this.receipts.set(txHash, { success, gasUsed: 100_000n, blockNumber: this.head });
  }
  /** A reorganization drops the block holding `txHash`: its receipt and its effects are gone. */
  reorg(txHash: string) {
    const tx = this.sent.find((t) => t.txHash === txHash);
    if (!tx) throw new Error("unknown tx");
    for (const h of tx.hashes) this.used.delete(h);
    this.receipts.delete(txHash);
  }
  private send(wins: readonly WinningTicket[], fees: TxFees): string {
    if (this.failSends > 0) {
      this.failSends--;
      throw new Error("connection refused");
    }
    const txHash = toHex(randomBytes(32));
    this.sent.push({ txHash, hashes: wins.map((w) => w.ticketHash), fees });
    if (this.autoMine) this.mine(txHash);
    return txHash;
  }
}

/** Half the tickets would win; the rand is a fixed one. */
const win = (faceValue: bigint, creationRound = 10n) =>
  randomWin({ faceValue, creationRound, winProb: 1n << 255n }, { recipientRand: 1n });

const dbs: { close(): void }[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

function setup(
  options: Partial<RedeemerOptions> = {},
  path = ":memory:",
  tokenPrice?: TokenPriceSource,
) {
  const db = openDatabase(path);
  dbs.push(db);
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const journal = new TicketJournal(db, clock.now);
  const chain = new FakeRedeemChain();
  const settled: string[] = [];
  const revealing: string[] = [];
  const redeemer = new Redeemer({
    journal,
    chain,
    options: { ...defaultRedeemerOptions, gasPerTicket: 100n, ...options },
    ...(tokenPrice ? { tokenPrice } : {}),
    now: clock.now,
    onSettled: (e) => settled.push(e.ticketHash),
    onRevealing: (entries) => revealing.push(...entries.map((e) => e.ticketHash)),
  });
  return { db, journal, chain, redeemer, clock, settled, revealing };
}

const statuses = (journal: TicketJournal) =>
  Object.fromEntries(
    journal
      .listByStatus(["pending", "submitted", "redeemed", "failed", "expired", "uneconomic"])
      .map((e) => [e.ticketHash, e.status]),
  );

describe("Redeemer", () => {
  it("submits a single winner with redeemWinningTicket and records it redeemed", async () => {
    const { journal, chain, redeemer, settled, revealing } = setup({ batchSize: 1 });
    const w = win(10_000n);
    journal.record(w);
    await redeemer.tick();
    expect(chain.sent).toHaveLength(1);
    expect(revealing).toEqual([w.ticketHash]);
    expect(journal.listByStatus(["submitted"])[0]?.txHash).toBe(chain.sent[0]?.txHash);
    await redeemer.tick();
    expect(statuses(journal)).toEqual({ [w.ticketHash]: "redeemed" });
    expect(journal.listByStatus(["redeemed"])[0]?.txHash).toBe(chain.sent[0]?.txHash);
    expect(settled).toEqual([w.ticketHash]);
    expect(journal.pendingFaceValue(w.ticket.sender)).toBe(0n);
  });

  it("batches winners and settles each one by its own on-chain outcome", async () => {
    const { journal, chain, redeemer } = setup({ batchSize: 3, backoffBaseMs: 10 });
    const wins = [win(10_000n), win(20_000n), win(30_000n), win(40_000n)];
    for (const w of wins) journal.record(w);
    const refused = wins[1]?.ticketHash ?? "";
    chain.refuse.add(refused);
    await redeemer.tick();
    expect(chain.sent.map((t) => t.hashes.length)).toEqual([3, 1]);
    await redeemer.tick();
    const s = statuses(journal);
    expect(s[refused]).toBe("pending"); // refused inside the batch: retried later
    expect(journal.listByStatus(["pending"])[0]?.attempts).toBe(1);
    expect(Object.values(s).filter((x) => x === "redeemed")).toHaveLength(3);
  });

  it("records a ticket the receipt says was paid only in part", async () => {
    const { journal, chain, redeemer } = setup();
    chain.autoMine = false;
    const w = win(10_000n);
    journal.record(w);
    await redeemer.tick();
    const txHash = chain.sent[0]?.txHash ?? "";
    chain.mine(txHash);
    chain.receipts.set(txHash, {
      success: true,
      gasUsed: 1n,
      blockNumber: chain.head,
      paid: new Map([[w.ticketHash, 4_000n]]),
    });
    await redeemer.tick();
    const [entry] = journal.listByStatus(["redeemed"]);
    expect(entry?.reason).toMatch(/paid 4000 of face value 10000/);
    // What was paid, not the face value, is what the journal's totals count.
    expect(journal.totals().redeemedPaid).toBe(4_000n);
  });

  it("waits while gas is above the cap and uses the price it checked", async () => {
    const { journal, chain, redeemer } = setup({ maxGasPrice: 50n });
    journal.record(win(1_000_000n));
    chain.price = 51n;
    await redeemer.tick();
    expect(chain.sent).toHaveLength(0);
    expect(journal.listByStatus(["pending"])[0]?.attempts).toBe(0);
    chain.price = 50n;
    await redeemer.tick();
    expect(chain.sent[0]?.fees).toEqual({ gasPrice: 50n });
  });

  it("on an EIP-1559 chain waits out a base fee spike and never offers more than the cap", async () => {
    const { journal, chain, redeemer } = setup({ maxGasPrice: 100n });
    chain.tip = 2n;
    chain.baseFee = 30n;
    // 30 + 2 is under the cap although ethers' usual 2 x base + tip (62) would not be: the tip
    // and base fee are what a mined transaction pays.
    const first = win(1_000_000n);
    journal.record(first);
    await redeemer.tick();
    expect(chain.sent[0]?.fees).toEqual({ maxFeePerGas: 62n, maxPriorityFeePerGas: 2n });
    chain.baseFee = 150n; // spike: 152 per gas is over the cap
    const second = win(1_000_000n);
    journal.record(second);
    await redeemer.tick();
    await redeemer.tick();
    expect(chain.sent).toHaveLength(1);
    expect(statuses(journal)[second.ticketHash]).toBe("pending");
    expect(journal.listByStatus(["pending"])[0]?.attempts).toBe(0);
    chain.baseFee = 60n; // back under: 62 per gas, offered at most the cap of 100
    await redeemer.tick();
    expect(chain.sent[1]?.fees).toEqual({ maxFeePerGas: 100n, maxPriorityFeePerGas: 2n });
    expect(chain.sent[1]?.hashes).toEqual([second.ticketHash]);
  });

  it("records winners whose face value does not cover the gas as uneconomic", async () => {
    // One token is worth half a native wei: a gas cost of 1,000 native wei is 2,000 token wei.
    const { journal, chain, redeemer } = setup(
      { gasPerTicket: 100n },
      ":memory:",
      new FixedTokenPrice({ numerator: 1n, denominator: 2n }),
    );
    chain.price = 10n; // gas cost = 10 * 100 = 1000 native wei = 2000 token wei
    const cheap = win(2_000n);
    const ok = win(2_001n);
    journal.record(cheap);
    journal.record(ok);
    await redeemer.tick();
    expect(statuses(journal)[cheap.ticketHash]).toBe("uneconomic");
    expect(journal.listByStatus(["uneconomic"])[0]?.reason).toMatch(/2000/);
    expect(chain.sent.flatMap((t) => t.hashes)).toEqual([ok.ticketHash]);
  });

  it("weighs face values against gas at the price its source gives at each pass", async () => {
    let price = { numerator: 1n, denominator: 1n };
    const source: TokenPriceSource = {
      origin: "test feed",
      nativePerToken: async () => price,
    };
    const { journal, chain, redeemer } = setup({ gasPerTicket: 100n }, ":memory:", source);
    chain.price = 10n; // 1,000 native wei of gas
    const ticket = win(1_500n);
    // The token halves in value: the same gas now costs 2,000 token wei, more than the win.
    price = { numerator: 1n, denominator: 2n };
    journal.record(ticket);
    await redeemer.tick();
    expect(statuses(journal)[ticket.ticketHash]).toBe("uneconomic");
    const next = win(1_500n);
    journal.record(next);
    // The token recovers: 1,000 token wei of gas, the win is worth sending.
    price = { numerator: 1n, denominator: 1n };
    await redeemer.tick();
    expect(chain.sent.flatMap((t) => t.hashes)).toEqual([next.ticketHash]);
  });

  it("counts a redemption only once it has the configured confirmations", async () => {
    const { journal, chain, redeemer } = setup({ confirmations: 3 });
    const w = win(10_000n);
    journal.record(w);
    await redeemer.tick(); // sent and mined in one block
    await redeemer.tick();
    expect(statuses(journal)[w.ticketHash]).toBe("submitted");
    chain.head += 1n;
    await redeemer.tick();
    expect(statuses(journal)[w.ticketHash]).toBe("submitted");
    chain.head += 1n; // its block and two on top
    await redeemer.tick();
    expect(statuses(journal)[w.ticketHash]).toBe("redeemed");
    expect(chain.sent).toHaveLength(1);
  });

  it("sends a redemption again when a reorganization removes it, and pays it once", async () => {
    const { journal, chain, redeemer, clock } = setup({ confirmations: 2 });
    const w = win(10_000n);
    journal.record(w);
    await redeemer.tick();
    await redeemer.tick(); // seen mined, one confirmation of two
    const first = chain.sent[0]?.txHash ?? "";
    chain.reorg(first);
    await redeemer.tick();
    const [back] = journal.listByStatus(["pending"]);
    expect(back?.reason).toMatch(/reorganization/);
    clock.advance(defaultRedeemerOptions.backoffBaseMs);
    await redeemer.tick(); // sent again, mined
    expect(chain.sent).toHaveLength(2);
    chain.head += 1n;
    await redeemer.tick();
    expect(statuses(journal)[w.ticketHash]).toBe("redeemed");
    expect(journal.listByStatus(["redeemed"])[0]?.txHash).toBe(chain.sent[1]?.txHash);
    expect(journal.totals().counts.redeemed).toBe(1);
  });

  it("marks winners that expired before redemption", async () => {
    const { journal, chain, redeemer } = setup();
    const old = win(10_000n, 7n);
    journal.record(old);
    chain.round = 10n; // 7 + 2 < 10
    await redeemer.tick();
    expect(statuses(journal)[old.ticketHash]).toBe("expired");
    expect(chain.sent).toHaveLength(0);
  });

  it("retries failed sends with exponential backoff, then records failure", async () => {
    const { journal, chain, redeemer, clock } = setup({ maxAttempts: 3, backoffBaseMs: 1_000 });
    const w = win(10_000n);
    journal.record(w);
    chain.failSends = 10;
    await redeemer.tick();
    let entry = journal.listByStatus(["pending"])[0];
    expect(entry?.attempts).toBe(1);
    expect(entry?.reason).toMatch(/connection refused/);
    expect(entry?.nextAttemptAt).toBe(clock.now() + 1_000);
    await redeemer.tick(); // too early: nothing sent, nothing counted
    expect(journal.listByStatus(["pending"])[0]?.attempts).toBe(1);
    clock.advance(1_000);
    await redeemer.tick();
    entry = journal.listByStatus(["pending"])[0];
    expect(entry?.attempts).toBe(2);
    expect(entry?.nextAttemptAt).toBe(clock.now() + 2_000);
    clock.advance(2_000);
    await redeemer.tick();
    expect(statuses(journal)[w.ticketHash]).toBe("failed");
  });

  it("resumes after a crash: pending and submitted entries are finished by a new process", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "segmint-redeemer-"));
    try {
      const path = join(dir, "node.db");
      const first = setup({ batchSize: 1 }, path);
      first.chain.autoMine = false;
      const submitted = win(10_000n);
      const pending = win(20_000n);
      first.journal.record(submitted);
      await first.redeemer.tick(); // sends `submitted`, not mined yet
      first.journal.record(pending); // acknowledged just before the "crash"

      // New process, same file; the chain mined the earlier transaction meanwhile.
      const second = setup({ batchSize: 1 }, path);
      second.chain.sent = first.chain.sent;
      second.chain.mine(first.chain.sent[0]?.txHash ?? "");
      await second.redeemer.tick();
      await second.redeemer.tick();
      expect(statuses(second.journal)).toEqual({
        [submitted.ticketHash]: "redeemed",
        [pending.ticketHash]: "redeemed",
      });
      // The first ticket was not sent twice.
      expect(second.chain.sent.filter((t) => t.hashes.includes(submitted.ticketHash))).toHaveLength(
        1,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("re-checks a submitted transaction that never got mined and sends again", async () => {
    const { journal, chain, redeemer, clock } = setup({
      submittedTimeoutMs: 60_000,
      backoffBaseMs: 0,
    });
    chain.autoMine = false;
    const w = win(10_000n);
    journal.record(w);
    await redeemer.tick();
    await redeemer.tick();
    expect(statuses(journal)[w.ticketHash]).toBe("submitted");
    clock.advance(60_000);
    await redeemer.tick(); // timed out: back to pending (attempt 1), then sent again
    expect(chain.sent).toHaveLength(2);
    chain.mine(chain.sent[1]?.txHash ?? "");
    await redeemer.tick();
    expect(statuses(journal)[w.ticketHash]).toBe("redeemed");
  });

  it("runs as a loop with start/stop", async () => {
    const { journal, chain, redeemer } = setup({ pollIntervalMs: 5 });
    const w = win(10_000n);
    journal.record(w);
    redeemer.start();
    for (let i = 0; i < 200 && statuses(journal)[w.ticketHash] !== "redeemed"; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await redeemer.stop();
    expect(statuses(journal)[w.ticketHash]).toBe("redeemed");
    expect(chain.sent).toHaveLength(1);
  });
});
