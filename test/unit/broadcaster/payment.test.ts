import { describe, expect, it } from "vitest";
import { PaymentLedger } from "../../../node/src/broadcaster/payment.ts";
import { expectedPixels } from "../../../node/src/broadcaster/verify.ts";
import { WIN_PROB_SCALE } from "../../../node/src/chain/ticket.ts";
import type { TicketParams } from "../../../node/src/payments/interface.ts";
import { TicketSender } from "../../../node/src/payments/sender.ts";

const key = new Uint8Array(32).fill(7);
const domain = {
  chainId: 31337n,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};
const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

/** Each ticket is worth exactly 1000 wei: faceValue 4000 at a 1/4 win probability. */
function params(over: Partial<TicketParams> = {}): TicketParams {
  return {
    recipient: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    faceValue: 4000n,
    winProb: WIN_PROB_SCALE / 4n,
    recipientRandHash: hex(1),
    seed: hex(2),
    creationRound: 5n,
    creationRoundBlockHash: hex(3),
    expirationRound: 7n,
    pricePerPixel: 1n,
    ...over,
  };
}

function ledger(
  caps: Partial<{ maxPricePerPixel: bigint; maxTicketEV: bigint; maxTotalSpend: bigint }> = {},
) {
  return new PaymentLedger(
    new TicketSender(key, domain, {
      maxPricePerPixel: 10n,
      maxTicketEV: 10_000n,
      maxTotalSpend: 1_000_000n,
      ...caps,
    }),
  );
}

describe("PaymentLedger", () => {
  it("sends tickets covering the estimate and carries the surplus to the next segment", () => {
    const l = ledger();
    const first = l.pay(params(), { required: 2_500n, expected: 2_500n });
    expect(first.tickets).toHaveLength(3); // 3000 >= 2500
    // The orchestrator charged exactly the estimate: 500 wei of credit is left there.
    l.settle(first, 2_500n);
    expect(l.credit(params().recipient)).toBe(500n);
    const second = l.pay(params(), { required: 2_500n, expected: 2_500n });
    expect(second.tickets).toHaveLength(2); // 500 + 2000 >= 2500
  });

  it("uses what the orchestrator really charged: less than estimated leaves credit there", () => {
    const l = ledger();
    const first = l.pay(params(), { required: 3_000n, expected: 3_000n });
    expect(first.tickets).toHaveLength(3);
    l.settle(first, 1_000n);
    expect(l.credit(params().recipient)).toBe(2_000n);
    const second = l.pay(params(), { required: 3_000n, expected: 3_000n });
    expect(second.tickets).toHaveLength(1);
  });

  it("pays a shortfall back when the orchestrator charged more than estimated", () => {
    const l = ledger();
    const first = l.pay(params(), { required: 3_000n, expected: 3_000n });
    l.settle(first, 3_500n);
    expect(l.credit(params().recipient)).toBe(-500n);
    const second = l.pay(params(), { required: 3_000n, expected: 3_000n });
    expect(second.tickets).toHaveLength(4); // 3000 + 500 owed -> 4 tickets of 1000
  });

  it("covers the orchestrator's up-front requirement and keeps the unspent part as credit", () => {
    const l = ledger();
    // It checks for 5000 before working (full profile box) but debits the real 1000.
    const first = l.pay(params(), { required: 5_000n, expected: 1_000n });
    expect(first.tickets).toHaveLength(5);
    l.settle(first, 1_000n);
    expect(l.credit(params().recipient)).toBe(4_000n);
    const second = l.pay(params(), { required: 5_000n, expected: 1_000n });
    expect(second.tickets).toHaveLength(1);
    l.settle(second, 1_000n);
    expect(l.totalSpent()).toBe(6_000n);
    expect(l.credit(params().recipient)).toBe(4_000n);
  });

  it("does not count refused tickets as credit", () => {
    const l = ledger();
    const first = l.pay(params(), { required: 3_000n, expected: 3_000n });
    l.refund(first);
    expect(l.credit(params().recipient)).toBe(0n);
    expect(l.pay(params(), { required: 3_000n, expected: 3_000n }).tickets).toHaveLength(3);
  });

  it("refuses to pass the total spend cap, sending nothing", () => {
    const l = ledger({ maxTotalSpend: 5_000n });
    l.pay(params(), { required: 3_000n, expected: 3_000n });
    expect(() => l.pay(params(), { required: 3_000n, expected: 3_000n })).toThrow(
      expect.objectContaining({ code: "SPEND_CAP_REACHED" }),
    );
    expect(l.totalSpent()).toBe(3_000n);
  });

  it("refuses a price above the cap and a ticket worth more than the cap", () => {
    expect(() =>
      ledger().pay(params({ pricePerPixel: 11n }), { required: 1n, expected: 1n }),
    ).toThrow(expect.objectContaining({ code: "PRICE_TOO_HIGH" }));
    expect(() =>
      ledger({ maxTicketEV: 999n }).pay(params(), { required: 1n, expected: 1n }),
    ).toThrow(expect.objectContaining({ code: "TICKET_EV_TOO_HIGH" }));
  });
});

describe("expectedPixels", () => {
  const source = { decodedFrames: 60, firstSeconds: 10, lastSeconds: 10 + 59 / 30 };
  const rendition = (width: number, height: number, fps?: number) => ({
    width,
    height,
    fps,
    bitrateBps: 1_000_000,
  });

  it("allows each rendition the source's frames plus one, at its output size", () => {
    const px = expectedPixels(source, 30, [rendition(640, 360), rendition(426, 240)]);
    expect(px).toBe(BigInt(640 * 360 * 61 + 426 * 240 * 61));
  });

  it("scales frames when a profile lowers the frame rate", () => {
    const px = expectedPixels(source, 30, [rendition(640, 360, 15)]);
    expect(px).toBe(BigInt(640 * 360 * 31));
  });
});
