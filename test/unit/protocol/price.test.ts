import { describe, expect, it } from "vitest";
import { presetProfile } from "../../../node/src/media/index.ts";
import { maxChargeablePixels, wireProfile } from "../../../node/src/protocol/index.ts";

describe("the price rule", () => {
  it("charges every rendition's full box at its frame rate for the whole segment", () => {
    const profiles = [
      { width: 1280, height: 720, fps: 30 },
      { width: 640, height: 360, fps: 25 },
    ];
    expect(maxChargeablePixels(profiles, 2)).toBe(1280n * 720n * 60n + 640n * 360n * 50n);
  });

  it("assumes 30 fps for a profile that keeps the source's rate, and rounds frames up", () => {
    expect(maxChargeablePixels([{ width: 100, height: 10, fps: undefined }], 1.01)).toBe(
      100n * 10n * 31n,
    );
  });

  it("is zero for no profiles and no time", () => {
    expect(maxChargeablePixels([], 2)).toBe(0n);
    expect(maxChargeablePixels([{ width: 100, height: 100, fps: 30 }], 0)).toBe(0n);
  });
});

describe("the profile's wire form", () => {
  it("carries the media profile JSON, leaving unset fields out", () => {
    const profile = presetProfile("360p30");
    const wire = wireProfile({ ...profile, crf: undefined });
    expect(wire).toMatchObject({
      name: profile.name,
      width: profile.width,
      height: profile.height,
      bitrate: profile.bitrateBps,
      codec: profile.codec,
      gop: profile.gopSeconds,
    });
    expect(wire).not.toHaveProperty("crf");
    expect(wireProfile({ ...profile, fps: undefined })).not.toHaveProperty("fps");
  });
});
