import { readFile, stat } from "node:fs/promises";
import { MediaError, stderrTail } from "./errors.ts";
import { type FrameHash, type PacketLine, parseFrameHash, type StreamHeader } from "./framehash.ts";
import type {
  AudioStreamInfo,
  MediaInfo,
  RenditionMeasurement,
  VideoStreamInfo,
} from "./interface.ts";
import { runBinary } from "./process.ts";
import { checkNotEmpty } from "./validate.ts";

export interface ProbeOptions {
  ffmpegPath: string;
  /** Force the demuxer (segments are always MPEG-TS; forcing it stops random bytes being
   * "detected" as some audio format). */
  format?: "mpegts" | undefined;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

function seconds(ticks: number, stream: StreamHeader): number {
  const [num, den] = stream.timeBase ?? [1, 90_000];
  return (ticks * num) / den;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Presentation span of a stream's packets: first pts to last pts plus one frame. */
function span(
  packets: PacketLine[],
  stream: StreamHeader,
): { start: number; duration: number; frameTicks: number } {
  const pts = packets
    .map((p) => p.pts ?? p.dts)
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  if (pts.length === 0) return { start: 0, duration: 0, frameTicks: 0 };
  const gaps: number[] = [];
  for (let i = 1; i < pts.length; i++) {
    const gap = (pts[i] ?? 0) - (pts[i - 1] ?? 0);
    if (gap > 0) gaps.push(gap);
  }
  const declared = median(packets.map((p) => p.duration).filter((d) => d > 0));
  const frameTicks = declared > 0 ? declared : median(gaps);
  const first = pts[0] ?? 0;
  const last = pts[pts.length - 1] ?? 0;
  return {
    start: seconds(first, stream),
    duration: seconds(last - first + frameTicks, stream),
    frameTicks,
  };
}

export function mediaInfoFromFrameHash(hash: FrameHash, sizeBytes: number): MediaInfo {
  const videoHeader = hash.streams.find((s) => s.mediaType === "video");
  const audioHeader = hash.streams.find((s) => s.mediaType === "audio");
  let video: VideoStreamInfo | undefined;
  let audio: AudioStreamInfo | undefined;
  if (videoHeader) {
    const packets = hash.packets.filter((p) => p.stream === videoHeader.index);
    const { start, duration, frameTicks } = span(packets, videoHeader);
    const frameSeconds = seconds(frameTicks, videoHeader);
    video = {
      codec: videoHeader.codec ?? "unknown",
      width: videoHeader.width ?? 0,
      height: videoHeader.height ?? 0,
      frames: packets.length,
      keyframes: packets.filter((p) => p.keyframe).length,
      startsWithKeyframe: packets[0]?.keyframe ?? false,
      startSeconds: start,
      durationSeconds: duration,
      fps: frameSeconds > 0 ? Math.round((1 / frameSeconds) * 1000) / 1000 : 0,
    };
  }
  if (audioHeader) {
    const packets = hash.packets.filter((p) => p.stream === audioHeader.index);
    const { start, duration } = span(packets, audioHeader);
    audio = {
      codec: audioHeader.codec ?? "unknown",
      sampleRate: audioHeader.sampleRate,
      channelLayout: audioHeader.channelLayout,
      packets: packets.length,
      startSeconds: start,
      durationSeconds: duration,
    };
  }
  return {
    sizeBytes,
    video,
    audio,
    durationSeconds: Math.max(video?.durationSeconds ?? 0, audio?.durationSeconds ?? 0),
  };
}

/**
 * Demuxes the whole input once (no decode) and reports codecs, resolution, frame and keyframe
 * counts and the presentation span. Throws INPUT_EMPTY / INPUT_INVALID on bytes ffmpeg
 * cannot read as media.
 */
export async function probeMedia(
  input: Buffer | string,
  options: ProbeOptions,
): Promise<MediaInfo> {
  const sizeBytes = typeof input === "string" ? (await stat(input)).size : input.length;
  checkNotEmpty(sizeBytes);
  const args = ["-hide_banner", "-nostdin", "-v", "error", "-copyts"];
  if (options.format) args.push("-f", options.format);
  args.push("-i", typeof input === "string" ? `file:${input}` : "pipe:0");
  // -copyinkf: stream copy otherwise drops frames before the first keyframe, hiding them.
  args.push("-map", "0:v?", "-map", "0:a?", "-c", "copy", "-copyinkf", "-f", "framecrc", "pipe:1");
  const result = await runBinary(options.ffmpegPath, {
    args,
    stdin: typeof input === "string" ? undefined : input,
    captureStdout: true,
    timeoutMs: options.timeoutMs ?? 30_000,
    signal: options.signal,
  });
  const text = result.stdout.toString("utf8");
  const hash = parseFrameHash(text);
  if (
    result.exitCode !== 0 &&
    /non-existing PPS|no frame!/.test(result.stderr) &&
    /dimensions not set/.test(result.stderr)
  ) {
    // H.264 parameter sets travel with keyframes; a stream with none never yields a frame size.
    throw new MediaError(
      "INPUT_NO_KEYFRAME",
      "the video stream has no keyframe (no parameter sets), so nothing can be decoded",
      { sizeBytes, stderr: stderrTail(result.stderr, 4) },
      { hint: "cut segments on keyframes (every segment must contain at least one)" },
    );
  }
  if (result.exitCode !== 0 || hash.streams.length === 0) {
    const reason = stderrTail(result.stderr) || "no audio or video stream found";
    throw new MediaError(
      "INPUT_INVALID",
      `the input is not readable media: ${reason}`,
      { sizeBytes, exitCode: result.exitCode, stderr: stderrTail(result.stderr, 10) },
      { hint: options.format ? `send ${options.format} bytes` : "check the file is a video" },
    );
  }
  return mediaInfoFromFrameHash(hash, sizeBytes);
}

/**
 * Re-measures a rendition independently of whoever produced it (a broadcaster verifying an
 * orchestrator's claim): bytes, duration, resolution, frames and pixels = w * h * frames.
 */
export async function measureRendition(
  input: Buffer | string,
  options: ProbeOptions,
): Promise<RenditionMeasurement> {
  const data = typeof input === "string" ? await readFile(input) : input;
  const info = await probeMedia(data, { format: "mpegts", ...options });
  if (!info.video) {
    throw new MediaError("INPUT_NO_VIDEO", "the rendition has no video stream", {
      sizeBytes: data.length,
    });
  }
  const { width, height, frames, durationSeconds } = info.video;
  return {
    bytes: data.length,
    durationSeconds,
    width,
    height,
    frames,
    pixels: width * height * frames,
  };
}
