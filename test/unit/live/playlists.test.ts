import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { VerifiedRendition } from "../../../node/src/broadcaster/interface.ts";
import { isSegmintError } from "../../../node/src/errors.ts";
import type { LiveRenditionInfo, LiveSegment } from "../../../node/src/live/interface.ts";
import { LiveHls, type LiveHlsOptions, liveHlsDefaults } from "../../../node/src/live/playlists.ts";
import { silentLogger } from "../../../node/src/log/index.ts";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

const renditions: LiveRenditionInfo[] = [
  {
    name: "source",
    width: 1280,
    height: 720,
    bandwidth: 3_000_000,
    codecs: "avc1.64001f,mp4a.40.2",
    frameRate: 30,
  },
  {
    name: "360p",
    width: 640,
    height: 360,
    bandwidth: 800_000,
    codecs: "avc1.64001e,mp4a.40.2",
    frameRate: 30,
  },
];

function source(seq: number, durationSeconds = 2, bytes = 1000): LiveSegment {
  return {
    index: seq,
    data: new Uint8Array(bytes).fill(seq % 256),
    startSeconds: seq * 2,
    durationSeconds,
    wallClockMs: T0 + seq * 2000,
  };
}

function rendition(seq: number, profile = "360p", bytes = 250): VerifiedRendition {
  return {
    profile,
    data: new Uint8Array(bytes).fill(seq % 256),
    width: 640,
    height: 360,
    frames: 60,
    pixels: 640 * 360 * 60,
    durationSeconds: 2,
    sha256: "00",
  };
}

/** The playlist's segments as [uri, tags before it] pairs, and its header tags. */
function parse(text: string) {
  const header = new Map<string, string>();
  const segments: Array<{ uri: string; pdt: string | undefined; discontinuity: boolean }> = [];
  let pending: string[] = [];
  for (const line of text.trim().split("\n")) {
    if (line.startsWith("#EXTINF") || line.startsWith("#EXT-X-PROGRAM-DATE-TIME")) {
      pending.push(line);
    } else if (line === "#EXT-X-DISCONTINUITY") {
      pending.push(line);
    } else if (line.startsWith("#")) {
      const [tag, value] = line.split(/:(.*)/);
      header.set(tag ?? line, value ?? "");
    } else {
      const pdt = pending.find((l) => l.startsWith("#EXT-X-PROGRAM-DATE-TIME:"));
      segments.push({
        uri: line,
        pdt: pdt?.slice("#EXT-X-PROGRAM-DATE-TIME:".length),
        discontinuity: pending.includes("#EXT-X-DISCONTINUITY"),
      });
      pending = [];
    }
  }
  return { header, segments };
}

function media(hls: LiveHls, name: string) {
  const text = hls.mediaPlaylist(name);
  if (text === null) throw new Error(`no playlist ${name}`);
  return parse(text);
}

describe("LiveHls", () => {
  let dir: string;
  const made: LiveHls[] = [];
  const make = (options: Partial<LiveHlsOptions> = {}) => {
    const hls = new LiveHls({
      streamKey: "key1",
      renditions,
      windowSize: 3,
      graceSegments: 2,
      recordDir: join(dir, "rec"),
      log: silentLogger(),
      ...options,
    });
    made.push(hls);
    return hls;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "segmint-livehls-"));
  });
  afterEach(async () => {
    // Live calls do not wait for their recording writes; let them land before cleaning up.
    await Promise.all(made.splice(0).map((hls) => hls.recorded()));
    await rm(dir, { recursive: true, force: true });
  });

  it("lists segments in a sliding window with PROGRAM-DATE-TIME and an advancing media sequence", async () => {
    const hls = make();
    expect(hls.masterPlaylist()).toBeNull();
    for (let seq = 0; seq < 5; seq++) {
      await hls.addSource(seq, source(seq), false);
      await hls.addRendition(seq, rendition(seq));
    }
    for (const name of ["source", "360p"]) {
      const { header, segments } = media(hls, name);
      expect(header.get("#EXT-X-MEDIA-SEQUENCE")).toBe("2");
      expect(header.get("#EXT-X-DISCONTINUITY-SEQUENCE")).toBe("0");
      expect(header.get("#EXT-X-TARGETDURATION")).toBe("2");
      expect(header.has("#EXT-X-ENDLIST")).toBe(false);
      expect(segments.map((s) => s.uri)).toEqual(["seg000002.ts", "seg000003.ts", "seg000004.ts"]);
      expect(segments.map((s) => s.pdt)).toEqual([
        new Date(T0 + 4000).toISOString(),
        new Date(T0 + 6000).toISOString(),
        new Date(T0 + 8000).toISOString(),
      ]);
      expect(segments[0]?.pdt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(segments.some((s) => s.discontinuity)).toBe(false);
    }
    expect(hls.stats()).toMatchObject({
      streamKey: "key1",
      segmentsIn: 5,
      lastWallClockMs: T0 + 8000,
      ended: false,
      renditions: [
        { name: "source", listed: 5, skipped: 0, mediaSequence: 2 },
        { name: "360p", listed: 5, skipped: 0, mediaSequence: 2 },
      ],
    });
  });

  it("lists a rendition strictly in order: a result ahead of a missing one waits", async () => {
    const hls = make();
    await hls.addSource(0, source(0), false);
    await hls.addSource(1, source(1), false);
    await hls.addRendition(1, rendition(1));
    expect(media(hls, "360p").segments).toEqual([]);
    expect(media(hls, "source").segments.map((s) => s.uri)).toEqual([
      "seg000000.ts",
      "seg000001.ts",
    ]);
    await hls.addRendition(0, rendition(0));
    expect(media(hls, "360p").segments.map((s) => s.uri)).toEqual(["seg000000.ts", "seg000001.ts"]);
  });

  it("waits for the source's wall clock when a rendition arrives before its source segment", async () => {
    const hls = make();
    await hls.addSource(0, source(0), false);
    await hls.addRendition(0, rendition(0));
    await hls.addRendition(1, rendition(1));
    expect(media(hls, "360p").segments).toHaveLength(1);
    await hls.addSource(1, source(1), false);
    const { segments } = media(hls, "360p");
    expect(segments.map((s) => s.pdt)).toEqual([
      new Date(T0).toISOString(),
      new Date(T0 + 2000).toISOString(),
    ]);
  });

  it("leaves a skipped segment out, marks the next one discontinuous and counts the tag once it slides out", async () => {
    const hls = make();
    for (let seq = 0; seq < 3; seq++) await hls.addSource(seq, source(seq), false);
    await hls.addRendition(0, rendition(0));
    await hls.skip(1, "360p");
    await hls.addRendition(2, rendition(2));
    // A result after its skip (deadline passed) and a skip after a listing are both ignored.
    await hls.addRendition(1, rendition(1));
    await hls.skip(2, "360p");
    let { header, segments } = media(hls, "360p");
    expect(segments.map((s) => [s.uri, s.discontinuity])).toEqual([
      ["seg000000.ts", false],
      ["seg000002.ts", true],
    ]);
    expect(header.get("#EXT-X-DISCONTINUITY-SEQUENCE")).toBe("0");
    expect(media(hls, "source").segments.some((s) => s.discontinuity)).toBe(false);

    for (let seq = 3; seq < 6; seq++) {
      await hls.addSource(seq, source(seq), false);
      await hls.addRendition(seq, rendition(seq));
    }
    ({ header, segments } = media(hls, "360p"));
    expect(segments.map((s) => s.uri)).toEqual(["seg000003.ts", "seg000004.ts", "seg000005.ts"]);
    expect(header.get("#EXT-X-MEDIA-SEQUENCE")).toBe("2");
    expect(header.get("#EXT-X-DISCONTINUITY-SEQUENCE")).toBe("1");
    expect(hls.stats().renditions[1]).toMatchObject({ listed: 5, skipped: 1 });
  });

  it("gives every rendition a discontinuity where the publisher reconnected", async () => {
    const hls = make();
    await hls.addSource(0, source(0), false);
    await hls.addRendition(0, rendition(0));
    await hls.addSource(1, source(1), true);
    await hls.addRendition(1, rendition(1));
    for (const name of ["source", "360p"]) {
      expect(media(hls, name).segments.map((s) => s.discontinuity)).toEqual([false, true]);
    }
  });

  it("keeps the target duration from the configured segment length and grows it, never shrinks it", async () => {
    const hls = make({ segmentSeconds: 2 });
    await hls.addSource(0, source(0, 1.2), false);
    expect(media(hls, "source").header.get("#EXT-X-TARGETDURATION")).toBe("2");
    await hls.addSource(1, source(1, 3.6), false);
    expect(media(hls, "source").header.get("#EXT-X-TARGETDURATION")).toBe("4");
    for (let seq = 2; seq < 6; seq++) await hls.addSource(seq, source(seq, 2), false);
    // The long segment left the window; the value stays.
    expect(media(hls, "source").header.get("#EXT-X-TARGETDURATION")).toBe("4");
  });

  it("serves segment bytes for the window plus the grace, then lets them go", async () => {
    const hls = make();
    for (let seq = 0; seq < 8; seq++) await hls.addSource(seq, source(seq), false);
    // Window 3 + grace 2: segments 3..7 are kept.
    expect(hls.segment("source", "seg000002.ts")).toBeNull();
    expect(hls.segment("source", "seg000003.ts")?.[0]).toBe(3);
    expect(hls.segment("source", "seg000007.ts")?.byteLength).toBe(1000);
    expect(hls.segment("360p", "seg000007.ts")).toBeNull();
    expect(hls.segment("nope", "seg000007.ts")).toBeNull();
    expect(hls.mediaPlaylist("nope")).toBeNull();
  });

  it("writes a master with every rendition: nominal bandwidth first, measured once segments exist", async () => {
    const hls = make();
    await hls.addSource(0, source(0, 2, 1000), false);
    const before = hls.masterPlaylist() ?? "";
    expect(before).toContain(
      '#EXT-X-STREAM-INF:BANDWIDTH=4000,AVERAGE-BANDWIDTH=4000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000\nsource/index.m3u8',
    );
    expect(before).toContain(
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=30.000\n360p/index.m3u8',
    );
    await hls.addRendition(0, rendition(0, "360p", 500));
    expect(hls.masterPlaylist()).toContain(
      "BANDWIDTH=2000,AVERAGE-BANDWIDTH=2000,RESOLUTION=640x360",
    );
  });

  it("ends every playlist and leaves a complete VOD recording with a master", async () => {
    const hls = make();
    for (let seq = 0; seq < 6; seq++) await hls.addSource(seq, source(seq), seq === 4);
    await hls.addRendition(0, rendition(0));
    await hls.skip(1, "360p");
    await hls.addRendition(2, rendition(2));
    // 3 never comes; 4 and 5 arrived after the hole.
    await hls.addRendition(5, rendition(5));
    await hls.addRendition(4, rendition(4));
    await hls.end();
    await hls.end();
    expect(hls.stats().ended).toBe(true);
    for (const name of ["source", "360p"]) {
      expect(hls.mediaPlaylist(name)).toMatch(/#EXT-X-ENDLIST\n$/);
    }
    expect(media(hls, "360p").segments.map((s) => s.uri)).toEqual([
      "seg000002.ts",
      "seg000004.ts",
      "seg000005.ts",
    ]);

    const rec = join(dir, "rec");
    expect((await readdir(join(rec, "source"))).sort()).toEqual([
      "index.m3u8",
      ...[0, 1, 2, 3, 4, 5].map((seq) => `seg00000${seq}.ts`),
    ]);
    expect(await readFile(join(rec, "source", "seg000003.ts"))).toEqual(
      Buffer.from(source(3).data),
    );
    const sourceVod = await readFile(join(rec, "source", "index.m3u8"), "utf8");
    expect(sourceVod).toContain("#EXT-X-PLAYLIST-TYPE:VOD\n");
    expect(sourceVod).toMatch(/#EXT-X-ENDLIST\n$/);
    expect(parse(sourceVod).segments.map((s) => [s.uri, s.discontinuity])).toEqual([
      ["seg000000.ts", false],
      ["seg000001.ts", false],
      ["seg000002.ts", false],
      ["seg000003.ts", false],
      ["seg000004.ts", true],
      ["seg000005.ts", false],
    ]);
    const renditionVod = parse(await readFile(join(rec, "360p", "index.m3u8"), "utf8"));
    expect(renditionVod.segments.map((s) => [s.uri, s.discontinuity])).toEqual([
      ["seg000000.ts", false],
      ["seg000002.ts", true],
      ["seg000004.ts", true],
      ["seg000005.ts", false],
    ]);
    expect(renditionVod.segments[1]?.pdt).toBe(new Date(T0 + 4000).toISOString());
    const master = await readFile(join(rec, "index.m3u8"), "utf8");
    expect(master).toContain("source/index.m3u8");
    expect(master).toContain("360p/index.m3u8");

    // Nothing more is listed after the end.
    await hls.addSource(6, source(6), false);
    expect(hls.stats().segmentsIn).toBe(6);
  });

  it("lets the recording trail the live playlists by a bounded backlog, then catches up", async () => {
    const hls = make();
    let most = 0;
    for (let seq = 0; seq < 40; seq++) {
      await hls.addSource(seq, source(seq), false);
      await hls.addRendition(seq, rendition(seq));
      most = Math.max(most, hls.stats().recordBacklog);
    }
    // Two renditions, four segments each, plus the step that found it full.
    expect(most).toBeLessThanOrEqual(2 * liveHlsDefaults.recordBacklogSegments + 1);
    await hls.recorded();
    expect(hls.stats().recordBacklog).toBe(0);
    expect(await readdir(join(dir, "rec", "360p"))).toHaveLength(41);
  });

  it("skips a rendition that never answers once it is too far behind, so memory stays bounded", async () => {
    const hls = make({ maxLagSegments: 4 });
    for (let seq = 0; seq < 10; seq++) await hls.addSource(seq, source(seq), false);
    // Segments 0..5 were given up; the playlist waits for 6 onwards.
    await hls.addRendition(6, rendition(6));
    expect(media(hls, "360p").segments.map((s) => s.uri)).toEqual(["seg000006.ts"]);
    expect(hls.stats().renditions[1]).toMatchObject({ listed: 1, skipped: 6 });
  });

  it("holds the same memory after thousands of segments, one rendition never answering", async () => {
    const hls = make({ recordDir: null, maxLagSegments: 10 });
    const held: Array<{ bytes: number; waiting: number }> = [];
    for (let seq = 0; seq < 3_000; seq++) {
      await hls.addSource(seq, source(seq), false);
      if (seq % 1_000 === 999) {
        const { bytesInMemory, waiting } = hls.stats();
        held.push({ bytes: bytesInMemory, waiting });
      }
    }
    // Window 3 + grace 2 source segments of 1000 bytes; 10 marks kept for the silent rendition.
    expect(held).toEqual([
      { bytes: 5_000, waiting: 10 },
      { bytes: 5_000, waiting: 10 },
      { bytes: 5_000, waiting: 10 },
    ]);
    expect(hls.stats().renditions[1]).toMatchObject({ listed: 0, skipped: 2_990 });
  });

  it("keeps the live playlists going when the recording cannot be written", async () => {
    const blocked = join(dir, "a-file");
    await writeFile(blocked, "not a folder");
    const hls = make({ recordDir: blocked });
    for (let seq = 0; seq < 3; seq++) await hls.addSource(seq, source(seq), false);
    await hls.end();
    expect(media(hls, "source").segments).toHaveLength(3);
    expect(hls.stats().recordErrors).toBeGreaterThan(0);
  });

  it("refuses duplicate rendition names and an empty window with one coded error", () => {
    const twice = [renditions[0], renditions[0]].flatMap((r) => (r === undefined ? [] : [r]));
    for (const options of [{ renditions: twice }, { windowSize: 0 }, { renditions: [] }]) {
      let caught: unknown;
      try {
        make(options);
      } catch (error) {
        caught = error;
      }
      expect(isSegmintError(caught) && caught.code).toBe("LIVE_HLS_OPTIONS_INVALID");
    }
  });
});
