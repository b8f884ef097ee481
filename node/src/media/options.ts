import { availableParallelism } from "node:os";

/** Limits and settings of the media subsystem; every field has a default in `defaultMediaOptions`. */
export interface MediaOptions {
  /** Explicit binaries; otherwise FFMPEG_PATH/FFPROBE_PATH, then PATH, then the npm static build. */
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  /** A segment above this is refused before ffmpeg sees it. */
  maxSegmentBytes: number;
  /** A whole input file (CLI, segmenter) above this is refused. */
  maxFileBytes: number;
  maxWidth: number;
  maxHeight: number;
  /** Longest segment accepted by the segment transcoder. */
  maxSegmentSeconds: number;
  /** Longest file accepted by the local transcode path. */
  maxFileSeconds: number;
  /** One rendition larger than this is treated as a runaway encode. */
  maxOutputBytes: number;
  /** Timeout of one ffmpeg run = base + perMediaSecond * media seconds * renditions. */
  timeoutBaseMs: number;
  timeoutPerMediaSecondMs: number;
  /** Concurrent transcodes; undefined = the capability document's session count. */
  maxConcurrentTranscodes: number | undefined;
  /** Input codecs the decoder path is trusted with. */
  allowedInputCodecs: readonly string[];
  audioBitrateBps: number;
  /** Use hardware decode/encode paths that capability detection found working. */
  useHardware: boolean;
  /** How the segment reaches ffmpeg and renditions come back: "pipe" (stdin, fd 3, 4, ...) or
   * "file" (a private temp dir, removed after the run). See docs/performance.md. */
  outputMode: "pipe" | "file";
}

export const defaultMediaOptions: MediaOptions = {
  ffmpegPath: undefined,
  ffprobePath: undefined,
  // A 2 s 4K segment at 50 Mb/s is 12.5 MB; 64 MiB leaves room for 10 s at that rate.
  maxSegmentBytes: 64 * 1024 * 1024,
  maxFileBytes: 8 * 1024 * 1024 * 1024,
  maxWidth: 4096,
  maxHeight: 4096,
  maxSegmentSeconds: 10,
  maxFileSeconds: 4 * 3600,
  maxOutputBytes: 64 * 1024 * 1024,
  // 1080p -> 3 renditions runs at ~2x realtime on 2 cores; 10 s per media second per
  // rendition is 20-60x slower than that, so a timeout means a stuck process, not a slow one.
  timeoutBaseMs: 15_000,
  timeoutPerMediaSecondMs: 10_000,
  maxConcurrentTranscodes: undefined,
  allowedInputCodecs: ["h264", "hevc", "mpeg2video", "mpeg4", "vp8", "vp9", "av1"],
  audioBitrateBps: 128_000,
  useHardware: true,
  outputMode: "pipe",
};

export function resolveMediaOptions(partial: Partial<MediaOptions> = {}): MediaOptions {
  const merged: MediaOptions = { ...defaultMediaOptions };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  return merged;
}

export function cpuCores(): number {
  return availableParallelism();
}
