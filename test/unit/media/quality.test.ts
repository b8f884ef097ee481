import { describe, expect, it } from "vitest";
import {
  contentDistance,
  meanLuma,
  motion,
  THUMB_H,
  THUMB_W,
  thumbnailDistance,
} from "../../../node/src/media/quality.ts";

const thumb = (value: number) => new Uint8Array(THUMB_W * THUMB_H).fill(value);

describe("thumbnail measures", () => {
  it("measures brightness, motion and the distance between pictures in grey levels", () => {
    expect(meanLuma([thumb(10), thumb(30)])).toBe(20);
    expect(thumbnailDistance(thumb(10), thumb(14))).toBe(4);
    expect(motion([thumb(10), thumb(14), thumb(10)])).toBe(4);
    expect(motion([thumb(10), thumb(10), thumb(10)])).toBe(0);
    expect(motion([thumb(10)])).toBe(0);
  });

  it("pairs a rendition's frames with the source frames shown at the same moment", () => {
    const source = [0, 10, 20, 30, 40, 50].map(thumb);
    expect(contentDistance(source, source)).toBe(0);
    // Half the frame rate: frame i of the rendition is source frame 2i.
    expect(contentDistance([0, 20, 40].map(thumb), source)).toBe(0);
    // A converter that took the next source frame instead is not penalised.
    expect(contentDistance([10, 30, 50].map(thumb), source)).toBe(0);
    // Black against a bright source is as far as it gets from it.
    expect(contentDistance([thumb(0), thumb(0)], [thumb(200), thumb(200)])).toBe(200);
    expect(contentDistance([], source)).toBe(255);
  });
});
