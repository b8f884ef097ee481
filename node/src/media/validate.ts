import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { MediaError } from "./errors.ts";
import type { MediaInfo, VideoStreamInfo } from "./interface.ts";
import type { MediaOptions } from "./options.ts";

export interface InputLimits {
  maxBytes: number;
  maxSeconds: number;
  maxWidth: number;
  maxHeight: number;
  allowedCodecs: readonly string[];
}

export function segmentLimits(options: MediaOptions): InputLimits {
  return {
    maxBytes: options.maxSegmentBytes,
    maxSeconds: options.maxSegmentSeconds,
    maxWidth: options.maxWidth,
    maxHeight: options.maxHeight,
    allowedCodecs: options.allowedInputCodecs,
  };
}

export function fileLimits(options: MediaOptions): InputLimits {
  return {
    ...segmentLimits(options),
    maxBytes: options.maxFileBytes,
    maxSeconds: options.maxFileSeconds,
  };
}

/** INPUT_EMPTY for 0 bytes: ffmpeg would only fail on it with a less useful message. */
export function checkNotEmpty(sizeBytes: number): void {
  if (sizeBytes === 0) {
    throw new MediaError(
      "INPUT_EMPTY",
      "the input is empty (0 bytes)",
      { sizeBytes },
      {
        hint: "send a non-empty MPEG-TS segment",
      },
    );
  }
}

/** Checked before anything is spawned: size alone. */
export function checkInputSize(sizeBytes: number, limits: InputLimits): void {
  checkNotEmpty(sizeBytes);
  if (sizeBytes > limits.maxBytes) {
    throw new MediaError(
      "INPUT_TOO_LARGE",
      `the input is ${sizeBytes} bytes, above the limit of ${limits.maxBytes}`,
      { sizeBytes, max: limits.maxBytes },
      { hint: "cut shorter segments or raise the byte limit" },
    );
  }
}

/** Checks a probed input against the caps; returns its video stream when it passes. */
export function validateMedia(info: MediaInfo, limits: InputLimits): VideoStreamInfo {
  checkInputSize(info.sizeBytes, limits);
  const video = info.video;
  if (!video) {
    throw new MediaError(
      "INPUT_NO_VIDEO",
      `the input has no video stream${info.audio ? ` (only ${info.audio.codec} audio)` : ""}`,
      { audio: info.audio?.codec },
      { hint: "send media with a video stream" },
    );
  }
  if (!limits.allowedCodecs.includes(video.codec)) {
    throw new MediaError(
      "INPUT_UNSUPPORTED_CODEC",
      `video codec ${video.codec} is not supported`,
      { codec: video.codec, allowed: limits.allowedCodecs },
      { hint: `use one of: ${limits.allowedCodecs.join(", ")}` },
    );
  }
  if (video.width <= 0 || video.height <= 0) {
    throw new MediaError("INPUT_INVALID", "the video stream has no resolution", {
      width: video.width,
      height: video.height,
    });
  }
  if (video.width > limits.maxWidth || video.height > limits.maxHeight) {
    throw new MediaError(
      "INPUT_RESOLUTION_TOO_LARGE",
      `resolution ${video.width}x${video.height} is above the limit of ${limits.maxWidth}x${limits.maxHeight}`,
      {
        width: video.width,
        height: video.height,
        maxWidth: limits.maxWidth,
        maxHeight: limits.maxHeight,
      },
      { hint: "downscale the source or raise the resolution limit" },
    );
  }
  if (info.durationSeconds > limits.maxSeconds) {
    throw new MediaError(
      "INPUT_DURATION_TOO_LONG",
      `duration ${info.durationSeconds.toFixed(3)} s is above the limit of ${limits.maxSeconds} s`,
      { durationSeconds: info.durationSeconds, max: limits.maxSeconds },
      { hint: "cut shorter segments or raise the duration limit" },
    );
  }
  if (video.frames === 0 || video.keyframes === 0) {
    throw new MediaError(
      "INPUT_NO_KEYFRAME",
      `the video stream has ${video.frames} frames and no keyframe, so nothing can be decoded`,
      { frames: video.frames },
      { hint: "cut segments on keyframes (every segment must contain at least one)" },
    );
  }
  return video;
}

/**
 * Checks that the file named `input` exists, is a regular file and is within the size limits
 * (INPUT_NOT_FOUND / INPUT_INVALID / INPUT_EMPTY / INPUT_TOO_LARGE), before ffmpeg is spawned on
 * it; returns its absolute path.
 */
export async function checkInputFile(input: string, limits: InputLimits): Promise<string> {
  const path = resolve(input);
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new MediaError(
        "INPUT_INVALID",
        `${input} is not a file`,
        { input },
        { hint: "pass a video file" },
      );
    }
    size = info.size;
  } catch (error) {
    if (error instanceof MediaError) throw error;
    throw new MediaError(
      "INPUT_NOT_FOUND",
      `cannot read ${input}`,
      { input },
      { hint: "check the path of the input file", cause: error },
    );
  }
  checkInputSize(size, limits);
  return path;
}
