import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { segmentName } from "../../../node/src/broadcaster/hls-output.ts";
import type { SourceSegment, VerifiedRendition } from "../../../node/src/broadcaster/interface.ts";
import {
  BroadcastRecord,
  checkOutFolder,
  inputFingerprint,
  RESUME_FILE,
} from "../../../node/src/broadcaster/resume.ts";
import { presetProfile } from "../../../node/src/media/profiles.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const ladder = [presetProfile("240p"), presetProfile("144p")];

function segment(index: number, bytes: string): SourceSegment {
  return { index, data: Buffer.from(bytes), startSeconds: index, durationSeconds: 1 };
}

/** A rendition as verification would hand it over, and its file where HLS writes it. */
async function rendition(dir: string, profile: string, index: number, bytes: string) {
  const data = Buffer.from(bytes);
  await mkdir(join(dir, profile), { recursive: true });
  await writeFile(join(dir, profile, segmentName(index)), data);
  const r: VerifiedRendition = {
    profile,
    data,
    width: 426,
    height: 240,
    frames: 30,
    pixels: 426 * 240 * 30,
    durationSeconds: 1,
    sha256: createHash("sha256").update(data).digest("hex"),
  };
  return r;
}

async function workspace() {
  const dir = await mkdtemp(join(tmpdir(), "segmint-resume-"));
  dirs.push(dir);
  return dir;
}

describe("BroadcastRecord", () => {
  it("takes back a recorded segment whose source and renditions are unchanged", async () => {
    const dir = await workspace();
    const first = await BroadcastRecord.open(dir, ladder);
    const renditions = [
      await rendition(dir, "240p", 0, "a240"),
      await rendition(dir, "144p", 0, "a144"),
    ];
    await first.record(segment(0, "source-0"), renditions);

    const again = await BroadcastRecord.open(dir, ladder);
    expect(again.size).toBe(1);
    const restored = await again.restore(segment(0, "source-0"));
    expect(restored?.map((r) => [r.profile, Buffer.from(r.data).toString()])).toEqual([
      ["240p", "a240"],
      ["144p", "a144"],
    ]);
    // Another source segment at that index, an unrecorded index: sent again.
    expect(await again.restore(segment(0, "other source"))).toBeNull();
    expect(await again.restore(segment(1, "source-1"))).toBeNull();
  });

  it("sends a segment again when a rendition file was changed or removed", async () => {
    const dir = await workspace();
    const record = await BroadcastRecord.open(dir, ladder);
    await record.record(segment(0, "s0"), [await rendition(dir, "240p", 0, "x")]);
    await record.record(segment(1, "s1"), [await rendition(dir, "240p", 1, "y")]);
    await writeFile(join(dir, "240p", segmentName(0)), "tampered");
    await rm(join(dir, "240p", segmentName(1)));
    const reopened = await BroadcastRecord.open(dir, ladder);
    expect(await reopened.restore(segment(0, "s0"))).toBeNull();
    expect(await reopened.restore(segment(1, "s1"))).toBeNull();
  });

  it("drops a record for another ladder with the files it lists, and leaves nothing when discarded", async () => {
    const dir = await workspace();
    const old = await BroadcastRecord.open(dir, ladder);
    await old.record(segment(0, "s0"), [await rendition(dir, "240p", 0, "old")]);
    const other = await BroadcastRecord.open(dir, [presetProfile("360p")]);
    expect(other.size).toBe(0);
    await expect(readFile(join(dir, "240p", segmentName(0)))).rejects.toThrow();
    await other.discard();
    await expect(readFile(join(dir, RESUME_FILE))).rejects.toThrow();
  });

  it("drops a record for another input, keeping the ones it does not know of", async () => {
    const dir = await workspace();
    const old = await BroadcastRecord.open(dir, ladder, "input-a");
    await old.record(segment(0, "s0"), [await rendition(dir, "240p", 0, "old")]);
    expect((await BroadcastRecord.open(dir, ladder, "input-a")).size).toBe(1);
    // A record without an input (an older Segmint's) matches any.
    expect((await BroadcastRecord.open(dir, ladder)).size).toBe(1);
    const other = await BroadcastRecord.open(dir, ladder, "input-b");
    expect(other.size).toBe(0);
    await expect(readFile(join(dir, "240p", segmentName(0)))).rejects.toThrow();
  });
});

describe("checkOutFolder", () => {
  it("lets a missing, empty or recorded folder through", async () => {
    const dir = await workspace();
    await checkOutFolder(join(dir, "missing"), false);
    await checkOutFolder(dir, false);
    const record = await BroadcastRecord.open(dir, ladder, "input-a");
    await record.record(segment(0, "s0"), [await rendition(dir, "240p", 0, "x")]);
    await writeFile(join(dir, "notes.txt"), "mine");
    await checkOutFolder(dir, false);
  });

  it("refuses another run's files without a record, and --overwrite removes only Segmint's", async () => {
    const dir = await workspace();
    await mkdir(join(dir, "240p"));
    await mkdir(join(dir, "1080p"));
    await writeFile(join(dir, "master.m3u8"), "#EXTM3U");
    await writeFile(join(dir, "240p", "index.m3u8"), "#EXTM3U");
    await writeFile(join(dir, "240p", segmentName(3)), "old");
    await writeFile(join(dir, "1080p", segmentName(0)), "old");
    await writeFile(join(dir, "notes.txt"), "mine");
    await writeFile(join(dir, "240p", "poster.jpg"), "mine");
    const refused = await checkOutFolder(dir, false).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: "OUT_DIR_NOT_EMPTY",
      details: { dir, files: 6, segmintFiles: 4 },
    });
    // Nothing was touched by the refusal.
    expect((await readdir(dir)).sort()).toEqual(["1080p", "240p", "master.m3u8", "notes.txt"]);

    await checkOutFolder(dir, true);
    expect((await readdir(dir)).sort()).toEqual(["240p", "notes.txt"]);
    expect(await readdir(join(dir, "240p"))).toEqual(["poster.jpg"]);
  });

  it("refuses a broadcast's folder, record and all, to segmint transcode, and --overwrite clears it", async () => {
    const dir = await workspace();
    const record = await BroadcastRecord.open(dir, ladder, "input-a");
    await record.record(segment(0, "s0"), [await rendition(dir, "240p", 0, "x")]);
    await writeFile(join(dir, "notes.txt"), "mine");
    const refused = await checkOutFolder(dir, false, "transcode").catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "OUT_DIR_NOT_EMPTY", details: { dir } });
    await checkOutFolder(dir, true, "transcode");
    expect(await readdir(dir)).toEqual(["notes.txt"]);
    // What is left is no run's: a transcode goes ahead.
    await rm(join(dir, "notes.txt"));
    await checkOutFolder(dir, false, "transcode");
  });

  it("fingerprints an input by its size and both ends", async () => {
    const dir = await workspace();
    const big = Buffer.alloc(3 << 20, 7);
    await writeFile(join(dir, "a.ts"), big);
    const a = await inputFingerprint(join(dir, "a.ts"));
    expect(await inputFingerprint(join(dir, "a.ts"))).toBe(a);
    big[big.length - 1] = 8;
    await writeFile(join(dir, "b.ts"), big);
    expect(await inputFingerprint(join(dir, "b.ts"))).not.toBe(a);
    await writeFile(join(dir, "c.ts"), "tiny");
    expect(await inputFingerprint(join(dir, "c.ts"))).toMatch(/^4:[0-9a-f]{64}$/);
  });
});
