import { randomBytes } from "node:crypto";
import { toHex } from "../../../node/src/chain/bytes.ts";
import { addressFromPrivateKey } from "../../../node/src/chain/secp256k1.ts";
import type { TicketDomain } from "../../../node/src/chain/ticket.ts";
import type { TranscodeRequest, TranscodeResult } from "../../../node/src/media/index.ts";
import {
  Balances,
  ChainStateCache,
  TicketParamsIssuer,
  TicketSender,
  TicketValidator,
} from "../../../node/src/payments/index.ts";
import type { PaymentsChainView, SenderInfo } from "../../../node/src/payments/interface.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";

/** A chain whose every value the orchestrator's payments read is settable. */
export class FakeChain implements PaymentsChainView {
  round = 7n;
  /** Whether this node holds a seat in the active set. */
  active = true;
  readonly hashes = new Map<bigint, string>();
  readonly senders = new Map<string, SenderInfo>();

  constructor() {
    for (let r = 0n; r <= 10n; r++) this.hashes.set(r, toHex(randomBytes(32)));
  }
  async currentRound() {
    return this.round;
  }
  async blockHashForRound(round: bigint) {
    return this.hashes.get(round) ?? `0x${"00".repeat(32)}`;
  }
  async ticketValidityRounds() {
    return 2n;
  }
  async senderInfo(sender: string): Promise<SenderInfo> {
    return (
      this.senders.get(sender.toLowerCase()) ?? {
        deposit: 0n,
        reserve: 0n,
        withdrawRound: 0n,
        reserveClaimedInCurrentRound: 0n,
      }
    );
  }
  async claimedReserve() {
    return 0n;
  }
  async activeStatus() {
    return { active: this.active, activeCount: 1n };
  }
}

/** Records each call; answers with one rendition per profile at its box size, 60 frames. */
export class FakeTranscoder {
  readonly calls: TranscodeRequest[] = [];
  /** Runs inside transcode(), before it returns: lets a test look at state mid-request. */
  during: (() => void) | null = null;
  fail: Error | null = null;

  async transcode(segment: Buffer, request: TranscodeRequest): Promise<TranscodeResult> {
    this.calls.push(request);
    this.during?.();
    if (this.fail) throw this.fail;
    return {
      source: { sizeBytes: segment.length, video: undefined, audio: undefined, durationSeconds: 2 },
      renditions: request.profiles.map((p) => ({
        profile: p.name,
        codec: p.codec,
        encoder: "libx264",
        data: Buffer.from(`rendition ${p.name}`),
        bytes: 12,
        durationSeconds: 2,
        width: p.width,
        height: p.height,
        frames: 60,
        pixels: p.width * p.height * 60,
      })),
      ffmpegSeconds: 0.01,
      decoder: "cpu",
    };
  }
}

export const domain: TicketDomain = {
  chainId: 31337n,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};

export const TOKEN = 10n ** 18n;

/** An orchestrator's payments over a fake chain and an in-memory journal, and a broadcaster. */
export function paymentsSetup(opts: { winProbOne?: boolean } = {}) {
  const chain = new FakeChain();
  const recipient = addressFromPrivateKey(Uint8Array.from(randomBytes(32)));
  const senderKey = Uint8Array.from(randomBytes(32));
  const sender = new TicketSender(senderKey, domain, {
    maxPricePerPixel: 10n,
    maxTicketEV: TOKEN,
    maxTotalSpend: 1_000n * TOKEN,
  });
  chain.senders.set(sender.address.toLowerCase(), {
    deposit: 10n * TOKEN,
    reserve: 10n * TOKEN,
    withdrawRound: 0n,
    reserveClaimedInCurrentRound: 0n,
  });
  const secret = Uint8Array.from(randomBytes(32));
  const db = openDatabase(":memory:");
  const journal = new TicketJournal(db);
  const balances = new Balances();
  const cache = new ChainStateCache(chain, recipient, 0);
  // Face value == EV makes every ticket win; otherwise about one in a thousand does.
  const faceValue = opts.winProbOne ? 10n ** 12n : 10n ** 15n;
  const issuer = new TicketParamsIssuer(recipient, secret, cache, journal, {
    faceValue,
    ticketEV: 10n ** 12n,
    pricePerPixel: 1n,
    minFaceValue: 1n,
  });
  const validator = new TicketValidator({
    recipient,
    secret,
    domain,
    cache,
    journal,
    balances,
    options: { maxNoncesPerRandHash: 64, chainCacheTtlMs: 0 },
  });
  return { chain, recipient, sender, db, journal, balances, issuer, validator };
}
