import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import {
  type HistoryChain,
  HistoryKeeper,
  type MinedReceipt,
} from "../../../node/src/orchestrator/history.ts";
import { roundEarningsJson } from "../../../node/src/orchestrator/status.ts";
import { EarningsHistory, openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { randomWin } from "../../helpers/tickets.ts";

/** Receipts by hash; a hash not in the map is not mined yet. */
class FakeChain implements HistoryChain {
  readonly receipts = new Map<string, MinedReceipt>();
  reads = 0;
  async receipt(txHash: string): Promise<MinedReceipt | null> {
    this.reads += 1;
    return this.receipts.get(txHash) ?? null;
  }
}

const hash = (byte: string) => `0x${byte.repeat(32)}`;

describe("HistoryKeeper", () => {
  let db: ReturnType<typeof openDatabase>;
  let chain: FakeChain;
  let keeper: HistoryKeeper;
  let journal: TicketJournal;

  beforeEach(() => {
    db = openDatabase(":memory:");
    chain = new FakeChain();
    journal = new TicketJournal(db);
    keeper = new HistoryKeeper(new EarningsHistory(db), chain, silentLogger());
  });
  afterEach(() => db.close());

  it("writes receipts each pass and prices a redemption once its receipt is there", async () => {
    keeper.received(3n, 2, 50n << 256n);
    journal.record(randomWin({ faceValue: 900n, creationRound: 3n }));
    const [entry] = journal.listByStatus(["pending"]);
    if (!entry) throw new Error("journaled");
    journal.markRedeemed(entry.id, hash("aa"));

    await keeper.tick(); // not mined yet: no gas known
    expect(keeper.rounds(5)[0]).toMatchObject({ ticketsReceived: 2, redemptionGas: 0n });
    chain.receipts.set(hash("aa"), { fee: 777n, rewarded: null });
    await keeper.tick();
    const reads = chain.reads;
    await keeper.tick(); // priced once: no receipt read again
    expect(chain.reads).toBe(reads);

    expect(roundEarningsJson(keeper.rounds(5)[0] ?? fail())).toEqual({
      round: "3",
      ticketsReceived: 2,
      expectedValue: "50",
      winners: 1,
      winnersFaceValue: "900",
      redeemed: 1,
      redeemedValue: "900",
      redemptionGas: "777",
      rewardMinted: null,
      rewardTx: null,
    });
  });

  it("records what a reward() call minted, and a zero when its receipt cannot be read", async () => {
    chain.receipts.set(hash("bb"), {
      fee: 5n,
      rewarded: { minted: 1_000n, orchestratorCut: 100n },
    });
    await keeper.rewarded(4n, hash("bb"));
    await keeper.rewarded(5n, hash("cc"));
    expect(keeper.rounds(5).map((r) => [r.round, r.rewardMinted, r.rewardTx])).toEqual([
      [5n, 0n, hash("cc")],
      [4n, 1_000n, hash("bb")],
    ]);
  });

  it("writes what was received when it closes", () => {
    keeper.received(9n, 1, 7n << 256n);
    keeper.close();
    const reread = new EarningsHistory(db).rounds(1);
    expect(reread[0]).toMatchObject({ round: 9n, ticketsReceived: 1, expectedValue: 7n });
  });
});

function fail(): never {
  throw new Error("no round");
}
