import { describe, expect, it } from "vitest";
import { MediaError } from "../../../node/src/media/errors.ts";
import type { MediaInfo, VideoStreamInfo } from "../../../node/src/media/interface.ts";
import { defaultMediaOptions } from "../../../node/src/media/options.ts";
import { checkInputSize, segmentLimits, validateMedia } from "../../../node/src/media/validate.ts";

const limits = segmentLimits(defaultMediaOptions);

const video: VideoStreamInfo = {
  codec: "h264",
  width: 1920,
  height: 1080,
  frames: 60,
  keyframes: 1,
  startsWithKeyframe: true,
  startSeconds: 1.4,
  durationSeconds: 2,
  fps: 30,
  openGops: 0,
  keyframeGapSeconds: { max: 2, typical: 2 },
  rotation: 0,
  interlaced: false,
};

function info(
  overrides: Partial<MediaInfo> = {},
  videoOverrides: Partial<VideoStreamInfo> = {},
): MediaInfo {
  return {
    sizeBytes: 1_000_000,
    video: { ...video, ...videoOverrides },
    audio: undefined,
    durationSeconds: 2,
    ...overrides,
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof MediaError ? error.code : "not a MediaError";
  }
  return undefined;
}

describe("input validation", () => {
  it("passes a normal segment and returns its video stream", () => {
    expect(validateMedia(info(), limits)).toEqual(video);
  });

  it("maps each problem to its code with the measured values in details", () => {
    expect(codeOf(() => checkInputSize(0, limits))).toBe("INPUT_EMPTY");
    expect(codeOf(() => checkInputSize(limits.maxBytes + 1, limits))).toBe("INPUT_TOO_LARGE");
    expect(codeOf(() => validateMedia(info({ video: undefined }), limits))).toBe("INPUT_NO_VIDEO");
    expect(codeOf(() => validateMedia(info({}, { codec: "rawvideo" }), limits))).toBe(
      "INPUT_UNSUPPORTED_CODEC",
    );
    expect(codeOf(() => validateMedia(info({}, { width: 8192 }), limits))).toBe(
      "INPUT_RESOLUTION_TOO_LARGE",
    );
    expect(codeOf(() => validateMedia(info({ durationSeconds: 11 }), limits))).toBe(
      "INPUT_DURATION_TOO_LONG",
    );
    expect(codeOf(() => validateMedia(info({}, { keyframes: 0 }), limits))).toBe(
      "INPUT_NO_KEYFRAME",
    );
    expect(codeOf(() => validateMedia(info({}, { width: 0 }), limits))).toBe("INPUT_INVALID");
    try {
      checkInputSize(limits.maxBytes + 5, limits);
    } catch (error) {
      expect((error as MediaError).details).toEqual({
        sizeBytes: limits.maxBytes + 5,
        max: limits.maxBytes,
      });
      expect((error as MediaError).hint).toBeTruthy();
    }
  });
});
