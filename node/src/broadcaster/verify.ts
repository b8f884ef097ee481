import { createHash } from "node:crypto";
import { isMediaError } from "../media/errors.ts";
import { contentDistance, meanLuma, motion, type PictureSummary } from "../media/quality.ts";
import type { ReceivedRendition } from "../p2p/transcode-client.ts";
import { receiptSigner } from "../p2p/transcode-client.ts";
import { renditionReceipt } from "../protocol/index.ts";
import { BroadcasterError } from "./errors.ts";
import type { VerifiedRendition } from "./interface.ts";
import type { VerificationOptions } from "./options.ts";

/**
 * Every check a result goes through, the `check` named by a VERIFICATION_FAILED error, in
 * /metrics and in summaries. Claims (signature, profiles, sha256, claimed) come first, then
 * what an honest transcoder must produce from this source (resolution, frames, timestamps),
 * then the picture itself (decodable, black, frozen, content, bitrate), then spot checks.
 */
export const VERIFICATION_CHECKS = [
  "signature",
  "profiles",
  "sha256",
  "claimed",
  "resolution",
  "frames",
  "timestamps",
  "decodable",
  "black",
  "frozen",
  "content",
  "bitrate",
  "quality",
] as const;

export type VerificationCheck = (typeof VERIFICATION_CHECKS)[number];

/** What an asked profile must come back as, from this source. */
export interface ExpectedRendition {
  width: number;
  height: number;
  /** The output frame rate when the profile lowers the source's; undefined keeps every frame. */
  fps: number | undefined;
  bitrateBps: number;
}

export interface VerifyInput {
  streamId: string;
  seq: number;
  /** The orchestrator's Ethereum address (from its signed info). */
  orchestrator: string;
  signature: string;
  renditions: readonly ReceivedRendition[];
  expected: ReadonlyMap<string, ExpectedRendition>;
  /** The source segment, summarised with the same `inspect` as the renditions. */
  source: PictureSummary;
  /** The stream's nominal frame rate (the source's median frame rate). */
  sourceFps: number;
}

/** Demuxes and decodes one segment: media/quality.ts `pictureSummary` in production. */
export type Inspect = (data: Uint8Array) => Promise<PictureSummary>;

export function verificationFailed(
  check: VerificationCheck,
  details: Record<string, unknown>,
  cause?: unknown,
): BroadcasterError {
  return new BroadcasterError(
    "VERIFICATION_FAILED",
    `the orchestrator's result fails verification: ${check}`,
    { check, ...details },
    {
      hint: "the segment is retried on another orchestrator and this one is suspended for the stream",
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/**
 * Frames an honest transcoder makes of this source for a profile: every decodable source frame
 * when the rate is kept, else the source's frames scaled by the rate ratio. A variable-rate
 * source is also allowed the count its time span gives at the output rate (the fps filter
 * fills time, not frames), so both honest readings pass and a doubled rate never does.
 */
export function expectedFrames(
  source: Pick<PictureSummary, "decodedFrames" | "firstSeconds" | "lastSeconds">,
  sourceFps: number,
  fps: number | undefined,
): number[] {
  if (fps === undefined || sourceFps <= 0) return [source.decodedFrames];
  const byCount = (source.decodedFrames * fps) / sourceFps;
  const bySpan = (source.lastSeconds - source.firstSeconds + 1 / sourceFps) * fps;
  return [byCount, bySpan];
}

/** The most pixels an honest result for these profiles can hold: what the broadcaster settles. */
export function expectedPixels(
  source: Pick<PictureSummary, "decodedFrames" | "firstSeconds" | "lastSeconds">,
  sourceFps: number,
  expected: Iterable<ExpectedRendition>,
): bigint {
  let total = 0n;
  for (const e of expected) {
    const frames = Math.floor(Math.max(...expectedFrames(source, sourceFps, e.fps)) + 1);
    total += BigInt(e.width) * BigInt(e.height) * BigInt(frames);
  }
  return total;
}

/**
 * Checks a result without trusting the orchestrator: the receipt signature recovers to its
 * address, every body matches its hash, every asked profile came back once, its claims match
 * what is measured again from the bytes, and each rendition is what an honest transcoder makes
 * of this source: the right size, the frames the profile implies (within one), the source's
 * first and last timestamps (within a frame), every frame decodable, a picture that matches the
 * source's at thumbnail size (not black, not frozen unless the source is), and a video bitrate
 * within the profile's bounds. Throws VERIFICATION_FAILED naming the check.
 */
export async function verifyResult(
  input: VerifyInput,
  inspect: Inspect,
  options: VerificationOptions,
): Promise<VerifiedRendition[]> {
  const receipt = renditionReceipt(input.streamId, input.seq, input.renditions);
  let signer: string;
  try {
    signer = receiptSigner(receipt, input.signature);
  } catch (cause) {
    throw verificationFailed("signature", {}, cause);
  }
  if (signer.toLowerCase() !== input.orchestrator.toLowerCase()) {
    throw verificationFailed("signature", { signer, orchestrator: input.orchestrator });
  }
  const returned = input.renditions.map((r) => r.profile).sort();
  const asked = [...input.expected.keys()].sort();
  if (returned.join(",") !== asked.join(",")) {
    throw verificationFailed("profiles", { asked, returned });
  }
  const sourceMotion = motion(input.source.thumbnails);
  const sourceLuma = meanLuma(input.source.thumbnails);
  const sourceSpan = spanSeconds(input.source, input.sourceFps);
  const sourceBps = sourceSpan > 0 ? (input.source.videoBytes * 8) / sourceSpan : 0;

  return Promise.all(
    input.renditions.map(async (r): Promise<VerifiedRendition> => {
      const profile = r.profile;
      const sha256 = createHash("sha256").update(r.data).digest("hex");
      if (sha256 !== r.sha256) throw verificationFailed("sha256", { profile });
      const want = input.expected.get(profile);
      if (want === undefined) throw verificationFailed("profiles", { profile });
      let pic: PictureSummary;
      try {
        pic = await inspect(r.data);
      } catch (cause) {
        // Only bytes our ffmpeg read and could not decode are the orchestrator's fault; a
        // timeout or abort here is ours and goes up as it is.
        if (!isMediaError(cause, "INPUT_INVALID")) throw cause;
        throw verificationFailed("decodable", { profile }, cause);
      }
      const pixels = pic.width * pic.height * pic.packets;
      const measured = { width: pic.width, height: pic.height, frames: pic.packets, pixels };
      const claimed = { width: r.width, height: r.height, frames: r.frames, pixels: r.pixels };
      for (const field of ["width", "height", "frames", "pixels"] as const) {
        if (claimed[field] !== measured[field]) {
          throw verificationFailed("claimed", {
            profile,
            field,
            claimed: claimed[field],
            measured: measured[field],
          });
        }
      }
      if (pic.width !== want.width || pic.height !== want.height) {
        throw verificationFailed("resolution", {
          profile,
          expected: `${want.width}x${want.height}`,
          measured: `${pic.width}x${pic.height}`,
        });
      }
      const allowed = expectedFrames(input.source, input.sourceFps, want.fps);
      if (!allowed.some((n) => Math.abs(pic.packets - n) <= 1)) {
        throw verificationFailed("frames", {
          profile,
          expected: Math.round(allowed[0] ?? 0),
          measured: pic.packets,
        });
      }
      checkTimestamps(input, want, pic, profile);
      if (pic.decodedFrames < pic.packets) {
        throw verificationFailed("decodable", {
          profile,
          frames: pic.packets,
          decoded: pic.decodedFrames,
        });
      }
      const luma = meanLuma(pic.thumbnails);
      if (luma < options.blackLuma && sourceLuma >= options.blackLuma * 2) {
        throw verificationFailed("black", { profile, luma, sourceLuma });
      }
      const moving = motion(pic.thumbnails);
      if (
        sourceMotion >= options.minSourceMotion &&
        moving < sourceMotion * options.frozenMotionRatio
      ) {
        throw verificationFailed("frozen", { profile, motion: moving, sourceMotion });
      }
      const distance = contentDistance(pic.thumbnails, input.source.thumbnails);
      if (distance > options.maxContentDistance) {
        throw verificationFailed("content", {
          profile,
          distance,
          max: options.maxContentDistance,
        });
      }
      const span = spanSeconds(pic, want.fps ?? input.sourceFps);
      checkBitrate(options, want, pic, span, sourceBps, profile);
      return {
        profile,
        data: r.data,
        width: pic.width,
        height: pic.height,
        frames: pic.packets,
        pixels,
        durationSeconds: span,
        sha256,
      };
    }),
  );
}

/** First to last frame plus one frame at the nominal rate: the length a player shows. */
function spanSeconds(pic: PictureSummary, fps: number): number {
  if (pic.packets === 0) return 0;
  return pic.lastSeconds - pic.firstSeconds + (fps > 0 ? 1 / fps : 0);
}

/**
 * An honest transcoder keeps the source's timestamps (`-copyts`): its first and last frames
 * sit where the source's first and last decodable frames do, to within one output frame.
 * Nothing is assumed about how long the last frame lasts, which differs between tools (and is
 * all a variable-rate source's honest renditions differ in).
 */
function checkTimestamps(
  input: VerifyInput,
  want: ExpectedRendition,
  pic: PictureSummary,
  profile: string,
): void {
  const frame = 1 / (want.fps ?? (input.sourceFps > 0 ? input.sourceFps : 30));
  const tolerance = frame + 0.002;
  // Source frames that could not be decoded (leading frames of an open GOP) move the first
  // frame an honest transcoder can show.
  const lost = Math.max(0, input.source.packets - input.source.decodedFrames);
  const lostSeconds = lost / (input.sourceFps > 0 ? input.sourceFps : 30);
  const firstOff = pic.firstSeconds - input.source.firstSeconds;
  const lastOff = pic.lastSeconds - input.source.lastSeconds;
  if (
    firstOff < -tolerance ||
    firstOff > tolerance + lostSeconds ||
    Math.abs(lastOff) > tolerance + lostSeconds
  ) {
    throw verificationFailed("timestamps", {
      profile,
      source: [input.source.firstSeconds, input.source.lastSeconds],
      measured: [pic.firstSeconds, pic.lastSeconds],
    });
  }
}

/**
 * The encoder is asked for `bitrate` with a buffer of twice that (media/args.ts), so over any
 * span it may spend at most bitrate x (span + 2 s) (plus slack for rounding); the floor
 * catches an encode that spends almost nothing, measured against what the source itself
 * spends, so a still or simple source never fails it.
 */
function checkBitrate(
  options: VerificationOptions,
  want: ExpectedRendition,
  pic: PictureSummary,
  span: number,
  sourceBps: number,
  profile: string,
): void {
  if (span <= 0) return;
  const bits = pic.videoBytes * 8;
  const ceiling = want.bitrateBps * (span + 2) * options.bitrateSlack;
  const floorBps = options.minBitrateFraction * Math.min(want.bitrateBps, sourceBps);
  if (bits > ceiling || bits / span < floorBps) {
    throw verificationFailed("bitrate", {
      profile,
      bitrateBps: Math.round(bits / span),
      profileBps: want.bitrateBps,
      sourceBps: Math.round(sourceBps),
    });
  }
}
