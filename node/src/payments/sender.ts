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
 * How many tickets worth `evScaled` each pay `owedScaled` (both in 2^-256 wei units, like the
 * ledgers on both sides): none when nothing is owed, else enough to cover it.
 */
export function ticketsToCover(owedScaled: bigint, evScaled: bigint): bigint {
  return owedScaled > 0n ? ceilDiv(owedScaled, evScaled) : 0n;
}

/**
 * Throws SPEND_CAP_REACHED, so that nothing is sent, when tickets worth `spendScaled` more than
 * the `spentScaled` already sent (both 2^-256 wei units) would pass `maxTotalSpend` wei.
 */
export function checkSpendCap(
  spentScaled: bigint,
  spendScaled: bigint,
  maxTotalSpend: bigint,
): void {
  if (spentScaled + spendScaled <= maxTotalSpend * WIN_PROB_SCALE) return;
  throw new PaymentsError(
    "SPEND_CAP_REACHED",
    "paying for this segment would pass this broadcaster's total spend cap",
    {
      spent: (spentScaled / WIN_PROB_SCALE).toString(),
      needed: ceilDiv(spendScaled, WIN_PROB_SCALE).toString(),
      max: maxTotalSpend.toString(),
    },
    { hint: "raise maxTotalSpend to keep streaming" },
  );
}

/**
 * The sender's nonce counter per params set (recipientRandHash): a nonce is never used twice on
 * one set, so no ticket repeats another. Kept for the newest MAX_NONCE_COUNTERS sets.
 */
export class SenderNonces {
  private readonly last = new Map<string, bigint>();

  /** Reserves `count` nonces on `recipientRandHash` and returns the first of them. */
  take(recipientRandHash: string, count: bigint): bigint {
    const key = recipientRandHash.toLowerCase();
    const last = this.last.get(key) ?? 0n;
    // Re-inserted so the map's order is the order of use: the oldest set goes first.
    this.last.delete(key);
    this.last.set(key, last + count);
    if (this.last.size > MAX_NONCE_COUNTERS) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    return last + 1n;
  }
}

/** The caps a signer checks every set of ticket params against (the total spend is the caller's). */
export type TicketSignerCaps = Pick<TicketSenderOptions, "maxPricePerPixel" | "maxTicketEV">;

/**
 * Broadcaster side: checks ticket params against the operator's caps and signs tickets on them.
 * It keeps nothing per recipient: whoever pays (a payment channel per orchestrator, or the
 * TicketSender below) keeps the nonces, the credit and the spend.
 */
export class TicketSigner {
  readonly address: string;
  private readonly hasher: TicketHasher;

  constructor(
    private readonly privateKey: Uint8Array,
    domain: TicketDomain,
    private readonly caps: TicketSignerCaps,
  ) {
    this.address = addressFromPrivateKey(privateKey);
    this.hasher = new TicketHasher(domain);
  }

  /**
   * The expected value of one ticket on `params` (2^-256 wei units). Throws, changing nothing,
   * when the params are malformed (BAD_TICKET_PARAMS) or break a cap (PRICE_TOO_HIGH,
   * TICKET_EV_TOO_HIGH).
   */
  checkTerms(params: TicketParams): bigint {
    checkParams(params);
    const { maxPricePerPixel, maxTicketEV } = this.caps;
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
    return evScaled;
  }

  /** `count` signed tickets on `params` with the nonces `firstNonce`, `firstNonce + 1`, ... */
  sign(params: TicketParams, firstNonce: bigint, count: bigint): TicketPayment[] {
    const recipient = params.recipient.toLowerCase();
    const randHash = params.recipientRandHash.toLowerCase();
    const payments: TicketPayment[] = [];
    for (let i = 0n; i < count; i++) {
      const ticket: Ticket = {
        recipient,
        sender: this.address,
        faceValue: params.faceValue,
        winProb: params.winProb,
        senderNonce: firstNonce + i,
        recipientRandHash: randHash,
        creationRound: params.creationRound,
        creationRoundBlockHash: params.creationRoundBlockHash.toLowerCase(),
      };
      const signature = signDigest(this.hasher.digest(ticket), this.privateKey);
      payments.push({ ticket, signature, seed: params.seed.toLowerCase() });
    }
    return payments;
  }
}

/**
 * A sender that pays whole fees up front and is never told what the recipient charged: for
 * tools, tests and benchmarks that write tickets to any recipient. Tracks, per recipient, the
 * expected value sent minus the fees paid (exactly, in 2^-256 wei units, like the
 * orchestrator's ledger) so surplus from one fee's rounding pays toward the next instead of
 * being sent again. The broadcaster pays through one payment channel per orchestrator instead,
 * which also settles on what was charged.
 */
export class TicketSender {
  readonly address: string;
  private readonly signer: TicketSigner;
  private readonly nonces = new SenderNonces();
  private readonly balances = new Map<string, bigint>();
  private spentScaled = 0n;

  constructor(
    privateKey: Uint8Array,
    domain: TicketDomain,
    private readonly options: TicketSenderOptions,
  ) {
    this.signer = new TicketSigner(privateKey, domain, options);
    this.address = this.signer.address;
  }

  /**
   * Tickets whose expected value covers `fee` (token wei) for the orchestrator that issued
   * `params`, net of any credit already held there. Throws, sending nothing, when the params
   * break a cap.
   */
  createTickets(params: TicketParams, fee: bigint): TicketPayment[] {
    const evScaled = this.signer.checkTerms(params);
    if (fee < 0n) throw new RangeError("fee must not be negative");
    const recipient = params.recipient.toLowerCase();
    const held = this.balances.get(recipient) ?? 0n;
    const count = ticketsToCover(fee * WIN_PROB_SCALE - held, evScaled);
    const spend = count * evScaled;
    checkSpendCap(this.spentScaled, spend, this.options.maxTotalSpend);

    const payments = this.signer.sign(
      params,
      this.nonces.take(params.recipientRandHash, count),
      count,
    );
    this.balances.set(recipient, held + spend - fee * WIN_PROB_SCALE);
    this.spentScaled += spend;
    return payments;
  }

  /** Credit (token wei, may be negative) this sender believes it holds at `orchestrator`. */
  balance(orchestrator: string): bigint {
    return (this.balances.get(orchestrator.toLowerCase()) ?? 0n) / WIN_PROB_SCALE;
  }

  /** Expected value of every ticket sent so far, token wei. */
  totalSpent(): bigint {
    return this.spentScaled / WIN_PROB_SCALE;
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
