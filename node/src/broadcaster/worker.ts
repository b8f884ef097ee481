import type { Logger } from "../log/index.ts";
import type { Profile } from "../media/interface.ts";
import { measureRendition, probeMedia } from "../media/probe.ts";
import { outputSize } from "../media/profiles.ts";
import { RemoteError } from "../p2p/errors.ts";
import type { SignedInfo, TranscodeRequest } from "../p2p/messages.ts";
import type { TranscodeResponse } from "../p2p/transcode-client.ts";
import type { TicketParams } from "../payments/interface.ts";
import { paymentToWire, ticketParamsFromWire } from "../payments/wire.ts";
import type {
  OrchestratorHandle,
  SegmentOutcome,
  SegmentWorker,
  SourceSegment,
} from "./interface.ts";
import { estimatePixels, type PaymentLedger, requiredPixels, type SourceVideo } from "./payment.ts";
import { type Measure, verifyResult } from "./verify.ts";

/** The two protocol calls the worker makes; p2p's requestInfo/requestTranscode in production. */
export interface OrchestratorTransport {
  info(handle: OrchestratorHandle, signal: AbortSignal): Promise<SignedInfo>;
  transcode(
    handle: OrchestratorHandle,
    request: Omit<TranscodeRequest, "segmentBytes">,
    segment: Uint8Array,
    signal: AbortSignal,
  ): Promise<TranscodeResponse>;
}

/** The source segment's own video, measured once per segment (retries reuse it). */
export interface SegmentVideo {
  frames: number;
  durationSeconds: number;
}

export interface NetworkSegmentWorkerDeps {
  transport: OrchestratorTransport;
  ledger: PaymentLedger;
  profiles: readonly Profile[];
  source: SourceVideo;
  streamId: string;
  probeSegment: (data: Uint8Array) => Promise<SegmentVideo>;
  measure: Measure;
  /** Signed info already fetched while choosing orchestrators: its params are used first. */
  knownInfo?: (address: string) => SignedInfo | undefined;
  log: Logger;
}

/**
 * Source measurements kept for segments still being tried: far more than can be in flight (the
 * dispatcher reads a few segments ahead of its orchestrators' slots).
 */
const SEGMENT_VIDEO_KEPT = 256;

/** The worker's two measurements done with the local ffmpeg: the source segment and each rendition. */
export function ffmpegSegmentChecks(
  ffmpegPath: string,
  signal: AbortSignal,
): Pick<NetworkSegmentWorkerDeps, "probeSegment" | "measure"> {
  return {
    probeSegment: async (data) => {
      const info = await probeMedia(Buffer.from(data), { ffmpegPath, format: "mpegts", signal });
      return {
        frames: info.video?.frames ?? 0,
        durationSeconds: info.video?.durationSeconds ?? info.durationSeconds,
      };
    },
    measure: (data) => measureRendition(Buffer.from(data), { ffmpegPath, signal }),
  };
}

/** The media layer's profile JSON (profileJsonSchema), as the orchestrator reads it. */
export function wireProfile(profile: Profile): TranscodeRequest["profiles"][number] {
  return {
    name: profile.name,
    width: profile.width,
    height: profile.height,
    bitrate: profile.bitrateBps,
    ...(profile.fps === undefined ? {} : { fps: profile.fps }),
    codec: profile.codec,
    gop: profile.gopSeconds,
    preset: profile.preset,
    ...(profile.crf === undefined ? {} : { crf: profile.crf }),
    allowUpscale: profile.allowUpscale,
  };
}

/**
 * One try of one segment on one orchestrator: pay (tickets for the estimated pixels), send,
 * verify, settle the payment with the measured pixels.
 *
 * Ticket params are kept per in-flight slot ("lanes"): each lane's params come from their own
 * /segmint/info answer, so segments in flight to the same orchestrator never share a
 * recipientRandHash and a win on one cannot void the tickets of another (RAND_REVEALED).
 */
export class NetworkSegmentWorker implements SegmentWorker {
  private readonly idleParams = new Map<string, TicketParams[]>();
  private readonly segmentVideo = new Map<number, Promise<SegmentVideo>>();
  private readonly wireProfiles: TranscodeRequest["profiles"];
  private readonly expected: Map<string, { width: number; height: number }>;

  constructor(private readonly deps: NetworkSegmentWorkerDeps) {
    this.wireProfiles = deps.profiles.map(wireProfile);
    this.expected = new Map(deps.profiles.map((p) => [p.name, outputSize(deps.source, p)]));
  }

  async run(
    handle: OrchestratorHandle,
    segment: SourceSegment,
    signal: AbortSignal,
  ): Promise<SegmentOutcome> {
    const video = await this.video(segment);
    const wanted = this.wanted(segment);
    let params = await this.takeParams(handle, signal);
    let ticketsSent = 0;
    let spendScaled = 0n;
    // A refused payment (stale params, a win on them, a balance mismatch) is ours to fix:
    // one more try on the same orchestrator with fresh params before it counts as a failure.
    for (let payTry = 0; ; payTry++) {
      const durationSec = Math.max(0.001, segment.durationSeconds);
      const expected = estimatePixels(
        this.deps.source,
        wanted.profiles,
        video.frames,
        video.durationSeconds,
      );
      const required = requiredPixels(wanted.profiles, durationSec);
      const payment = this.deps.ledger.pay(params, {
        required: (required > expected ? required : expected) * params.pricePerPixel,
        expected: expected * params.pricePerPixel,
      });
      ticketsSent += payment.tickets.length;
      spendScaled += payment.spendScaled;
      let response: TranscodeResponse;
      try {
        response = await this.deps.transport.transcode(
          handle,
          {
            streamId: this.deps.streamId,
            seq: segment.index,
            durationSec,
            profiles: wanted.wire,
            tickets: payment.tickets.map(paymentToWire),
          },
          segment.data,
          signal,
        );
      } catch (error) {
        this.deps.ledger.refund(payment);
        const paymentRefused =
          error instanceof RemoteError &&
          (error.code === "BAD_TICKET" || error.code === "INSUFFICIENT_BALANCE");
        if (paymentRefused && payTry === 0 && !signal.aborted) {
          this.deps.log.debug(
            { orchestrator: handle.address, segment: segment.index, code: error.code },
            "payment refused; retrying with fresh ticket params",
          );
          params = await this.freshParams(handle, signal);
          continue;
        }
        if (!paymentRefused) this.releaseParams(handle, params);
        throw error;
      }
      let renditions: SegmentOutcome["renditions"];
      try {
        renditions = await verifyResult(
          {
            streamId: this.deps.streamId,
            seq: segment.index,
            orchestrator: handle.address,
            signature: response.signature,
            renditions: response.renditions,
            expected: wanted.expected,
            sourceDurationSeconds: video.durationSeconds,
            durationToleranceSeconds: Math.max(0.05, 1.5 / Math.max(1, this.deps.source.fps)),
          },
          this.deps.measure,
        );
      } finally {
        // It did the work and charged what it claims, verified or not.
        const claimed = response.renditions.reduce((sum, r) => sum + BigInt(r.pixels), 0n);
        this.deps.ledger.settle(payment, claimed * params.pricePerPixel);
        this.releaseParams(
          handle,
          response.ticketParams === null
            ? params
            : ticketParamsFromWire(response.ticketParams, params.pricePerPixel),
        );
      }
      this.segmentVideo.delete(segment.index);
      return {
        renditions,
        ticketsSent,
        expectedValue: spendScaled >> 256n,
        signature: response.signature,
      };
    }
  }

  /** The ladder, or the part of it the segment asks for. */
  private wanted(segment: SourceSegment): {
    profiles: readonly Profile[];
    wire: TranscodeRequest["profiles"];
    expected: ReadonlyMap<string, { width: number; height: number }>;
  } {
    const names = segment.profiles;
    if (names === undefined) {
      return { profiles: this.deps.profiles, wire: this.wireProfiles, expected: this.expected };
    }
    const keep = new Set(names);
    const indexes = this.deps.profiles.flatMap((p, i) => (keep.has(p.name) ? [i] : []));
    return {
      profiles: indexes.flatMap((i) => this.deps.profiles[i] ?? []),
      wire: indexes.flatMap((i) => this.wireProfiles[i] ?? []),
      expected: new Map([...this.expected].filter(([name]) => keep.has(name))),
    };
  }

  private video(segment: SourceSegment): Promise<SegmentVideo> {
    let known = this.segmentVideo.get(segment.index);
    if (known === undefined) {
      known = this.deps.probeSegment(segment.data);
      this.segmentVideo.set(segment.index, known);
      known.catch(() => this.segmentVideo.delete(segment.index));
      // A segment given up (a live deadline) is never deleted on success: keep the newest only.
      if (this.segmentVideo.size > SEGMENT_VIDEO_KEPT) {
        const oldest = this.segmentVideo.keys().next().value;
        if (oldest !== undefined) this.segmentVideo.delete(oldest);
      }
    }
    return known;
  }

  private async takeParams(handle: OrchestratorHandle, signal: AbortSignal): Promise<TicketParams> {
    const idle = this.idleParams.get(handle.address);
    const reused = idle?.pop();
    if (reused !== undefined) return reused;
    const known = this.deps.knownInfo?.(handle.address);
    if (known !== undefined && !this.usedKnown.has(handle.address)) {
      this.usedKnown.add(handle.address);
      return ticketParamsFromWire(known.ticketParams, BigInt(known.pricePerPixel));
    }
    return this.freshParams(handle, signal);
  }

  private readonly usedKnown = new Set<string>();

  private async freshParams(
    handle: OrchestratorHandle,
    signal: AbortSignal,
  ): Promise<TicketParams> {
    const info = await this.deps.transport.info(handle, signal);
    return ticketParamsFromWire(info.ticketParams, BigInt(info.pricePerPixel));
  }

  private releaseParams(handle: OrchestratorHandle, params: TicketParams): void {
    let idle = this.idleParams.get(handle.address);
    if (idle === undefined) {
      idle = [];
      this.idleParams.set(handle.address, idle);
    }
    idle.push(params);
  }
}
