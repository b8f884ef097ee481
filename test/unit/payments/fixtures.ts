import { randomBytes } from "node:crypto";
import { toHex } from "../../../node/src/chain/bytes.ts";
import { addressFromPrivateKey } from "../../../node/src/chain/secp256k1.ts";
import type { TicketDomain } from "../../../node/src/chain/ticket.ts";
import {
  Balances,
  ChainStateCache,
  TicketParamsIssuer,
  TicketSender,
  TicketValidator,
} from "../../../node/src/payments/index.ts";
import type { PaymentsChainView, SenderInfo } from "../../../node/src/payments/interface.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";

/** An in-memory chain for unit tests: every value the payments code reads, settable. */
export class FakeChainView implements PaymentsChainView {
  round = 10n;
  validityRounds = 2n;
  blockHashes = new Map<bigint, string>();
  senders = new Map<string, SenderInfo>();
  claimed = 0n;
  active = 2n;
  calls = 0;

  constructor() {
    for (let r = 0n; r <= 20n; r++) this.blockHashes.set(r, toHex(randomBytes(32)));
  }

  async currentRound(): Promise<bigint> {
    this.calls++;
    return this.round;
  }
  async blockHashForRound(round: bigint): Promise<string> {
    this.calls++;
    return this.blockHashes.get(round) ?? `0x${"00".repeat(32)}`;
  }
  async ticketValidityRounds(): Promise<bigint> {
    return this.validityRounds;
  }
  async senderInfo(sender: string): Promise<SenderInfo> {
    this.calls++;
    return (
      this.senders.get(sender.toLowerCase()) ?? {
        deposit: 0n,
        withdrawRound: 0n,
        reserve: 0n,
        reserveClaimedInCurrentRound: 0n,
      }
    );
  }
  async claimedReserve(): Promise<bigint> {
    return this.claimed;
  }
  async activeStatus(): Promise<{ active: boolean; activeCount: bigint }> {
    return { active: this.active > 0n, activeCount: this.active };
  }
}

export const domain: TicketDomain = {
  chainId: 31337n,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};

export const ONE_TOKEN = 10n ** 18n;

/** An orchestrator (issuer + validator over a fake chain and an in-memory journal) and a broadcaster. */
export function setup(opts: { ticketEV?: bigint; faceValue?: bigint; ttlMs?: number } = {}) {
  const chain = new FakeChainView();
  const orchestratorKey = Uint8Array.from(randomBytes(32));
  const recipient = addressFromPrivateKey(orchestratorKey);
  const senderKey = Uint8Array.from(randomBytes(32));
  const sender = new TicketSender(senderKey, domain, {
    maxPricePerPixel: 1_000n,
    maxTicketEV: ONE_TOKEN,
    maxTotalSpend: 1_000n * ONE_TOKEN,
  });
  chain.senders.set(sender.address, {
    deposit: 10n * ONE_TOKEN,
    withdrawRound: 0n,
    reserve: 10n * ONE_TOKEN,
    reserveClaimedInCurrentRound: 0n,
  });
  const secret = Uint8Array.from(randomBytes(32));
  const db = openDatabase(":memory:");
  const journal = new TicketJournal(db);
  const balances = new Balances();
  const cache = new ChainStateCache(chain, recipient, opts.ttlMs ?? 0);
  const issuer = new TicketParamsIssuer(recipient, secret, cache, journal, {
    faceValue: opts.faceValue ?? ONE_TOKEN,
    ticketEV: opts.ticketEV ?? ONE_TOKEN / 1000n,
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
    options: { maxNoncesPerRandHash: 16, chainCacheTtlMs: 0 },
  });
  return {
    chain,
    recipient,
    sender,
    senderKey,
    secret,
    db,
    journal,
    balances,
    cache,
    issuer,
    validator,
  };
}
