import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MediaError, probeMedia, segmentFile } from "../../../node/src/media/index.ts";
import {
  createMediaWorkspace,
  ffmpegChildren,
  type MediaWorkspace,
  mediaTempEntries,
} from "../../helpers/media.ts";

let ws: MediaWorkspace;
let tempBefore: string[];

beforeAll(async () => {
  ws = await createMediaWorkspace();
  tempBefore = await mediaTempEntries();
});
afterAll(() => ws.cleanup());
afterEach(async () => {
  expect(ffmpegChildren()).toEqual([]);
  expect(await mediaTempEntries()).toEqual(tempBefore);
});

describe("segmentFile", () => {
  it("cuts keyframe-aligned 2 s MPEG-TS segments with continuous timestamps", async () => {
    const path = await ws.clip("six.mp4", {
      width: 320,
      height: 240,
      fps: 30,
      durationSeconds: 6,
      format: "mp4",
    });
    const segments = [];
    for await (const segment of segmentFile(path, {
      ffmpegPath: ws.ffmpegPath,
      targetSeconds: 2,
    })) {
      segments.push(segment);
    }
    expect(segments.map((s) => s.index)).toEqual([0, 1, 2]);
    let previousEnd: number | undefined;
    for (const segment of segments) {
      const info = await probeMedia(segment.data, { ffmpegPath: ws.ffmpegPath, format: "mpegts" });
      expect(info.video?.startsWithKeyframe).toBe(true);
      expect(info.video?.frames).toBe(60);
      expect(Math.abs((info.video?.durationSeconds ?? 0) - 2)).toBeLessThan(0.1);
      const start = info.video?.startSeconds ?? 0;
      if (previousEnd !== undefined) expect(Math.abs(start - previousEnd)).toBeLessThan(0.001);
      previousEnd = start + (info.video?.durationSeconds ?? 0);
    }
  });

  it("stops ffmpeg and removes its work directory when the consumer stops early", async () => {
    const path = await ws.clip("long.ts", {
      width: 320,
      height: 240,
      fps: 30,
      durationSeconds: 8,
      audio: false,
    });
    let seen = 0;
    for await (const segment of segmentFile(path, { ffmpegPath: ws.ffmpegPath })) {
      expect(segment.data.length).toBeGreaterThan(0);
      seen++;
      break;
    }
    expect(seen).toBe(1);
  });

  it("reports a file it cannot cut with INPUT_INVALID", async () => {
    const bogus = `${ws.dir}/bogus.ts`;
    const { writeFile } = await import("node:fs/promises");
    await writeFile(bogus, "this is not a video");
    const run = async () => {
      for await (const _ of segmentFile(bogus, { ffmpegPath: ws.ffmpegPath })) {
        // never reached
      }
    };
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe("INPUT_INVALID");
  });
});
