import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type IssuedTicketParams,
  paymentFromWire,
  paymentToWire,
  TicketParamsCodec,
  type TicketPayment,
  TicketPaymentCodec,
  ticketParamsFromWire,
  ticketParamsToWire,
  type WireTicket,
} from "../../../node/src/protocol/index.ts";

const hex = (byte: string, bytes: number) => `0x${byte.repeat(bytes)}`;

const params: IssuedTicketParams = {
  recipient: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  faceValue: 10n ** 18n,
  winProb: 2n ** 255n,
  recipientRandHash: hex("ab", 32),
  seed: hex("cd", 32),
  creationRound: 12n,
  creationRoundBlockHash: hex("ef", 32),
  expirationRound: 14n,
};

const payment: TicketPayment = {
  ticket: {
    recipient: params.recipient,
    sender: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    faceValue: (1n << 256n) - 1n,
    winProb: 1n,
    senderNonce: 3n,
    recipientRandHash: params.recipientRandHash,
    creationRound: params.creationRound,
    creationRoundBlockHash: params.creationRoundBlockHash,
  },
  signature: new Uint8Array(65).fill(0x1b),
  seed: params.seed,
};

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return null;
}

describe("ticket params on the wire", () => {
  it("decode straight to bigints, the last round as expirationRound", () => {
    const wire = ticketParamsToWire(params);
    expect(wire.expiry).toBe("14");
    expect(wire.winProb).toBe((2n ** 255n).toString());
    expect(Object.keys(wire)).not.toContain("expirationRound");
    expect(TicketParamsCodec.decode(JSON.parse(JSON.stringify(wire)))).toEqual(params);
  });

  it("leave the price beside them out of the wire form and take it back on decode", () => {
    const priced = { ...params, pricePerPixel: 7n };
    const wire = ticketParamsToWire(priced);
    expect(Object.keys(wire)).not.toContain("pricePerPixel");
    expect(ticketParamsFromWire(wire, 7n)).toEqual({ ...params, pricePerPixel: 7n });
  });

  it("re-encode to the very strings they came from", () => {
    const wire = ticketParamsToWire(params);
    expect(z.encode(TicketParamsCodec, TicketParamsCodec.decode(wire))).toEqual(wire);
  });

  it("refuse numbers a decimal uint256 cannot be, as a malformed ticket", () => {
    const wire = ticketParamsToWire(params);
    const overMax = (1n << 256n).toString();
    for (const bad of ["-1", "01", "1e3", "0x10", "1".repeat(79), "", overMax]) {
      const error = thrown(() => ticketParamsFromWire({ ...wire, faceValue: bad }, 1n));
      expect(error).toMatchObject({ code: "BAD_TICKET", details: { reason: "MALFORMED" } });
    }
  });
});

describe("tickets on the wire", () => {
  it("survive encode and decode, signature bytes and seed included", () => {
    const wire: WireTicket = JSON.parse(JSON.stringify(paymentToWire(payment)));
    expect(wire.faceValue).toBe(((1n << 256n) - 1n).toString());
    expect(wire.sig).toBe(hex("1b", 65));
    const back = paymentFromWire(wire);
    expect(back.ticket).toEqual(payment.ticket);
    expect(back.seed).toBe(payment.seed);
    expect(Array.from(back.signature)).toEqual(Array.from(payment.signature));
    expect(z.encode(TicketPaymentCodec, back)).toEqual(wire);
  });

  it("refuse a short signature, bad hex and a bad address as malformed, naming the field", () => {
    const wire = paymentToWire(payment);
    const cases: Array<[Partial<WireTicket>, string]> = [
      [{ sig: "0x00" }, "sig"],
      [{ recipientRandHash: hex("zz", 32) }, "recipientRandHash"],
      [{ sender: "0x1234" }, "sender"],
      [{ senderNonce: "-3" }, "senderNonce"],
    ];
    for (const [change, field] of cases) {
      const error = thrown(() => paymentFromWire({ ...wire, ...change }));
      expect(error).toMatchObject({
        code: "BAD_TICKET",
        details: { reason: "MALFORMED", fields: [field] },
      });
    }
  });
});
