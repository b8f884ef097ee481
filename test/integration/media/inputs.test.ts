/**
 * Awkward but valid inputs, each made on the spot by ffmpeg itself (small and short), through
 * the input preparation that `segmint transcode` and `segmint broadcast` share, the segmenter
 * and the segment transcoder.
 */
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import {
  parseLadder,
  probeMedia,
  resolveMediaOptions,
  SegmentTranscoder,
  segmentFile,
  transcodeFile,
} from "../../../node/src/media/index.ts";
import { prepareInput } from "../../../node/src/media/prepare.ts";
import {
  createMediaWorkspace,
  decodeVideo,
  ffmpegChildren,
  ffmpegMake,
  firstFrameGray,
  type MediaWorkspace,
  meanDifference,
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

const testsrc = (size: string, fps: number, seconds: number) => [
  ...["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`],
];

const local = (input: string, out: string, profiles: string, segmentSeconds = 2) =>
  transcodeFile(input, {
    profiles: parseLadder(profiles),
    outDir: join(ws.dir, out),
    segmentSeconds,
    detectHardware: false,
  });

describe("input preparation", () => {
  it.each([
    [
      "H.264 whose later GOPs start on a non-IDR I-frame (x264 open-gop)",
      "open-gop-25.mp4",
      ["-c:v", "libx264", "-bf", "2", "-x264-params", "open-gop=1:keyint=25:scenecut=0"],
      null,
    ],
    [
      "H.264 with open GOPs whose leading frames need the GOP before (x264 open-gop)",
      "open-gop-50.mp4",
      ["-c:v", "libx264", "-bf", "2", "-x264-params", "open-gop=1:keyint=50:scenecut=0"],
      /open GOPs/,
    ],
    [
      "HEVC with x265's default open GOPs",
      "open-gop-hevc.mp4",
      ["-c:v", "libx265", "-x265-params", "keyint=50:scenecut=0:log-level=error"],
      /open GOPs/,
    ],
  ])(
    "cuts %s into segments that decode alone, losing no frame",
    async (_label, name, codec, normalized) => {
      const path = join(ws.dir, name);
      await ffmpegMake(ws.ffmpegPath, [
        ...testsrc("320x180", 25, 4),
        ...[...codec, "-preset", "ultrafast", "-pix_fmt", "yuv420p", path],
      ]);
      const input = await prepareInput(path, {
        ffmpegPath: ws.ffmpegPath,
        media: resolveMediaOptions(),
        gopSeconds: 2,
        log: silentLogger(),
      });
      try {
        if (normalized === null) expect(input.normalized).toBeNull();
        else expect(input.normalized).toMatch(normalized);
        const pictures: string[] = [];
        let segments = 0;
        for await (const segment of segmentFile(input.path, {
          ffmpegPath: ws.ffmpegPath,
          targetSeconds: 2,
          codec: input.video.codec,
        })) {
          // Each segment on its own, as an orchestrator gets it.
          pictures.push(...(await decodeVideo(ws.ffmpegPath, segment.data)).checksums);
          segments += 1;
        }
        expect(segments).toBe(2);
        expect(pictures).toHaveLength(100);
        const prepared = await decodeVideo(ws.ffmpegPath, input.path);
        // Cut as it is, the segments hold exactly the source's pictures; re-encoded, the same
        // number of them as the source (a re-encode changes the pixels, not the count).
        if (normalized === null) {
          expect(pictures).toEqual((await decodeVideo(ws.ffmpegPath, path)).checksums);
        } else {
          expect(pictures).toEqual(prepared.checksums);
          expect((await decodeVideo(ws.ffmpegPath, path)).frames).toBe(100);
        }
      } finally {
        await input.cleanup();
      }
    },
  );

  it("turns a video with a 90-degree display rotation upright, with a portrait ladder", async () => {
    const landscape = join(ws.dir, "landscape.mp4");
    const rotated = join(ws.dir, "rotated.mp4");
    await ffmpegMake(ws.ffmpegPath, [
      ...testsrc("320x240", 25, 1),
      ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", landscape],
    ]);
    await ffmpegMake(ws.ffmpegPath, [
      ...["-i", landscape, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated],
    ]);
    const probed = await probeMedia(rotated, { ffmpegPath: ws.ffmpegPath });
    expect(probed.video).toMatchObject({ width: 320, height: 240 });
    expect(probed.video?.rotation).not.toBe(0);

    const summary = await local(rotated, "rotated-hls", "240p");
    expect(summary.normalized).toMatch(/rotated/);
    expect(summary.renditions.map((r) => [r.width, r.height, r.frames])).toEqual([[240, 320, 25]]);
    // The picture a player shows for the source (ffmpeg applies the rotation when decoding)
    // is the picture the rendition holds; the same picture turned half round is not.
    const shown = await firstFrameGray(ws.ffmpegPath, rotated, 12, 16);
    const rendition = join(ws.dir, "rotated-hls", "240p", "seg000000.ts");
    const out = await firstFrameGray(ws.ffmpegPath, rendition, 12, 16);
    const turned = Buffer.from(shown).reverse();
    expect(meanDifference(shown, out)).toBeLessThan(12);
    expect(meanDifference(turned, out)).toBeGreaterThan(2 * meanDifference(shown, out));
  });

  it("accepts what the network accepts: one keyframe in 12 s, and VP9 and AV1 video", async () => {
    const sparse = join(ws.dir, "sparse.mp4");
    await ffmpegMake(ws.ffmpegPath, [
      ...testsrc("160x90", 5, 12),
      ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "1000", "-sc_threshold", "0", sparse],
    ]);
    // Cut as it is, its one segment would be 12 s long, over the transcoder's 10 s limit
    // (INPUT_DURATION_TOO_LONG). 6 s segments (two of them) keep the test short.
    const sparseSummary = await local(sparse, "sparse-hls", "240p", 6);
    expect(sparseSummary.normalized).toMatch(/keyframes every 12\.0 s/);
    expect(sparseSummary.segments).toBe(2);
    expect(sparseSummary.renditions[0]?.frames).toBe(60);

    const vp9 = join(ws.dir, "vp9.webm");
    await ffmpegMake(ws.ffmpegPath, [
      ...testsrc("160x90", 10, 1),
      ...["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", vp9],
    ]);
    const vp9Summary = await local(vp9, "vp9-hls", "240p");
    expect(vp9Summary.normalized).toBe("codec vp9");
    expect(vp9Summary.renditions[0]?.frames).toBe(10);

    const av1 = join(ws.dir, "av1.mkv");
    await ffmpegMake(ws.ffmpegPath, [
      ...testsrc("64x64", 10, 0.5),
      ...["-c:v", "libaom-av1", "-strict", "experimental", "-cpu-used", "8", av1],
    ]);
    const av1Summary = await local(av1, "av1-hls", "240p");
    expect(av1Summary.normalized).toBe("codec av1");
    expect(av1Summary.renditions[0]?.frames).toBe(5);
  });

  it("never makes a rendition larger than a 1279x719 source", async () => {
    const odd = join(ws.dir, "odd.mp4");
    // 4:4:4, since 4:2:0 H.264 cannot have odd sides.
    await ffmpegMake(ws.ffmpegPath, [
      ...testsrc("1279x719", 25, 0.12),
      ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", odd],
    ]);
    const summary = await local(odd, "odd-hls", "720p");
    expect(summary.renditions.map((r) => [r.width, r.height, r.frames])).toEqual([[1278, 718, 3]]);
  });

  it("gives a one-frame video the frame's duration in the playlist", async () => {
    const one = join(ws.dir, "one.mp4");
    await ffmpegMake(ws.ffmpegPath, [
      ...testsrc("320x240", 25, 1),
      ...["-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast", one],
    ]);
    const summary = await local(one, "one-hls", "240p");
    expect(summary.renditions[0]?.frames).toBe(1);
    const playlist = await readFile(join(ws.dir, "one-hls", "240p", "index.m3u8"), "utf8");
    expect(playlist).toContain("#EXTINF:0.040000,");
  });

  it("keeps what a truncated mp4 holds", async () => {
    const full = join(ws.dir, "full.mp4");
    const cut = join(ws.dir, "cut.mp4");
    await ffmpegMake(ws.ffmpegPath, [
      ...testsrc("320x180", 25, 4),
      ...["-f", "lavfi", "-i", "sine=duration=4"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac"],
      ...["-movflags", "+faststart", full],
    ]);
    const bytes = await readFile(full);
    // The index (moov) sits at the front, so the first 60% still describes every frame, but
    // the last packet in the file is cut mid-way.
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const summary = await local(cut, "cut-hls", "240p");
    const frames = summary.renditions[0]?.frames ?? 0;
    expect(frames).toBeGreaterThan(25);
    expect(frames).toBeLessThan(100);
    const probed = await probeMedia(cut, { ffmpegPath: ws.ffmpegPath, dropCorrupt: true });
    expect(frames).toBe(probed.video?.frames);
  });
});

describe("segment transcoder", () => {
  it("deinterlaces a stream that says it is interlaced, keeping every frame", async () => {
    const interlaced = join(ws.dir, "interlaced.ts");
    // Two 50 fps frames woven into each 25 fps frame, coded as interlaced, top field first.
    await ffmpegMake(ws.ffmpegPath, [
      ...testsrc("320x240", 50, 2),
      ...["-vf", "interlace", "-c:v", "libx264", "-preset", "ultrafast"],
      ...["-flags", "+ildct+ilme", "-x264-params", "tff=1", "-f", "mpegts", interlaced],
    ]);
    const data = await readFile(interlaced);
    const probed = await probeMedia(data, { ffmpegPath: ws.ffmpegPath, format: "mpegts" });
    expect(probed.video?.interlaced).toBe(true);
    const transcoder = new SegmentTranscoder({ ffmpegPath: ws.ffmpegPath });
    const result = await transcoder.transcode(data, { profiles: parseLadder("240p") });
    const rendition = result.renditions[0];
    expect([rendition?.width, rendition?.height, rendition?.frames]).toEqual([320, 240, 50]);
    const out = join(ws.dir, "deinterlaced.ts");
    await writeFile(out, rendition?.data ?? Buffer.alloc(0));
    // ffmpeg's idet filter tells combed (interlaced) frames from progressive ones.
    const before = await fieldDetection(interlaced);
    const after = await fieldDetection(out);
    expect(before.interlaced).toBeGreaterThan(before.progressive);
    expect(after.progressive).toBeGreaterThan(after.interlaced);
    await rm(out);
  });
});

async function fieldDetection(path: string): Promise<{ interlaced: number; progressive: number }> {
  const { stderr } = await promisify(execFile)(ws.ffmpegPath, [
    ...["-hide_banner", "-nostdin", "-i", path, "-vf", "idet", "-f", "null", "-"],
  ]);
  const multi = /Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+)/.exec(
    stderr,
  );
  return {
    interlaced: Number(multi?.[1] ?? 0) + Number(multi?.[2] ?? 0),
    progressive: Number(multi?.[3] ?? 0),
  };
}
