import { describe, expect, it } from "vitest";
import {
  PaymentChannels,
  type SegmentPayment,
  type TicketParamsSource,
} from "../../../node/src/broadcaster/channel.ts";
import type { OrchestratorHandle } from "../../../node/src/broadcaster/interface.ts";
import { WIN_PROB_SCALE } from "../../../node/src/chain/ticket.ts";
import type { TicketParams } from "../../../node/src/payments/interface.ts";
import { TicketSigner } from "../../../node/src/payments/sender.ts";

const domain = {
  chainId: 31337n,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};
const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const A = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const B = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const handle = (address: string): OrchestratorHandle => ({
  address,
  peerId: "peer",
  multiaddrs: [],
  maxInFlight: 4,
});
const signal = new AbortController().signal;

/** Each ticket is worth exactly 1000 wei (faceValue 4000 at a 1/4 win probability), 1 wei a pixel. */
function params(recipient: string, randHash: number, over: Partial<TicketParams> = {}) {
  return {
    recipient,
    faceValue: 4000n,
    winProb: WIN_PROB_SCALE / 4n,
    recipientRandHash: hex(randHash),
    seed: hex(2),
    creationRound: 5n,
    creationRoundBlockHash: hex(3),
    expirationRound: 7n,
    pricePerPixel: 1n,
    ...over,
  };
}

/** An orchestrator's /segmint/info: fresh params (a new recipientRandHash) on every call. */
class FakeParams implements TicketParamsSource {
  fetches = 0;
  /** Params handed once as the answer given when chosen. */
  pendingChosen = new Map<string, TicketParams>();
  /** Every fetch answers these when set (an orchestrator that repeats its params). */
  fixed: TicketParams | undefined;
  round = 5n;

  chosen(address: string): TicketParams | undefined {
    const p = this.pendingChosen.get(address);
    this.pendingChosen.delete(address);
    return p;
  }

  async fetch(target: OrchestratorHandle): Promise<TicketParams> {
    this.fetches += 1;
    const answer =
      this.fixed ??
      params(target.address, 1000 + this.fetches, {
        creationRound: this.round,
        expirationRound: this.round + 2n,
      });
    await new Promise((resolve) => setImmediate(resolve));
    return answer;
  }
}

function channels(
  caps: Partial<{ maxPricePerPixel: bigint; maxTicketEV: bigint; maxSpend: bigint }> = {},
) {
  const source = new FakeParams();
  const signer = new TicketSigner(new Uint8Array(32).fill(7), domain, {
    maxPricePerPixel: caps.maxPricePerPixel ?? 10n,
    maxTicketEV: caps.maxTicketEV ?? 10_000n,
  });
  const all = new PaymentChannels({
    signer,
    params: source,
    maxSpend: caps.maxSpend ?? 1_000_000n,
  });
  return { all, source, a: all.channel(handle(A)) };
}

const px = (required: bigint, expected = required) => ({ required, expected });
const hashOf = (p: SegmentPayment) => p.tickets[0]?.ticket.recipientRandHash;

describe("PaymentChannel", () => {
  it("sends tickets covering the estimate and carries the surplus to the next segment", async () => {
    const { a } = channels();
    const first = await a.pay(px(2_500n), signal);
    expect(first.tickets).toHaveLength(3); // 3000 >= 2500
    // The orchestrator charged exactly the estimate: 500 wei of credit is left there.
    a.settle(first, 2_500n, null);
    expect(a.credit()).toBe(500n);
    const second = await a.pay(px(2_500n), signal);
    expect(second.tickets).toHaveLength(2); // 500 + 2000 >= 2500
    a.settle(second, 2_500n, null);
    expect(a.credit()).toBe(0n);
  });

  it("uses what the orchestrator really charged: less than estimated leaves credit there", async () => {
    const { a } = channels();
    const first = await a.pay(px(3_000n), signal);
    expect(first.tickets).toHaveLength(3);
    a.settle(first, 1_000n, null);
    expect(a.credit()).toBe(2_000n);
    expect((await a.pay(px(3_000n), signal)).tickets).toHaveLength(1);
  });

  it("settles a claim above the expected pixels at the expected pixels", async () => {
    const { a } = channels();
    const first = await a.pay(px(3_000n), signal);
    // A padded result claims 3500: it is charged the 3000 an honest result holds.
    expect(a.settle(first, 3_500n, null)).toBe(3_000n);
    expect(a.credit()).toBe(0n);
    expect((await a.pay(px(3_000n), signal)).tickets).toHaveLength(3);
  });

  it("covers the orchestrator's up-front requirement and keeps the unspent part as credit", async () => {
    const { all, a } = channels();
    // It checks for 5000 before working (full profile box) but debits the real 1000.
    const first = await a.pay(px(5_000n, 1_000n), signal);
    expect(first.tickets).toHaveLength(5);
    a.settle(first, 1_000n, null);
    expect(a.credit()).toBe(4_000n);
    const second = await a.pay(px(5_000n, 1_000n), signal);
    expect(second.tickets).toHaveLength(1);
    a.settle(second, 1_000n, null);
    expect(all.spent()).toBe(6_000n);
    expect(a.credit()).toBe(4_000n);
  });

  it("prices the segment at its lane's price", async () => {
    const { source, a } = channels();
    source.fixed = params(A, 9, { pricePerPixel: 3n });
    const payment = await a.pay(px(1_000n), signal);
    expect(payment.tickets).toHaveLength(3);
    expect(a.settle(payment, 900n, null)).toBe(2_700n);
    expect(a.credit()).toBe(300n);
  });

  it("does not count the tickets of a segment not done as credit, but as spent", async () => {
    const { all, a } = channels();
    const first = await a.pay(px(3_000n), signal);
    a.refund(first, "keep");
    expect(a.credit()).toBe(0n);
    expect(all.spent()).toBe(3_000n);
    const again = await a.pay(px(3_000n), signal);
    expect(again.tickets).toHaveLength(3);
    // The lane was kept: the same params, later nonces.
    expect(hashOf(again)).toBe(hashOf(first));
    expect(again.tickets[0]?.ticket.senderNonce).toBe(4n);
  });

  it("returns the credit of a refused payment and pays again on fresh params", async () => {
    const { all, source, a } = channels();
    const refused = await a.pay(px(2_500n), signal);
    a.refund(refused, "drop");
    const repaid = await a.repay(refused, signal);
    expect(source.fetches).toBe(2);
    expect(hashOf(repaid)).not.toBe(hashOf(refused));
    expect(repaid.tickets).toHaveLength(3);
    // Both tries are the segment's: 6 tickets, 6000 wei of expected value, 6 x 4000 face value.
    expect([repaid.ticketsSent, repaid.value, repaid.faceValue]).toEqual([6, 6_000n, 24_000n]);
    a.settle(repaid, 2_500n, null);
    expect(a.credit()).toBe(500n);
    expect(all.spent()).toBe(6_000n);
    // The refused params are never written on again: the next segment uses the repaid lane.
    const next = await a.pay(px(2_500n), signal);
    expect(hashOf(next)).toBe(hashOf(repaid));
    expect(source.fetches).toBe(2);
  });

  it("keeps a lane per segment in flight and takes the orchestrator's fresh params after each", async () => {
    const { source, a } = channels();
    const [one, two] = await Promise.all([a.pay(px(1_000n), signal), a.pay(px(1_000n), signal)]);
    if (one === undefined || two === undefined) throw new Error("two payments expected");
    expect(hashOf(one)).not.toBe(hashOf(two));
    a.settle(one, 1_000n, params(A, 77));
    a.settle(two, 1_000n, null);
    // A payment keeps naming the params its tickets were written on.
    expect(one.params.recipientRandHash).toBe(hashOf(one));
    const [three, four] = await Promise.all([a.pay(px(1_000n), signal), a.pay(px(1_000n), signal)]);
    expect(new Set([three, four].map((p) => (p === undefined ? "" : hashOf(p))))).toEqual(
      new Set([hex(77), hashOf(two)]),
    );
    expect(source.fetches).toBe(2);
  });

  it("drops an idle lane whose params expired and writes on fresh ones", async () => {
    const { source, a } = channels();
    const [one, two] = await Promise.all([a.pay(px(1_000n), signal), a.pay(px(1_000n), signal)]);
    if (one === undefined || two === undefined) throw new Error("two payments expected");
    a.settle(two, 1_000n, null); // round 5 params, good until round 7
    // Round 8 has begun: the orchestrator's fresh params after the first segment say so.
    a.settle(one, 1_000n, params(A, 88, { creationRound: 8n, expirationRound: 10n }));
    source.round = 8n;
    const [three, four] = await Promise.all([a.pay(px(1_000n), signal), a.pay(px(1_000n), signal)]);
    const hashes = [three, four].map((p) => (p === undefined ? "" : hashOf(p)));
    expect(hashes).toContain(hex(88));
    expect(hashes).not.toContain(hashOf(two));
    expect(source.fetches).toBe(3);
  });

  it("writes on the params answered when the orchestrator was chosen, once", async () => {
    const { source, a } = channels();
    source.pendingChosen.set(A, params(A, 55));
    const first = await a.pay(px(1_000n), signal);
    expect(hashOf(first)).toBe(hex(55));
    expect(source.fetches).toBe(0);
    const second = await a.pay(px(1_000n), signal);
    expect(hashOf(second)).not.toBe(hex(55));
    expect(source.fetches).toBe(1);
  });

  it("never repeats a nonce when concurrent segments get the same params", async () => {
    const { source, a } = channels();
    source.fixed = params(A, 9);
    const paid = await Promise.all([1, 2, 3].map(() => a.pay(px(2_000n), signal)));
    const nonces = paid.flatMap((p) => p.tickets.map((t) => t.ticket.senderNonce));
    expect(nonces).toHaveLength(6);
    expect(new Set(nonces).size).toBe(6);
  });

  it("holds the spend cap over every channel, sending nothing past it", async () => {
    const { all, a } = channels({ maxSpend: 5_000n });
    await a.pay(px(3_000n), signal);
    const b = all.channel(handle(B));
    await expect(b.pay(px(3_000n), signal)).rejects.toMatchObject({ code: "SPEND_CAP_REACHED" });
    expect(all.spent()).toBe(3_000n);
    // What still fits is paid.
    expect((await b.pay(px(2_000n), signal)).tickets).toHaveLength(2);
    expect(all.spent()).toBe(5_000n);
  });

  it("refuses a price above the cap, a ticket worth more than the cap, and params for another recipient", async () => {
    const pricey = channels();
    pricey.source.fixed = params(A, 9, { pricePerPixel: 11n });
    await expect(pricey.a.pay(px(1n), signal)).rejects.toMatchObject({ code: "PRICE_TOO_HIGH" });
    const rich = channels({ maxTicketEV: 999n });
    await expect(rich.a.pay(px(1n), signal)).rejects.toMatchObject({ code: "TICKET_EV_TOO_HIGH" });
    const other = channels();
    other.source.fixed = params(B, 9);
    await expect(other.a.pay(px(1n), signal)).rejects.toMatchObject({
      code: "BAD_TICKET_PARAMS",
    });
    expect(other.all.spent()).toBe(0n);
  });

  it("settles or refunds a payment once, on the channel that made it", async () => {
    const { all, a } = channels();
    const payment = await a.pay(px(1_000n), signal);
    expect(() => all.channel(handle(B)).settle(payment, 1_000n, null)).toThrow();
    a.settle(payment, 1_000n, null);
    expect(() => a.refund(payment, "keep")).toThrow();
    expect(a.credit()).toBe(0n);
  });
});
