import type { Logger } from "pino";
import { toHex } from "../chain/bytes.ts";
import { recoverDigestSigner } from "../chain/secp256k1.ts";
import {
  hashRecipientRand,
  isWinningTicket,
  type TicketDomain,
  TicketHasher,
} from "../chain/ticket.ts";
import { silentLogger } from "../log/index.ts";
import type { Balances } from "./balances.ts";
import { type ChainStateCache, ZERO_HASH } from "./chain-cache.ts";
import { badTicket, PaymentsError } from "./errors.ts";
import type { TicketPayment, WinningTicket, WinningTicketJournal } from "./interface.ts";
import { NonceTracker } from "./nonces.ts";
import type { ValidatorOptions } from "./options.ts";
import { deriveRecipientRandBytes, epochPrefix, maxFloat } from "./params.ts";

export interface TicketAcceptance {
  ticketHash: string;
  won: boolean;
  /** faceValue * winProb: the credit in 2^-256 token wei. */
  creditedScaled: bigint;
  /** The sender's balance after the credit, token wei. */
  balance: bigint;
}

export interface TicketValidatorDeps {
  /** This orchestrator's address: the only recipient it accepts. */
  recipient: string;
  /** The HMAC key recipientRands are derived with; the same one the issuer uses. */
  secret: Uint8Array;
  domain: TicketDomain;
  cache: ChainStateCache;
  journal: WinningTicketJournal;
  balances: Balances;
  options: ValidatorOptions;
  log?: Logger;
  /** Defaults to this process' epoch, as the issuer's does (see params.ts). */
  epoch?: Uint8Array;
}

const HEX_40 = /^0x[0-9a-fA-F]{40}$/;
const HEX_64 = /^0x[0-9a-fA-F]{64}$/;

/**
 * Orchestrator side: checks each ticket in order of cost (string compares and one HMAC, then
 * cached round data, then the signature recovery, then the sender's funds) and only once every
 * check has passed changes anything: nonce remembered, winner journaled (fsync'd) and expected
 * value credited, all in one synchronous step so concurrent tickets cannot interleave.
 * A rejected ticket leaves no state behind.
 */
export class TicketValidator {
  private readonly recipient: string;
  private readonly hasher: TicketHasher;
  private readonly nonces: NonceTracker;
  private readonly log: Logger;
  private readonly seedPrefix: string;
  private lastPrunedRound = -1n;

  constructor(private readonly deps: TicketValidatorDeps) {
    this.recipient = deps.recipient.toLowerCase();
    this.hasher = new TicketHasher(deps.domain);
    this.nonces = new NonceTracker(deps.options.maxNoncesPerRandHash);
    this.log = deps.log ?? silentLogger();
    this.seedPrefix = `0x${epochPrefix(deps.epoch)}`;
  }

  async receive(payment: TicketPayment): Promise<TicketAcceptance> {
    const { ticket, signature, seed } = payment;
    checkShape(payment);
    const sender = ticket.sender.toLowerCase();
    const randHash = ticket.recipientRandHash.toLowerCase();

    if (ticket.recipient.toLowerCase() !== this.recipient) {
      throw badTicket("WRONG_RECIPIENT", "the ticket is made out to another recipient", {
        recipient: ticket.recipient.toLowerCase(),
      });
    }
    if (!seed.toLowerCase().startsWith(this.seedPrefix)) {
      throw badTicket(
        "STALE_PARAMS",
        "these ticket params were issued before this orchestrator restarted",
        { seed },
      );
    }
    const recipientRand = deriveRecipientRandBytes(this.deps.secret, {
      sender,
      seed,
      faceValue: ticket.faceValue,
      winProb: ticket.winProb,
      creationRound: ticket.creationRound,
      creationRoundBlockHash: ticket.creationRoundBlockHash.toLowerCase(),
    });
    if (hashRecipientRand(recipientRand) !== randHash) {
      throw badTicket(
        "UNKNOWN_RAND_HASH",
        "this orchestrator did not issue these ticket params (or they were altered)",
        { recipientRandHash: randHash },
      );
    }

    const round = await this.deps.cache.roundState();
    if (round.round !== this.lastPrunedRound) {
      this.nonces.prune(round.round, round.validityRounds);
      this.lastPrunedRound = round.round;
    }
    if (ticket.creationRound > round.round) {
      throw badTicket("FUTURE_ROUND", "the ticket's creation round has not started", {
        creationRound: ticket.creationRound.toString(),
        currentRound: round.round.toString(),
      });
    }
    if (round.round > ticket.creationRound + round.validityRounds) {
      throw badTicket("EXPIRED", "the ticket has expired", {
        creationRound: ticket.creationRound.toString(),
        currentRound: round.round.toString(),
        validityRounds: round.validityRounds.toString(),
      });
    }
    // The zero hash is what a ticket names for a round nobody initialized; TicketBroker accepts
    // it in any round, so only a non-zero hash is compared with the chain's.
    const givenHash = ticket.creationRoundBlockHash.toLowerCase();
    const blockHash =
      givenHash === ZERO_HASH
        ? ZERO_HASH
        : await this.deps.cache.blockHashForRound(ticket.creationRound);
    if (blockHash !== givenHash) {
      throw badTicket(
        "STALE_BLOCK_HASH",
        "the creation round's block hash does not match the chain",
        {
          creationRound: ticket.creationRound.toString(),
        },
      );
    }
    this.checkNonce(randHash, ticket.senderNonce);

    const digest = this.hasher.digest(ticket);
    if (recoverDigestSigner(digest, signature) !== sender) {
      throw badTicket("BAD_SIGNATURE", "the signature is not the sender's", { sender });
    }

    const funds = await this.deps.cache.senderFunds(sender);
    // Re-checked after the await: another ticket with this nonce may have been accepted meanwhile.
    this.checkNonce(randHash, ticket.senderNonce);
    if (funds.info.withdrawRound !== 0n) {
      throw new PaymentsError(
        "SENDER_UNLOCKING",
        "the sender has started to unlock its deposit and reserve",
        { sender, withdrawRound: funds.info.withdrawRound.toString() },
        { hint: "the sender must cancel its unlock before paying with tickets" },
      );
    }
    const float = maxFloat(
      funds.info.deposit,
      funds.reserveShare,
      this.deps.journal.pendingFaceValue(sender),
    );
    if (ticket.faceValue > float) {
      throw new PaymentsError(
        "FACE_VALUE_TOO_HIGH",
        "the ticket's face value is more than the sender's funds can back",
        { sender, faceValue: ticket.faceValue.toString(), maxFloat: float.toString() },
        { hint: "the sender must add to its deposit or reserve, or use smaller tickets" },
      );
    }

    const ticketHash = toHex(digest);
    const won = isWinningTicket(signature, recipientRand, ticket.winProb);
    if (won) {
      const win: WinningTicket = {
        ticket: { ...ticket, sender, recipient: this.recipient, recipientRandHash: randHash },
        signature: Uint8Array.from(signature),
        recipientRand: BigInt(`0x${recipientRand.toString("hex")}`),
        ticketHash,
      };
      // Durable before anything else changes or the caller answers the sender.
      if (!this.deps.journal.record(win)) {
        throw badTicket("REPLAYED_NONCE", "this winning ticket was already received", {
          ticketHash,
        });
      }
      this.log.info(
        { sender, ticketHash, faceValue: ticket.faceValue.toString() },
        "winning ticket journaled",
      );
    }
    this.nonces.add(randHash, ticket.senderNonce, ticket.creationRound);
    const creditedScaled = ticket.faceValue * ticket.winProb;
    this.deps.balances.creditScaled(sender, creditedScaled);
    return { ticketHash, won, creditedScaled, balance: this.deps.balances.balance(sender) };
  }

  /** Validates tickets in order; stops at the first bad one (those before it stay credited). */
  async receiveAll(payments: readonly TicketPayment[]): Promise<TicketAcceptance[]> {
    const out: TicketAcceptance[] = [];
    for (const payment of payments) out.push(await this.receive(payment));
    return out;
  }

  /**
   * Called (by the redeemer, through the composition root) just before a winner's redemption
   * is sent: its recipientRand becomes public, so no more tickets are taken on its params.
   * Until then the rand is secret and tickets already in flight on those params stay good.
   */
  markRandRevealed(recipientRandHash: string, creationRound: bigint): void {
    this.nonces.markRevealed(recipientRandHash.toLowerCase(), creationRound);
  }

  private checkNonce(randHash: string, nonce: bigint): void {
    if (this.nonces.isRevealed(randHash)) {
      throw badTicket("RAND_REVEALED", "a ticket on these params already won; use fresh params", {
        recipientRandHash: randHash,
      });
    }
    if (nonce < 0n || this.nonces.has(randHash, nonce)) {
      throw badTicket("REPLAYED_NONCE", "this sender nonce was already used with these params", {
        senderNonce: nonce.toString(),
      });
    }
    if (this.nonces.isFull(randHash)) {
      throw badTicket("TOO_MANY_NONCES", "too many tickets on one set of ticket params", {
        max: this.deps.options.maxNoncesPerRandHash,
      });
    }
  }
}

function checkShape(payment: TicketPayment): void {
  const { ticket, signature, seed } = payment;
  const problems: string[] = [];
  if (!HEX_40.test(ticket.recipient)) problems.push("recipient");
  if (!HEX_40.test(ticket.sender)) problems.push("sender");
  if (!HEX_64.test(ticket.recipientRandHash)) problems.push("recipientRandHash");
  if (!HEX_64.test(ticket.creationRoundBlockHash)) problems.push("creationRoundBlockHash");
  if (!HEX_64.test(seed)) problems.push("seed");
  if (!(signature instanceof Uint8Array) || signature.length !== 65) problems.push("signature");
  for (const field of ["faceValue", "winProb", "senderNonce", "creationRound"] as const) {
    const v = ticket[field];
    if (typeof v !== "bigint" || v < 0n || v >= 1n << 256n) problems.push(field);
  }
  if (ticket.faceValue === 0n) problems.push("faceValue");
  if (problems.length > 0) {
    throw badTicket("MALFORMED", `malformed ticket fields: ${problems.join(", ")}`, {
      fields: problems,
    });
  }
}
