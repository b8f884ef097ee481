import { addressFromPrivateKey, signDigest } from "../chain/secp256k1.ts";
import { type Ticket, type TicketDomain, TicketHasher, WIN_PROB_SCALE } from "../chain/ticket.ts";
import { PaymentsError } from "./errors.ts";
import type { TicketParams, TicketPayment } from "./interface.ts";
import type { TicketSenderOptions } from "./options.ts";

const HEX_40 = /^0x[0-9a-fA-F]{40}$/;
const HEX_64 = /^0x[0-9a-fA-F]{64}$/;
/** Nonce counters kept for this many params sets; older ones are long expired. */
const MAX_NONCE_COUNTERS = 1_024;

/** The fee for a segment: pixels transcoded times the quoted price, token wei. */
export function segmentFee(pixels: bigint, pricePerPixel: bigint): bigint {
  return pixels * pricePerPixel;
}

/** ceil(a / b) for positive bigints. */
function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/**
 * Broadcaster side: writes and signs the tickets that pay for a segment, within the operator's
 * caps. Tracks, per orchestrator, the expected value sent minus the fees owed (exactly, in
 * 2^-256 wei units, like the orchestrator's ledger) so surplus from one segment's rounding
 * pays toward the next instead of being sent again.
 */
export class TicketSender {
  readonly address: string;
  private readonly hasher: TicketHasher;
  private readonly nonces = new Map<string, bigint>();
  private readonly balances = new Map<string, bigint>();
  private spentScaled = 0n;

  constructor(
    private readonly privateKey: Uint8Array,
    domain: TicketDomain,
    private readonly options: TicketSenderOptions,
  ) {
    this.address = addressFromPrivateKey(privateKey);
    this.hasher = new TicketHasher(domain);
  }

  /**
   * Tickets whose expected value covers `fee` (token wei) for the orchestrator that issued
   * `params`, net of any credit already held there. Throws, sending nothing, when the params
   * break a cap.
   */
  createTickets(params: TicketParams, fee: bigint): TicketPayment[] {
    checkParams(params);
    if (fee < 0n) throw new RangeError("fee must not be negative");
    const { maxPricePerPixel, maxTicketEV, maxTotalSpend } = this.options;
    if (params.pricePerPixel > maxPricePerPixel) {
      throw new PaymentsError(
        "PRICE_TOO_HIGH",
        "the orchestrator's price per pixel is above this broadcaster's cap",
        { price: params.pricePerPixel.toString(), max: maxPricePerPixel.toString() },
        { hint: "raise maxPricePerPixel or choose another orchestrator" },
      );
    }
    const evScaled = params.faceValue * params.winProb;
    if (evScaled > maxTicketEV * WIN_PROB_SCALE) {
      throw new PaymentsError(
        "TICKET_EV_TOO_HIGH",
        "one ticket from these params is worth more than this broadcaster's cap",
        { ticketEV: (evScaled / WIN_PROB_SCALE).toString(), max: maxTicketEV.toString() },
        { hint: "raise maxTicketEV or choose another orchestrator" },
      );
    }
    const recipient = params.recipient.toLowerCase();
    const held = this.balances.get(recipient) ?? 0n;
    const owed = fee * WIN_PROB_SCALE - held;
    const count = owed > 0n ? ceilDiv(owed, evScaled) : 0n;
    const spend = count * evScaled;
    if (this.spentScaled + spend > maxTotalSpend * WIN_PROB_SCALE) {
      throw new PaymentsError(
        "SPEND_CAP_REACHED",
        "paying for this segment would pass this broadcaster's total spend cap",
        {
          spent: (this.spentScaled / WIN_PROB_SCALE).toString(),
          needed: ceilDiv(spend, WIN_PROB_SCALE).toString(),
          max: maxTotalSpend.toString(),
        },
        { hint: "raise maxTotalSpend to keep streaming" },
      );
    }

    const randHash = params.recipientRandHash.toLowerCase();
    let nonce = this.nonces.get(randHash) ?? 0n;
    const payments: TicketPayment[] = [];
    for (let i = 0n; i < count; i++) {
      nonce += 1n;
      const ticket: Ticket = {
        recipient,
        sender: this.address,
        faceValue: params.faceValue,
        winProb: params.winProb,
        senderNonce: nonce,
        recipientRandHash: randHash,
        creationRound: params.creationRound,
        creationRoundBlockHash: params.creationRoundBlockHash.toLowerCase(),
      };
      const signature = signDigest(this.hasher.digest(ticket), this.privateKey);
      payments.push({ ticket, signature, seed: params.seed.toLowerCase() });
    }
    this.rememberNonce(randHash, nonce);
    this.balances.set(recipient, held + spend - fee * WIN_PROB_SCALE);
    this.spentScaled += spend;
    return payments;
  }

  /** Credit (token wei, may be negative) this broadcaster believes it holds at `orchestrator`. */
  balance(orchestrator: string): bigint {
    return (this.balances.get(orchestrator.toLowerCase()) ?? 0n) / WIN_PROB_SCALE;
  }

  /** Expected value of every ticket sent so far, token wei. */
  totalSpent(): bigint {
    return this.spentScaled / WIN_PROB_SCALE;
  }

  private rememberNonce(randHash: string, nonce: bigint): void {
    this.nonces.delete(randHash);
    this.nonces.set(randHash, nonce);
    if (this.nonces.size > MAX_NONCE_COUNTERS) {
      const oldest = this.nonces.keys().next().value;
      if (oldest !== undefined) this.nonces.delete(oldest);
    }
  }
}

function checkParams(params: TicketParams): void {
  const problems: string[] = [];
  if (!HEX_40.test(params.recipient)) problems.push("recipient");
  if (!HEX_64.test(params.recipientRandHash)) problems.push("recipientRandHash");
  if (!HEX_64.test(params.creationRoundBlockHash)) problems.push("creationRoundBlockHash");
  if (!HEX_64.test(params.seed)) problems.push("seed");
  if (params.faceValue <= 0n || params.faceValue >= WIN_PROB_SCALE) problems.push("faceValue");
  if (params.winProb <= 0n || params.winProb >= WIN_PROB_SCALE) problems.push("winProb");
  if (params.creationRound < 0n) problems.push("creationRound");
  if (params.pricePerPixel < 0n) problems.push("pricePerPixel");
  if (problems.length > 0) {
    throw new PaymentsError(
      "BAD_TICKET_PARAMS",
      `the orchestrator sent malformed ticket params: ${problems.join(", ")}`,
      { fields: problems },
      { hint: "this orchestrator is misbehaving or runs an incompatible version" },
    );
  }
}
