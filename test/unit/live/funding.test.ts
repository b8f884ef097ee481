import { describe, expect, it } from "vitest";
import { type DepositChain, DepositKeeper } from "../../../node/src/live/funding.ts";
import { silentLogger } from "../../../node/src/log/index.ts";

/** A TicketBroker and token in memory: funding moves tokens from the balance to the deposit. */
class FakeChain implements DepositChain {
  deposit = 0n;
  reserve = 0n;
  unlocking = false;
  balance = 0n;
  funded: Array<{ deposit: bigint; reserve: bigint }> = [];
  async senderInfo() {
    return { deposit: this.deposit, reserve: this.reserve, unlocking: this.unlocking };
  }
  async tokenBalance() {
    return this.balance;
  }
  async fund(amounts: { deposit: bigint; reserve: bigint }) {
    if (amounts.deposit + amounts.reserve > this.balance) throw new Error("balance");
    this.balance -= amounts.deposit + amounts.reserve;
    this.deposit += amounts.deposit;
    this.reserve += amounts.reserve;
    this.funded.push(amounts);
  }
}

function keeper(chain: FakeChain, maxAutoDeposit: bigint, streams: () => number) {
  return new DepositKeeper(
    chain,
    {
      address: "0xB",
      maxAutoDeposit,
      // 10 wei a minute per stream, 5 minutes: 50 wei per stream.
      perStreamPerMinute: 10n,
      coverMinutes: 5,
      checkIntervalMs: 60_000,
    },
    streams,
    silentLogger(),
  );
}

describe("DepositKeeper", () => {
  it("refuses a stream the deposit cannot cover when auto-deposit is off, and takes it once funded", async () => {
    const chain = new FakeChain();
    chain.deposit = 40n;
    chain.balance = 1_000n;
    const k = keeper(chain, 0n, () => 0);
    await k.start();
    expect(k.canStartStream().ok).toBe(false);
    chain.deposit = 60n;
    await k.check();
    expect(k.canStartStream()).toEqual({ ok: true });
    expect(chain.funded).toEqual([]);
    await k.stop();
  });

  it("tops the deposit up to twice what the streams need, within the cap", async () => {
    const chain = new FakeChain();
    chain.balance = 1_000n;
    let streams = 1;
    const k = keeper(chain, 300n, () => streams);
    await k.start();
    // One stream needs 50: the deposit goes to 100, the reserve to 25.
    expect(chain.funded).toEqual([{ deposit: 100n, reserve: 25n }]);
    streams = 3;
    await k.check();
    // Three need 150: +200 to 300 would pass the cap of 300 in all (125 used): capped at 175.
    expect(chain.funded[1]).toEqual({ deposit: 175n, reserve: 0n });
    expect(k.status().autoDeposited).toBe("300");
    chain.deposit = 0n;
    await k.check();
    expect(chain.funded).toHaveLength(2);
    expect(k.canStartStream().ok).toBe(false);
    await k.stop();
  });

  it("never counts more than the token balance as room to add", async () => {
    const chain = new FakeChain();
    chain.balance = 30n;
    const k = keeper(chain, 1_000n, () => 0);
    await k.start();
    const decision = k.canStartStream();
    expect(decision.ok).toBe(false);
    await k.stop();
  });

  it("refuses new streams while the deposit is unlocking, saying how to stop the unlock", async () => {
    const chain = new FakeChain();
    chain.deposit = 1_000n;
    chain.unlocking = true;
    const k = keeper(chain, 0n, () => 0);
    await k.start();
    const decision = k.canStartStream();
    expect(decision.ok).toBe(false);
    if (!decision.ok) expect(decision.reason).toContain("cancel-unlock");
    await k.stop();
  });
});
