import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createIngestMetrics,
  type Ingest,
  type IngestOptions,
  startIngest,
} from "../../../node/src/live/ingest.ts";
import { keyHint } from "../../../node/src/live/ingest-policy.ts";
import type { LiveSegment, PublishedStream } from "../../../node/src/live/interface.ts";
import { probeMedia, runBinary } from "../../../node/src/media/index.ts";
import { createMediaWorkspace, ffmpegChildren, type MediaWorkspace } from "../../helpers/media.ts";

/**
 * The RTMP ingest with real ffmpeg publishers pushing test pictures in real time (-re), as OBS
 * would: pieces arrive while the publisher is still sending, each one decodes alone, and every
 * refusal leaves the other streams running.
 */

let ws: MediaWorkspace;
/** The ingests' ffmpeg working directories go here, so leftovers are ours alone to see. */
let tmpRoot: string;
const ingests: Ingest[] = [];
const pushers = new Set<ChildProcess>();

beforeAll(async () => {
  ws = await createMediaWorkspace();
  tmpRoot = join(ws.dir, "ingest-tmp");
  await mkdir(tmpRoot);
});
afterEach(async () => {
  for (const pusher of pushers) pusher.kill("SIGKILL");
  await Promise.all([...pushers].map(exited));
  for (const ingest of ingests.splice(0)) await ingest.stop();
  expect(ffmpegChildren()).toEqual([]);
  expect(await readdir(tmpRoot)).toEqual([]);
});
afterAll(() => ws.cleanup());

interface LogLine {
  msg: string;
  code?: string;
  [field: string]: unknown;
}

/** An ingest whose log lines and metrics are kept for the test to read. */
async function ingestWithLog(options: Omit<IngestOptions, "ffmpegPath" | "log">): Promise<{
  ingest: Ingest;
  logs: LogLine[];
  metric: (name: string, code?: string) => Promise<number>;
}> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim().length > 0) logs.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const registry = new Registry();
  const ingest = await startIngest({
    ...options,
    ffmpegPath: ws.ffmpegPath,
    log: pino(sink),
    tmpRoot,
    metrics: createIngestMetrics(registry),
  });
  ingests.push(ingest);
  /** A metric's value, summed over its labels unless `code` picks one. */
  const metric = async (name: string, code?: string) => {
    const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    return (found?.values ?? [])
      .filter((value) => code === undefined || value.labels.code === code)
      .reduce((sum, value) => sum + value.value, 0);
  };
  return { ingest, logs, metric };
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

function codes(logs: LogLine[]): string[] {
  return logs.map((line) => line.code).filter((code): code is string => code !== undefined);
}

/** Sends `bytes` on a raw TCP connection and resolves when the server hangs up. */
function sendRaw(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    socket.on("error", () => {});
    socket.on("close", () => resolve());
    socket.resume();
  });
}

describe("RTMP ingest", () => {
  it("cuts two live publishers (with and without audio) into keyframe pieces as they arrive", async () => {
    const streams = new Map<string, PublishedStream>();
    const { ingest, logs, metric } = await ingestWithLog({
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
    // No audio and no onMetaData at all: size, rate and codecs come from the stream itself.
    const silent = push({
      url: `${ingest.url}/live/silent`,
      seconds: 6,
      audio: false,
      videoArgs: [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "60",
        "-flvflags",
        "no_metadata",
      ],
    });
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
      [silentRead, 6, silentStream],
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
    expect(silentStream.source()).toEqual({
      videoCodec: "h264",
      width: 1280,
      height: 720,
      fps: 30,
      audioCodec: null,
    });
    expect(ingest.activeStreams()).toEqual([]);
    expect(codes(logs)).toEqual([]);
    expect(await metric("segmint_ingest_segments_total")).toBe(6);
    expect(await metric("segmint_ingest_live_streams")).toBe(0);
    expect(await metric("segmint_ingest_refusals_total")).toBe(0);
    expect(await metric("segmint_ingest_received_bytes_total")).toBeGreaterThan(0);
  });

  it("refuses bad publishers one by one while another stream keeps running", async () => {
    const streams = new Map<string, PublishedStream>();
    const { ingest, logs, metric } = await ingestWithLog({
      segmentSeconds: 2,
      limits: { maxStreams: 2, idleSeconds: 2, connectSeconds: 5 },
      handlers: {
        authorize: (key) =>
          key === "nobody" ? { accept: false, reason: "unknown key" } : { accept: true },
        onPublish: (stream) => streams.set(stream.streamKey, stream),
      },
    });
    const witness = push({ url: `${ingest.url}/live/witness`, seconds: 14, size: "640x360" });
    await until(() => streams.has("witness"), 20_000, "the witness stream");
    const witnessStream = streams.get("witness");
    if (!witnessStream) throw new Error("witness missing");
    const witnessRead = collect(witnessStream, () => witness);
    await until(() => witnessRead.received.length >= 1, 20_000, "the witness's first piece");

    // Each refused publisher is dropped: ffmpeg fails, the TCP peer sees the connection close.
    const refused = [
      push({ url: `${ingest.url}/live/nobody`, seconds: 20, size: "320x240" }),
      push({ url: `${ingest.url}/live/witness`, seconds: 20, size: "320x240" }),
      push({
        url: `${ingest.url}/live/sorenson`,
        seconds: 20,
        size: "320x240",
        videoArgs: ["-c:v", "flv", "-g", "60"],
      }),
      push({ url: `${ingest.url}/other/key2`, seconds: 20, size: "320x240" }),
    ];
    await Promise.all([
      ...refused.map(async (child) => expect(await exited(child)).not.toBe(0)),
      sendRaw(ingest.port, Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")),
      // A valid version byte, then noise where the handshake and commands should be.
      sendRaw(
        ingest.port,
        Buffer.concat([Buffer.from([3]), Buffer.alloc(8192, 0xa7), Buffer.alloc(4096, 0x05)]),
      ),
    ]);
    await until(() => codes(logs).length >= 6, 10_000, "six refusals logged");
    const refusals = codes(logs);
    expect(refusals, JSON.stringify(logs.filter((line) => line.code !== undefined))).toEqual(
      expect.arrayContaining([
        "INGEST_KEY_REFUSED",
        "INGEST_KEY_BUSY",
        "INGEST_UNSUPPORTED_CODEC",
        "INGEST_WRONG_APP",
        "INGEST_PROTOCOL_ERROR",
      ]),
    );
    // The noise after a good version byte is unparseable, or never becomes a publish and goes
    // quiet: either way that connection is dropped too.
    const noise = ["INGEST_PROTOCOL_ERROR", "INGEST_NOT_PUBLISHING", "INGEST_IDLE"];
    expect(refusals.filter((code) => noise.includes(code)).length).toBe(2);
    expect([...streams.keys()]).toEqual(["witness"]);
    // Refused connections release their slot once they are gone.
    await until(() => ingest.activeStreams().length === 1, 10_000, "refused slots released");

    // A stalled publisher (its encoder frozen) is ended after the idle limit; the stream's
    // pieces end cleanly. While it is live, a third stream is one too many.
    const staller = push({ url: `${ingest.url}/live/staller`, seconds: 30, size: "320x240" });
    await until(() => streams.has("staller"), 20_000, "the stalling stream");
    const stallStream = streams.get("staller");
    if (!stallStream) throw new Error("staller missing");
    const stallRead = collect(stallStream, () => staller);
    await until(() => stallRead.received.length >= 1, 20_000, "the staller's first piece");
    const third = push({ url: `${ingest.url}/live/third`, seconds: 20, size: "320x240" });
    expect(await exited(third)).not.toBe(0);
    expect(codes(logs)).toContain("INGEST_TOO_MANY_STREAMS");
    staller.kill("SIGSTOP");
    await stallRead.done;
    expect(stallStream.endReason()).toBe("stalled");
    expect(
      logs.some((line) => line.code === "INGEST_IDLE" && line.key === keyHint("staller")),
    ).toBe(true);
    staller.kill("SIGKILL");
    staller.kill("SIGCONT");
    await exited(staller);
    const stallIndices = stallRead.received.map((r) => r.segment.index);
    expect(stallIndices).toEqual(stallIndices.map((_, i) => i));

    // The witness never noticed: every piece, in order, to the end.
    await witnessRead.done;
    expect(await exited(witness)).toBe(0);
    const witnessSegments = witnessRead.received.map((r) => r.segment);
    expect(witnessSegments.map((s) => s.index)).toEqual(witnessSegments.map((_, i) => i));
    const total = witnessSegments.reduce((sum, s) => sum + s.durationSeconds, 0);
    expect(Math.abs(total - 14)).toBeLessThan(0.2);
    expect(witnessStream.endReason()).toBe("unpublished");
    expect(ingest.activeStreams()).toEqual([]);
    // Every refusal logged is counted under its code.
    for (const code of new Set(codes(logs))) {
      expect(await metric("segmint_ingest_refusals_total", code)).toBe(
        codes(logs).filter((logged) => logged === code).length,
      );
    }
    expect(await metric("segmint_ingest_refusals_total")).toBe(codes(logs).length);
  });

  it("refuses streams over the picture and bitrate limits, lets a reconnect replace a dead connection, and stop() ends the rest", async () => {
    const streams = new Map<string, PublishedStream>();
    const published: PublishedStream[] = [];
    const { ingest, logs } = await ingestWithLog({
      segmentSeconds: 2,
      limits: { maxWidth: 640, maxHeight: 360, maxVideoBitsPerSecond: 400_000 },
      handlers: {
        authorize: () => ({ accept: true }),
        onPublish: (stream) => {
          streams.set(stream.streamKey, stream);
          published.push(stream);
        },
      },
    });
    const small = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "60"];
    const gentle = [...small, "-b:v", "100k", "-maxrate", "120k", "-bufsize", "240k"];
    const calm = push({
      url: `${ingest.url}/live/calm`,
      seconds: 30,
      size: "320x240",
      videoArgs: gentle,
    });
    // A publisher whose connection dies silently (frozen), then reconnects on the same key.
    const frozen = push({
      url: `${ingest.url}/live/phoenix`,
      seconds: 30,
      size: "320x240",
      videoArgs: gentle,
    });
    const big = push({ url: `${ingest.url}/live/big`, seconds: 30, size: "1280x720" });
    const greedy = push({
      url: `${ingest.url}/live/greedy`,
      seconds: 30,
      size: "640x360",
      videoArgs: [...small, "-b:v", "2M", "-minrate", "2M", "-maxrate", "2M", "-bufsize", "1M"],
    });
    expect(await exited(big)).not.toBe(0);
    expect(await exited(greedy)).not.toBe(0);
    expect(codes(logs)).toEqual(
      expect.arrayContaining(["INGEST_RESOLUTION_TOO_LARGE", "INGEST_BITRATE_TOO_HIGH"]),
    );
    // The greedy stream had started (its bitrate is measured over seconds), then was closed.
    expect(streams.get("greedy")?.endReason()).toBe("closed");
    expect(streams.has("big")).toBe(false);

    await until(() => streams.has("phoenix"), 20_000, "the first phoenix connection");
    const firstPhoenix = streams.get("phoenix");
    if (!firstPhoenix) throw new Error("phoenix missing");
    const firstRead = collect(firstPhoenix, () => frozen);
    await until(() => firstRead.received.length >= 1, 20_000, "the first phoenix piece");
    frozen.kill("SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const reborn = push({
      url: `${ingest.url}/live/phoenix`,
      seconds: 30,
      size: "320x240",
      videoArgs: gentle,
    });
    await until(() => streams.get("phoenix") !== firstPhoenix, 20_000, "the reconnect");
    await firstRead.done;
    // Ended as a drop (the publisher may be back), well before the 10 s idle limit.
    expect(firstPhoenix.endReason()).toBe("dropped");
    frozen.kill("SIGKILL");
    frozen.kill("SIGCONT");
    await exited(frozen);
    const secondPhoenix = streams.get("phoenix");
    if (!secondPhoenix) throw new Error("second phoenix missing");
    const secondRead = collect(secondPhoenix, () => reborn);
    await until(() => secondRead.received.length >= 1, 20_000, "the reconnect's first piece");
    expect(codes(logs)).not.toContain("INGEST_KEY_BUSY");
    expect(codes(logs)).not.toContain("INGEST_IDLE");

    const calmStream = streams.get("calm");
    if (!calmStream) throw new Error("calm stream missing");
    const calmRead = collect(calmStream, () => calm);
    await until(() => calmRead.received.length >= 1, 20_000, "the calm stream's first piece");
    expect(calm.exitCode).toBeNull();
    await ingest.stop();
    await calmRead.done;
    await secondRead.done;
    expect(calmStream.endReason()).toBe("closed");
    expect(secondPhoenix.endReason()).toBe("closed");
    expect(published.map((stream) => stream.streamKey).sort()).toEqual([
      "calm",
      "greedy",
      "phoenix",
      "phoenix",
    ]);
    expect(ingest.activeStreams()).toEqual([]);
    expect(await exited(calm)).not.toBe(0);
  });

  it("ends only its own stream, as closed, when a stream's segmenter dies", async () => {
    const streams = new Map<string, PublishedStream>();
    const { ingest, logs } = await ingestWithLog({
      segmentSeconds: 2,
      handlers: {
        authorize: () => ({ accept: true }),
        onPublish: (stream) => streams.set(stream.streamKey, stream),
      },
    });
    const publisher = push({ url: `${ingest.url}/live/doomed`, seconds: 30, size: "320x240" });
    await until(() => streams.has("doomed"), 20_000, "the stream");
    const stream = streams.get("doomed");
    if (!stream) throw new Error("stream missing");
    const read = collect(stream, () => publisher);
    await until(() => read.received.length >= 1, 20_000, "the first piece");
    // The one ffmpeg child that is not a publisher is the stream's segmenter.
    const publishers = new Set([...pushers].map((child) => child.pid));
    const segmenters = ffmpegChildren()
      .map((line) => Number.parseInt(line, 10))
      .filter((pid) => !publishers.has(pid));
    expect(segmenters).toHaveLength(1);
    process.kill(segmenters[0] ?? 0, "SIGKILL");
    await read.done;
    expect(stream.endReason()).toBe("closed");
    // The publisher is dropped: nothing could take its data any more.
    expect(await exited(publisher)).not.toBe(0);
    await until(() => ingest.activeStreams().length === 0, 10_000, "the key released");
    expect(codes(logs)).toEqual([]);
  });
});
