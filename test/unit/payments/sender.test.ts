import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../node/src/chain/bytes.ts";
import { recoverDigestSigner } from "../../../node/src/chain/secp256k1.ts";
import { TicketHasher, WIN_PROB_SCALE } from "../../../node/src/chain/ticket.ts";
import {
  SenderNonces,
  segmentFee,
  type TicketParams,
  TicketSender,
} from "../../../node/src/payments/index.ts";
import {
  paymentFromWire,
  paymentToWire,
  ticketParamsFromWire,
  ticketParamsToWire,
} from "../../../node/src/protocol/index.ts";
import { domain, ONE_TOKEN, setup } from "./fixtures.ts";

const hex64 = (byte: string) => `0x${byte.repeat(32)}`;

function params(overrides: Partial<TicketParams> = {}): TicketParams {
  return {
    recipient: toHex(randomBytes(20)),
    faceValue: 1_024_000n,
    winProb: WIN_PROB_SCALE / 1024n, // EV = exactly 1000 wei
    recipientRandHash: toHex(randomBytes(32)),
    seed: toHex(randomBytes(32)),
    creationRound: 3n,
    creationRoundBlockHash: toHex(randomBytes(32)),
    expirationRound: 5n,
    pricePerPixel: 2n,
    ...overrides,
  };
}

function sender(caps: Partial<ConstructorParameters<typeof TicketSender>[2]> = {}) {
  return new TicketSender(Uint8Array.from(randomBytes(32)), domain, {
    maxPricePerPixel: 10n,
    maxTicketEV: 10_000n,
    maxTotalSpend: 1_000_000n,
    ...caps,
  });
}

describe("TicketSender", () => {
  it("creates ceil(fee / EV) tickets with increasing nonces, signed by the sender", () => {
    const s = sender();
    const p = params();
    const fee = segmentFee(1_250n, 2n); // 2500 wei -> 3 tickets of EV 1000
    const payments = s.createTickets(p, fee);
    expect(payments.map((x) => x.ticket.senderNonce)).toEqual([1n, 2n, 3n]);
    const hasher = new TicketHasher(domain);
    for (const x of payments) {
      expect(recoverDigestSigner(hasher.digest(x.ticket), x.signature)).toBe(s.address);
      expect(x.seed).toBe(p.seed);
      expect(x.ticket.recipient).toBe(p.recipient);
    }
    // 3000 sent for 2500 owed: 500 credit carries to the next segment.
    expect(s.balance(p.recipient)).toBe(500n);
    expect(s.totalSpent()).toBe(3000n);
    const next = s.createTickets(p, 1_400n); // 900 more needed -> 1 ticket
    expect(next.map((x) => x.ticket.senderNonce)).toEqual([4n]);
    expect(s.balance(p.recipient)).toBe(100n);
    expect(s.createTickets(p, 100n)).toEqual([]); // covered by credit
    expect(s.balance(p.recipient)).toBe(0n);
  });

  it("enforces the price, ticket EV and total spend caps without changing state", () => {
    const s = sender({ maxTotalSpend: 5_000n });
    const p = params();
    expect(() => s.createTickets(params({ pricePerPixel: 11n }), 1n)).toThrow(
      expect.objectContaining({ code: "PRICE_TOO_HIGH" }),
    );
    expect(() => s.createTickets(params({ faceValue: 100_000_000n }), 1n)).toThrow(
      expect.objectContaining({ code: "TICKET_EV_TOO_HIGH" }),
    );
    s.createTickets(p, 4_000n);
    expect(() => s.createTickets(p, 1_001n)).toThrow(
      expect.objectContaining({ code: "SPEND_CAP_REACHED" }),
    );
    expect(s.totalSpent()).toBe(4_000n);
    expect(s.createTickets(p, 1_000n).map((x) => x.ticket.senderNonce)).toEqual([5n]);
  });

  it("refuses malformed params", () => {
    const s = sender();
    expect(() => s.createTickets(params({ winProb: 0n }), 1n)).toThrow(
      expect.objectContaining({ code: "BAD_TICKET_PARAMS" }),
    );
    expect(() => s.createTickets(params({ recipient: "0x01" }), 1n)).toThrow(
      expect.objectContaining({ code: "BAD_TICKET_PARAMS" }),
    );
  });

  it("round-trips params and tickets through the wire shapes the orchestrator accepts", async () => {
    const e = setup();
    try {
      const issued = await e.issuer.issue(e.sender.address);
      const wireParams = JSON.parse(JSON.stringify(ticketParamsToWire(issued)));
      const received = ticketParamsFromWire(wireParams, issued.pricePerPixel);
      expect(received).toEqual(issued);
      const fee = ONE_TOKEN / 100n;
      const wire = JSON.parse(
        JSON.stringify(e.sender.createTickets(received, fee).map(paymentToWire)),
      );
      const results = await e.validator.receiveAll(wire.map(paymentFromWire));
      const credited = results.reduce((sum, r) => sum + r.creditedScaled, 0n);
      expect(credited).toBeGreaterThanOrEqual(fee * WIN_PROB_SCALE);
      e.balances.debit(e.sender.address, fee);
      expect(() => paymentFromWire({ ...wire[0], sig: "0x00" })).toThrow(
        expect.objectContaining({ code: "BAD_TICKET" }),
      );
      expect(() => paymentFromWire({ ...wire[0], faceValue: "-1" })).toThrow(
        expect.objectContaining({ code: "BAD_TICKET" }),
      );
    } finally {
      e.db.close();
    }
  });
});

describe("SenderNonces", () => {
  it("hands out each nonce on a params set once, counting per set and case-blind", () => {
    const nonces = new SenderNonces();
    expect(nonces.take(hex64("ab"), 3n)).toBe(1n);
    expect(nonces.take(hex64("AB"), 2n)).toBe(4n);
    expect(nonces.take(hex64("cd"), 1n)).toBe(1n);
    expect(nonces.take(hex64("ab"), 0n)).toBe(6n);
    expect(nonces.take(hex64("ab"), 1n)).toBe(6n);
  });
});

describe("expected-value accounting end to end", () => {
  it("orchestrator credit equals broadcaster spend exactly over many segments", async () => {
    const e = setup({ ticketEV: 9_999_991n, faceValue: ONE_TOKEN });
    try {
      let fees = 0n;
      for (let seg = 0; seg < 25; seg++) {
        const p = await e.issuer.issue(e.sender.address);
        const fee = segmentFee(BigInt(1280 * 720 * 60 + seg), 1n);
        fees += fee;
        await e.validator.receiveAll(e.sender.createTickets(p, fee));
        e.balances.debit(e.sender.address, fee);
      }
      // Both sides keep 2^-256-exact ledgers, so they agree to the last unit.
      const orchestratorView = e.balances.balanceScaled(e.sender.address);
      expect(orchestratorView).toBeGreaterThanOrEqual(0n);
      expect(orchestratorView / WIN_PROB_SCALE).toBe(e.sender.balance(e.recipient));
      expect(e.sender.totalSpent()).toBeGreaterThanOrEqual(fees);
    } finally {
      e.db.close();
    }
  });
});
