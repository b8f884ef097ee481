import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMediaError } from "../media/errors.ts";
import type { Profile } from "../media/interface.ts";
import { compareToSource, type QualityScore } from "../media/quality.ts";
import { SegmentTranscoder } from "../media/transcoder.ts";
import type { VerificationOptions } from "./options.ts";
import { type ExpectedRendition, verificationFailed } from "./verify.ts";

/** The two measurements a spot check may need; media/quality.ts and the local engine in production. */
export interface SpotCheckTools {
  /** SSIM/PSNR of a rendition against the source segment scaled as an honest transcoder scales it. */
  compare(
    rendition: Uint8Array,
    source: Uint8Array,
    target: ExpectedRendition,
  ): Promise<QualityScore>;
  /** This broadcaster's own transcode of the source for one profile: the local reference. */
  reference(source: Uint8Array, profile: Profile): Promise<Uint8Array>;
}

export type SpotCheckOutcome = "passed" | "reference";

/**
 * One spot check of one rendition. Its SSIM against the scaled source at or above the profile's
 * floor passes at once (honest output measured 0.984-0.996, docs/broadcaster-guide.md). Below the
 * floor the source may simply be hard to encode at this bitrate, so the same segment is
 * transcoded here with the same profile and the rendition fails only when it is worse than that
 * reference by more than the margin: an honest orchestrator is never failed for its input.
 */
export async function spotCheck(
  tools: SpotCheckTools,
  options: Pick<VerificationOptions, "minSsim" | "referenceSsimMargin">,
  input: { rendition: Uint8Array; source: Uint8Array; profile: Profile; target: ExpectedRendition },
): Promise<{ outcome: SpotCheckOutcome; score: QualityScore; reference?: QualityScore }> {
  const { profile } = input;
  const score = await tools.compare(input.rendition, input.source, input.target);
  const floor = options.minSsim[profile.name] ?? options.minSsim["*"] ?? 0;
  if (score.ssim >= floor) return { outcome: "passed", score };
  const local = await tools.reference(input.source, profile);
  const reference = await tools.compare(local, input.source, input.target);
  if (score.ssim < reference.ssim - options.referenceSsimMargin) {
    throw verificationFailed("quality", {
      profile: profile.name,
      ssim: score.ssim,
      psnr: score.psnr,
      referenceSsim: reference.ssim,
      floor,
      margin: options.referenceSsimMargin,
    });
  }
  return { outcome: "reference", score, reference };
}

/**
 * The production tools: ffmpeg's ssim/psnr filters, and a one-slot SegmentTranscoder (the same
 * engine orchestrators run) for references. Temp files live in one folder removed by `close`.
 */
export async function ffmpegSpotCheckTools(
  ffmpegPath: string,
  signal: AbortSignal,
): Promise<SpotCheckTools & { close(): Promise<void> }> {
  const workDir = await mkdtemp(join(tmpdir(), "segmint-spot-"));
  const transcoder = new SegmentTranscoder({
    ffmpegPath,
    options: { maxConcurrentTranscodes: 1 },
  });
  return {
    compare: (rendition, source, target) =>
      compareToSource(rendition, source, target, { ffmpegPath, signal, workDir }),
    reference: async (source, profile) => {
      const result = await transcoder.transcode(Buffer.from(source), {
        profiles: [profile],
        signal,
      });
      const data = result.renditions[0]?.data;
      if (data === undefined) throw new Error("the local reference transcode returned nothing");
      return data;
    },
    close: () => rm(workDir, { recursive: true, force: true }),
  };
}

/** A spot check that could not run here (our ffmpeg, not the orchestrator's result). */
export function isLocalSpotCheckFault(error: unknown): boolean {
  return isMediaError(error) || (error instanceof Error && !("code" in error));
}
