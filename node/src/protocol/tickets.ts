import { z } from "zod";
import { fromHex, toHex } from "../chain/bytes.ts";
import type { Ticket } from "../chain/ticket.ts";
import { SegmintError } from "../errors.ts";
import { address, bytes32, signature65, uint256String } from "./primitives.ts";

/**
 * Ticket params and tickets: the wire shapes (decimal strings, 0x hex) and the codecs that
 * decode them straight into the bigint values payments works with, and encode them back.
 */

/**
 * Ticket params as an orchestrator issues them for one sender. The sender copies recipient,
 * faceValue, winProb, recipientRandHash, creationRound and creationRoundBlockHash into each
 * ticket; seed lets the orchestrator recompute the recipientRand from its secret. The last
 * round the params are good for is `expirationRound` in code and `expiry` on the wire.
 */
export const WireTicketParamsSchema = z.object({
  recipient: address,
  faceValue: uint256String,
  winProb: uint256String,
  recipientRandHash: bytes32,
  seed: bytes32,
  creationRound: uint256String,
  creationRoundBlockHash: bytes32,
  expiry: uint256String,
});
export type WireTicketParams = z.infer<typeof WireTicketParamsSchema>;

/** Ticket params decoded: payments' TicketParams is these plus the price they were issued at. */
export interface IssuedTicketParams {
  recipient: string;
  faceValue: bigint;
  winProb: bigint;
  recipientRandHash: string;
  /** Random per issuance; sent back with each ticket so the recipient can recompute its rand. */
  seed: string;
  creationRound: bigint;
  creationRoundBlockHash: string;
  /** The last round in which tickets made from these params are accepted (`expiry` on the wire). */
  expirationRound: bigint;
}

export const TicketParamsCodec = z.codec(WireTicketParamsSchema, z.custom<IssuedTicketParams>(), {
  decode: (wire): IssuedTicketParams => ({
    recipient: wire.recipient,
    faceValue: BigInt(wire.faceValue),
    winProb: BigInt(wire.winProb),
    recipientRandHash: wire.recipientRandHash,
    seed: wire.seed,
    creationRound: BigInt(wire.creationRound),
    creationRoundBlockHash: wire.creationRoundBlockHash,
    expirationRound: BigInt(wire.expiry),
  }),
  encode: (params): WireTicketParams => ({
    recipient: params.recipient,
    faceValue: params.faceValue.toString(),
    winProb: params.winProb.toString(),
    recipientRandHash: params.recipientRandHash,
    seed: params.seed,
    creationRound: params.creationRound.toString(),
    creationRoundBlockHash: params.creationRoundBlockHash,
    expiry: params.expirationRound.toString(),
  }),
});

/**
 * One signed ticket as it travels on the wire: the EIP-712 Ticket struct, the seed of the
 * params it was made from (so the orchestrator recomputes recipientRand without keeping
 * state), and the sender's signature.
 */
export const WireTicketSchema = z.object({
  recipient: address,
  sender: address,
  faceValue: uint256String,
  winProb: uint256String,
  senderNonce: uint256String,
  recipientRandHash: bytes32,
  creationRound: uint256String,
  creationRoundBlockHash: bytes32,
  seed: bytes32,
  sig: signature65,
});
export type WireTicket = z.infer<typeof WireTicketSchema>;

/** One signed ticket as it travels with a segment, decoded. */
export interface TicketPayment {
  ticket: Ticket;
  /** 65 bytes r||s||v. */
  signature: Uint8Array;
  seed: string;
}

export const TicketPaymentCodec = z.codec(WireTicketSchema, z.custom<TicketPayment>(), {
  decode: (wire): TicketPayment => ({
    ticket: {
      recipient: wire.recipient,
      sender: wire.sender,
      faceValue: BigInt(wire.faceValue),
      winProb: BigInt(wire.winProb),
      senderNonce: BigInt(wire.senderNonce),
      recipientRandHash: wire.recipientRandHash,
      creationRound: BigInt(wire.creationRound),
      creationRoundBlockHash: wire.creationRoundBlockHash,
    },
    // signature65 has checked it is 65 bytes of hex.
    signature: fromHex(wire.sig, 65),
    seed: wire.seed,
  }),
  encode: ({ ticket, signature, seed }): WireTicket => ({
    recipient: ticket.recipient,
    sender: ticket.sender,
    faceValue: ticket.faceValue.toString(),
    winProb: ticket.winProb.toString(),
    senderNonce: ticket.senderNonce.toString(),
    recipientRandHash: ticket.recipientRandHash,
    creationRound: ticket.creationRound.toString(),
    creationRoundBlockHash: ticket.creationRoundBlockHash,
    seed,
    sig: toHex(signature),
  }),
});

/** The wire form of issued params (a price beside them is not part of it and is left out). */
export function ticketParamsToWire(params: IssuedTicketParams): WireTicketParams {
  return z.encode(TicketParamsCodec, params);
}

/**
 * Decodes params received on the wire. `pricePerPixel` travels beside them in the info answer,
 * so it is passed in and returned with them. Malformed params are a BAD_TICKET (MALFORMED).
 */
export function ticketParamsFromWire(
  wire: WireTicketParams,
  pricePerPixel: bigint,
): IssuedTicketParams & { pricePerPixel: bigint } {
  return { ...decodeOrBadTicket(TicketParamsCodec, wire, "ticket params"), pricePerPixel };
}

export function paymentToWire(payment: TicketPayment): WireTicket {
  return z.encode(TicketPaymentCodec, payment);
}

/** Decodes a wire ticket; a malformed one is a BAD_TICKET (MALFORMED). */
export function paymentFromWire(wire: WireTicket): TicketPayment {
  return decodeOrBadTicket(TicketPaymentCodec, wire, "ticket");
}

function decodeOrBadTicket<T>(schema: z.ZodType<T>, wire: unknown, what: string): T {
  const parsed = schema.safeParse(wire);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".")))];
  throw new SegmintError(
    "BAD_TICKET",
    `malformed ${what}: ${fields.join(", ")}`,
    { reason: "MALFORMED", fields },
    { hint: "request fresh ticket params from the orchestrator and sign new tickets" },
  );
}
