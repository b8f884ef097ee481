import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { toHex } from "../../../node/src/chain/bytes.ts";
import { signDigest } from "../../../node/src/chain/secp256k1.ts";
import {
  MAX_WIN_PROB,
  type Ticket,
  TicketHasher,
  WIN_PROB_SCALE,
} from "../../../node/src/chain/ticket.ts";
import { isSegmintError } from "../../../node/src/errors.ts";
import {
  EPOCH_BYTES,
  reserveShare,
  type TicketPayment,
  TicketValidator,
} from "../../../node/src/payments/index.ts";
import { domain, ONE_TOKEN, setup } from "./fixtures.ts";

type Env = ReturnType<typeof setup>;
let env: Env | null = null;
afterEach(() => {
  env?.db.close();
  env = null;
});

function start(opts: Parameters<typeof setup>[0] = {}): Env {
  env = setup(opts);
  return env;
}

async function oneTicket(e: Env): Promise<TicketPayment> {
  const params = await e.issuer.issue(e.sender.address);
  // Just over what the sender already holds here, so exactly one new ticket is needed.
  const [payment] = e.sender.createTickets(params, e.sender.balance(e.recipient) + 1n);
  if (!payment) throw new Error("no ticket created");
  return payment;
}

/** Re-signs a ticket after a change, as a cheating sender with its own key would. */
function resign(e: Env, payment: TicketPayment, change: Partial<Ticket>): TicketPayment {
  const ticket = { ...payment.ticket, ...change };
  const signature = signDigest(new TicketHasher(domain).digest(ticket), e.senderKey);
  return { ...payment, ticket, signature };
}

async function expectRejected(e: Env, payment: TicketPayment, code: string, reason?: string) {
  const before = {
    balance: e.balances.balanceScaled(payment.ticket.sender),
    wins: e.journal.listByStatus(["pending"]).length,
  };
  const error = await e.validator.receive(payment).then(
    () => null,
    (err: unknown) => err,
  );
  expect(isSegmintError(error)).toBe(true);
  if (!isSegmintError(error)) return;
  expect(error.code).toBe(code);
  if (reason) expect(error.details.reason).toBe(reason);
  // A rejected ticket leaves no state.
  expect(e.balances.balanceScaled(payment.ticket.sender)).toBe(before.balance);
  expect(e.journal.listByStatus(["pending"]).length).toBe(before.wins);
}

describe("TicketValidator", () => {
  it("accepts a good ticket and credits exactly faceValue * winProb / 2^256", async () => {
    const e = start();
    const payment = await oneTicket(e);
    const result = await e.validator.receive(payment);
    expect(result.creditedScaled).toBe(payment.ticket.faceValue * payment.ticket.winProb);
    expect(e.balances.balanceScaled(e.sender.address)).toBe(result.creditedScaled);
    // EV asked was 1/1000 token; winProb rounds up so the credit is at least that.
    expect(e.balances.balance(e.sender.address)).toBeGreaterThanOrEqual(ONE_TOKEN / 1000n);
    expect(e.balances.balance(e.sender.address)).toBeLessThanOrEqual(ONE_TOKEN / 1000n + 1n);
  });

  it("refuses a ticket signed by another key (BAD_SIGNATURE)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    const forged = {
      ...payment,
      signature: signDigest(randomBytes(32), Uint8Array.from(randomBytes(32))),
    };
    await expectRejected(e, forged, "BAD_TICKET", "BAD_SIGNATURE");
    const flipped = Uint8Array.from(payment.signature);
    flipped[10] = (flipped[10] ?? 0) ^ 0xff;
    await expectRejected(e, { ...payment, signature: flipped }, "BAD_TICKET", "BAD_SIGNATURE");
    // The genuine ticket, with the same nonce, still goes through: the rejections used nothing up.
    await expect(e.validator.receive(payment)).resolves.toBeDefined();
  });

  it("refuses a ticket for another recipient (WRONG_RECIPIENT)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    await expectRejected(
      e,
      resign(e, payment, { recipient: toHex(randomBytes(20)) }),
      "BAD_TICKET",
      "WRONG_RECIPIENT",
    );
  });

  it("refuses params it never issued or that were altered (UNKNOWN_RAND_HASH)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    await expectRejected(
      e,
      resign(e, payment, { recipientRandHash: toHex(randomBytes(32)) }),
      "BAD_TICKET",
      "UNKNOWN_RAND_HASH",
    );
    await expectRejected(
      e,
      resign(e, payment, { winProb: MAX_WIN_PROB }),
      "BAD_TICKET",
      "UNKNOWN_RAND_HASH",
    );
    await expectRejected(
      e,
      resign(e, payment, { faceValue: payment.ticket.faceValue * 2n }),
      "BAD_TICKET",
      "UNKNOWN_RAND_HASH",
    );
    await expectRejected(
      e,
      { ...payment, seed: `${payment.seed.slice(0, 18)}${"ab".repeat(24)}` }, // same epoch, other seed
      "BAD_TICKET",
      "UNKNOWN_RAND_HASH",
    );
  });

  it("refuses params issued by an earlier run of the orchestrator (STALE_PARAMS)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    // Same secret, same chain, but a restarted process: a new epoch and empty nonce sets.
    const restarted = new TicketValidator({
      recipient: e.recipient,
      secret: e.secret,
      domain,
      cache: e.cache,
      journal: e.journal,
      balances: e.balances,
      options: { maxNoncesPerRandHash: 16, chainCacheTtlMs: 0 },
      epoch: Uint8Array.from(randomBytes(EPOCH_BYTES)),
    });
    const error = await restarted.receive(payment).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: "BAD_TICKET", details: { reason: "STALE_PARAMS" } });
    expect(e.balances.balanceScaled(e.sender.address)).toBe(0n);
    // The process that issued them still takes them.
    await expect(e.validator.receive(payment)).resolves.toBeDefined();
  });

  it("refuses a replayed nonce (REPLAYED_NONCE) and leaves the first credit alone", async () => {
    const e = start();
    const payment = await oneTicket(e);
    await e.validator.receive(payment);
    const credited = e.balances.balanceScaled(e.sender.address);
    await expectRejected(e, payment, "BAD_TICKET", "REPLAYED_NONCE");
    expect(e.balances.balanceScaled(e.sender.address)).toBe(credited);
  });

  it("refuses concurrent copies of one ticket: exactly one is credited", async () => {
    const e = start();
    const payment = await oneTicket(e);
    const results = await Promise.allSettled([
      e.validator.receive(payment),
      e.validator.receive(payment),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(e.balances.balanceScaled(e.sender.address)).toBe(
      payment.ticket.faceValue * payment.ticket.winProb,
    );
  });

  it("refuses an expired ticket (EXPIRED) and a changed block hash (STALE_BLOCK_HASH)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    const second = await oneTicket(e);
    e.chain.round = payment.ticket.creationRound + e.chain.validityRounds; // last valid round
    await expect(e.validator.receive(payment)).resolves.toBeDefined();
    e.chain.round += 1n;
    await expectRejected(e, resign(e, payment, { senderNonce: 99n }), "BAD_TICKET", "EXPIRED");
    // A reorg replaced the creation round's block: the params no longer match the chain.
    e.chain.round = second.ticket.creationRound;
    e.chain.blockHashes.set(second.ticket.creationRound, toHex(randomBytes(32)));
    e.cache.invalidateRound();
    await expectRejected(e, second, "BAD_TICKET", "STALE_BLOCK_HASH");
  });

  it("refuses a ticket from a round the chain has not reached (FUTURE_ROUND)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    // The chain went back a round (a reorg across a round boundary).
    e.chain.round = payment.ticket.creationRound - 1n;
    e.cache.invalidateRound();
    await expectRejected(e, payment, "BAD_TICKET", "FUTURE_ROUND");
  });

  it("refuses malformed fields (MALFORMED) before any work", async () => {
    const e = start();
    const payment = await oneTicket(e);
    await expectRejected(
      e,
      { ...payment, signature: payment.signature.subarray(0, 64) },
      "BAD_TICKET",
      "MALFORMED",
    );
    await expectRejected(
      e,
      { ...payment, ticket: { ...payment.ticket, sender: "0x12" } },
      "BAD_TICKET",
      "MALFORMED",
    );
    await expectRejected(
      e,
      { ...payment, ticket: { ...payment.ticket, faceValue: -5n } },
      "BAD_TICKET",
      "MALFORMED",
    );
  });

  it("refuses a face value above the sender's max float (FACE_VALUE_TOO_HIGH)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    // Deposit 0.4 + reserve share (0.5 / 2 active) = 0.65 token < 1 token face value.
    e.chain.senders.set(e.sender.address, {
      deposit: (4n * ONE_TOKEN) / 10n,
      withdrawRound: 0n,
      reserve: ONE_TOKEN / 2n,
      reserveClaimedInCurrentRound: 0n,
    });
    await expectRejected(e, payment, "FACE_VALUE_TOO_HIGH");
    // Deposit 0.5 + reserve share (1 / 2 active - 0.25 already claimed) = 0.75: refused;
    // with nothing claimed yet the share is 0.5 and the float exactly 1 token: accepted.
    e.chain.senders.set(e.sender.address, {
      deposit: ONE_TOKEN / 2n,
      withdrawRound: 0n,
      reserve: ONE_TOKEN,
      reserveClaimedInCurrentRound: 0n,
    });
    e.chain.claimed = ONE_TOKEN / 4n;
    await expectRejected(e, payment, "FACE_VALUE_TOO_HIGH");
    e.chain.claimed = 0n;
    await expect(e.validator.receive(payment)).resolves.toBeDefined();
  });

  it("computes the reserve share as TicketBroker does", () => {
    const info = {
      deposit: 0n,
      withdrawRound: 0n,
      reserve: 600n,
      reserveClaimedInCurrentRound: 300n,
    };
    expect(reserveShare(info, 0n, { active: true, activeCount: 3n })).toBe(300n);
    expect(reserveShare(info, 100n, { active: true, activeCount: 3n })).toBe(200n);
    expect(reserveShare(info, 300n, { active: true, activeCount: 3n })).toBe(0n);
    expect(reserveShare(info, 0n, { active: false, activeCount: 3n })).toBe(0n);
    expect(reserveShare({ ...info, reserve: 100n }, 0n, { active: true, activeCount: 1n })).toBe(
      100n,
    );
  });

  it("issues params on the current round with a zero block hash while nobody initialized it", async () => {
    const e = start();
    // No keeper: the current round (10) has no stored block hash, the last one stored is 5.
    for (let r = 6n; r <= 20n; r++) e.chain.blockHashes.delete(r);
    const params = await e.issuer.issue(e.sender.address);
    expect(params.creationRound).toBe(10n);
    expect(params.creationRoundBlockHash).toBe(`0x${"00".repeat(32)}`);
    expect(params.expirationRound).toBe(12n);
    const [early] = e.sender.createTickets(params, 1n);
    if (!early) throw new Error("no ticket");
    await expect(e.validator.receive(early)).resolves.toBeDefined();
    // Someone initializes the round afterwards: tickets naming the zero hash stay valid.
    e.chain.blockHashes.set(10n, toHex(randomBytes(32)));
    e.cache.invalidateRound();
    const [late] = e.sender.createTickets(params, e.sender.balance(e.recipient) + 1n);
    if (!late) throw new Error("no ticket");
    await expect(e.validator.receive(late)).resolves.toBeDefined();
    // Params issued from now on name the stored hash (checked against the chain's).
    const fresh = await e.issuer.issue(e.sender.address);
    expect(fresh.creationRoundBlockHash).toBe(e.chain.blockHashes.get(10n));
  });

  it("counts unredeemed winners against the max float", async () => {
    const e = start({ ticketEV: ONE_TOKEN, faceValue: ONE_TOKEN }); // winProb = max: every ticket wins
    e.chain.senders.set(e.sender.address, {
      deposit: ONE_TOKEN,
      withdrawRound: 0n,
      reserve: 0n,
      reserveClaimedInCurrentRound: 0n,
    });
    // Two params sets issued while the float was 1 token; the first ticket wins.
    const first = await oneTicket(e);
    const second = await oneTicket(e);
    const won = await e.validator.receive(first);
    expect(won.won).toBe(true);
    expect(e.journal.pendingFaceValue(e.sender.address)).toBe(ONE_TOKEN);
    await expectRejected(e, second, "FACE_VALUE_TOO_HIGH");
    await expect(e.issuer.issue(e.sender.address)).rejects.toMatchObject({
      code: "SENDER_FUNDS_TOO_LOW",
    });
  });

  it("issues no params while this orchestrator has no seat (ORCHESTRATOR_NOT_ACTIVE)", async () => {
    const e = start();
    e.chain.active = 0n;
    await expect(e.issuer.issue(e.sender.address)).rejects.toMatchObject({
      code: "ORCHESTRATOR_NOT_ACTIVE",
    });
    // Seated again (a new round reads the chain afresh): params are issued.
    e.chain.active = 2n;
    e.cache.invalidateRound();
    await expect(e.issuer.issue(e.sender.address)).resolves.toMatchObject({
      recipient: e.recipient,
    });
  });

  it("refuses a sender that is unlocking (SENDER_UNLOCKING)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    e.chain.senders.set(e.sender.address, {
      deposit: 10n * ONE_TOKEN,
      withdrawRound: 12n,
      reserve: 10n * ONE_TOKEN,
      reserveClaimedInCurrentRound: 0n,
    });
    await expectRejected(e, payment, "SENDER_UNLOCKING");
    await expect(e.issuer.issue(e.sender.address)).rejects.toMatchObject({
      code: "SENDER_UNLOCKING",
    });
  });

  it("journals a winner before returning, once, and refuses its params once the rand is revealed", async () => {
    const e = start({ ticketEV: ONE_TOKEN, faceValue: ONE_TOKEN });
    const params = await e.issuer.issue(e.sender.address);
    expect(params.winProb).toBe(MAX_WIN_PROB);
    const payments = e.sender.createTickets(params, 2n * ONE_TOKEN - 2n);
    expect(payments).toHaveLength(2);
    const [a, b] = payments;
    if (!a || !b) throw new Error("expected two tickets");
    const results = await e.validator.receiveAll([a, b]);
    expect(results.map((r) => r.won)).toEqual([true, true]);
    const journaled = e.journal.listByStatus(["pending"]);
    expect(journaled.map((j) => j.ticketHash)).toEqual(results.map((r) => r.ticketHash));
    expect(journaled[0]?.recipientRand).toBeGreaterThan(0n);
    // Tickets on these params still in flight are fine while the rand is secret...
    const [c, d] = e.sender.createTickets(params, 2n * ONE_TOKEN);
    if (!c || !d) throw new Error("expected tickets");
    await expect(e.validator.receive(c)).resolves.toMatchObject({ won: true });
    // ...but not once a redemption is about to publish it.
    e.validator.markRandRevealed(params.recipientRandHash, params.creationRound);
    await expectRejected(e, d, "BAD_TICKET", "RAND_REVEALED");
  });

  it("caps the nonces kept per params set (TOO_MANY_NONCES)", async () => {
    const e = start();
    const params = await e.issuer.issue(e.sender.address);
    const ev = (params.faceValue * params.winProb) / WIN_PROB_SCALE;
    const payments = e.sender.createTickets(params, ev * 17n);
    expect(payments.length).toBeGreaterThanOrEqual(17);
    await e.validator.receiveAll(payments.slice(0, 16));
    const last = payments[16];
    if (!last) throw new Error("missing ticket");
    await expectRejected(e, last, "BAD_TICKET", "TOO_MANY_NONCES");
  });

  it("debits pixels * price and refuses work the balance cannot cover (INSUFFICIENT_BALANCE)", async () => {
    const e = start();
    const payment = await oneTicket(e);
    await e.validator.receive(payment);
    const balance = e.balances.balance(e.sender.address);
    expect(() => e.balances.debit(e.sender.address, balance + 1n)).toThrow(
      expect.objectContaining({ code: "INSUFFICIENT_BALANCE" }),
    );
    expect(e.balances.balance(e.sender.address)).toBe(balance);
    e.balances.debit(e.sender.address, balance);
    expect(e.balances.balance(e.sender.address)).toBe(0n);
  });
});
