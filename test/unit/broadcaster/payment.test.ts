import { describe, expect, it } from "vitest";
import { expectedPixels } from "../../../node/src/broadcaster/verify.ts";

describe("expectedPixels", () => {
  const source = { decodedFrames: 60, firstSeconds: 10, lastSeconds: 10 + 59 / 30 };
  const rendition = (width: number, height: number, fps?: number) => ({
    width,
    height,
    fps,
    bitrateBps: 1_000_000,
  });

  it("allows each rendition the source's frames plus one, at its output size", () => {
    const px = expectedPixels(source, 30, [rendition(640, 360), rendition(426, 240)]);
    expect(px).toBe(BigInt(640 * 360 * 61 + 426 * 240 * 61));
  });

  it("scales frames when a profile lowers the frame rate", () => {
    const px = expectedPixels(source, 30, [rendition(640, 360, 15)]);
    expect(px).toBe(BigInt(640 * 360 * 31));
  });
});
