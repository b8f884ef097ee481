import { describe, expect, it } from "vitest";
import { MediaError } from "../../../node/src/media/errors.ts";
import {
  outputFps,
  outputSize,
  parseLadder,
  presetProfile,
  profileFromJson,
} from "../../../node/src/media/profiles.ts";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof MediaError ? error.code : "not a MediaError";
  }
  return undefined;
}

describe("outputSize", () => {
  const box = (width: number, height: number, allowUpscale = false) => ({
    width,
    height,
    allowUpscale,
  });

  it("maps 16:9 sources onto the preset boxes exactly", () => {
    expect(outputSize({ width: 1920, height: 1080 }, box(1280, 720))).toEqual({
      width: 1280,
      height: 720,
    });
    expect(outputSize({ width: 1920, height: 1080 }, box(854, 480))).toEqual({
      width: 854,
      height: 480,
    });
    expect(outputSize({ width: 1920, height: 1080 }, box(426, 240))).toEqual({
      width: 426,
      height: 240,
    });
  });

  it("keeps a wide source's aspect ratio inside the box, with even sides", () => {
    expect(outputSize({ width: 1280, height: 536 }, box(854, 480))).toEqual({
      width: 854,
      height: 358,
    });
    expect(outputSize({ width: 1280, height: 536 }, box(640, 360))).toEqual({
      width: 640,
      height: 268,
    });
  });

  it("turns the box for portrait sources, so 720p means the short side", () => {
    expect(outputSize({ width: 720, height: 1280 }, box(854, 480))).toEqual({
      width: 480,
      height: 854,
    });
    expect(outputSize({ width: 1080, height: 1920 }, box(1280, 720))).toEqual({
      width: 720,
      height: 1280,
    });
  });

  it("never upscales unless the profile allows it", () => {
    expect(outputSize({ width: 640, height: 360 }, box(1280, 720))).toEqual({
      width: 640,
      height: 360,
    });
    expect(outputSize({ width: 1280, height: 536 }, box(1280, 720))).toEqual({
      width: 1280,
      height: 536,
    });
    expect(outputSize({ width: 640, height: 360 }, box(1280, 720, true))).toEqual({
      width: 1280,
      height: 720,
    });
  });

  it("rounds odd source sizes to even output sizes, never above the source", () => {
    expect(outputSize({ width: 641, height: 361 }, box(1280, 720))).toEqual({
      width: 640,
      height: 360,
    });
    expect(outputSize({ width: 1279, height: 719 }, box(1280, 720))).toEqual({
      width: 1278,
      height: 718,
    });
    expect(outputSize({ width: 719, height: 1279 }, box(1280, 720))).toEqual({
      width: 718,
      height: 1278,
    });
    // An odd box is a limit too (JSON profiles may name one).
    expect(outputSize({ width: 1920, height: 1080 }, box(855, 481, true))).toEqual({
      width: 854,
      height: 480,
    });
  });
});

describe("outputFps", () => {
  it("lowers the frame rate but never raises it", () => {
    expect(outputFps(60, { fps: 30 })).toBe(30);
    expect(outputFps(30, { fps: 60 })).toBeUndefined();
    expect(outputFps(30, { fps: 30 })).toBeUndefined();
    expect(outputFps(29.97, { fps: 30 })).toBeUndefined();
    expect(outputFps(60, { fps: undefined })).toBeUndefined();
  });
});

describe("presets and ladders", () => {
  it("knows 240p..1080p at 30 and 60 fps, with more bits at 60", () => {
    const p30 = presetProfile("720p30");
    const p60 = presetProfile("720p60");
    expect([p30.width, p30.height, p30.fps]).toEqual([1280, 720, 30]);
    expect(p60.bitrateBps).toBeGreaterThan(p30.bitrateBps);
    expect(presetProfile("720p").fps).toBe(30);
    expect(presetProfile("P360p60fps16x9")).toMatchObject({ width: 640, height: 360, fps: 60 });
    expect(code(() => presetProfile("999p"))).toBe("PROFILE_UNKNOWN");
  });

  it("parses a comma-separated ladder and refuses duplicates and empty ones", () => {
    expect(parseLadder("720p, 480p,360p").map((p) => p.name)).toEqual(["720p", "480p", "360p"]);
    expect(code(() => parseLadder("720p,720p"))).toBe("PROFILE_INVALID");
    expect(code(() => parseLadder(" , "))).toBe("PROFILE_INVALID");
  });

  it("parses JSON profiles with defaults and bitrate units", () => {
    const [profile] = parseLadder(
      '[{"name":"custom","width":960,"height":540,"bitrate":"2.5M","fps":25,"crf":23}]',
    );
    expect(profile).toMatchObject({
      name: "custom",
      width: 960,
      height: 540,
      bitrateBps: 2_500_000,
      fps: 25,
      crf: 23,
      codec: "h264",
      gopSeconds: 2,
      preset: "veryfast",
      allowUpscale: false,
    });
    expect(
      profileFromJson({ name: "k", width: 320, height: 240, bitrate: "800k" }).bitrateBps,
    ).toBe(800_000);
  });

  it("reports every problem of a bad JSON profile at once", () => {
    let error: unknown;
    try {
      profileFromJson({ name: "bad name", width: 7, bitrate: "fast", codec: "vp9", extra: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MediaError);
    const problems = (error as MediaError).details.problems as Array<{ path: string }>;
    const paths = problems.map((p) => p.path);
    for (const path of ["name", "width", "height", "bitrate", "codec"])
      expect(paths).toContain(path);
    expect(code(() => parseLadder("{not json"))).toBe("PROFILE_INVALID");
    // Names become output folders: no path tricks.
    expect(
      code(() => profileFromJson({ name: "..", width: 320, height: 240, bitrate: 1000 })),
    ).toBe("PROFILE_INVALID");
  });
});
