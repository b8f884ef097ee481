import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBinary } from "../../../node/src/media/binaries.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "segmint-unit-bin-"));
  await writeFile(join(dir, "ffmpeg"), "#!/bin/sh\n");
  await chmod(join(dir, "ffmpeg"), 0o755);
  await writeFile(join(dir, "ffprobe"), "not executable");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("findBinary", () => {
  it("prefers the explicit option, then the environment variable", () => {
    const env = { FFMPEG_PATH: "/env/ffmpeg", PATH: dir };
    expect(findBinary("ffmpeg", { ffmpegPath: "/opt/ffmpeg", env })).toEqual({
      path: "/opt/ffmpeg",
      source: "option",
    });
    expect(findBinary("ffmpeg", { env })).toEqual({ path: "/env/ffmpeg", source: "env" });
  });

  it("then looks on PATH for an executable file", () => {
    expect(findBinary("ffmpeg", { env: { PATH: `/nowhere:${dir}` } })).toEqual({
      path: join(dir, "ffmpeg"),
      source: "path",
    });
  });

  it("falls back to the npm static build, skipping non-executable files on PATH", () => {
    const found = findBinary("ffprobe", { env: { PATH: dir } });
    expect(found?.source).toBe("npm");
    expect(found?.path).toContain("@ffprobe-installer");
  });
});
