import { describe, expect, it } from "vitest";
import { KeyframeClock } from "../../../node/src/live/ingest-clock.ts";

describe("KeyframeClock", () => {
  it("gives each piece its first keyframe's arrival, whatever ffmpeg's own zero is", () => {
    const clock = new KeyframeClock();
    // A publisher whose timestamps start at 5 s, keyframes every 2 s, arriving 40 ms late.
    for (let k = 0; k < 5; k++) clock.keyframe(5_000 + k * 2_000, 1_000_000 + k * 2_000 + 40);
    // ffmpeg's list starts at 0.067 (the first keyframe's presentation time with B-frames).
    expect(clock.pieceStarted(0.067)).toBe(1_000_040);
    expect(clock.pieceStarted(2.067)).toBe(1_002_040);
    expect(clock.pieceStarted(4.067)).toBe(1_004_040);
  });

  it("skips keyframes the segmenter did not cut at (a target longer than the GOP)", () => {
    const clock = new KeyframeClock();
    for (let k = 0; k < 9; k++) clock.keyframe(k * 1_000, 50_000 + k * 1_000);
    expect(clock.pieceStarted(0)).toBe(50_000);
    // 2 s target on 1 s GOPs: the second piece starts on the third keyframe.
    expect(clock.pieceStarted(2.001)).toBe(52_000);
    expect(clock.pieceStarted(4)).toBe(54_000);
    // What was passed over is forgotten.
    expect(clock.size).toBe(5);
  });

  it("has no answer before any keyframe, and keeps a bounded history", () => {
    const clock = new KeyframeClock();
    expect(clock.pieceStarted(0)).toBeUndefined();
    for (let k = 0; k < 2_000; k++) clock.keyframe(k * 33, k);
    expect(clock.size).toBeLessThanOrEqual(512);
  });
});
