import { describe, expect, it } from "vitest";
import { TicketParamsSchema, WireTicketSchema } from "../../../node/src/p2p/messages.ts";
import type {
  TicketParams as PaymentsTicketParams,
  TicketPayment,
} from "../../../node/src/payments/interface.ts";
import {
  paymentFromWire,
  paymentToWire,
  ticketParamsFromWire,
  ticketParamsToWire,
} from "../../../node/src/payments/wire.ts";

// The payments subsystem converts its bigint types to the JSON the p2p layer carries; these
// tests hold the two sides to one shape, so neither can drift without a failing test.

const hex = (byte: string, bytes: number) => `0x${byte.repeat(bytes)}`;

const params: PaymentsTicketParams = {
  recipient: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  faceValue: 10n ** 18n,
  winProb: 2n ** 255n,
  recipientRandHash: hex("ab", 32),
  seed: hex("cd", 32),
  creationRound: 12n,
  creationRoundBlockHash: hex("ef", 32),
  expirationRound: 14n,
  pricePerPixel: 7n,
};

const payment: TicketPayment = {
  ticket: {
    recipient: params.recipient,
    sender: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    faceValue: params.faceValue,
    winProb: params.winProb,
    senderNonce: 3n,
    recipientRandHash: params.recipientRandHash,
    creationRound: params.creationRound,
    creationRoundBlockHash: params.creationRoundBlockHash,
  },
  signature: new Uint8Array(65).fill(0x1b),
  seed: params.seed,
};

describe("payments <-> p2p wire shapes", () => {
  it("ticket params survive payments -> wire schema -> payments", () => {
    const wire = TicketParamsSchema.parse(ticketParamsToWire(params));
    expect(ticketParamsFromWire(wire, params.pricePerPixel)).toEqual(params);
  });

  it("tickets survive payments -> wire schema -> payments, seed included", () => {
    const wire = WireTicketSchema.parse(paymentToWire(payment));
    expect(wire.seed).toBe(payment.seed);
    const back = paymentFromWire(wire);
    expect(back.ticket).toEqual(payment.ticket);
    expect(Array.from(back.signature)).toEqual(Array.from(payment.signature));
  });
});
