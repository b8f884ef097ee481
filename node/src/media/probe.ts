import { readFile, stat } from "node:fs/promises";
import { MediaError, stderrTail } from "./errors.ts";
import { type InputVideoFacts, LEVEL_TAGGED_LOG, parseFfmpegLog } from "./ffmpeg-log.ts";
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
  /**
   * Drop packets the demuxer marks corrupt (the cut-off last packet of a truncated file), as
   * the segmenter does with a source file (`sourceFileArgs`), so the counts are what is cut.
   */
  dropCorrupt?: boolean;
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

/**
 * Presentation span of a stream's packets: first pts to last pts plus one frame. A frame's
 * length comes from the packets' durations, else the gaps between them, else (a lone frame
 * whose packet has no duration) `fallbackTicks`.
 */
function span(
  packets: PacketLine[],
  stream: StreamHeader,
  fallbackTicks = 0,
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
  const frameTicks = declared > 0 ? declared : gaps.length > 0 ? median(gaps) : fallbackTicks;
  const first = pts[0] ?? 0;
  const last = pts[pts.length - 1] ?? 0;
  return {
    start: seconds(first, stream),
    duration: seconds(last - first + frameTicks, stream),
    frameTicks,
  };
}

/**
 * Keyframes after the first packet that are followed, before the next keyframe, by a packet
 * presented earlier than the keyframe itself: leading pictures, which decode only with the
 * previous GOP's frames.
 */
export function countOpenGops(packets: readonly PacketLine[]): number {
  let open = 0;
  for (let k = 1; k < packets.length; k++) {
    const key = packets[k];
    if (!key?.keyframe) continue;
    const keyPts = key.pts ?? key.dts;
    if (keyPts === undefined) continue;
    for (let j = k + 1; j < packets.length; j++) {
      const next = packets[j];
      if (next === undefined || next.keyframe) break;
      const pts = next.pts ?? next.dts;
      if (pts !== undefined && pts < keyPts) {
        open++;
        break;
      }
    }
  }
  return open;
}

/**
 * Keyframe spacing from the keyframes' presentation times (seconds) within [start, end): the
 * longest stretch without a keyframe, counting the head before the first and the tail after
 * the last, and the median gap between two keyframes (the longest stretch when fewer than two).
 */
export function keyframeGaps(
  keyframeTimes: readonly number[],
  start: number,
  end: number,
): { max: number; typical: number } {
  const times = [...keyframeTimes].sort((a, b) => a - b);
  if (times.length === 0) return { max: end - start, typical: end - start };
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push((times[i] ?? 0) - (times[i - 1] ?? 0));
  const head = (times[0] ?? start) - start;
  const tail = end - (times[times.length - 1] ?? end);
  const max = Math.max(head, tail, ...gaps);
  return { max, typical: gaps.length > 0 ? median(gaps) : max };
}

export function mediaInfoFromFrameHash(
  hash: FrameHash,
  sizeBytes: number,
  facts: InputVideoFacts = { rotation: 0, interlaced: false, frameRate: undefined },
): MediaInfo {
  const videoHeader = hash.streams.find((s) => s.mediaType === "video");
  const audioHeader = hash.streams.find((s) => s.mediaType === "audio");
  let video: VideoStreamInfo | undefined;
  let audio: AudioStreamInfo | undefined;
  if (videoHeader) {
    const packets = hash.packets.filter((p) => p.stream === videoHeader.index);
    const [num, den] = videoHeader.timeBase ?? [1, 90_000];
    const fallbackTicks = facts.frameRate ? den / num / facts.frameRate : 0;
    const { start, duration, frameTicks } = span(packets, videoHeader, fallbackTicks);
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
      openGops: countOpenGops(packets),
      keyframeGapSeconds: keyframeGaps(
        packets
          .filter((p) => p.keyframe)
          .map((p) => p.pts ?? p.dts)
          .filter((t): t is number => t !== undefined)
          .map((t) => seconds(t, videoHeader)),
        start,
        start + duration,
      ),
      rotation: facts.rotation,
      interlaced: facts.interlaced,
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
  const args = ["-hide_banner", "-nostdin", ...LEVEL_TAGGED_LOG, "-copyts"];
  if (options.dropCorrupt) args.push("-fflags", "+discardcorrupt");
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
  const log = parseFfmpegLog(result.stderr);
  if (
    result.exitCode !== 0 &&
    /non-existing PPS|no frame!/.test(log.errors) &&
    /dimensions not set/.test(log.errors)
  ) {
    // H.264 parameter sets travel with keyframes; a stream with none never yields a frame size.
    throw new MediaError(
      "INPUT_NO_KEYFRAME",
      "the video stream has no keyframe (no parameter sets), so nothing can be decoded",
      { sizeBytes, stderr: stderrTail(log.errors, 4) },
      { hint: "cut segments on keyframes (every segment must contain at least one)" },
    );
  }
  if (result.exitCode !== 0 || hash.streams.length === 0) {
    const reason = stderrTail(log.errors) || "no audio or video stream found";
    throw new MediaError(
      "INPUT_INVALID",
      `the input is not readable media: ${reason}`,
      { sizeBytes, exitCode: result.exitCode, stderr: stderrTail(log.errors, 10) },
      { hint: options.format ? `send ${options.format} bytes` : "check the file is a video" },
    );
  }
  return mediaInfoFromFrameHash(hash, sizeBytes, log.video);
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
