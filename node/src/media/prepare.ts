import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { sourceFileArgs } from "./args.ts";
import { MediaError, stderrTail } from "./errors.ts";
import type { MediaInfo, VideoStreamInfo } from "./interface.ts";
import type { MediaOptions } from "./options.ts";
import { probeMedia } from "./probe.ts";
import { runBinary } from "./process.ts";
import { checkInputFile, fileLimits, validateMedia } from "./validate.ts";

/** Codecs the segmenter copies into MPEG-TS as they are. */
export const SEGMENTABLE_CODECS: readonly string[] = ["h264", "hevc"];
/**
 * Longest keyframe interval used as it is: the segmenter cuts on keyframes, and orchestrators
 * refuse segments over 10 s (media maxSegmentSeconds), so a sparser source is re-encoded.
 */
const MAX_SOURCE_GOP_SECONDS = 4;

/**
 * Why a file cannot be cut into segments that decode on their own as it is, or null when it
 * can. Interlacing is not a reason: segments keep their field flags and the transcoder
 * deinterlaces them. Keyframes count by the longest stretch without one (the longest segment
 * a cut makes), not by their average: `maxGopSeconds` (4 s by default; `segmint transcode
 * --reencode` asks for the segment length).
 */
export function normalizeReason(
  video: VideoStreamInfo,
  maxGopSeconds = MAX_SOURCE_GOP_SECONDS,
): string | null {
  if (!SEGMENTABLE_CODECS.includes(video.codec)) return `codec ${video.codec}`;
  // MPEG-TS has no place for a display rotation: segments would play sideways.
  if (video.rotation !== 0) return `rotated ${video.rotation} degrees`;
  if (video.openGops > 0) {
    return `open GOPs (${video.openGops} keyframes with leading frames a cut would lose)`;
  }
  if (video.keyframes === 0 || video.keyframeGapSeconds.max > maxGopSeconds) {
    return keyframeSpacing(video);
  }
  return null;
}

/** "keyframes every 8.3 s", or "keyframes up to 8.3 s apart (typically 2.0 s)" when uneven. */
export function keyframeSpacing(video: Pick<VideoStreamInfo, "keyframeGapSeconds">): string {
  const { max, typical } = video.keyframeGapSeconds;
  if (max.toFixed(1) === typical.toFixed(1)) return `keyframes every ${max.toFixed(1)} s`;
  return `keyframes up to ${max.toFixed(1)} s apart (typically ${typical.toFixed(1)} s)`;
}

export interface PreparedInput {
  /** The file to segment: the input itself, or an H.264 copy in `tempDir`. */
  path: string;
  info: MediaInfo;
  video: VideoStreamInfo;
  /** Why the input was re-encoded first, when it was. */
  normalized: string | null;
  cleanup(): Promise<void>;
}

/**
 * The one input path of both the network broadcast and the local `segmint transcode`, so the
 * two accept the same files. Probes the input (a clear coded error for a missing, empty or
 * non-media file) and, when the segmenter cannot cut it into segments that decode on their
 * own (`normalizeReason`: a codec MPEG-TS segments do not carry, a display rotation, open
 * GOPs, keyframes too far apart), re-encodes it once to H.264 with closed GOPs of
 * `gopSeconds`, upright, every frame kept. That makes any file ffmpeg reads transcodable, at
 * the cost of one local encode for the unusual ones.
 */
export async function prepareInput(input: string, options: PrepareOptions): Promise<PreparedInput> {
  return normalizeInput(await probeInput(input, options), options);
}

export interface PrepareOptions {
  ffmpegPath: string;
  media: MediaOptions;
  /** Keyframe interval of a re-encoded input: the segment length. */
  gopSeconds: number;
  /**
   * Re-encode even an input that could be cut as it is, so that segments are `gopSeconds`
   * long whatever its keyframes (`segmint transcode --reencode`).
   */
  reencode?: boolean;
  log: Logger;
  signal?: AbortSignal;
}

/** A probed input, and why it must be re-encoded before segmenting (null when it need not). */
export interface ProbedInput {
  input: string;
  path: string;
  info: MediaInfo;
  video: VideoStreamInfo;
  reason: string | null;
}

/**
 * The quick half of prepareInput: checks and probes the file and says whether to re-encode,
 * so a caller can check everything else (chain, funds) before the slow half.
 */
export async function probeInput(
  input: string,
  options: Pick<PrepareOptions, "ffmpegPath" | "media" | "signal">,
): Promise<ProbedInput> {
  const limits = fileLimits(options.media);
  const path = await checkInputFile(input, limits);
  const info = await probeMedia(path, {
    ffmpegPath: options.ffmpegPath,
    dropCorrupt: true,
    timeoutMs: options.media.timeoutBaseMs * 4,
    signal: options.signal,
  });
  const video = validateMedia(info, limits);
  return { input, path, info, video, reason: normalizeReason(video) };
}

/** The slow half: re-encodes a probed input when it must be (see prepareInput). */
export async function normalizeInput(
  probed: ProbedInput,
  options: PrepareOptions,
): Promise<PreparedInput> {
  const { input, path, info, video } = probed;
  const reason =
    probed.reason ??
    (options.reencode === true
      ? `asked to (--reencode), ${keyframeSpacing(video)} in the source`
      : null);
  const limits = fileLimits(options.media);
  if (reason === null) {
    return { path, info, video, normalized: null, cleanup: async () => {} };
  }

  options.log.info({ input, reason }, "re-encoding the input to H.264 before segmenting");
  const dir = await mkdtemp(join(tmpdir(), "segmint-src-"));
  const out = join(dir, "source.ts");
  try {
    const fps = video.fps > 0 ? video.fps : 30;
    const keyint = String(Math.max(1, Math.round(fps * options.gopSeconds)));
    const result = await runBinary(options.ffmpegPath, {
      args: [
        ...sourceFileArgs(path),
        // Every decoded frame with its own timestamp: no frame dropped or duplicated to a
        // constant rate (variable frame rate sources keep their frames). ffmpeg turns the
        // picture upright itself (autorotate) when the container asks for a rotation.
        "-vsync",
        "passthrough",
        ...(video.interlaced ? ["-vf", "yadif=deint=interlaced"] : []),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        "-g",
        keyint,
        "-keyint_min",
        keyint,
        "-sc_threshold",
        "0",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-f",
        "mpegts",
        `file:${out}`,
      ],
      timeoutMs:
        options.media.timeoutBaseMs + options.media.timeoutPerMediaSecondMs * info.durationSeconds,
      signal: options.signal,
    });
    if (result.exitCode !== 0) {
      throw new MediaError(
        "FFMPEG_FAILED",
        `could not re-encode ${input} to H.264: ${stderrTail(result.stderr)}`,
        { input, stderr: stderrTail(result.stderr, 10) },
      );
    }
    const normalizedInfo = await probeMedia(out, {
      ffmpegPath: options.ffmpegPath,
      signal: options.signal,
    });
    const normalizedVideo = validateMedia(normalizedInfo, limits);
    return {
      path: out,
      info: normalizedInfo,
      video: normalizedVideo,
      normalized: reason,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
