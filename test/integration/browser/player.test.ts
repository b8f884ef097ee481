import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveHttpServer, startLiveHttpServer } from "../../../node/src/live/http-server.ts";
import type { LiveRenditionInfo } from "../../../node/src/live/interface.ts";
import { LiveHls, type LiveStreamView } from "../../../node/src/live/playlists.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import {
  launchBrowser,
  readPlayer,
  type TestBrowser,
  waitForPlayer,
} from "../../helpers/browser.ts";
import { createMediaWorkspace, type MediaWorkspace } from "../../helpers/media.ts";

/** Two publisher connections of 6 segments each: the second starts its timestamps over. */
const SEGMENTS_PER_CONNECTION = 6;
const SEGMENTS = 2 * SEGMENTS_PER_CONNECTION;
interface FeedPlan {
  /** Whether the 360p rendition of this segment misses its deadline. */
  skip360p(seq: number): boolean;
  /** Whether the publisher reconnects before this segment. */
  reconnect(seq: number): boolean;
}
const SEGMENT_SECONDS = 2;
const KEY = "browser-test";

const renditions: LiveRenditionInfo[] = [
  {
    name: "source",
    width: 1280,
    height: 720,
    bandwidth: 4_000_000,
    codecs: "avc1.42c01f,mp4a.40.2",
    frameRate: 30,
  },
  {
    name: "360p",
    width: 640,
    height: 360,
    bandwidth: 800_000,
    codecs: "avc1.42c01e,mp4a.40.2",
    frameRate: 30,
  },
];

/**
 * One publisher connection's worth of 720p30 test video cut into 2 s MPEG-TS segments, and the
 * same at 360p: one ffmpeg run, so both renditions share timestamps as a transcoded ladder
 * does. Each run's timestamps start over, as a reconnecting publisher's do.
 */
async function makeSegments(media: MediaWorkspace, connection: string): Promise<void> {
  const x264 = (prefix: string) => [
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-crf",
    "30",
    "-g",
    "60",
    "-keyint_min",
    "60",
    "-sc_threshold",
    "0",
    "-c:a",
    "aac",
    "-f",
    "segment",
    "-segment_time",
    String(SEGMENT_SECONDS),
    "-segment_format",
    "mpegts",
    join(media.dir, `${connection}-${prefix}%03d.ts`),
  ];
  const seconds = String(SEGMENTS_PER_CONNECTION * SEGMENT_SECONDS);
  await promisify(execFile)(media.ffmpegPath, [
    "-hide_banner",
    "-loglevel",
    "error",
    "-f",
    "lavfi",
    "-t",
    seconds,
    "-i",
    "testsrc2=size=1280x720:rate=30",
    "-f",
    "lavfi",
    "-t",
    seconds,
    "-i",
    "sine=frequency=440:sample_rate=48000",
    "-filter_complex",
    "[0:v]split=2[hi][lo0];[lo0]scale=640:360[lo]",
    "-map",
    "[hi]",
    "-map",
    "1:a",
    ...x264("source"),
    "-map",
    "[lo]",
    "-map",
    "1:a",
    ...x264("360p"),
  ]);
}

/**
 * Feeds the segments in real time as a live broadcaster would: segment N's first frame is
 * "captured" at start + 2N s, it is complete 2 s later (the source is listed then), and its
 * transcoded rendition follows a moment after, except the one that is skipped. Halfway the
 * publisher "reconnects".
 */
async function feed(
  media: MediaWorkspace,
  live: LiveHls,
  plan: FeedPlan,
  signal: AbortSignal,
): Promise<void> {
  const start = Date.now();
  const sleepUntil = (at: number) =>
    new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
  for (let seq = 0; seq < SEGMENTS && !signal.aborted; seq++) {
    const connection = seq < SEGMENTS_PER_CONNECTION ? "a" : "b";
    const name = `${String(seq % SEGMENTS_PER_CONNECTION).padStart(3, "0")}.ts`;
    const [source, low] = await Promise.all([
      readFile(join(media.dir, `${connection}-source${name}`)),
      readFile(join(media.dir, `${connection}-360p${name}`)),
    ]);
    const wallClockMs = start + seq * SEGMENT_SECONDS * 1000;
    await sleepUntil(wallClockMs + SEGMENT_SECONDS * 1000);
    await live.addSource(
      seq,
      {
        index: seq,
        data: source,
        startSeconds: seq * SEGMENT_SECONDS,
        durationSeconds: SEGMENT_SECONDS,
        wallClockMs,
      },
      plan.reconnect(seq),
    );
    await sleepUntil(wallClockMs + SEGMENT_SECONDS * 1000 + 400);
    if (plan.skip360p(seq)) {
      await live.skip(seq, "360p");
      continue;
    }
    await live.addRendition(seq, {
      profile: "360p",
      data: low,
      width: 640,
      height: 360,
      frames: 60,
      pixels: 640 * 360 * 60,
      durationSeconds: SEGMENT_SECONDS,
      sha256: "",
    });
  }
  await live.end();
}

describe("the player page in Chromium, on a live stream", () => {
  let media: MediaWorkspace;
  let server: LiveHttpServer;
  let browser: TestBrowser | undefined;
  const streams = new Map<string, LiveStreamView>();
  const stop = new AbortController();
  const newStream = (streamKey: string) => {
    const live = new LiveHls({
      streamKey,
      renditions,
      segmentSeconds: SEGMENT_SECONDS,
      recordDir: null,
      log: silentLogger(),
    });
    streams.set(streamKey, live);
    return live;
  };

  beforeAll(async () => {
    media = await createMediaWorkspace();
    await makeSegments(media, "a");
    await makeSegments(media, "b");
    server = await startLiveHttpServer({
      host: "127.0.0.1",
      port: 0,
      streams: () => streams,
      status: () => ({}),
      metrics: null,
      healthy: () => true,
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    stop.abort();
    await browser?.close();
    await server?.close();
    await media?.cleanup();
  });

  it("plays near the live edge, shows the latency, lists and switches renditions, plays through a skip and a reconnect to the end", async () => {
    if (browser === undefined) throw new Error("no browser");
    // The viewer arrives before the publisher: the page waits for the stream.
    const page: Page = await browser.open(`${server.url}/watch/${KEY}`);
    const waiting = await readPlayer(page);
    expect(waiting.state).toBe("waiting");

    const live = newStream(KEY);
    const feeding = feed(
      media,
      live,
      { skip360p: (seq) => seq === 3, reconnect: (seq) => seq === SEGMENTS_PER_CONNECTION },
      stop.signal,
    );

    const started = await waitForPlayer(
      page,
      (p) => p.state === "playing" && p.currentTime > 0,
      60_000,
      "playback to start",
    );
    const advanced = await waitForPlayer(
      page,
      (p) => p.currentTime > started.currentTime + 2 && p.latencySeconds !== null,
      30_000,
      "video time to advance",
    );
    // Latency is wall clock minus the PROGRAM-DATE-TIME of the frame shown: positive, and
    // within the playlist's window (it would be larger if the player started at the oldest
    // listed segment rather than near the live edge).
    expect(advanced.latencySeconds).toBeGreaterThan(0);
    expect(advanced.latencySeconds).toBeLessThan(6 * SEGMENT_SECONDS);

    // The picker: auto plus each rendition of the master playlist.
    const options = await page.locator("#level option").allTextContents();
    expect(options).toHaveLength(3);
    expect(options.some((text) => text.includes("source"))).toBe(true);
    expect(options.some((text) => text.includes("360p"))).toBe(true);
    expect(advanced.levels.map((l) => l.name).sort()).toEqual(["360p", "source"]);

    // Picking a rendition switches the picture to it.
    const index = (name: string) => String(advanced.levels.findIndex((l) => l.name === name));
    await page.selectOption("#level", index("360p"));
    await waitForPlayer(
      page,
      (p) => p.resolution === "640x360",
      30_000,
      "the 360p rendition on screen",
    );
    await page.selectOption("#level", index("source"));
    const back = await waitForPlayer(
      page,
      (p) => p.resolution === "1280x720",
      30_000,
      "the source rendition on screen",
    );
    expect(back.currentTime).toBeGreaterThan(advanced.currentTime);

    await feeding;
    // Through the skipped segment and the reconnect (timestamps starting over) to the end.
    const ended = await waitForPlayer(
      page,
      (p) => p.ended && p.state === "ended",
      60_000,
      "playback to reach the end of the stream",
    );
    expect(ended.currentTime).toBeGreaterThan(back.currentTime);
    expect(browser.pageErrors).toEqual([]);
  });

  it("leaves a rendition that stops advancing for one that does, and keeps playing", async () => {
    if (browser === undefined) throw new Error("no browser");
    const page: Page = await browser.open(`${server.url}/watch/dead-rendition`);
    const live = newStream("dead-rendition");
    // From segment 4 on, 360p never comes again: every one misses its deadline.
    const feeding = feed(
      media,
      live,
      { skip360p: (seq) => seq >= 4, reconnect: () => false },
      stop.signal,
    );
    const started = await waitForPlayer(
      page,
      (p) => p.state === "playing" && p.levels.length === 2,
      60_000,
      "playback to start",
    );
    const low = String(started.levels.findIndex((l) => l.name === "360p"));
    await page.selectOption("#level", low);
    const onLow = await waitForPlayer(
      page,
      (p) => p.resolution === "640x360",
      30_000,
      "the 360p rendition on screen",
    );
    // The player gives 360p up and goes on with the source.
    const recovered = await waitForPlayer(
      page,
      (p) => p.resolution === "1280x720" && p.state === "playing",
      60_000,
      "the source rendition after 360p stopped",
    );
    await waitForPlayer(
      page,
      (p) => p.currentTime > recovered.currentTime + 2,
      30_000,
      "playback to go on",
    );
    expect(recovered.currentTime).toBeGreaterThan(onLow.currentTime);
    stop.abort();
    await feeding;
    expect(browser.pageErrors).toEqual([]);
  });
});
