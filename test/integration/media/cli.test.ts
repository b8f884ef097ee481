import { spawn } from "node:child_process";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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

describe("segmint capabilities", () => {
  it("prints a valid capability document with a working libx264", async () => {
    const result = await segmint(["capabilities", "--json"]);
    expect(result.code).toBe(0);
    const document = capabilitiesSchema.parse(JSON.parse(result.stdout));
    expect(document.encoders.find((e) => e.name === "libx264")?.works).toBe(true);
    expect(document.devices.find((d) => d.kind === "cpu")?.maxSessions).toBeGreaterThanOrEqual(1);
  });
});
