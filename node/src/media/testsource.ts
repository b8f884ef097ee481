import ffmpeg from "fluent-ffmpeg";
import { MediaError } from "./errors.ts";

/**
 * Synthetic media from ffmpeg's lavfi sources (testsrc2 picture, sine tone): used by tests,
 * the benchmark and operators' self-tests, so no media file is ever committed.
 *
 * fluent-ffmpeg is used here because this is a plain file-to-file command that its builder
 * expresses fully; the per-segment paths need pipes and reaped kills and use process.ts.
 */
export interface TestMediaSpec {
  width: number;
  height: number;
  fps: number;
  durationSeconds: number;
  /** Default true. */
  video?: boolean;
  /** Default true. */
  audio?: boolean;
  codec?: "h264" | "hevc";
  /** Keyframe interval in seconds (default 2). */
  gopSeconds?: number;
  /** Default mpegts. */
  format?: "mpegts" | "mp4";
  preset?: string;
}

export function generateTestMedia(
  ffmpegPath: string,
  output: string,
  spec: TestMediaSpec,
): Promise<void> {
  const video = spec.video ?? true;
  const audio = spec.audio ?? true;
  const command = ffmpeg().setFfmpegPath(ffmpegPath);
  if (video) {
    command
      .input(
        `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}:duration=${spec.durationSeconds}`,
      )
      .inputFormat("lavfi");
  }
  if (audio) {
    command
      .input(`sine=frequency=440:sample_rate=48000:duration=${spec.durationSeconds}`)
      .inputFormat("lavfi");
  }
  const gop = String(Math.max(1, Math.round((spec.gopSeconds ?? 2) * spec.fps)));
  const options = ["-hide_banner", "-v", "error"];
  if (video) {
    const codec = spec.codec === "hevc" ? "libx265" : "libx264";
    options.push("-c:v", codec, "-preset", spec.preset ?? "ultrafast", "-pix_fmt", "yuv420p");
    if (codec === "libx264") options.push("-g", gop, "-keyint_min", gop, "-sc_threshold", "0");
    else options.push("-x265-params", `keyint=${gop}:min-keyint=${gop}:scenecut=0:log-level=error`);
  }
  if (audio) options.push("-c:a", "aac", "-b:a", "96k");
  options.push("-f", spec.format ?? "mpegts");
  command.outputOptions(options);
  return new Promise<void>((resolve, reject) => {
    command
      .on("end", () => resolve())
      .on("error", (cause: Error) =>
        reject(
          new MediaError(
            "FFMPEG_FAILED",
            `could not generate test media: ${cause.message}`,
            { output },
            { cause },
          ),
        ),
      )
      .save(output);
  });
}
