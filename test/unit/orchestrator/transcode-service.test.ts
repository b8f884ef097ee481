import { afterEach, describe, expect, it } from "vitest";
import { WIN_PROB_SCALE } from "../../../node/src/chain/ticket.ts";
import { isSegmintError, SegmintError } from "../../../node/src/errors.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import { MediaError, presetProfile } from "../../../node/src/media/index.ts";
import { createOrchestratorMetrics } from "../../../node/src/metrics/index.ts";
import { PaidTranscodeService, profileKeys } from "../../../node/src/orchestrator/index.ts";
import { ticketParamsProvider } from "../../../node/src/orchestrator/transcode-service.ts";
import type { TranscodeJob } from "../../../node/src/p2p/interface.ts";
import { maxChargeablePixels, paymentToWire } from "../../../node/src/protocol/index.ts";
import { FakeTranscoder, paymentsSetup } from "./fakes.ts";

type Env = ReturnType<typeof paymentsSetup>;
let env: Env | null = null;
afterEach(() => {
  env?.db.close();
  env = null;
});

const PROFILE = "360p30";
const DURATION = 2;
const SEGMENT = new Uint8Array([0x47, 1, 2, 3]);

/** Tickets the service reports to the earnings history, per round. */
class FakeHistory {
  readonly rounds = new Map<bigint, { tickets: number; scaled: bigint }>();
  received(round: bigint, tickets: number, scaled: bigint): void {
    const entry = this.rounds.get(round) ?? { tickets: 0, scaled: 0n };
    this.rounds.set(round, { tickets: entry.tickets + tickets, scaled: entry.scaled + scaled });
  }
}

function build(opts: { price?: bigint; winProbOne?: boolean; allowed?: string[] } = {}) {
  env = paymentsSetup({ winProbOne: opts.winProbOne ?? false });
  const transcoder = new FakeTranscoder();
  const metrics = createOrchestratorMetrics();
  const price = opts.price ?? 1n;
  const history = new FakeHistory();
  const service = new PaidTranscodeService({
    tickets: env.validator,
    balances: env.balances,
    issuer: env.issuer,
    transcoder,
    pricePerPixel: price,
    allowedProfiles: opts.allowed
      ? new Set(opts.allowed.flatMap((name) => profileKeys(presetProfile(name))))
      : null,
    metrics,
    history,
    log: silentLogger(),
  });
  return { e: env, service, transcoder, metrics, price, history };
}

/** Admits at once and counts the sessions taken. */
class CountingAdmission {
  admitted = 0;
  refuse = false;
  async admit(): Promise<void> {
    if (this.refuse) throw new SegmintError("CAPACITY_FULL", "every session is busy", {});
    this.admitted += 1;
  }
}

function admission(): CountingAdmission {
  return new CountingAdmission();
}

/** The fee the service asks a balance to cover before it works: every pixel of the box. */
function fullFee(price: bigint): bigint {
  return maxChargeablePixels([presetProfile(PROFILE)], DURATION) * price;
}

async function job(e: Env, fee: bigint, profiles = [PROFILE]): Promise<TranscodeJob> {
  const params = await e.issuer.issue(e.sender.address);
  const tickets = e.sender.createTickets(params, fee).map(paymentToWire);
  return {
    peerId: "12D3KooWPeer",
    request: {
      streamId: "s1",
      seq: 0,
      durationSec: DURATION,
      profiles: profiles.map((name) => ({ name })),
      tickets,
      segmentBytes: SEGMENT.length,
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  if (!isSegmintError(error)) throw new Error(`expected a coded refusal, got ${String(error)}`);
  return error.code;
}

describe("PaidTranscodeService", () => {
  it("credits the tickets, transcodes, and debits exactly pixels x price", async () => {
    const { e, service, transcoder, price, metrics, history } = build({ price: 3n });
    const j = await job(e, fullFee(price));
    const credit = j.request.tickets.reduce(
      (sum, t) => sum + BigInt(t.faceValue) * BigInt(t.winProb),
      0n,
    );
    const result = await service.handle(j, SEGMENT, new AbortController().signal, admission());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(transcoder.calls).toHaveLength(1);
    expect(result.renditions.map((r) => r.profile)).toEqual([PROFILE]);
    const pixels = BigInt(result.renditions[0]?.pixels ?? 0);
    expect(pixels).toBeGreaterThan(0n);
    const expected = (credit - pixels * price * WIN_PROB_SCALE) / WIN_PROB_SCALE;
    expect(result.balance).toBe(expected.toString());
    expect(e.balances.balance(e.sender.address)).toBe(expected);
    // Fresh params for the next segment come back with the answer.
    expect(result.ticketParams?.recipient).toBe(e.recipient.toLowerCase());
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/segmint_segments_total\{result="ok"\} 1/);
    expect(text).toMatch(new RegExp(`segmint_tickets_received_total ${j.request.tickets.length}`));
    // The earnings history gets the same tickets under the round they name, with their credit.
    const round = BigInt(j.request.tickets[0]?.creationRound ?? -1);
    expect([...history.rounds]).toEqual([
      [round, { tickets: j.request.tickets.length, scaled: credit }],
    ]);
  });

  it("refuses with INSUFFICIENT_BALANCE before any work, taking none of the tickets", async () => {
    // One ticket is worth 1e12 wei; at 1e6 wei a pixel a 360p segment costs ~1.4e13.
    const { e, service, transcoder, price } = build({ price: 1_000_000n });
    const j = await job(e, fullFee(price) / 4n);
    const paid = admission();
    expect(await refusal(service.handle(j, SEGMENT, new AbortController().signal, paid))).toBe(
      "INSUFFICIENT_BALANCE",
    );
    expect(transcoder.calls).toHaveLength(0);
    expect(paid.admitted).toBe(0);
    // Nothing credited or debited: the broadcaster takes its tickets back on a refusal.
    expect(e.balances.balanceScaled(e.sender.address)).toBe(0n);
  });

  it("journals a winning ticket before the work is done and the answer goes out", async () => {
    const { e, service, transcoder } = build({ winProbOne: true });
    let pendingDuringWork = -1;
    transcoder.during = () => {
      pendingDuringWork = e.journal.listByStatus(["pending"]).length;
    };
    const j = await job(e, fullFee(1n));
    expect(j.request.tickets.length).toBeGreaterThan(0);
    const result = await service.handle(j, SEGMENT, new AbortController().signal, admission());
    expect(result.ok).toBe(true);
    expect(pendingDuringWork).toBe(1);
    const [entry] = e.journal.listByStatus(["pending"]);
    expect(entry?.ticket.sender).toBe(e.sender.address.toLowerCase());
  });

  it("leaves no state behind for a forged ticket", async () => {
    const { e, service, transcoder } = build({ winProbOne: true });
    const j = await job(e, fullFee(1n));
    const [first] = j.request.tickets;
    if (!first) throw new Error("no ticket");
    // Flip one byte of the signature: it no longer recovers to the sender.
    const sig = first.sig;
    first.sig = `${sig.slice(0, 10)}${sig[10] === "0" ? "1" : "0"}${sig.slice(11)}`;
    expect(
      await refusal(service.handle(j, SEGMENT, new AbortController().signal, admission())),
    ).toBe("BAD_TICKET");
    expect(transcoder.calls).toHaveLength(0);
    expect(e.balances.balanceScaled(e.sender.address)).toBe(0n);
    expect(e.journal.listByStatus(["pending"])).toHaveLength(0);
  });

  it("refuses a request without tickets from a peer that never paid", async () => {
    const { e, service, transcoder } = build();
    const j = await job(e, 0n);
    expect(j.request.tickets).toHaveLength(0);
    expect(
      await refusal(service.handle(j, SEGMENT, new AbortController().signal, admission())),
    ).toBe("INSUFFICIENT_BALANCE");
    expect(transcoder.calls).toHaveLength(0);
  });

  it("draws on a peer's earlier credit when a segment comes without tickets", async () => {
    const { e, service } = build();
    const first = await job(e, fullFee(1n) * 3n);
    expect(
      (await service.handle(first, SEGMENT, new AbortController().signal, admission())).ok,
    ).toBe(true);
    const before = e.balances.balance(e.sender.address);
    const second = await job(e, 0n);
    const result = await service.handle(second, SEGMENT, new AbortController().signal, admission());
    expect(result.ok).toBe(true);
    expect(e.balances.balance(e.sender.address)).toBeLessThan(before);
  });

  it("accepts an offered preset under another name for the same shape", async () => {
    const { e, service } = build({ allowed: ["360p"] });
    const result = await service.handle(
      await job(e, fullFee(1n)),
      SEGMENT,
      new AbortController().signal,
      admission(),
    );
    expect(result.ok).toBe(true);
  });

  it("refuses a profile it does not offer without touching the tickets", async () => {
    const { e, service, transcoder } = build({ allowed: ["720p30"] });
    const j = await job(e, fullFee(1n));
    expect(
      await refusal(service.handle(j, SEGMENT, new AbortController().signal, admission())),
    ).toBe("BAD_REQUEST");
    expect(transcoder.calls).toHaveLength(0);
    expect(e.balances.balanceScaled(e.sender.address)).toBe(0n);
  });

  it("maps a bad segment to BAD_SEGMENT and debits nothing", async () => {
    const { e, service, transcoder } = build();
    transcoder.fail = new MediaError("INPUT_INVALID", "not MPEG-TS", {});
    const j = await job(e, fullFee(1n));
    expect(
      await refusal(service.handle(j, SEGMENT, new AbortController().signal, admission())),
    ).toBe("BAD_SEGMENT");
    const credited = j.request.tickets.reduce(
      (sum, t) => sum + BigInt(t.faceValue) * BigInt(t.winProb),
      0n,
    );
    expect(e.balances.balanceScaled(e.sender.address)).toBe(credited);
  });

  it("stops taking work once draining, and waits for work in flight", async () => {
    const { e, service, transcoder } = build();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = transcoder.transcode.bind(transcoder);
    transcoder.transcode = async (segment, request) => {
      await gate;
      return slow(segment, request);
    };
    const running = service.handle(
      await job(e, fullFee(1n)),
      SEGMENT,
      new AbortController().signal,
      admission(),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(service.sessions).toBe(1);
    let drained = false;
    const draining = service.drain().then(() => {
      drained = true;
    });
    expect(
      await refusal(
        service.handle(
          await job(e, fullFee(1n)),
          SEGMENT,
          new AbortController().signal,
          admission(),
        ),
      ),
    ).toBe("CAPACITY_FULL");
    expect(drained).toBe(false);
    release();
    expect((await running).ok).toBe(true);
    await draining;
    expect(service.sessions).toBe(0);
  });

  it("takes a session only once the request is paid for, and never for an unpaid one", async () => {
    const { e, service, transcoder } = build();
    const unpaid = admission();
    expect(
      await refusal(
        service.handle(await job(e, 0n), SEGMENT, new AbortController().signal, unpaid),
      ),
    ).toBe("INSUFFICIENT_BALANCE");
    expect(unpaid.admitted).toBe(0);
    const paid = admission();
    let admittedDuringWork = -1;
    transcoder.during = () => {
      admittedDuringWork = paid.admitted;
    };
    const result = await service.handle(
      await job(e, fullFee(1n)),
      SEGMENT,
      new AbortController().signal,
      paid,
    );
    expect(result.ok).toBe(true);
    expect(admittedDuringWork).toBe(1);
  });

  it("answers CAPACITY_FULL without transcoding or taking the tickets when no session frees up", async () => {
    const { e, service, transcoder } = build();
    const full = admission();
    full.refuse = true;
    const j = await job(e, fullFee(1n));
    expect(await refusal(service.handle(j, SEGMENT, new AbortController().signal, full))).toBe(
      "CAPACITY_FULL",
    );
    expect(e.balances.balanceScaled(e.sender.address)).toBe(0n);
    expect(transcoder.calls).toHaveLength(0);
    // The same tickets are still good for the retry: none of their nonces was used.
    expect((await service.handle(j, SEGMENT, new AbortController().signal, admission())).ok).toBe(
      true,
    );
  });

  it("gives ffmpeg a time limit that follows the segment's length", async () => {
    const { e, service, transcoder } = build();
    await service.handle(
      await job(e, fullFee(1n)),
      SEGMENT,
      new AbortController().signal,
      admission(),
    );
    // 5 s + 3 s per media second for a 2 s segment: far under the 60 s exchange deadline.
    expect(transcoder.calls[0]?.timeoutMs).toBe(11_000);
    // A live segment's broadcaster waits 4 s: ffmpeg is stopped by then, not after 11 s.
    const live = await job(e, fullFee(1n));
    live.request.budgetMs = 4_000;
    await service.handle(live, SEGMENT, new AbortController().signal, admission());
    expect(transcoder.calls[1]?.timeoutMs).toBe(4_000);
  });

  it("reports work cut short by a stop as CAPACITY_FULL, never as the segment's fault", async () => {
    const { e, service, transcoder } = build();
    const j = await job(e, fullFee(1n));
    transcoder.during = () => {
      // The stop arrives while ffmpeg runs, and ffmpeg dies with it (a process-group signal).
      void service.drain();
      transcoder.fail = new MediaError("INPUT_INVALID", "ffmpeg was killed mid-read", {});
    };
    expect(
      await refusal(service.handle(j, SEGMENT, new AbortController().signal, admission())),
    ).toBe("CAPACITY_FULL");
  });

  it("refuses ticket params for an unfunded sender with INSUFFICIENT_BALANCE", async () => {
    const { e } = build();
    const provider = ticketParamsProvider(e.issuer);
    const stranger = `0x${"5a".repeat(20)}`;
    expect(await refusal(provider.ticketParams(stranger))).toBe("INSUFFICIENT_BALANCE");
    expect((await provider.ticketParams(e.sender.address)).recipient).toBe(
      e.recipient.toLowerCase(),
    );
  });

  it("never blames the segment when ffmpeg was killed from outside", async () => {
    const { e, service, transcoder } = build();
    // A probe whose ffmpeg died of a signal (exit code null) says nothing about the input.
    transcoder.fail = new MediaError("INPUT_INVALID", "not readable", { exitCode: null });
    expect(
      await refusal(
        service.handle(
          await job(e, fullFee(1n)),
          SEGMENT,
          new AbortController().signal,
          admission(),
        ),
      ),
    ).toBe("INTERNAL");
  });
});
