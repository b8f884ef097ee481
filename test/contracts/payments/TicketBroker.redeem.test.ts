import { getBytes, TypedDataEncoder, ZeroAddress, ZeroHash } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  hashRecipientRand,
  isWinningTicket,
  TicketHasher,
} from "../../../node/src/chain/ticket.ts";
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
  parseEvents,
  type ReceiptLogs,
  randHash,
  read,
  registerOrchestrator,
  send,
  TEST_PARAMS,
  TICKET_TYPES,
  TOKEN,
} from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

// RedemptionStatus enum order in TicketBroker.
const Status = {
  Paid: 0n,
  PaidPartially: 1n,
  Unpaid: 2n,
  InvalidRecipient: 3n,
  InvalidRecipientRand: 4n,
  InvalidCreationRound: 5n,
  TicketExpired: 6n,
  TicketUsed: 7n,
  InvalidSignature: 8n,
  NotWinning: 9n,
  RecipientNotActive: 10n,
} as const;

function events(f: Fixture, receipt: ReceiptLogs) {
  return parseEvents(f.broker, receipt).map((e) => [e.name, ...e.args.toArray()]);
}

/** An active orchestrator and a sender with a funded deposit, one round in. */
async function setup(f: Fixture, deposit = 100n * TOKEN, reserve = 0n) {
  const [orch, sender] = [account(f, 0), account(f, 3)];
  await registerOrchestrator(f, orch, 1_000n * TOKEN);
  if (deposit + reserve > 0n)
    await send(f.broker, sender, "fundDepositAndReserve", deposit, reserve);
  await advanceRounds(f);
  await send(f.rounds, f.deployer, "initializeRound");
  return { orch, sender };
}

describe("TicketBroker: redeemWinningTicket", () => {
  it("pays a winning ticket from the deposit to the recipient's pool, once", async () => {
    const f = await loadSystem(conn);
    const { orch, sender } = await setup(f);
    const t = await makeTicket(f, sender, orch.address);
    const submitter = account(f, 6);
    expect(
      await fn(f.broker, "redeemWinningTicket", submitter).staticCall(
        t.ticket,
        t.sig,
        t.recipientRand,
      ),
    ).toBe(Status.Paid);
    const receipt = await send(
      f.broker,
      submitter,
      "redeemWinningTicket",
      t.ticket,
      t.sig,
      t.recipientRand,
    );
    expect(events(f, receipt)).toEqual([
      ["WinningTicketRedeemed", t.hash, sender.address, orch.address, 10n * TOKEN, 10n * TOKEN, 0n],
    ]);
    expect(await read(f.broker, "isTicketUsed", t.hash)).toBe(true);
    const info = await read<{ deposit: bigint }>(f.broker, "getSenderInfo", sender.address);
    expect(info.deposit).toBe(90n * TOKEN);
    // All of it reaches the orchestrator's pool (it is the only shareholder).
    expect(await read(f.bonding, "pendingFees", orch.address)).toBe(10n * TOKEN);
    await expectRevert(
      fn(f.broker, "redeemWinningTicket", submitter)(t.ticket, t.sig, t.recipientRand),
      f.broker,
      "TicketBrokerTicketUsed",
      [t.hash],
    );
  });

  it("hashes tickets exactly as the EIP-712 spec and the off-chain signer do", async () => {
    const f = await loadSystem(conn);
    const { orch, sender } = await setup(f);
    const t = await makeTicket(f, sender, orch.address, {
      senderNonce: 77n,
      recipientRand: 123456789n,
    });
    const { chainId } = await conn.ethers.provider.getNetwork();
    const domain = {
      name: "Segmint",
      version: "1",
      chainId,
      verifyingContract: f.deployment.contracts.TicketBroker,
    };
    expect(t.hash).toBe(TypedDataEncoder.hash(domain, TICKET_TYPES, t.ticket));
    const hasher = new TicketHasher({
      chainId,
      verifyingContract: f.deployment.contracts.TicketBroker,
    });
    expect(conn.ethers.hexlify(hasher.digest(t.ticket))).toBe(t.hash);
    expect(hashRecipientRand(123456789n)).toBe(t.ticket.recipientRandHash);
    // The off-chain win rule is strict (hash < winProb), like the contract's.
    const hash = BigInt(
      conn.ethers.solidityPackedKeccak256(["bytes", "uint256"], [t.sig, t.recipientRand]),
    );
    expect(isWinningTicket(getBytes(t.sig), t.recipientRand, hash)).toBe(false);
    expect(isWinningTicket(getBytes(t.sig), t.recipientRand, hash + 1n)).toBe(true);
  });

  it("rejects each kind of bad ticket with its error", async () => {
    const f = await loadSystem(conn);
    const { orch, sender } = await setup(f);
    const redeem = (
      t: Awaited<ReturnType<typeof makeTicket>>,
      rand = t.recipientRand,
      sig = t.sig,
    ) => fn(f.broker, "redeemWinningTicket", sender)(t.ticket, sig, rand);

    const noRecipient = await makeTicket(f, sender, ZeroAddress);
    await expectRevert(redeem(noRecipient), f.broker, "TicketBrokerInvalidRecipient", [
      ZeroAddress,
    ]);

    const t = await makeTicket(f, sender, orch.address);
    await expectRevert(redeem(t, 43n), f.broker, "TicketBrokerInvalidRecipientRand", [
      t.ticket.recipientRandHash,
      43n,
    ]);

    const stored = await read<string>(f.rounds, "blockHashForRound", t.ticket.creationRound);
    const wrongHash = await makeTicket(f, sender, orch.address, {
      creationRoundBlockHash: `0x${"11".repeat(32)}`,
    });
    await expectRevert(redeem(wrongHash), f.broker, "TicketBrokerInvalidCreationRound", [
      t.ticket.creationRound,
      stored,
      `0x${"11".repeat(32)}`,
    ]);
    const future = t.ticket.creationRound + 5n;
    const uninitialized = await makeTicket(f, sender, orch.address, {
      creationRound: future,
      creationRoundBlockHash: ZeroHash,
    });
    await expectRevert(redeem(uninitialized), f.broker, "TicketBrokerInvalidCreationRound", [
      future,
      ZeroHash,
      ZeroHash,
    ]);

    const otherSigner = account(f, 4);
    const forged = await makeTicket(f, otherSigner, orch.address);
    const forgedAsSender = { ...forged.ticket, sender: sender.address };
    await expectRevert(
      fn(f.broker, "redeemWinningTicket", sender)(forgedAsSender, forged.sig, forged.recipientRand),
      f.broker,
      "TicketBrokerInvalidSignature",
      [sender.address],
    );
    await expectRevert(
      redeem(t, t.recipientRand, t.sig.slice(0, 130)),
      f.broker,
      "TicketBrokerInvalidSignature",
      [sender.address],
    );

    const losing = await makeTicket(f, sender, orch.address, { winProb: 0n });
    await expectRevert(redeem(losing), f.broker, "TicketBrokerTicketNotWinning", [losing.hash]);

    const stranger = account(f, 5);
    const toStranger = await makeTicket(f, sender, stranger.address);
    await expectRevert(redeem(toStranger), f.broker, "TicketBrokerRecipientNotActive", [
      stranger.address,
      toStranger.ticket.creationRound,
    ]);

    // Nothing above changed any state.
    expect(
      (await read<{ deposit: bigint }>(f.broker, "getSenderInfo", sender.address)).deposit,
    ).toBe(100n * TOKEN);
    expect(await read(f.broker, "isTicketUsed", t.hash)).toBe(false);

    await advanceRounds(f, TEST_PARAMS.ticketValidityRounds + 1);
    const current = await read<bigint>(f.rounds, "currentRound");
    await expectRevert(redeem(t), f.broker, "TicketBrokerTicketExpired", [
      t.ticket.creationRound,
      current,
    ]);
  });

  it("accepts a ticket until its last valid round", async () => {
    const f = await loadSystem(conn);
    const { orch, sender } = await setup(f);
    const t = await makeTicket(f, sender, orch.address);
    await advanceRounds(f, TEST_PARAMS.ticketValidityRounds);
    await send(f.broker, sender, "redeemWinningTicket", t.ticket, t.sig, t.recipientRand);
    expect(await read(f.broker, "isTicketUsed", t.hash)).toBe(true);
  });

  it("tops up from the reserve when the deposit runs short", async () => {
    const f = await loadSystem(conn);
    const { orch, sender } = await setup(f, 3n * TOKEN, 100n * TOKEN);
    const t = await makeTicket(f, sender, orch.address);
    const receipt = await send(
      f.broker,
      sender,
      "redeemWinningTicket",
      t.ticket,
      t.sig,
      t.recipientRand,
    );
    expect(events(f, receipt)).toEqual([
      [
        "WinningTicketRedeemed",
        t.hash,
        sender.address,
        orch.address,
        10n * TOKEN,
        3n * TOKEN,
        7n * TOKEN,
      ],
    ]);
    const info = await read<{
      deposit: bigint;
      reserve: bigint;
      reserveClaimedInCurrentRound: bigint;
    }>(f.broker, "getSenderInfo", sender.address);
    expect([info.deposit, info.reserve, info.reserveClaimedInCurrentRound]).toEqual([
      0n,
      93n * TOKEN,
      7n * TOKEN,
    ]);
    expect(await read(f.broker, "claimedReserve", sender.address, orch.address)).toBe(7n * TOKEN);
    const round = await read<bigint>(f.rounds, "currentRound");
    expect(await read(f.broker, "claimedReserveInRound", sender.address, orch.address, round)).toBe(
      7n * TOKEN,
    );
  });

  it("caps each active orchestrator's reserve claims per round and reports the shortfall", async () => {
    const f = await loadSystem(conn);
    const [o1, o2, sender] = [account(f, 0), account(f, 1), account(f, 3)];
    await registerOrchestrator(f, o1, 1_000n * TOKEN);
    await registerOrchestrator(f, o2, 1_000n * TOKEN);
    await send(f.broker, sender, "fundReserve", 10n * TOKEN);
    await advanceRounds(f);
    await send(f.rounds, f.deployer, "initializeRound");

    // Two active orchestrators: 5 each per round.
    const a = await makeTicket(f, sender, o1.address, { faceValue: 8n * TOKEN, senderNonce: 1n });
    expect(
      await fn(f.broker, "redeemWinningTicket", sender).staticCall(
        a.ticket,
        a.sig,
        a.recipientRand,
      ),
    ).toBe(Status.PaidPartially);
    const ra = await send(
      f.broker,
      sender,
      "redeemWinningTicket",
      a.ticket,
      a.sig,
      a.recipientRand,
    );
    expect(events(f, ra)).toEqual([
      ["WinningTicketRedeemed", a.hash, sender.address, o1.address, 8n * TOKEN, 0n, 5n * TOKEN],
      ["TicketPaidPartially", a.hash, sender.address, o1.address, 3n * TOKEN],
    ]);
    // o1 has used its allocation this round: the next ticket is marked used, unpaid, never silent.
    const b = await makeTicket(f, sender, o1.address, { faceValue: 1n * TOKEN, senderNonce: 2n });
    expect(
      await fn(f.broker, "redeemWinningTicket", sender).staticCall(
        b.ticket,
        b.sig,
        b.recipientRand,
      ),
    ).toBe(Status.Unpaid);
    const rb = await send(
      f.broker,
      sender,
      "redeemWinningTicket",
      b.ticket,
      b.sig,
      b.recipientRand,
    );
    expect(events(f, rb)).toEqual([
      ["WinningTicketRedeemed", b.hash, sender.address, o1.address, 1n * TOKEN, 0n, 0n],
      ["TicketPaidPartially", b.hash, sender.address, o1.address, 1n * TOKEN],
    ]);
    expect(await read(f.broker, "isTicketUsed", b.hash)).toBe(true);
    // o2's allocation is unaffected by o1's claims.
    const c = await makeTicket(f, sender, o2.address, { faceValue: 6n * TOKEN, senderNonce: 3n });
    await send(f.broker, sender, "redeemWinningTicket", c.ticket, c.sig, c.recipientRand);
    expect(await read(f.broker, "claimedReserve", sender.address, o2.address)).toBe(5n * TOKEN);
    expect(
      (await read<{ reserve: bigint }>(f.broker, "getSenderInfo", sender.address)).reserve,
    ).toBe(0n);
    expect(await read(f.bonding, "pendingFees", o1.address)).toBe(5n * TOKEN);
    expect(await read(f.bonding, "pendingFees", o2.address)).toBe(5n * TOKEN);
  });

  it("refuses a registered orchestrator that had no seat in the creation round", async () => {
    const f = await loadSystem(conn);
    const [orch, sender] = [account(f, 0), account(f, 3)];
    await registerOrchestrator(f, orch, 1_000n * TOKEN);
    await send(f.broker, sender, "fundDepositAndReserve", 5n * TOKEN, 10n * TOKEN);
    // Registered this round: active only from the next, so a ticket of this round cannot pay it.
    const t = await makeTicket(f, sender, orch.address, { faceValue: 2n * TOKEN });
    await expectRevert(
      fn(f.broker, "redeemWinningTicket", sender)(t.ticket, t.sig, t.recipientRand),
      f.broker,
      "TicketBrokerRecipientNotActive",
      [orch.address, t.ticket.creationRound],
    );
    const info = await read<{ deposit: bigint; reserve: bigint }>(
      f.broker,
      "getSenderInfo",
      sender.address,
    );
    expect([info.deposit, info.reserve]).toEqual([5n * TOKEN, 10n * TOKEN]);
    expect(await read(f.broker, "isTicketUsed", t.hash)).toBe(false);
  });
});

describe("TicketBroker: batchRedeemWinningTickets", () => {
  it("redeems the good tickets and reports each bad one without reverting", async () => {
    const f = await loadSystem(conn);
    const { orch, sender } = await setup(f);
    const good = await makeTicket(f, sender, orch.address, { senderNonce: 1n });
    const losing = await makeTicket(f, sender, orch.address, { senderNonce: 2n, winProb: 0n });
    const forged = await makeTicket(f, account(f, 4), orch.address, { senderNonce: 3n });
    const good2 = await makeTicket(f, sender, orch.address, { senderNonce: 4n, recipientRand: 7n });
    const tickets = [
      good.ticket,
      good.ticket,
      losing.ticket,
      { ...forged.ticket, sender: sender.address },
      good2.ticket,
    ];
    const sigs = [good.sig, good.sig, losing.sig, forged.sig, good2.sig];
    const rands = [
      good.recipientRand,
      good.recipientRand,
      losing.recipientRand,
      forged.recipientRand,
      8n,
    ];

    const preview = await fn(f.broker, "batchRedeemWinningTickets", sender).staticCall(
      tickets,
      sigs,
      rands,
    );
    expect([...preview]).toEqual([
      Status.Paid,
      Status.TicketUsed,
      Status.NotWinning,
      Status.InvalidSignature,
      Status.InvalidRecipientRand,
    ]);
    const receipt = await send(f.broker, sender, "batchRedeemWinningTickets", tickets, sigs, rands);
    const forgedHash = await read<string>(f.broker, "getTicketHash", tickets[3]);
    expect(events(f, receipt)).toEqual([
      [
        "WinningTicketRedeemed",
        good.hash,
        sender.address,
        orch.address,
        10n * TOKEN,
        10n * TOKEN,
        0n,
      ],
      ["TicketRedemptionFailed", good.hash, 1n, Status.TicketUsed],
      ["TicketRedemptionFailed", losing.hash, 2n, Status.NotWinning],
      ["TicketRedemptionFailed", forgedHash, 3n, Status.InvalidSignature],
      ["TicketRedemptionFailed", good2.hash, 4n, Status.InvalidRecipientRand],
    ]);
    expect(
      (await read<{ deposit: bigint }>(f.broker, "getSenderInfo", sender.address)).deposit,
    ).toBe(90n * TOKEN);
    expect(await read(f.broker, "isTicketUsed", good2.hash)).toBe(false);
    expect(randHash(7n)).toBe(good2.ticket.recipientRandHash);
  });

  it("reports a recipient without a seat without spending the deposit", async () => {
    const f = await loadSystem(conn);
    const { sender } = await setup(f);
    const stranger = account(f, 5);
    const t = await makeTicket(f, sender, stranger.address);
    const statuses = await fn(f.broker, "batchRedeemWinningTickets", sender).staticCall(
      [t.ticket],
      [t.sig],
      [t.recipientRand],
    );
    expect([...statuses]).toEqual([Status.RecipientNotActive]);
  });

  it("rejects arrays of different lengths", async () => {
    const f = await loadSystem(conn);
    const { orch, sender } = await setup(f);
    const t = await makeTicket(f, sender, orch.address);
    await expectRevert(
      fn(f.broker, "batchRedeemWinningTickets", sender)(
        [t.ticket],
        [t.sig, t.sig],
        [t.recipientRand],
      ),
      f.broker,
      "TicketBrokerBatchLengthMismatch",
      [1n, 2n, 1n],
    );
    await expectRevert(
      fn(f.broker, "batchRedeemWinningTickets", sender)([t.ticket], [t.sig], []),
      f.broker,
      "TicketBrokerBatchLengthMismatch",
      [1n, 1n, 0n],
    );
  });
});
