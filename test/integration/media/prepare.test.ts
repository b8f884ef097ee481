import { execFile } from "node:child_process";
import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { resolveMediaOptions } from "../../../node/src/media/options.ts";
import { prepareInput } from "../../../node/src/media/prepare.ts";
import { createMediaWorkspace, type MediaWorkspace } from "../../helpers/media.ts";

const run = promisify(execFile);
let media: MediaWorkspace;

beforeAll(async () => {
  media = await createMediaWorkspace();
});
afterAll(async () => {
  await media?.cleanup();
});

const prepare = (path: string) =>
  prepareInput(path, {
    ffmpegPath: media.ffmpegPath,
    media: resolveMediaOptions(),
    gopSeconds: 2,
    log: silentLogger(),
  });

describe("prepareInput (real ffmpeg)", () => {
  it("uses H.264 with regular keyframes as it is", async () => {
    const clip = await media.clip("ok.ts", {
      width: 320,
      height: 180,
      fps: 25,
      durationSeconds: 2,
    });
    const input = await prepare(clip);
    expect(input.normalized).toBeNull();
    expect(input.path).toBe(clip);
    expect(input.video).toMatchObject({ codec: "h264", width: 320, height: 180 });
    await input.cleanup();
    await access(clip);
  });

  it("re-encodes a codec MPEG-TS segments do not carry, and removes the copy afterwards", async () => {
    const mkv = join(media.dir, "mpeg4.mkv");
    await run(media.ffmpegPath, [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x180:rate=25:duration=3",
      "-c:v",
      "mpeg4",
      "-g",
      "25",
      mkv,
    ]);
    const input = await prepare(mkv);
    expect(input.normalized).toMatch(/codec mpeg4/);
    expect(input.video.codec).toBe("h264");
    expect(input.video.keyframes).toBeGreaterThanOrEqual(2);
    expect(Math.abs(input.info.durationSeconds - 3)).toBeLessThan(0.1);
    await input.cleanup();
    await expect(access(input.path)).rejects.toThrow();
  });

  it("re-encodes H.264 whose keyframes are too far apart to cut into segments", async () => {
    const sparse = await media.clip("sparse.ts", {
      width: 320,
      height: 180,
      fps: 25,
      durationSeconds: 6,
      gopSeconds: 6,
    });
    const input = await prepare(sparse);
    expect(input.normalized).toMatch(/keyframes every/);
    expect(input.video.keyframes).toBeGreaterThanOrEqual(3);
    await input.cleanup();
  });

  it("refuses missing, empty and non-media inputs with coded errors", async () => {
    await expect(prepare(join(media.dir, "missing.mp4"))).rejects.toMatchObject({
      code: "INPUT_NOT_FOUND",
    });
    const empty = join(media.dir, "empty.mp4");
    await writeFile(empty, "");
    await expect(prepare(empty)).rejects.toMatchObject({ code: "INPUT_EMPTY" });
    // Noise named like a video (a fixed sequence, so the test is deterministic).
    const junk = join(media.dir, "junk.mp4");
    const noise = Buffer.alloc(64 * 1024);
    let x = 12345;
    for (let i = 0; i < noise.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      noise[i] = x >>> 24;
    }
    await writeFile(junk, noise);
    await expect(prepare(junk)).rejects.toMatchObject({ code: "INPUT_INVALID" });
    const audio = join(media.dir, "tone.ts");
    await run(media.ffmpegPath, [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:duration=1",
      "-c:a",
      "aac",
      "-f",
      "mpegts",
      audio,
    ]);
    await expect(prepare(audio)).rejects.toMatchObject({ code: "INPUT_NO_VIDEO" });
  });
});
