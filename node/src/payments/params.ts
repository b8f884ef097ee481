import { createHmac, randomBytes } from "node:crypto";
import { hashRecipientRand, MAX_WIN_PROB, WIN_PROB_SCALE } from "../chain/ticket.ts";
import type { ChainStateCache } from "./chain-cache.ts";
import { PaymentsError } from "./errors.ts";
import type { TicketParams, WinningTicketJournal } from "./interface.ts";
import type { TicketIssuerOptions } from "./options.ts";

/** The ticket fields the recipient's rand is bound to; changing any of them changes the hash. */
export interface RandInputs {
  sender: string;
  seed: string;
  faceValue: bigint;
  winProb: bigint;
  creationRound: bigint;
  creationRoundBlockHash: string;
}

const RAND_INPUT_BYTES = 20 + 32 * 5;

/**
 * Nonces seen are kept in memory only, so a process that restarts with the same HMAC secret
 * would take every pre-restart ticket again (a free replay of up to ticketValidityRounds of
 * payments). Each process therefore draws an epoch and puts it at the front of every seed it
 * issues; the validator refuses seeds from another epoch (STALE_PARAMS) and the broadcaster
 * simply asks for fresh params. Winners already journaled keep their recipientRand and are
 * redeemed as usual.
 */
export const EPOCH_BYTES = 8;
const processEpoch = Uint8Array.from(randomBytes(EPOCH_BYTES));

/** This process' epoch as the lowercase hex prefix its seeds start with (after "0x"). */
export function epochPrefix(epoch: Uint8Array = processEpoch): string {
  if (epoch.length !== EPOCH_BYTES) throw new RangeError(`an epoch is ${EPOCH_BYTES} bytes`);
  return Buffer.from(epoch).toString("hex");
}

/**
 * recipientRand = HMAC-SHA256(secret, sender || seed || faceValue || winProb || creationRound
 * || creationRoundBlockHash). Binding the face value, win probability and round into the MAC
 * means a sender cannot raise its odds or stretch the expiry of params it was given, and the
 * orchestrator needs no per-ticket state to check that a recipientRandHash is its own.
 */
export function deriveRecipientRand(secret: Uint8Array, inputs: RandInputs): bigint {
  return BigInt(`0x${deriveRecipientRandBytes(secret, inputs).toString("hex")}`);
}

// Reused for every derivation: the HMAC consumes it synchronously.
const randInput = Buffer.alloc(RAND_INPUT_BYTES);

/** The same recipientRand as its 32 big-endian bytes (the validator's hot path stays in bytes). */
export function deriveRecipientRandBytes(secret: Uint8Array, inputs: RandInputs): Buffer {
  const buf = randInput;
  buf.write(inputs.sender.slice(2), 0, 20, "hex");
  buf.write(inputs.seed.slice(2), 20, 32, "hex");
  buf.write(inputs.faceValue.toString(16).padStart(64, "0"), 52, 32, "hex");
  buf.write(inputs.winProb.toString(16).padStart(64, "0"), 84, 32, "hex");
  buf.write(inputs.creationRound.toString(16).padStart(64, "0"), 116, 32, "hex");
  buf.write(inputs.creationRoundBlockHash.slice(2), 148, 32, "hex");
  return createHmac("sha256", secret).update(buf).digest();
}

/**
 * The most a sender can be trusted for right now (Livepeer's "max float"): its deposit plus
 * this orchestrator's share of its reserve, minus what this orchestrator already holds in
 * unredeemed winning tickets from it.
 */
export function maxFloat(deposit: bigint, reserveShare: bigint, pending: bigint): bigint {
  const float = deposit + reserveShare - pending;
  return float > 0n ? float : 0n;
}

/** Orchestrator side: hands out ticket params for a sender; keeps no state per issuance. */
export class TicketParamsIssuer {
  private readonly epochHex: string;

  /** `epoch` defaults to this process' own; tests pass one to play a restarted process. */
  constructor(
    private readonly recipient: string,
    private readonly secret: Uint8Array,
    private readonly cache: ChainStateCache,
    private readonly journal: Pick<WinningTicketJournal, "pendingFaceValue">,
    private readonly options: TicketIssuerOptions,
    epoch?: Uint8Array,
  ) {
    this.epochHex = epochPrefix(epoch);
    if (options.faceValue <= 0n || options.ticketEV <= 0n || options.ticketEV > options.faceValue) {
      throw new PaymentsError(
        "BAD_PAYMENTS_OPTIONS",
        "ticket face value and EV must be positive, with EV <= face value",
        { faceValue: options.faceValue.toString(), ticketEV: options.ticketEV.toString() },
        { hint: "set payments.faceValue above payments.ticketEV" },
      );
    }
  }

  async issue(sender: string): Promise<TicketParams> {
    const lowerSender = sender.toLowerCase();
    const [roundState, funds] = await Promise.all([
      this.cache.roundState(),
      this.cache.senderFunds(lowerSender),
    ]);
    if (!funds.active) {
      throw new PaymentsError(
        "ORCHESTRATOR_NOT_ACTIVE",
        "this orchestrator has no seat in the active set this round, so tickets could not pay it",
        { recipient: this.recipient, round: roundState.round.toString() },
        {
          hint: "bond enough stake for a seat; params are issued again from the first active round",
        },
      );
    }
    if (funds.info.withdrawRound !== 0n) {
      throw new PaymentsError(
        "SENDER_UNLOCKING",
        "the sender has started to unlock its deposit and reserve",
        { sender: lowerSender, withdrawRound: funds.info.withdrawRound.toString() },
        { hint: "cancel the unlock (cancelUnlock) or fund a new sender account" },
      );
    }
    const float = maxFloat(
      funds.info.deposit,
      funds.reserveShare,
      this.journal.pendingFaceValue(lowerSender),
    );
    const faceValue = float < this.options.faceValue ? float : this.options.faceValue;
    if (faceValue < this.options.minFaceValue || faceValue === 0n) {
      throw new PaymentsError(
        "SENDER_FUNDS_TOO_LOW",
        "the sender's deposit and reserve cannot back a ticket worth redeeming",
        {
          sender: lowerSender,
          maxFloat: float.toString(),
          minFaceValue: this.options.minFaceValue.toString(),
        },
        { hint: "fund the sender's deposit and reserve (fundDepositAndReserve)" },
      );
    }
    // Rounded up so a ticket is never worth less than asked; capped at "always wins".
    const scaledEV = this.options.ticketEV * WIN_PROB_SCALE;
    let winProb = (scaledEV + faceValue - 1n) / faceValue;
    if (winProb > MAX_WIN_PROB) winProb = MAX_WIN_PROB;
    const seed = `0x${this.epochHex}${randomBytes(32 - EPOCH_BYTES).toString("hex")}`;
    const recipientRand = deriveRecipientRand(this.secret, {
      sender: lowerSender,
      seed,
      faceValue,
      winProb,
      creationRound: roundState.creationRound,
      creationRoundBlockHash: roundState.blockHash,
    });
    return {
      recipient: this.recipient.toLowerCase(),
      faceValue,
      winProb,
      recipientRandHash: hashRecipientRand(recipientRand),
      seed,
      creationRound: roundState.creationRound,
      creationRoundBlockHash: roundState.blockHash,
      expirationRound: roundState.creationRound + roundState.validityRounds,
      pricePerPixel: this.options.pricePerPixel,
    };
  }
}
