import type { Logger } from "../log/index.ts";
import type { Profile } from "../media/interface.ts";
import { outputFps, outputSize } from "../media/profiles.ts";
import { type PictureSummary, pictureSummary } from "../media/quality.ts";
import { RemoteError } from "../p2p/errors.ts";
import type { TranscodeResponse } from "../p2p/transcode-client.ts";
import {
  maxChargeablePixels,
  paymentToWire,
  type SignedInfo,
  type TranscodeRequestHeader as TranscodeRequest,
  wireProfile,
} from "../protocol/index.ts";
import type { PaymentChannels } from "./channel.ts";
import { failureLabel } from "./dispatcher.ts";
import { isBroadcasterError } from "./errors.ts";
import type {
  OrchestratorHandle,
  SegmentOutcome,
  SegmentWorker,
  SourceSegment,
} from "./interface.ts";
import type { VerificationOptions } from "./options.ts";
import type { SourceVideo } from "./payment.ts";
import { isLocalSpotCheckFault, type SpotCheckTools, spotCheck } from "./spot-check.ts";
import type { StreamTrust } from "./trust.ts";
import { type ExpectedRendition, expectedPixels, type Inspect, verifyResult } from "./verify.ts";

/**
 * The two protocol calls a broadcaster makes; p2p's requestInfo/requestTranscode in production.
 * Selection asks a candidate's info, a payment channel asks for fresh ticket params, the worker
 * sends segments.
 */
export interface OrchestratorTransport {
  info(
    target: Pick<OrchestratorHandle, "peerId" | "multiaddrs">,
    signal: AbortSignal,
  ): Promise<SignedInfo>;
  transcode(
    handle: OrchestratorHandle,
    request: Omit<TranscodeRequest, "segmentBytes">,
    segment: Uint8Array,
    signal: AbortSignal,
  ): Promise<TranscodeResponse>;
}

export interface NetworkSegmentWorkerDeps {
  transport: Pick<OrchestratorTransport, "transcode">;
  /** The stream's (or broadcast's) payment channels, one per orchestrator. */
  channels: PaymentChannels;
  profiles: readonly Profile[];
  source: SourceVideo;
  streamId: string;
  /** Demuxes and decodes a segment (the source's and every rendition). */
  inspect: Inspect;
  verification: VerificationOptions;
  /** Consequences of each verdict: suspension, reputation, sampling, reports. */
  trust: StreamTrust;
  /** Spot-check tools; without them no result is spot-checked. */
  spotCheckTools?: SpotCheckTools;
  log: Logger;
}

/**
 * Source measurements kept for segments still being tried: far more than can be in flight (the
 * dispatcher reads a few segments ahead of its orchestrators' slots).
 */
const SEGMENT_VIDEO_KEPT = 256;

/** The worker's measurement with the local ffmpeg: one demux and decode per segment. */
export function ffmpegSegmentChecks(
  ffmpegPath: string,
  signal: AbortSignal,
): Pick<NetworkSegmentWorkerDeps, "inspect"> {
  return { inspect: (data) => pictureSummary(data, { ffmpegPath, signal }) };
}

/**
 * One try of one segment on one orchestrator: pay through its payment channel (tickets for the
 * pixels an honest result holds), send, verify (and now and then spot-check), and settle on the
 * measured pixels, never more than expected. A result that fails verification suspends the
 * orchestrator for the stream and goes on its record (trust.ts); what was paid with it is
 * reported.
 */
export class NetworkSegmentWorker implements SegmentWorker {
  private readonly sources = new Map<number, Promise<PictureSummary>>();
  private readonly wireProfiles: TranscodeRequest["profiles"];
  private readonly expected: Map<string, ExpectedRendition>;

  constructor(private readonly deps: NetworkSegmentWorkerDeps) {
    this.wireProfiles = deps.profiles.map(wireProfile);
    this.expected = new Map(
      deps.profiles.map((p) => [
        p.name,
        {
          ...outputSize(deps.source, p),
          fps: outputFps(deps.source.fps, p),
          bitrateBps: p.bitrateBps,
        },
      ]),
    );
  }

  async run(
    handle: OrchestratorHandle,
    segment: SourceSegment,
    signal: AbortSignal,
  ): Promise<SegmentOutcome> {
    const source = await this.sourcePicture(segment);
    const wanted = this.wanted(segment);
    const expected = expectedPixels(source, this.deps.source.fps, wanted.expected.values());
    const channel = this.deps.channels.channel(handle);
    const durationSec = Math.max(0.001, segment.durationSeconds);
    let payment = await channel.pay(
      { required: maxChargeablePixels(wanted.profiles, durationSec), expected },
      signal,
    );
    // A refused payment (stale params, a win on them, a balance mismatch) is ours to fix:
    // one more try on the same orchestrator with fresh params before it counts as a failure.
    for (let payTry = 0; ; payTry++) {
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
            ...(segment.budgetMs === undefined ? {} : { budgetMs: segment.budgetMs }),
          },
          segment.data,
          signal,
        );
      } catch (error) {
        const paymentRefused =
          error instanceof RemoteError &&
          (error.code === "BAD_TICKET" || error.code === "INSUFFICIENT_BALANCE");
        channel.refund(payment, paymentRefused ? "drop" : "keep");
        if (paymentRefused && payTry === 0 && !signal.aborted) {
          this.deps.log.debug(
            { orchestrator: handle.address, segment: segment.index, code: failureLabel(error) },
            "payment refused; retrying with fresh ticket params",
          );
          payment = await channel.repay(payment, signal);
          continue;
        }
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
            source,
            sourceFps: this.deps.source.fps,
          },
          this.deps.inspect,
          this.deps.verification,
        );
        await this.maybeSpotCheck(handle, segment, renditions, wanted.profiles, signal);
      } catch (error) {
        if (isBroadcasterError(error, "VERIFICATION_FAILED") && !signal.aborted) {
          const details: Record<string, unknown> = error.details;
          this.deps.trust.failed(handle.address, {
            segment: segment.index,
            check: typeof details.check === "string" ? details.check : "unknown",
            profile: typeof details.profile === "string" ? details.profile : null,
            valuePaid: payment.value,
          });
        }
        throw error;
      } finally {
        // It did the work and is charged what it claims, but never more than an honest result
        // holds: a padded result (duplicated frames) is not settled at its claim.
        channel.settle(
          payment,
          response.renditions.reduce((sum, r) => sum + BigInt(r.pixels), 0n),
          response.ticketParams === null
            ? null
            : { ...response.ticketParams, pricePerPixel: payment.params.pricePerPixel },
        );
      }
      this.deps.trust.passed(handle.address);
      this.sources.delete(segment.index);
      return {
        renditions,
        ticketsSent: payment.ticketsSent,
        expectedValue: payment.value,
        faceValue: payment.faceValue,
        signature: response.signature,
      };
    }
  }

  /**
   * On a sampled result, one rendition (drawn at random) is compared with the source. A check
   * that cannot run here (our ffmpeg) is logged and skipped, never held against the result.
   */
  private async maybeSpotCheck(
    handle: OrchestratorHandle,
    segment: SourceSegment,
    renditions: SegmentOutcome["renditions"],
    profiles: readonly Profile[],
    signal: AbortSignal,
  ): Promise<void> {
    const tools = this.deps.spotCheckTools;
    if (tools === undefined || renditions.length === 0) return;
    if (!this.deps.trust.sampleSpotCheck(handle.address)) return;
    const pick = renditions[Math.floor(Math.random() * renditions.length)];
    const profile = profiles.find((p) => p.name === pick?.profile);
    const target = pick === undefined ? undefined : this.expected.get(pick.profile);
    if (pick === undefined || profile === undefined || target === undefined) return;
    try {
      const checked = await spotCheck(tools, this.deps.verification, {
        rendition: pick.data,
        source: segment.data,
        profile,
        target,
      });
      this.deps.trust.spotCheckResult(checked.outcome);
      this.deps.log.debug(
        {
          orchestrator: handle.address,
          segment: segment.index,
          profile: profile.name,
          ssim: checked.score.ssim,
          referenceSsim: checked.reference?.ssim,
        },
        "spot check passed",
      );
    } catch (error) {
      if (isBroadcasterError(error, "VERIFICATION_FAILED")) {
        this.deps.trust.spotCheckResult("failed");
        throw error;
      }
      if (signal.aborted || !isLocalSpotCheckFault(error)) throw error;
      this.deps.trust.spotCheckResult("skipped");
      this.deps.log.warn(
        { err: error, segment: segment.index },
        "spot check could not run here; result kept",
      );
    }
  }

  /** The ladder, or the part of it the segment asks for. */
  private wanted(segment: SourceSegment): {
    profiles: readonly Profile[];
    wire: TranscodeRequest["profiles"];
    expected: ReadonlyMap<string, ExpectedRendition>;
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

  /** The source segment's summary, measured once per segment (retries and hedges reuse it). */
  private sourcePicture(segment: SourceSegment): Promise<PictureSummary> {
    let known = this.sources.get(segment.index);
    if (known === undefined) {
      known = this.deps.inspect(segment.data);
      this.sources.set(segment.index, known);
      known.catch(() => this.sources.delete(segment.index));
      // A segment given up (a live deadline) is never deleted on success: keep the newest only.
      if (this.sources.size > SEGMENT_VIDEO_KEPT) {
        const oldest = this.sources.keys().next().value;
        if (oldest !== undefined) this.sources.delete(oldest);
      }
    }
    return known;
  }
}
