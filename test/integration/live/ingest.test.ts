import { type ChildProcess, spawn } from "node:child_process";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Ingest, type IngestOptions, startIngest } from "../../../node/src/live/ingest.ts";
import type { LiveSegment, PublishedStream } from "../../../node/src/live/interface.ts";
import { probeMedia, runBinary } from "../../../node/src/media/index.ts";
import {
  createMediaWorkspace,
  ffmpegChildren,
  type MediaWorkspace,
  mediaTempEntries,
} from "../../helpers/media.ts";

/**
 * The RTMP ingest with real ffmpeg publishers pushing test pictures in real time (-re), as OBS
 * would: pieces arrive while the publisher is still sending, each one decodes alone, and every
 * refusal leaves the other streams running.
 */

let ws: MediaWorkspace;
let tempBefore: string[];
const ingests: Ingest[] = [];
const pushers = new Set<ChildProcess>();

beforeAll(async () => {
  ws = await createMediaWorkspace();
  tempBefore = await mediaTempEntries();
});
afterEach(async () => {
  for (const pusher of pushers) pusher.kill("SIGKILL");
  await Promise.all([...pushers].map(exited));
  for (const ingest of ingests.splice(0)) await ingest.stop();
  expect(ffmpegChildren()).toEqual([]);
  expect(await mediaTempEntries()).toEqual(tempBefore);
});
afterAll(() => ws.cleanup());

interface LogLine {
  msg: string;
  code?: string;
  [field: string]: unknown;
}

/** An ingest whose log lines are kept for the test to read. */
async function ingestWithLog(
  options: Omit<IngestOptions, "ffmpegPath" | "log">,
): Promise<{ ingest: Ingest; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim().length > 0) logs.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const ingest = await startIngest({ ...options, ffmpegPath: ws.ffmpegPath, log: pino(sink) });
  ingests.push(ingest);
  return { ingest, logs };
}

interface PushSpec {
  url: string;
  seconds: number;
  size?: string;
  audio?: boolean;
  videoArgs?: string[];
}

/** ffmpeg publishing testsrc2 (2 s GOPs) in real time, as a streaming app would. */
function push(spec: PushSpec): ChildProcess {
  const args = ["-hide_banner", "-nostdin", "-v", "error", "-re"];
  args.push("-f", "lavfi", "-i", `testsrc2=size=${spec.size ?? "1280x720"}:rate=30`);
  if (spec.audio !== false) args.push("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000");
  args.push("-t", String(spec.seconds));
  args.push(...(spec.videoArgs ?? ["-c:v", "libx264", "-preset", "ultrafast", "-g", "60"]));
  if (spec.audio !== false) args.push("-c:a", "aac");
  else args.push("-an");
  args.push("-f", "flv", spec.url);
  const child = spawn(ws.ffmpegPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr?.resume();
  pushers.add(child);
  child.on("close", () => pushers.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("close", (code) => resolve(code)));
}

interface Received {
  segment: LiveSegment;
  receivedAt: number;
  publisherRunning: boolean;
}

/** Reads a stream's segments as they come, noting whether its publisher was still sending. */
function collect(stream: PublishedStream, publisher: () => ChildProcess | undefined) {
  const received: Received[] = [];
  const done = (async () => {
    for await (const segment of stream.segments) {
      const child = publisher();
      received.push({
        segment,
        receivedAt: Date.now(),
        publisherRunning: child !== undefined && child.exitCode === null,
      });
    }
  })();
  return { received, done };
}

/** Waits until `check` holds, polling; fails the test after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Decodes a piece alone (every frame) and returns what ffmpeg complained about. */
async function decodeErrors(data: Uint8Array): Promise<string> {
  const result = await runBinary(ws.ffmpegPath, {
    args: ["-hide_banner", "-v", "error", "-f", "mpegts", "-i", "pipe:0", "-f", "null", "-"],
    stdin: Buffer.from(data),
    timeoutMs: 30_000,
  });
  return `${result.exitCode === 0 ? "" : `exit ${result.exitCode} `}${result.stderr.trim()}`;
}

describe("RTMP ingest", () => {
  it("cuts two live publishers (with and without audio) into keyframe pieces as they arrive", async () => {
    const streams = new Map<string, PublishedStream>();
    const { ingest } = await ingestWithLog({
      segmentSeconds: 2,
      handlers: {
        authorize: (key) =>
          key === "main" || key === "silent"
            ? { accept: true }
            : { accept: false, reason: "unknown key" },
        onPublish: (stream) => streams.set(stream.streamKey, stream),
      },
    });
    expect(ingest.url).toBe(`rtmp://127.0.0.1:${ingest.port}`);
    const pushedAt = Date.now();
    const main = push({ url: `${ingest.url}/live/main`, seconds: 6 });
    const silent = push({ url: `${ingest.url}/live/silent`, seconds: 4, audio: false });
    await until(() => streams.size === 2, 20_000, "both publishers");
    expect(ingest.activeStreams().sort()).toEqual(["main", "silent"]);
    const mainStream = streams.get("main");
    const silentStream = streams.get("silent");
    if (!mainStream || !silentStream) throw new Error("streams missing");
    const mainRead = collect(mainStream, () => main);
    const silentRead = collect(silentStream, () => silent);
    await Promise.all([mainRead.done, silentRead.done]);
    expect(await exited(main)).toBe(0);
    expect(await exited(silent)).toBe(0);

    for (const [read, seconds, stream] of [
      [mainRead, 6, mainStream],
      [silentRead, 4, silentStream],
    ] as const) {
      const segments = read.received.map((r) => r.segment);
      expect(segments.map((s) => s.index)).toEqual(segments.map((_, i) => i));
      expect(segments.length).toBe(seconds / 2);
      // Live, not at the end: pieces came while the publisher was still sending.
      expect(read.received.filter((r) => r.publisherRunning).length).toBeGreaterThanOrEqual(1);
      const total = segments.reduce((sum, s) => sum + s.durationSeconds, 0);
      expect(Math.abs(total - seconds)).toBeLessThan(0.2);
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        const got = read.received[i];
        if (!segment || !got) throw new Error("segment missing");
        // Sanity bounds only: the first frame arrived after the publisher started and before
        // the piece was handed over.
        expect(segment.wallClockMs).toBeGreaterThanOrEqual(pushedAt);
        expect(segment.wallClockMs).toBeLessThanOrEqual(got.receivedAt);
        if (i > 0) {
          const previous = segments[i - 1];
          expect(segment.wallClockMs).toBeGreaterThan(previous?.wallClockMs ?? 0);
          const end = (previous?.startSeconds ?? 0) + (previous?.durationSeconds ?? 0);
          expect(Math.abs(segment.startSeconds - end)).toBeLessThan(0.001);
        }
        const info = await probeMedia(Buffer.from(segment.data), {
          ffmpegPath: ws.ffmpegPath,
          format: "mpegts",
        });
        expect(info.video?.startsWithKeyframe).toBe(true);
        expect(info.video?.width).toBe(1280);
        expect(info.video?.height).toBe(720);
        expect(info.audio === undefined).toBe(stream === silentStream);
        expect(await decodeErrors(segment.data)).toBe("");
      }
      expect(stream.endReason()).toBe("unpublished");
    }
    expect(mainStream.source()).toEqual({
      videoCodec: "h264",
      width: 1280,
      height: 720,
      fps: 30,
      audioCodec: "aac",
    });
    expect(silentStream.source()?.audioCodec).toBeNull();
    expect(ingest.activeStreams()).toEqual([]);
  });
});
