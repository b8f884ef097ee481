import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../log/index.ts";
import { sourceFileArgs } from "../media/args.ts";
import { MediaError, stderrTail } from "../media/errors.ts";
import type { MediaInfo, VideoStreamInfo } from "../media/interface.ts";
import type { MediaOptions } from "../media/options.ts";
import { probeMedia } from "../media/probe.ts";
import { runBinary } from "../media/process.ts";
import { checkInputFile, fileLimits, validateMedia } from "../media/validate.ts";

/** Codecs the segmenter copies into MPEG-TS as they are. */
const SEGMENTABLE = ["h264", "hevc"];
/**
 * Longest keyframe interval used as it is: the segmenter cuts on keyframes, and orchestrators
 * refuse segments over 10 s (media maxSegmentSeconds), so a sparser source is re-encoded.
 */
const MAX_SOURCE_GOP_SECONDS = 4;

export interface PreparedInput {
  /** The file to segment: the input itself, or an H.264 copy in `tempDir`. */
  path: string;
  info: MediaInfo;
  video: VideoStreamInfo;
  /** Why the input was re-encoded first, when it was. */
  normalized: string | null;
  cleanup(): Promise<void>;
}

export interface PrepareOptions {
  ffmpegPath: string;
  media: MediaOptions;
  gopSeconds: number;
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
 * Probes the input (a clear coded error for a missing, empty or non-media file) and, when the
 * segmenter cannot cut it as it is (a codec MPEG-TS segments do not carry, or keyframes too far
 * apart), re-encodes it once to H.264 with a keyframe every `gopSeconds`. That makes any file
 * ffmpeg reads broadcastable, at the cost of one local encode for the unusual ones.
 */
export async function prepareInput(input: string, options: PrepareOptions): Promise<PreparedInput> {
  return normalizeInput(await probeInput(input, options), options);
}

/** The quick half of prepareInput: checks and probes the file, and says whether to re-encode. */
export async function probeInput(
  input: string,
  options: Pick<PrepareOptions, "ffmpegPath" | "media" | "signal">,
): Promise<ProbedInput> {
  const limits = fileLimits(options.media);
  const path = await checkInputFile(input, limits);
  const info = await probeMedia(path, {
    ffmpegPath: options.ffmpegPath,
    timeoutMs: options.media.timeoutBaseMs * 4,
    signal: options.signal,
  });
  const video = validateMedia(info, limits);
  const gop = video.keyframes > 0 ? video.durationSeconds / video.keyframes : Infinity;
  let reason: string | null = null;
  if (!SEGMENTABLE.includes(video.codec)) reason = `codec ${video.codec}`;
  else if (gop > MAX_SOURCE_GOP_SECONDS) reason = `keyframes every ${gop.toFixed(1)} s`;
  return { input, path, info, video, reason };
}

/** The slow half: re-encodes a probed input when it must be (see prepareInput). */
export async function normalizeInput(
  probed: ProbedInput,
  options: PrepareOptions,
): Promise<PreparedInput> {
  const { input, path, info, video, reason } = probed;
  const limits = fileLimits(options.media);
  if (reason === null) {
    return { path, info, video, normalized: null, cleanup: async () => {} };
  }

  options.log.info({ input, reason }, "re-encoding the input to H.264 before segmenting");
  const dir = await mkdtemp(join(tmpdir(), "segmint-bcast-"));
  const out = join(dir, "source.ts");
  try {
    const fps = video.fps > 0 ? video.fps : 30;
    const keyint = String(Math.max(1, Math.round(fps * options.gopSeconds)));
    const result = await runBinary(options.ffmpegPath, {
      args: [
        ...sourceFileArgs(path),
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
