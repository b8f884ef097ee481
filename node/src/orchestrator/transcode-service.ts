import { WIN_PROB_SCALE } from "../chain/ticket.ts";
import { errorMessage, isSegmintError, SegmintError } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import {
  isMediaError,
  type Profile as MediaProfile,
  type TranscodeRequest as MediaTranscodeRequest,
  type TranscodeResult as MediaTranscodeResult,
  presetProfile,
  profileFromJson,
} from "../media/index.ts";
import type { OrchestratorMetrics } from "../metrics/index.ts";
import type {
  Admission,
  TicketParamsProvider,
  TranscodeJob,
  TranscodeService,
  TranscodeServiceResult,
} from "../p2p/interface.ts";
import type { Balances } from "../payments/balances.ts";
import type { TicketParams, TicketPayment } from "../payments/index.ts";
import { scaledToWei } from "../payments/metrics.ts";
import type { TicketAcceptance } from "../payments/validator.ts";
import {
  maxChargeablePixels,
  paymentFromWire,
  ticketParamsToWire,
  type WireProfile,
  type WireTicketParams,
} from "../protocol/index.ts";
import { NodeActivity } from "./activity.ts";
import { asWireRefusal } from "./refusals.ts";

/** The payments validator as the service uses it (TicketValidator implements it). */
export interface TicketReceiver {
  receiveAll(payments: readonly TicketPayment[]): Promise<TicketAcceptance[]>;
}

/** The earnings history as the service feeds it (HistoryKeeper implements it). */
export interface ReceivedTickets {
  /** `tickets` accepted naming `round`, worth `scaled` (face value x win probability, 2^-256 wei). */
  received(round: bigint, tickets: number, scaled: bigint): void;
}

/** The segment transcoder as the service uses it (media's SegmentTranscoder implements it). */
export interface Transcoder {
  transcode(segment: Buffer, request: MediaTranscodeRequest): Promise<MediaTranscodeResult>;
}

export interface TicketIssuer {
  issue(sender: string): Promise<TicketParams>;
}

export interface PaidTranscodeServiceDeps {
  tickets: TicketReceiver;
  balances: Balances;
  issuer: TicketIssuer;
  transcoder: Transcoder;
  /** Token wei per output pixel. */
  pricePerPixel: bigint;
  /** Keys (see profileKeys) of the profiles offered; null accepts any the media layer can make. */
  allowedProfiles: ReadonlySet<string> | null;
  metrics: OrchestratorMetrics | null;
  /** Where served streams, accepted tickets and refusals are recorded for /status. */
  activity?: NodeActivity;
  /** Where accepted tickets are counted per round for the earnings history. */
  history?: ReceivedTickets | null;
  /** This node's own limit on one segment's ffmpeg run (defaults below). */
  transcodeTimeout?: TranscodeTimeout;
  log: Logger;
}

/** ffmpeg's time limit for one segment: `baseMs + perMediaSecondMs x its seconds`. */
export interface TranscodeTimeout {
  baseMs: number;
  perMediaSecondMs: number;
}

/**
 * A 2 s segment to a 3-rendition ladder takes about 1-1.5 s on one idle CPU
 * (docs/performance.md), and 2-4 s on a loaded two-core machine with two sessions running:
 * 5 s + 3 s per media second (11 s for 2 s) leaves room for that, and stays far below the
 * broadcaster's 60 s exchange deadline, so a hung ffmpeg is answered TIMEOUT here, with a
 * code, and its session freed, instead of holding both ends until the transport gives up. A
 * live broadcaster does not wait that long: its try limit from our observed speed and its
 * hedge move the segment elsewhere first.
 */
export const defaultTranscodeTimeout: TranscodeTimeout = { baseMs: 5_000, perMediaSecondMs: 3_000 };

/**
 * The paid work behind /segmint/transcode. In order: refuse when stopping; resolve the asked
 * profiles; check, without state, that what the tickets claim plus the sender's balance covers
 * the most this segment can cost; take a session (the admission may wait briefly, or refuse
 * CAPACITY_FULL); validate and credit the tickets (the validator journals winners, fsync'd, at
 * this step, so before any reply); check the balance covers the segment; transcode; debit
 * pixels x price; answer with fresh ticket params. A refusal before the tickets leaves nothing
 * behind; tickets accepted stay credited, as they were paid.
 */
export class PaidTranscodeService implements TranscodeService {
  private accepting = true;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The sender a peer last paid as: a request without tickets draws on that balance. */
  private readonly senderOfPeer = new Map<string, string>();
  readonly activity: NodeActivity;

  constructor(private readonly deps: PaidTranscodeServiceDeps) {
    this.activity = deps.activity ?? new NodeActivity();
  }

  get sessions(): number {
    return this.inFlight.size;
  }

  handle(
    job: TranscodeJob,
    segment: Uint8Array,
    signal: AbortSignal,
    admission: Admission,
  ): Promise<TranscodeServiceResult> {
    if (!this.accepting) return Promise.reject(shuttingDown());
    const work = this.run(job, segment, signal, admission);
    this.inFlight.add(work);
    this.deps.metrics?.sessions.set(this.inFlight.size);
    const done = () => {
      this.inFlight.delete(work);
      this.deps.metrics?.sessions.set(this.inFlight.size);
    };
    work.then(done, done);
    return work;
  }

  /** Stops taking new work and waits for what is in flight to finish or fail. */
  async drain(): Promise<void> {
    this.accepting = false;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(
    job: TranscodeJob,
    segment: Uint8Array,
    signal: AbortSignal,
    admission: Admission,
  ): Promise<TranscodeServiceResult> {
    const { request } = job;
    const log = this.deps.log.child({
      peer: job.peerId,
      streamId: request.streamId,
      seq: request.seq,
    });
    try {
      const profiles = request.profiles.map((p) => this.resolveProfile(p));
      const payments = request.tickets.map((t) => paymentFromWire(t));
      const sender = this.senderFor(job.peerId, payments);
      const maxFee = maxChargeablePixels(profiles, request.durationSec) * this.deps.pricePerPixel;
      // Stateless and cheap: what the tickets claim to be worth plus what the sender holds here
      // must cover the segment, so a request paying nothing never waits for or holds a session.
      const claimedScaled = payments.reduce(
        (sum, p) => sum + p.ticket.faceValue * p.ticket.winProb,
        0n,
      );
      if (this.deps.balances.balanceScaled(sender) + claimedScaled < maxFee * WIN_PROB_SCALE) {
        throw new SegmintError(
          "INSUFFICIENT_BALANCE",
          "the tickets sent and the balance held here do not cover this segment",
          { reason: "TICKETS_SHORT", required: maxFee.toString() },
          { hint: "send more tickets with the segment" },
        );
      }
      // The session is taken before the tickets are: a CAPACITY_FULL then leaves no state
      // behind (no ticket credited), which is what the broadcaster's payment channel with this
      // orchestrator assumes when it refunds the segment's payment (the tickets count towards
      // no credit). Forged tickets hold a session only while they are checked.
      await admission.admit();
      if (payments.length > 0) {
        const accepted = await this.deps.tickets.receiveAll(payments);
        this.activity.ticketsAccepted(accepted);
        this.recordReceived(payments, accepted);
        const paid = this.deps.metrics?.payments;
        paid?.ticketsReceived.inc(accepted.length);
        const won = accepted.filter((a) => a.won).length;
        if (won > 0) paid?.ticketsWon.inc(won);
        const ev = accepted.reduce((sum, a) => sum + a.creditedScaled, 0n);
        paid?.expectedValueWei.inc(scaledToWei(ev));
        this.senderOfPeer.set(job.peerId, sender);
      }
      // Refused before any work, so an unpaid request costs no CPU.
      this.deps.balances.require(sender, maxFee);

      const started = performance.now();
      const result = await this.transcode(
        segment,
        profiles,
        request.durationSec,
        signal,
        request.budgetMs,
      );
      const wallSeconds = (performance.now() - started) / 1000;
      const pixels = result.renditions.reduce((sum, r) => sum + BigInt(r.pixels), 0n);
      this.deps.balances.debit(sender, pixels * this.deps.pricePerPixel);

      this.activity.segmentServed(request.streamId, sender);
      const metrics = this.deps.metrics;
      metrics?.segments.inc({ result: "ok" });
      metrics?.transcodeSeconds.observe(wallSeconds);
      if (wallSeconds > 0)
        metrics?.realtimeRatio.observe(result.source.durationSeconds / wallSeconds);
      log.info(
        {
          renditions: result.renditions.length,
          pixels: pixels.toString(),
          ms: Math.round(wallSeconds * 1000),
        },
        "segment transcoded",
      );
      return {
        ok: true,
        renditions: result.renditions.map((r) => ({
          profile: r.profile,
          data: r.data,
          pixels: r.pixels,
          width: r.width,
          height: r.height,
          frames: r.frames,
        })),
        balance: this.deps.balances.balance(sender).toString(),
        ticketParams: await this.freshParams(sender, log),
      };
    } catch (thrown) {
      // A stop (or a process-group signal that killed ffmpeg with us) is never the
      // segment's fault: the broadcaster is told to go elsewhere, not that its input is bad.
      const error = this.accepting ? thrown : shuttingDown(thrown);
      const code = isSegmintError(error) ? error.code : "INTERNAL";
      this.deps.metrics?.segments.inc({ result: code });
      this.deps.metrics?.errors.inc({ code });
      this.activity.error(code, errorMessage(error));
      log.info(
        {
          code,
          reason: isSegmintError(error) ? error.details.reason : undefined,
          err: isSegmintError(error) ? error.message : String(error),
        },
        "segment refused",
      );
      // The broadcaster is told the wire code, with the local code above as its reason.
      throw asWireRefusal(error);
    }
  }

  /** Accepted tickets (in the order paid) counted per the round each names. */
  private recordReceived(
    payments: readonly TicketPayment[],
    accepted: readonly TicketAcceptance[],
  ): void {
    const history = this.deps.history;
    if (!history) return;
    const perRound = new Map<bigint, { tickets: number; scaled: bigint }>();
    accepted.forEach((a, i) => {
      const round = payments[i]?.ticket.creationRound;
      if (round === undefined) return;
      const entry = perRound.get(round) ?? { tickets: 0, scaled: 0n };
      entry.tickets += 1;
      entry.scaled += a.creditedScaled;
      perRound.set(round, entry);
    });
    for (const [round, { tickets, scaled }] of perRound) history.received(round, tickets, scaled);
  }

  private resolveProfile(wire: WireProfile): MediaProfile {
    const name = wire.name;
    let profile: MediaProfile;
    try {
      // A bare name is a preset; a full object is a custom profile checked by the media layer.
      profile = Object.keys(wire).length === 1 ? presetProfile(name) : profileFromJson(wire);
    } catch (error) {
      throw new SegmintError(
        "BAD_REQUEST",
        isSegmintError(error) ? error.message : `bad profile ${name}`,
        { reason: isSegmintError(error) ? error.code : "PROFILE_INVALID", profile: name },
        { cause: error },
      );
    }
    const allowed = this.deps.allowedProfiles;
    if (allowed !== null && !profileKeys(profile).some((key) => allowed.has(key))) {
      throw new SegmintError("BAD_REQUEST", `this orchestrator does not offer profile ${name}`, {
        reason: "PROFILE_NOT_OFFERED",
        profile: name,
      });
    }
    return profile;
  }

  private senderFor(peerId: string, payments: readonly TicketPayment[]): string {
    const first = payments[0]?.ticket.sender.toLowerCase();
    if (first === undefined) {
      const known = this.senderOfPeer.get(peerId);
      if (known === undefined) {
        throw new SegmintError(
          "INSUFFICIENT_BALANCE",
          "no tickets were sent and this peer has no balance here",
          { reason: "NO_TICKETS", peerId },
          { hint: "send tickets with the segment" },
        );
      }
      return known;
    }
    if (payments.some((p) => p.ticket.sender.toLowerCase() !== first)) {
      throw new SegmintError(
        "BAD_REQUEST",
        "all tickets of one segment must come from one sender",
        { reason: "MIXED_SENDERS" },
      );
    }
    return first;
  }

  private async transcode(
    segment: Uint8Array,
    profiles: MediaProfile[],
    durationSec: number,
    signal: AbortSignal,
    budgetMs: number | undefined,
  ): Promise<MediaTranscodeResult> {
    const buffer = Buffer.from(segment.buffer, segment.byteOffset, segment.byteLength);
    const limit = this.deps.transcodeTimeout ?? defaultTranscodeTimeout;
    const own = Math.round(limit.baseMs + limit.perMediaSecondMs * durationSec);
    // Never past the broadcaster's own wait: a hung ffmpeg frees its session by then.
    const timeoutMs = budgetMs === undefined ? own : Math.min(own, budgetMs);
    try {
      return await this.deps.transcoder.transcode(buffer, { profiles, signal, timeoutMs });
    } catch (error) {
      const refusal = asWireRefusal(error);
      // ffmpeg ended by a signal it did not get from our time limit (a stop that reached the
      // whole process group, the OOM killer) gave no verdict on the input: never BAD_SEGMENT.
      if (
        isMediaError(error) &&
        error.details.exitCode === null &&
        isSegmintError(refusal) &&
        refusal.code === "BAD_SEGMENT"
      ) {
        throw new SegmintError("INTERNAL", error.message, { reason: error.code }, { cause: error });
      }
      throw refusal;
    }
  }

  private async freshParams(sender: string, log: Logger): Promise<WireTicketParams | null> {
    try {
      return ticketParamsToWire(await this.deps.issuer.issue(sender));
    } catch (error) {
      // The segment is done and paid; the sender will ask /segmint/info for params.
      log.warn(
        { err: isSegmintError(error) ? error.code : String(error) },
        "no fresh ticket params",
      );
      return null;
    }
  }
}

/**
 * Ticket params for /segmint/info from the issuer, with the sender's own problems (no
 * deposit, unlocking) turned into the wire's INSUFFICIENT_BALANCE and a node out of the
 * active set into NOT_ACTIVE, each with its reason: a coded refusal the broadcaster can act
 * on, not an INTERNAL error logged with a stack.
 */
export function ticketParamsProvider(issuer: TicketIssuer): TicketParamsProvider {
  return {
    ticketParams: async (sender) => {
      try {
        return ticketParamsToWire(await issuer.issue(sender));
      } catch (error) {
        throw asWireRefusal(error);
      }
    },
  };
}

/** The refusal for work cut short by a stop: CAPACITY_FULL, a signal to go elsewhere. */
function shuttingDown(cause?: unknown): SegmintError {
  return new SegmintError(
    "CAPACITY_FULL",
    "the orchestrator is shutting down",
    { reason: "STOPPING" },
    cause === undefined ? {} : { cause },
  );
}

/**
 * What identifies an offered profile: its name, and its shape (box, frame rate, codec), so
 * "720p" offered also admits a request for the same preset named "720p30".
 */
export function profileKeys(profile: MediaProfile): string[] {
  return [
    `name:${profile.name.toLowerCase()}`,
    `shape:${profile.width}x${profile.height}@${profile.fps ?? "source"}/${profile.codec}`,
  ];
}
