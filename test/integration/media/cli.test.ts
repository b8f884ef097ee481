import { spawn } from "node:child_process";
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capabilitiesSchema, probeMedia } from "../../../node/src/media/index.ts";
import {
  createMediaWorkspace,
  ffmpegChildren,
  ffmpegMake,
  type MediaWorkspace,
  mediaTempEntries,
} from "../../helpers/media.ts";

const BIN = join(import.meta.dirname, "../../../bin/segmint.js");

function segmint(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // node:sqlite (used elsewhere in the CLI) prints an ExperimentalWarning on Node 22; it is
    // not this command's output, so it is silenced here rather than filtered by text.
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", BIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let ws: MediaWorkspace;
let out: string;

beforeAll(async () => {
  ws = await createMediaWorkspace();
  out = await mkdtemp(join(tmpdir(), "segmint-test-hls-"));
});
afterAll(async () => {
  await ws.cleanup();
  await rm(out, { recursive: true, force: true });
});

describe("segmint transcode", () => {
  it("writes HLS that ffmpeg reads back, each rendition at its size and the source's duration", async () => {
    // 1080p kept short (4 s, two segments) so the suite stays quick on 2 cores.
    const input = await ws.clip("src.ts", {
      width: 1920,
      height: 1080,
      fps: 30,
      durationSeconds: 4,
    });
    const tempBefore = await mediaTempEntries();
    const result = await segmint([
      "transcode",
      input,
      "--profiles",
      "720p,480p,360p",
      "--out",
      out,
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      segments: number;
      source: { durationSeconds: number };
      renditions: Array<{ name: string; width: number; height: number; frames: number }>;
    };
    expect(summary.segments).toBe(2);
    expect(summary.renditions.map((r) => [r.name, r.width, r.height, r.frames])).toEqual([
      ["720p", 1280, 720, 120],
      ["480p", 854, 480, 120],
      ["360p", 640, 360, 120],
    ]);
    const master = await readFile(join(out, "master.m3u8"), "utf8");
    expect(master).toContain("RESOLUTION=1280x720");
    expect(master).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    const source = await probeMedia(input, { ffmpegPath: ws.ffmpegPath });
    for (const [name, width, height] of [
      ["720p", 1280, 720],
      ["480p", 854, 480],
      ["360p", 640, 360],
    ] as const) {
      const playlist = await readFile(join(out, name, "index.m3u8"), "utf8");
      expect(playlist).toContain("#EXT-X-ENDLIST");
      // ffmpeg's HLS demuxer reads the playlist and every segment it lists.
      const info = await probeMedia(join(out, name, "index.m3u8"), { ffmpegPath: ws.ffmpegPath });
      expect([info.video?.width, info.video?.height, info.video?.frames]).toEqual([
        width,
        height,
        120,
      ]);
      expect(
        Math.abs((info.video?.durationSeconds ?? 0) - (source.video?.durationSeconds ?? 0)),
      ).toBeLessThan(0.1);
    }
    expect(ffmpegChildren()).toEqual([]);
    expect(await mediaTempEntries()).toEqual(tempBefore);
  });

  it.each([
    ["an empty file", "empty.ts", Buffer.alloc(0), "INPUT_EMPTY"],
    [
      "random bytes",
      "random.ts",
      Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251)),
      "INPUT_INVALID",
    ],
    ["a missing file", "missing.ts", undefined, "INPUT_NOT_FOUND"],
  ])("fails on %s with one clear line and no stack trace", async (_label, name, content, code) => {
    const input = join(ws.dir, name);
    if (content) await writeFile(input, content);
    const result = await segmint(["transcode", input, "--out", join(out, "bad"), "--no-hardware"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error \\[${code}\\]: `));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses a segment in one line and leaves nothing in --out", async () => {
    // 2 s the engine takes, then a picture wider than its 4096-pixel limit: the file's header
    // shows only the first, so the refusal comes while the second segment is transcoded,
    // after the first one was written.
    const first = join(ws.dir, "narrow.ts");
    const second = join(ws.dir, "wide.ts");
    const joined = join(ws.dir, "narrow-then-wide.ts");
    await ffmpegMake(ws.ffmpegPath, [
      ...["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-f", "mpegts", first],
    ]);
    await ffmpegMake(ws.ffmpegPath, [
      ...["-f", "lavfi", "-i", "testsrc2=size=4100x64:rate=25:duration=0.2"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-output_ts_offset", "2", "-f", "mpegts"],
      second,
    ]);
    await writeFile(joined, Buffer.concat([await readFile(first), await readFile(second)]));
    const target = join(out, "refused", "hls");
    const result = await segmint([
      ...["transcode", joined, "--profiles", "240p", "--out", target, "--no-hardware"],
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error \[INPUT_RESOLUTION_TOO_LARGE\]: /);
    await expect(access(join(out, "refused"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("segmint transcode into a used --out", () => {
  it("refuses another run's files in one line naming --overwrite, which clears only Segmint's", async () => {
    // What an earlier, longer run at other profiles leaves, beside a file of the user's own.
    const target = join(out, "reused");
    await mkdir(join(target, "720p"), { recursive: true });
    await writeFile(join(target, "master.m3u8"), "#EXTM3U\n");
    await writeFile(join(target, "720p", "index.m3u8"), "#EXTM3U\n");
    await writeFile(join(target, "720p", "seg000007.ts"), "stale");
    await writeFile(join(target, "notes.txt"), "mine");
    const input = await ws.clip("reused.ts", {
      width: 256,
      height: 144,
      fps: 25,
      durationSeconds: 2,
    });
    const args = ["transcode", input, "--profiles", "144p", "--out", target, "--no-hardware"];

    const refused = await segmint(args);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    const lines = refused.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error \[OUT_DIR_NOT_EMPTY\]: /);
    expect(lines[0]).toContain("--overwrite");
    expect((await readdir(target)).sort()).toEqual(["720p", "master.m3u8", "notes.txt"]);

    const overwritten = await segmint([...args, "--overwrite", "--json"]);
    expect(overwritten.code).toBe(0);
    // The earlier run's files are gone, the user's file is kept, and the master lists this run.
    expect((await readdir(target)).sort()).toEqual(["144p", "master.m3u8", "notes.txt"]);
    const master = await readFile(join(target, "master.m3u8"), "utf8");
    expect(master).toContain("144p/index.m3u8");
    expect(master).not.toContain("720p");
  });
});

describe("segmint transcode on sparse keyframes", () => {
  it("says in one line when segments run longer than --segment, and --reencode makes them that long", async () => {
    // A keyframe every 3 s: cut as it is (under the 4 s that forces a re-encode), so each
    // segment is 3 s although 2 s are asked for.
    const input = await ws.clip("gop3.ts", {
      width: 256,
      height: 144,
      fps: 25,
      durationSeconds: 6,
      gopSeconds: 3,
    });
    const args = ["transcode", input, "--profiles", "144p", "--segment", "2", "--no-hardware"];
    type Summary = {
      segments: number;
      normalized: string | null;
      longestSegmentSeconds: number;
      source: { keyframeGapSeconds: { max: number; typical: number } };
    };
    const asIs = await segmint([...args, "--out", join(out, "gop3"), "--json"]);
    expect(asIs.code).toBe(0);
    const noted = asIs.stderr.trim().split("\n");
    expect(noted).toHaveLength(1);
    expect(noted[0]).toMatch(/^note: segments run up to 3\.0 s, not the 2 s of --segment/);
    expect(noted[0]).toContain("keyframes every 3.0 s");
    expect(noted[0]).toContain("--reencode");
    const cut = JSON.parse(asIs.stdout) as Summary;
    expect(cut.normalized).toBeNull();
    expect(cut.segments).toBe(2);
    expect(Math.abs(cut.longestSegmentSeconds - 3)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(cut.source.keyframeGapSeconds.max - 3)).toBeLessThanOrEqual(0.1);

    const reencoded = await segmint([...args, "--reencode", "--out", join(out, "gop2"), "--json"]);
    expect(reencoded.code).toBe(0);
    expect(reencoded.stderr).toBe("");
    const even = JSON.parse(reencoded.stdout) as Summary;
    expect(even.normalized).toMatch(/--reencode/);
    expect(even.segments).toBe(3);
    // Within a frame or two of 2 s (audio and the last frame's length round the cut).
    expect(Math.abs(even.longestSegmentSeconds - 2)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(even.source.keyframeGapSeconds.max - 2)).toBeLessThanOrEqual(0.1);
  });
});

describe("segmint capabilities", () => {
  it("prints a valid capability document with a working libx264", async () => {
    const result = await segmint(["capabilities", "--json"]);
    expect(result.code).toBe(0);
    const document = capabilitiesSchema.parse(JSON.parse(result.stdout));
    expect(document.encoders.find((e) => e.name === "libx264")?.works).toBe(true);
    expect(document.devices.find((d) => d.kind === "cpu")?.maxSessions).toBeGreaterThanOrEqual(1);
  });
});
