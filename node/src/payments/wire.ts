import { EncodingError, fromHex, toHex } from "../chain/bytes.ts";
import { badTicket } from "./errors.ts";
import type { TicketParams, TicketPayment } from "./interface.ts";

/**
 * JSON shapes of ticket params and tickets (decimal strings for uint256, 0x hex for bytes), as
 * p2p/messages.ts carries them. Kept structural so payments does not depend on p2p.
 */
export interface WireTicketParams {
  recipient: string;
  faceValue: string;
  winProb: string;
  recipientRandHash: string;
  seed: string;
  creationRound: string;
  creationRoundBlockHash: string;
  /** The last round these params are good for. */
  expiry: string;
}

export interface WireTicketPayment {
  recipient: string;
  sender: string;
  faceValue: string;
  winProb: string;
  senderNonce: string;
  recipientRandHash: string;
  creationRound: string;
  creationRoundBlockHash: string;
  seed: string;
  sig: string;
}

const UINT = /^(0|[1-9][0-9]{0,77})$/;

function uint(value: string, field: string): bigint {
  if (!UINT.test(value))
    throw badTicket("MALFORMED", `${field} is not a decimal uint256`, { field });
  return BigInt(value);
}

export function ticketParamsToWire(params: TicketParams): WireTicketParams {
  return {
    recipient: params.recipient,
    faceValue: params.faceValue.toString(),
    winProb: params.winProb.toString(),
    recipientRandHash: params.recipientRandHash,
    seed: params.seed,
    creationRound: params.creationRound.toString(),
    creationRoundBlockHash: params.creationRoundBlockHash,
    expiry: params.expirationRound.toString(),
  };
}

/** `pricePerPixel` travels beside the params in the info answer, so it is passed in here. */
export function ticketParamsFromWire(wire: WireTicketParams, pricePerPixel: bigint): TicketParams {
  return {
    recipient: wire.recipient,
    faceValue: uint(wire.faceValue, "faceValue"),
    winProb: uint(wire.winProb, "winProb"),
    recipientRandHash: wire.recipientRandHash,
    seed: wire.seed,
    creationRound: uint(wire.creationRound, "creationRound"),
    creationRoundBlockHash: wire.creationRoundBlockHash,
    expirationRound: uint(wire.expiry, "expiry"),
    pricePerPixel,
  };
}

export function paymentToWire(payment: TicketPayment): WireTicketPayment {
  const t = payment.ticket;
  return {
    recipient: t.recipient,
    sender: t.sender,
    faceValue: t.faceValue.toString(),
    winProb: t.winProb.toString(),
    senderNonce: t.senderNonce.toString(),
    recipientRandHash: t.recipientRandHash,
    creationRound: t.creationRound.toString(),
    creationRoundBlockHash: t.creationRoundBlockHash,
    seed: payment.seed,
    sig: toHex(payment.signature),
  };
}

/** Parses a wire ticket; a malformed one is a BAD_TICKET (MALFORMED). */
export function paymentFromWire(wire: WireTicketPayment): TicketPayment {
  let signature: Uint8Array;
  try {
    signature = fromHex(wire.sig, 65);
  } catch (error) {
    if (error instanceof EncodingError) {
      throw badTicket("MALFORMED", "the ticket signature is not 65 bytes of hex", { field: "sig" });
    }
    throw error;
  }
  return {
    ticket: {
      recipient: wire.recipient,
      sender: wire.sender,
      faceValue: uint(wire.faceValue, "faceValue"),
      winProb: uint(wire.winProb, "winProb"),
      senderNonce: uint(wire.senderNonce, "senderNonce"),
      recipientRandHash: wire.recipientRandHash,
      creationRound: uint(wire.creationRound, "creationRound"),
      creationRoundBlockHash: wire.creationRoundBlockHash,
    },
    signature,
    seed: wire.seed,
  };
}
