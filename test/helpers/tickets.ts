import { randomBytes } from "node:crypto";
import { toHex } from "../../node/src/chain/bytes.ts";
import { MAX_WIN_PROB, type Ticket } from "../../node/src/chain/ticket.ts";
import type { WinningTicket } from "../../node/src/payments/interface.ts";

/**
 * A winning ticket with random addresses, hashes and signature, as a journal or redeemer sees
 * one: `ticket` fields override the defaults (a certain win, nonce 1, creation round 5), and
 * `rest` the signature, rand or hash.
 */
export function randomWin(
  ticket: Partial<Ticket> & { faceValue: bigint },
  rest: Partial<Omit<WinningTicket, "ticket">> = {},
): WinningTicket {
  return {
    ticket: {
      recipient: toHex(randomBytes(20)),
      sender: toHex(randomBytes(20)),
      winProb: MAX_WIN_PROB,
      senderNonce: 1n,
      recipientRandHash: toHex(randomBytes(32)),
      creationRound: 5n,
      creationRoundBlockHash: toHex(randomBytes(32)),
      ...ticket,
    },
    signature: Uint8Array.from(randomBytes(65)),
    recipientRand: BigInt(toHex(randomBytes(32))),
    ticketHash: toHex(randomBytes(32)),
    ...rest,
  };
}
