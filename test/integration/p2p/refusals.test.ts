import { randomBytes } from "node:crypto";
import { getBytes } from "ethers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TicketDomain } from "../../../node/src/chain/ticket.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import { locateBinaries, presetProfile, SegmentTranscoder } from "../../../node/src/media/index.ts";
import {
  PaidTranscodeService,
  ticketParamsProvider,
} from "../../../node/src/orchestrator/transcode-service.ts";
import { RemoteError } from "../../../node/src/p2p/errors.ts";
import type { SegmintNode } from "../../../node/src/p2p/host.ts";
import { InfoProtocol, requestInfo } from "../../../node/src/p2p/info.ts";
import { defaultP2pOptions } from "../../../node/src/p2p/options.ts";
import { requestTranscode } from "../../../node/src/p2p/transcode-client.ts";
import { TranscodeProtocol } from "../../../node/src/p2p/transcode-server.ts";
import {
  Balances,
  ChainStateCache,
  EPOCH_BYTES,
  TicketParamsIssuer,
  TicketSender,
  TicketValidator,
} from "../../../node/src/payments/index.ts";
import type { SenderInfo } from "../../../node/src/payments/interface.ts";
import {
  maxChargeablePixels,
  paymentToWire,
  ticketParamsFromWire,
  type WireTicket,
} from "../../../node/src/protocol/index.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { FakeChain } from "../../unit/orchestrator/fakes.ts";
import { broadcasterWallet, fakeProfile, orchestratorWallet, Testbed } from "./helpers.ts";

// Every refusal an orchestrator makes reaches the broadcaster over a real libp2p stream as a
// wire code and a reason, never as INTERNAL: the orchestrator side is the real transcode
// service, ticket validator and issuer, and the real ffmpeg; only the chain is held in memory,
// so each sender state (no deposit, unlocking, ...) is one assignment away.

const domain: TicketDomain = {
  chainId: 31337n,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};
const TOKEN = 10n ** 18n;
const PROFILE = "240p30";
const DURATION = 2;
const MAX_SEGMENT_BYTES = 100_000;

const funded: SenderInfo = {
  deposit: 10n * TOKEN,
  reserve: 10n * TOKEN,
  withdrawRound: 0n,
  reserveClaimedInCurrentRound: 0n,
};

interface Refused {
  code: string;
  reason: string | undefined;
  details: Record<string, unknown>;
}

/** The refusal a call ended with, as the broadcaster sees it; fails the test on anything else. */
async function refusal(promise: Promise<unknown>): Promise<Refused> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof RemoteError)) {
    throw new Error(`expected an orchestrator's refusal, got ${String(error)}`);
  }
  return { code: error.code, reason: error.reason, details: error.details };
}

describe("an orchestrator's refusals reach the broadcaster as codes with their reason", () => {
  const bed = new Testbed();
  const chain = new FakeChain();
  const secret = Uint8Array.from(randomBytes(32));
  const issuerOptions = {
    faceValue: 10n ** 15n,
    ticketEV: 10n ** 12n,
    // A 2 s 240p segment then costs about six tickets' worth, so a quarter of it falls short.
    pricePerPixel: 1_000_000n,
    minFaceValue: 10n ** 9n,
  };
  // A new sender per payment: one keeps the credit its refused tickets would have bought.
  const newSender = () =>
    new TicketSender(getBytes(broadcasterWallet.privateKey), domain, {
      maxPricePerPixel: 10_000_000n,
      maxTicketEV: TOKEN,
      maxTotalSpend: 1_000n * TOKEN,
    });
  const sender = newSender();
  const fee = maxChargeablePixels([presetProfile(PROFILE)], DURATION) * issuerOptions.pricePerPixel;
  let db: ReturnType<typeof openDatabase>;
  let issuer: TicketParamsIssuer;
  let transcode: TranscodeProtocol;
  let orchestrator: SegmintNode;
  let client: SegmintNode;

  beforeAll(async () => {
    const ffmpegPath = (await locateBinaries()).ffmpeg.path;
    db = openDatabase(":memory:");
    const journal = new TicketJournal(db);
    const balances = new Balances();
    const cache = new ChainStateCache(chain, orchestratorWallet.address, 0);
    issuer = new TicketParamsIssuer(
      orchestratorWallet.address,
      secret,
      cache,
      journal,
      issuerOptions,
    );
    const validator = new TicketValidator({
      recipient: orchestratorWallet.address,
      secret,
      domain,
      cache,
      journal,
      balances,
      options: { maxNoncesPerRandHash: 64, chainCacheTtlMs: 0 },
    });
    const service = new PaidTranscodeService({
      tickets: validator,
      balances,
      issuer,
      transcoder: new SegmentTranscoder({ ffmpegPath, options: { useHardware: false } }),
      pricePerPixel: issuerOptions.pricePerPixel,
      allowedProfiles: null,
      metrics: null,
      log: silentLogger(),
    });
    orchestrator = await bed.host();
    client = await bed.host();
    transcode = new TranscodeProtocol({
      node: orchestrator,
      signer: orchestratorWallet,
      service,
      // One session and no queue: a second paid request finds it busy at once.
      limits: {
        ...defaultP2pOptions.transcode,
        capacity: 1,
        maxQueued: 0,
        maxSegmentBytes: MAX_SEGMENT_BYTES,
      },
      log: silentLogger(),
    });
    const info = new InfoProtocol({
      node: orchestrator,
      signer: orchestratorWallet,
      // The price the service charges, so tickets made from the info pay that service.
      profile: { ...fakeProfile, pricePerPixel: () => issuerOptions.pricePerPixel.toString() },
      tickets: ticketParamsProvider(issuer),
      log: silentLogger(),
    });
    await transcode.start();
    await info.start();
  });

  afterAll(async () => {
    await bed.close();
    db?.close();
  });

  beforeEach(() => {
    chain.active = true;
    chain.senders.set(sender.address.toLowerCase(), { ...funded });
  });

  const askInfo = () =>
    requestInfo(client, orchestrator.getMultiaddrs(), { sender: sender.address });

  /** Tickets worth `share` of the most this segment can cost, made from fresh info. */
  async function tickets(share = 1n): Promise<WireTicket[]> {
    const info = await askInfo();
    const params = ticketParamsFromWire(info.ticketParams, BigInt(info.pricePerPixel));
    return newSender()
      .createTickets(params, fee / share)
      .map(paymentToWire);
  }

  function send(paid: WireTicket[], segment = new Uint8Array(5_000).fill(0x47)) {
    return requestTranscode(
      client,
      orchestrator.getMultiaddrs(),
      {
        streamId: "refusals",
        seq: 1,
        durationSec: DURATION,
        profiles: [{ name: PROFILE }],
        tickets: paid,
      },
      segment,
    );
  }

  it("tells a sender with no deposit at all to make one (info)", async () => {
    chain.senders.delete(sender.address.toLowerCase());
    expect(await refusal(askInfo())).toMatchObject({
      code: "INSUFFICIENT_BALANCE",
      reason: "NO_DEPOSIT",
    });
  });

  it("tells a sender whose funds cannot back a ticket worth redeeming (info)", async () => {
    chain.senders.set(sender.address.toLowerCase(), { ...funded, deposit: 1_000n, reserve: 0n });
    const refused = await refusal(askInfo());
    expect(refused).toMatchObject({
      code: "INSUFFICIENT_BALANCE",
      reason: "SENDER_FUNDS_TOO_LOW",
    });
    expect(refused.details.minFaceValue).toBe(issuerOptions.minFaceValue.toString());
  });

  it("tells an unlocking sender so, at info and with tickets already made", async () => {
    const paid = await tickets();
    chain.senders.set(sender.address.toLowerCase(), { ...funded, withdrawRound: 9n });
    expect(await refusal(askInfo())).toMatchObject({
      code: "INSUFFICIENT_BALANCE",
      reason: "SENDER_UNLOCKING",
    });
    expect(await refusal(send(paid))).toMatchObject({
      code: "INSUFFICIENT_BALANCE",
      reason: "SENDER_UNLOCKING",
    });
  });

  it("says NOT_ACTIVE when the orchestrator has no seat in the active set", async () => {
    chain.active = false;
    expect(await refusal(askInfo())).toMatchObject({ code: "NOT_ACTIVE" });
  });

  it("refuses tickets that do not cover the segment, before any work", async () => {
    const refused = await refusal(send(await tickets(4n)));
    expect(refused).toMatchObject({ code: "INSUFFICIENT_BALANCE", reason: "TICKETS_SHORT" });
    expect(refused.details.required).toBe(fee.toString());
  });

  it("names the bad ticket's reason: a forged signature", async () => {
    const paid = await tickets();
    const [first] = paid;
    if (first === undefined) throw new Error("no ticket");
    const flipped = first.sig[10] === "0" ? "1" : "0";
    paid[0] = { ...first, sig: `${first.sig.slice(0, 10)}${flipped}${first.sig.slice(11)}` };
    expect(await refusal(send(paid))).toMatchObject({
      code: "BAD_TICKET",
      reason: "BAD_SIGNATURE",
    });
  });

  it("names the bad ticket's reason: params issued before the orchestrator restarted", async () => {
    const before = new TicketParamsIssuer(
      orchestratorWallet.address,
      secret,
      new ChainStateCache(chain, orchestratorWallet.address, 0),
      { pendingFaceValue: () => 0n },
      issuerOptions,
      Uint8Array.from(randomBytes(EPOCH_BYTES)),
    );
    const stale = await before.issue(sender.address);
    const paid = newSender().createTickets(stale, fee).map(paymentToWire);
    expect(await refusal(send(paid))).toMatchObject({ code: "BAD_TICKET", reason: "STALE_PARAMS" });
  });

  it("refuses a segment over its cap before reading it, with the size and the cap", async () => {
    const refused = await refusal(send(await tickets(), new Uint8Array(MAX_SEGMENT_BYTES + 1)));
    expect(refused.code).toBe("SEGMENT_TOO_LARGE");
    expect(refused.details).toMatchObject({
      size: MAX_SEGMENT_BYTES + 1,
      max: MAX_SEGMENT_BYTES,
    });
  });

  it("names what ffmpeg found wrong with a segment that is not video", async () => {
    expect(await refusal(send(await tickets()))).toMatchObject({
      code: "BAD_SEGMENT",
      reason: "INPUT_INVALID",
    });
  });

  it("says CAPACITY_FULL when every session is busy, and when it is stopping", async () => {
    const release = transcode.slots.tryAcquire();
    expect(release).not.toBeNull();
    try {
      expect(await refusal(send(await tickets()))).toMatchObject({
        code: "CAPACITY_FULL",
        reason: "SESSIONS_BUSY",
      });
    } finally {
      release?.();
    }
    await transcode.drain(0);
    expect(await refusal(send(await tickets()))).toMatchObject({
      code: "CAPACITY_FULL",
      reason: "STOPPING",
    });
  });
});
