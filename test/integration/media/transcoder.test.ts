import { readFile } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  codecsString,
  MediaError,
  type MediaErrorCode,
  measureRendition,
  parseLadder,
  probeMedia,
  SegmentTranscoder,
} from "../../../node/src/media/index.ts";
import {
  createMediaWorkspace,
  ffmpegChildren,
  type MediaWorkspace,
  mediaTempEntries,
} from "../../helpers/media.ts";

let ws: MediaWorkspace;
let transcoder: SegmentTranscoder;
let tempBefore: string[];

beforeAll(async () => {
  ws = await createMediaWorkspace();
  transcoder = new SegmentTranscoder({
    ffmpegPath: ws.ffmpegPath,
    options: { useHardware: false },
  });
  tempBefore = await mediaTempEntries();
});

afterAll(async () => {
  await ws.cleanup();
});

afterEach(async () => {
  // Every case, passing or failing, must leave no ffmpeg behind and no temp files.
  expect(ffmpegChildren()).toEqual([]);
  expect(await mediaTempEntries()).toEqual(tempBefore);
});

async function expectCode(promise: Promise<unknown>, code: MediaErrorCode): Promise<MediaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MediaError);
  expect((error as MediaError).code).toBe(code);
  return error as MediaError;
}

/** The TS packet offsets (188-byte aligned) where each video PES starts. */
function videoPesStarts(ts: Buffer): number[] {
  const starts: number[] = [];
  for (let at = 0; at + 188 <= ts.length; at += 188) {
    if (ts[at] !== 0x47 || ((ts[at + 1] ?? 0) & 0x40) === 0) continue;
    const control = ((ts[at + 3] ?? 0) >> 4) & 3;
    const payload = at + 4 + (control & 2 ? 1 + (ts[at + 4] ?? 0) : 0);
    if (ts[payload] === 0 && ts[payload + 1] === 0 && ts[payload + 2] === 1) {
      const id = ts[payload + 3] ?? 0;
      if (id >= 0xe0 && id <= 0xef) starts.push(at);
    }
  }
  return starts;
}

/** Drops the first `frames` video frames (and whatever is interleaved with them) but keeps
 * the stream tables in front, so the segment starts mid-GOP. */
function dropLeadingFrames(ts: Buffer, frames: number): Buffer {
  const starts = videoPesStarts(ts);
  const head = starts[0] ?? 0;
  const cut = starts[frames] ?? ts.length;
  return Buffer.concat([ts.subarray(0, head), ts.subarray(cut)]);
}

describe("SegmentTranscoder on generated media", () => {
  it("keeps the aspect ratio of a 1280x536 source and never upscales", async () => {
    const path = await ws.clip("wide.ts", {
      width: 1280,
      height: 536,
      fps: 30,
      durationSeconds: 2,
    });
    const segment = await readFile(path);
    const result = await transcoder.transcode(segment, { profiles: parseLadder("720p,480p,360p") });
    const source = result.source;
    expect(source.video?.frames).toBe(60);
    const sizes = result.renditions.map((r) => [r.profile, r.width, r.height]);
    expect(sizes).toEqual([
      ["720p", 1280, 536],
      ["480p", 854, 358],
      ["360p", 640, 268],
    ]);
    for (const rendition of result.renditions) {
      const measured = await measureRendition(rendition.data, { ffmpegPath: ws.ffmpegPath });
      expect(measured.width).toBe(rendition.width);
      expect(measured.height).toBe(rendition.height);
      expect(measured.frames).toBe(60);
      expect(rendition.frames).toBe(60);
      expect(measured.pixels).toBe(rendition.width * rendition.height * 60);
      expect(
        Math.abs(measured.durationSeconds - (source.video?.durationSeconds ?? 0)),
      ).toBeLessThan(0.1);
      // A keyframe first, the source's timestamps kept, audio carried over.
      const probe = await probeMedia(rendition.data, {
        ffmpegPath: ws.ffmpegPath,
        format: "mpegts",
      });
      expect(probe.video?.startsWithKeyframe).toBe(true);
      expect(
        Math.abs((probe.video?.startSeconds ?? 0) - (source.video?.startSeconds ?? 0)),
      ).toBeLessThan(0.001);
      expect(probe.audio?.codec).toBe("aac");
      // The SPS level follows the real frame rate (720p30 needs no more than level 4.0).
      const level = Number.parseInt(codecsString(rendition.data, "h264", false).slice(-2), 16);
      expect(level).toBeLessThanOrEqual(0x28);
    }
  });

  it("fits a 720x1280 portrait source into portrait boxes", async () => {
    const path = await ws.clip("portrait.ts", {
      width: 720,
      height: 1280,
      fps: 30,
      durationSeconds: 1,
    });
    const result = await transcoder.transcode(await readFile(path), {
      profiles: parseLadder("480p,360p"),
    });
    const measured = await Promise.all(
      result.renditions.map((r) => measureRendition(r.data, { ffmpegPath: ws.ffmpegPath })),
    );
    expect(measured.map((m) => [m.width, m.height, m.frames])).toEqual([
      [480, 854, 30],
      [360, 640, 30],
    ]);
  });

  it("transcodes video without audio", async () => {
    const path = await ws.clip("silent.ts", {
      width: 640,
      height: 360,
      fps: 30,
      durationSeconds: 1,
      audio: false,
    });
    const result = await transcoder.transcode(await readFile(path), {
      profiles: parseLadder("240p"),
    });
    const probe = await probeMedia(result.renditions[0]?.data ?? Buffer.alloc(0), {
      ffmpegPath: ws.ffmpegPath,
      format: "mpegts",
    });
    expect(probe.audio).toBeUndefined();
    expect([probe.video?.width, probe.video?.height, probe.video?.frames]).toEqual([426, 240, 30]);
  });

  it("refuses audio-only input with INPUT_NO_VIDEO", async () => {
    const path = await ws.clip("audio.ts", {
      width: 0,
      height: 0,
      fps: 30,
      durationSeconds: 1,
      video: false,
    });
    await expectCode(
      transcoder.transcode(await readFile(path), { profiles: parseLadder("240p") }),
      "INPUT_NO_VIDEO",
    );
  });

  it("keeps 60 fps where asked and halves it for a 30 fps profile", async () => {
    const path = await ws.clip("fast.ts", { width: 640, height: 360, fps: 60, durationSeconds: 1 });
    const result = await transcoder.transcode(await readFile(path), {
      profiles: parseLadder("360p60,240p30"),
    });
    const measured = await Promise.all(
      result.renditions.map((r) => measureRendition(r.data, { ffmpegPath: ws.ffmpegPath })),
    );
    expect(measured.map((m) => m.frames)).toEqual([60, 30]);
    for (const m of measured) expect(Math.abs(m.durationSeconds - 1)).toBeLessThan(0.1);
  });

  it("decodes HEVC input", async () => {
    const path = await ws.clip("hevc.ts", {
      width: 640,
      height: 360,
      fps: 30,
      durationSeconds: 1,
      codec: "hevc",
    });
    const result = await transcoder.transcode(await readFile(path), {
      profiles: parseLadder("240p"),
    });
    expect(result.source.video?.codec).toBe("hevc");
    const measured = await measureRendition(result.renditions[0]?.data ?? Buffer.alloc(0), {
      ffmpegPath: ws.ffmpegPath,
    });
    expect([measured.width, measured.height, measured.frames]).toEqual([426, 240, 30]);
  });

  it("starts the output at the first keyframe when a segment starts mid-GOP", async () => {
    // Keyframes at 0 s and 1 s; the first 10 frames are dropped, so decoding can begin at 1 s.
    const path = await ws.clip("gop1.ts", {
      width: 320,
      height: 240,
      fps: 30,
      durationSeconds: 2,
      gopSeconds: 1,
    });
    const segment = dropLeadingFrames(await readFile(path), 10);
    const source = await probeMedia(segment, { ffmpegPath: ws.ffmpegPath, format: "mpegts" });
    expect(source.video?.startsWithKeyframe).toBe(false);
    const result = await transcoder.transcode(segment, { profiles: parseLadder("240p") });
    const rendition = result.renditions[0];
    const probe = await probeMedia(rendition?.data ?? Buffer.alloc(0), {
      ffmpegPath: ws.ffmpegPath,
      format: "mpegts",
    });
    expect(probe.video?.startsWithKeyframe).toBe(true);
    expect(probe.video?.frames).toBe(30);
    expect(Math.abs((probe.video?.durationSeconds ?? 0) - 1)).toBeLessThan(0.1);
  });

  it("refuses a segment with no keyframe at all with INPUT_NO_KEYFRAME", async () => {
    const path = await ws.clip("gop3.ts", {
      width: 320,
      height: 240,
      fps: 30,
      durationSeconds: 2,
      gopSeconds: 3,
      audio: false,
    });
    const segment = dropLeadingFrames(await readFile(path), 5);
    await expectCode(
      transcoder.transcode(segment, { profiles: parseLadder("240p") }),
      "INPUT_NO_KEYFRAME",
    );
  });

  it("transcodes what a truncated segment still holds", async () => {
    const path = await ws.clip("whole.ts", {
      width: 320,
      height: 240,
      fps: 30,
      durationSeconds: 2,
      gopSeconds: 1,
    });
    const full = await readFile(path);
    // Cut mid-packet, a little after the middle.
    const truncated = full.subarray(0, Math.floor(full.length * 0.6) + 77);
    const result = await transcoder.transcode(truncated, { profiles: parseLadder("240p") });
    const sourceFrames = result.source.video?.frames ?? 0;
    expect(sourceFrames).toBeGreaterThan(0);
    expect(sourceFrames).toBeLessThan(60);
    const measured = await measureRendition(result.renditions[0]?.data ?? Buffer.alloc(0), {
      ffmpegPath: ws.ffmpegPath,
    });
    expect(measured.frames).toBe(sourceFrames);
    expect(
      Math.abs(measured.durationSeconds - (result.source.video?.durationSeconds ?? 0)),
    ).toBeLessThan(0.1);
  });

  it("refuses zero bytes with INPUT_EMPTY", async () => {
    await expectCode(
      transcoder.transcode(Buffer.alloc(0), { profiles: parseLadder("240p") }),
      "INPUT_EMPTY",
    );
  });

  it("refuses random bytes with INPUT_INVALID", async () => {
    const random = Buffer.alloc(64 * 1024);
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
    await expectCode(
      transcoder.transcode(random, { profiles: parseLadder("240p") }),
      "INPUT_INVALID",
    );
  });

  it("enforces the byte, resolution, duration and codec caps", async () => {
    const path = await ws.clip("caps.ts", {
      width: 640,
      height: 360,
      fps: 30,
      durationSeconds: 2,
      audio: false,
    });
    const segment = await readFile(path);
    const profiles = parseLadder("240p");
    const make = (options: ConstructorParameters<typeof SegmentTranscoder>[0]["options"]) =>
      new SegmentTranscoder({
        ffmpegPath: ws.ffmpegPath,
        options: { useHardware: false, ...options },
      });
    await expectCode(
      make({ maxSegmentBytes: 1000 }).transcode(segment, { profiles }),
      "INPUT_TOO_LARGE",
    );
    const tooWide = await expectCode(
      make({ maxWidth: 320 }).transcode(segment, { profiles }),
      "INPUT_RESOLUTION_TOO_LARGE",
    );
    expect(tooWide.details).toMatchObject({ width: 640, maxWidth: 320 });
    await expectCode(
      make({ maxSegmentSeconds: 1 }).transcode(segment, { profiles }),
      "INPUT_DURATION_TOO_LONG",
    );
    await expectCode(
      make({ allowedInputCodecs: ["hevc"] }).transcode(segment, { profiles }),
      "INPUT_UNSUPPORTED_CODEC",
    );
  });

  it("kills ffmpeg on timeout and on abort", async () => {
    const path = await ws.clip("slow.ts", {
      width: 1280,
      height: 720,
      fps: 30,
      durationSeconds: 2,
    });
    const segment = await readFile(path);
    const profiles = parseLadder("720p,480p,360p");
    await expectCode(
      transcoder.transcode(segment, { profiles, timeoutMs: 150 }),
      "TRANSCODE_TIMEOUT",
    );
    expect(ffmpegChildren()).toEqual([]);
    const controller = new AbortController();
    const running = transcoder.transcode(segment, { profiles, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expectCode(running, "TRANSCODE_ABORTED");
  });

  it("returns the same renditions through a private temp dir in file output mode", async () => {
    const path = await ws.clip("filemode.ts", {
      width: 640,
      height: 360,
      fps: 30,
      durationSeconds: 1,
    });
    const segment = await readFile(path);
    const viaFiles = new SegmentTranscoder({
      ffmpegPath: ws.ffmpegPath,
      options: { useHardware: false, outputMode: "file" },
    });
    const result = await viaFiles.transcode(segment, { profiles: parseLadder("360p,240p") });
    const measured = await Promise.all(
      result.renditions.map((r) => measureRendition(r.data, { ffmpegPath: ws.ffmpegPath })),
    );
    expect(measured.map((m) => [m.width, m.height, m.frames])).toEqual([
      [640, 360, 30],
      [426, 240, 30],
    ]);
    const controller = new AbortController();
    const running = viaFiles.transcode(segment, {
      profiles: parseLadder("360p"),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 30);
    await expectCode(running, "TRANSCODE_ABORTED");
  });

  it("never runs more transcodes at once than its capacity", async () => {
    const path = await ws.clip("many.ts", {
      width: 320,
      height: 240,
      fps: 30,
      durationSeconds: 1,
      audio: false,
    });
    const segment = await readFile(path);
    let maxRunning = 0;
    const bounded = new SegmentTranscoder({
      ffmpegPath: ws.ffmpegPath,
      options: { useHardware: false, maxConcurrentTranscodes: 1 },
      metrics: {
        transcodeStarted() {},
        transcodeFinished() {},
        queueChanged(_waiting, running) {
          maxRunning = Math.max(maxRunning, running);
        },
      },
    });
    const results = await Promise.all(
      [0, 1, 2].map(() => bounded.transcode(segment, { profiles: parseLadder("240p") })),
    );
    expect(results.map((r) => r.renditions[0]?.frames)).toEqual([30, 30, 30]);
    expect(maxRunning).toBe(1);
  });
});
