import { WIN_PROB_SCALE } from "../chain/ticket.ts";
import { PaymentsError } from "../payments/errors.ts";
import type { TicketParams, TicketPayment } from "../payments/interface.ts";
import {
  checkSpendCap,
  SenderNonces,
  type TicketSigner,
  ticketsToCover,
} from "../payments/sender.ts";
import type { OrchestratorHandle } from "./interface.ts";

/**
 * Payment bookkeeping on the broadcaster: one `PaymentChannel` per orchestrator, all of a
 * broadcast's (or a live stream's) channels held by one `PaymentChannels`, which sums their
 * spend and holds the spend cap.
 *
 * What an orchestrator will charge is only known once it has transcoded (it debits the pixels it
 * produced), but the tickets travel with the segment. So a channel pays what the orchestrator
 * requires up front, assumes the expected pixels are charged, and settles on the pixels the
 * result measured (never more than expected); a segment refused or not done is refunded, since
 * the orchestrator then keeps no state. The difference stays there as credit for the next
 * segment. Amounts inside are in 2^-256 wei units, like the ticket ledgers on both sides, so
 * nothing is lost to rounding however many segments go by.
 */

/** Where a channel's ticket params come from. */
export interface TicketParamsSource {
  /**
   * Params the orchestrator answered when it was chosen, handed out once (then undefined), so
   * the first segment needs no extra round trip and no two channels share a params set.
   */
  chosen?(address: string): TicketParams | undefined;
  /** Fresh params from the orchestrator's /segmint/info. */
  fetch(handle: OrchestratorHandle, signal: AbortSignal): Promise<TicketParams>;
}

/** What a channel needs to write tickets: the signer's terms check and its signatures. */
export type TicketWriter = Pick<TicketSigner, "checkTerms" | "sign">;

export interface PaymentChannelsDeps {
  signer: TicketWriter;
  params: TicketParamsSource;
  /** Expected value of all tickets these channels may send together, token wei. */
  maxSpend: bigint;
}

/** Pixels a segment is paid for, each at the price its ticket params were issued for. */
export interface SegmentPixels {
  /** What the orchestrator checks the credit covers before it works (its full profile boxes). */
  required: bigint;
  /** What an honest result holds: assumed charged until the result is measured. */
  expected: bigint;
}

/** The tickets for one segment on one orchestrator, over every try there. */
export interface SegmentPayment {
  /** The latest try's tickets: what to send with the segment now. */
  readonly tickets: readonly TicketPayment[];
  /** The params they were written on (their price prices the segment). */
  readonly params: TicketParams;
  /** Tickets sent for this segment on this orchestrator, every try counted. */
  readonly ticketsSent: number;
  /** Expected value of those tickets, token wei (rounded down). */
  readonly value: bigint;
  /** Face value of those tickets, token wei: what they would pay if every one won. */
  readonly faceValue: bigint;
}

/** What earlier tries of a segment on this orchestrator sent. */
interface Sent {
  tickets: number;
  /** Expected value, scaled. */
  valueScaled: bigint;
  faceValue: bigint;
}

/** A set of ticket params one segment at a time writes on (segments in flight never share one). */
interface Lane {
  params: TicketParams;
}

class Payment implements SegmentPayment {
  state: "open" | "settled" | "refunded" = "open";
  /** The lane's params when the tickets were written (the lane moves on to fresh ones). */
  readonly params: TicketParams;

  constructor(
    readonly channel: PaymentChannel,
    readonly lane: Lane,
    readonly pixels: SegmentPixels,
    readonly tickets: readonly TicketPayment[],
    /** Expected value of this try's tickets, scaled. */
    readonly spendScaled: bigint,
    /** The fee assumed charged until settled, scaled. */
    readonly estimateScaled: bigint,
    readonly ticketsSent: number,
    readonly valueScaled: bigint,
    readonly faceValue: bigint,
  ) {
    this.params = lane.params;
  }

  get value(): bigint {
    return this.valueScaled / WIN_PROB_SCALE;
  }
}

/** What every channel of a session shares: the spend cap, checked against all of them. */
export interface ChannelSession {
  /** Throws SPEND_CAP_REACHED when `spendScaled` more would pass the cap. */
  checkSpend(spendScaled: bigint): void;
}

/**
 * The broadcaster's account with one orchestrator: its ticket-param lanes (one per segment in
 * flight, each from its own /segmint/info answer or the orchestrator's last response, so a win
 * on one cannot void the tickets of another), the nonces written on each, the credit held there
 * (what it holds of ours beyond what it charged), and the expected value sent.
 */
export class PaymentChannel {
  private handle: OrchestratorHandle;
  private readonly idle: Lane[] = [];
  private readonly nonces = new SenderNonces();
  private creditScaled = 0n;
  private sent = 0n;
  /**
   * The newest creation round among this orchestrator's params: a round has begun once it
   * issued params in it, so params whose last round is older have expired. Per channel, so an
   * orchestrator that names a round far ahead only expires its own lanes.
   */
  private latestRound = -1n;

  constructor(
    handle: OrchestratorHandle,
    private readonly deps: Omit<PaymentChannelsDeps, "maxSpend"> & { session: ChannelSession },
  ) {
    this.handle = handle;
  }

  get address(): string {
    return this.handle.address;
  }

  /** Dials it by the newest handle (its addresses may change when it is chosen again). */
  update(handle: OrchestratorHandle): void {
    this.handle = handle;
  }

  /**
   * Tickets that bring the credit held here to at least the required pixels' fee (at least the
   * expected ones'), on an idle lane whose params have not expired, else on fresh params. Throws
   * the signer's errors (BAD_TICKET_PARAMS, PRICE_TOO_HIGH, TICKET_EV_TOO_HIGH: the lane is
   * dropped) and SPEND_CAP_REACHED (the lane stays) unchanged, sending nothing.
   */
  async pay(pixels: SegmentPixels, signal: AbortSignal): Promise<SegmentPayment> {
    return this.write(await this.takeLane(signal), pixels, {
      tickets: 0,
      valueScaled: 0n,
      faceValue: 0n,
    });
  }

  /**
   * The orchestrator refused `refused` (stale params, a win revealed on them, a credit it does
   * not see), already refunded with its lane dropped: the same pixels again on fresh params.
   * The payment returned counts the tickets and value of both tries.
   */
  async repay(refused: SegmentPayment, signal: AbortSignal): Promise<SegmentPayment> {
    const previous = this.own(refused);
    if (previous.state !== "refunded") throw new Error("repay takes a refunded payment");
    const lane = await this.freshLane(signal);
    return this.write(lane, previous.pixels, {
      tickets: previous.ticketsSent,
      valueScaled: previous.valueScaled,
      faceValue: previous.faceValue,
    });
  }

  /**
   * The orchestrator did the work and claims `claimedPixels`: it is charged that, but never more
   * than the pixels an honest result holds. Its lane is free again, on `next` when the
   * orchestrator sent fresh params with the result. Returns the fee settled, token wei.
   */
  settle(payment: SegmentPayment, claimedPixels: bigint, next: TicketParams | null): bigint {
    const p = this.close(payment, "settled");
    const pixels = claimedPixels < p.pixels.expected ? claimedPixels : p.pixels.expected;
    const fee = pixels * p.params.pricePerPixel;
    this.creditScaled += p.estimateScaled - fee * WIN_PROB_SCALE;
    if (next !== null) {
      p.lane.params = next;
      this.noteRound(next);
    }
    this.idle.push(p.lane);
    return fee;
  }

  /**
   * The segment was not done (refused, failed, given up): the orchestrator kept no state, so
   * neither the tickets nor the fee count towards the credit. The tickets' value stays in the
   * spend: they were sent. `lane: "drop"` when it refused the payment itself, so its params are
   * never written on again.
   */
  refund(payment: SegmentPayment, lane: "keep" | "drop"): void {
    const p = this.close(payment, "refunded");
    this.creditScaled += p.estimateScaled - p.spendScaled;
    if (lane === "keep") this.idle.push(p.lane);
  }

  /** Credit held there: what the orchestrator holds of ours beyond what it charged, token wei. */
  credit(): bigint {
    return this.creditScaled / WIN_PROB_SCALE;
  }

  /** Expected value of every ticket sent on this channel, in 2^-256 wei units. */
  sentScaled(): bigint {
    return this.sent;
  }

  private write(lane: Lane, pixels: SegmentPixels, before: Sent): Payment {
    // Params outside our caps are of no use: a throw here drops the lane with them.
    const { params } = lane;
    const evScaled = this.deps.signer.checkTerms(params);
    if (params.recipient.toLowerCase() !== this.handle.address.toLowerCase()) {
      throw new PaymentsError(
        "BAD_TICKET_PARAMS",
        "the orchestrator's ticket params pay another recipient",
        { fields: ["recipient"], recipient: params.recipient, orchestrator: this.handle.address },
        { hint: "this orchestrator is misbehaving or runs an incompatible version" },
      );
    }
    const price = params.pricePerPixel;
    const requiredPixels = pixels.required > pixels.expected ? pixels.required : pixels.expected;
    const owed = requiredPixels * price * WIN_PROB_SCALE - this.creditScaled;
    const count = ticketsToCover(owed, evScaled);
    const spendScaled = count * evScaled;
    try {
      this.deps.session.checkSpend(spendScaled);
    } catch (error) {
      this.idle.push(lane);
      throw error;
    }
    const tickets = this.deps.signer.sign(
      params,
      this.nonces.take(params.recipientRandHash, count),
      count,
    );
    const estimateScaled = pixels.expected * price * WIN_PROB_SCALE;
    // Until the result says otherwise, the expected pixels are assumed charged.
    this.creditScaled += spendScaled - estimateScaled;
    this.sent += spendScaled;
    return new Payment(
      this,
      lane,
      pixels,
      tickets,
      spendScaled,
      estimateScaled,
      before.tickets + tickets.length,
      before.valueScaled + spendScaled,
      before.faceValue + BigInt(tickets.length) * params.faceValue,
    );
  }

  private async takeLane(signal: AbortSignal): Promise<Lane> {
    for (let lane = this.idle.pop(); lane !== undefined; lane = this.idle.pop()) {
      // Params past their last round would only be refused: dropped, not tried.
      if (!this.expired(lane.params)) return lane;
    }
    const chosen = this.deps.params.chosen?.(this.handle.address);
    if (chosen !== undefined) {
      this.noteRound(chosen);
      if (!this.expired(chosen)) return { params: chosen };
    }
    return this.freshLane(signal);
  }

  private async freshLane(signal: AbortSignal): Promise<Lane> {
    const params = await this.deps.params.fetch(this.handle, signal);
    this.noteRound(params);
    return { params };
  }

  private noteRound(params: TicketParams): void {
    if (params.creationRound > this.latestRound) this.latestRound = params.creationRound;
  }

  private expired(params: TicketParams): boolean {
    return params.expirationRound < this.latestRound;
  }

  private own(payment: SegmentPayment): Payment {
    if (!(payment instanceof Payment) || payment.channel !== this) {
      throw new Error("this payment was not made on this channel");
    }
    return payment;
  }

  private close(payment: SegmentPayment, to: "settled" | "refunded"): Payment {
    const p = this.own(payment);
    if (p.state !== "open") throw new Error(`this payment was already ${p.state}`);
    p.state = to;
    return p;
  }
}

/**
 * The payment channels of one broadcast or live stream, one per orchestrator, and the one place
 * their spend is summed: the total reported and the spend cap read it.
 */
export class PaymentChannels {
  private readonly channels = new Map<string, PaymentChannel>();
  private readonly session: ChannelSession;

  constructor(private readonly deps: PaymentChannelsDeps) {
    this.session = {
      checkSpend: (spendScaled) => checkSpendCap(this.spentScaled(), spendScaled, deps.maxSpend),
    };
  }

  /** The channel to `handle`'s orchestrator, opened on first use. */
  channel(handle: OrchestratorHandle): PaymentChannel {
    const key = handle.address.toLowerCase();
    let channel = this.channels.get(key);
    if (channel === undefined) {
      channel = new PaymentChannel(handle, {
        signer: this.deps.signer,
        params: this.deps.params,
        session: this.session,
      });
      this.channels.set(key, channel);
    } else {
      channel.update(handle);
    }
    return channel;
  }

  /** Expected value of every ticket sent on every channel, token wei. */
  spent(): bigint {
    return this.spentScaled() / WIN_PROB_SCALE;
  }

  private spentScaled(): bigint {
    let total = 0n;
    for (const channel of this.channels.values()) total += channel.sentScaled();
    return total;
  }
}
