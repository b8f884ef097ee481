import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HlsOutput } from "../../../node/src/broadcaster/hls-output.ts";
import { presetProfile } from "../../../node/src/media/profiles.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const output = (dir: string) =>
  new HlsOutput({
    dir,
    profiles: [presetProfile("360p"), presetProfile("240p")],
    hasAudio: false,
    frameRate: () => 30,
  });

describe("HlsOutput with nothing written", () => {
  it("removes the folders and empty playlists it made, the output folder included", async () => {
    const parent = await mkdtemp(join(tmpdir(), "segmint-hls-unit-"));
    dirs.push(parent);
    const out = output(join(parent, "new", "hls"));
    await out.init();
    expect((await readdir(join(parent, "new", "hls"))).sort()).toEqual(["240p", "360p"]);
    expect(await out.finish()).toMatchObject({ segments: 0 });
    expect(await readdir(parent)).toEqual([]);
  });

  it("leaves a folder that was there before, and anything else in it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "segmint-hls-unit-"));
    dirs.push(dir);
    await mkdir(join(dir, "notes"));
    const out = output(dir);
    await out.init();
    await out.finish();
    expect(await readdir(dir)).toEqual(["notes"]);
  });
});
