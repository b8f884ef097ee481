/**
 * `npx tsx scripts/bench-ingest.ts [--json] [--seconds 20]`
 *
 * Compares the two ways to take RTMP in, on the same pre-encoded 720p30 H.264 + AAC stream
 * (2 s GOPs) pushed in real time by `ffmpeg -re -c copy` (so the publisher itself costs almost
 * nothing and keeps real time):
 *   (a) the ingest (node-media-server's RTMP engine in this process, one ffmpeg per stream
 *       copying FLV from a pipe into MPEG-TS pieces);
 *   (b) ffmpeg's own listener (`ffmpeg -listen 1 -i rtmp://...` with the same segment muxer).
 * For each: CPU seconds per stream-minute (this process's CPU plus the segmenting ffmpeg's for
 * (a), the listener's for (b)) and how long after a piece's last frame was due (publisher start
 * + the piece's end time) it was handed over, first piece and median of the others.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startIngest } from "../node/src/live/ingest.ts";
import { locateBinaries } from "../node/src/media/index.ts";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "20" },
  },
});
const seconds = Number(values.seconds);
if (!(seconds >= 6 && seconds <= 600)) {
  process.stderr.write("--seconds must be 6..600\n");
  process.exit(2);
}

const binaries = await locateBinaries();
const ffmpeg = binaries.ffmpeg.path;
const work = await mkdtemp(join(tmpdir(), "segmint-bench-ingest-"));
const TICKS_PER_SECOND = 100;

function run(args: string[]): void {
  execFileSync(ffmpeg, ["-hide_banner", "-v", "error", "-y", ...args]);
}

/** utime + stime of a live process, in seconds (0 once it is gone). */
async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Samples a process's CPU until it exits; resolves with the last sample. */
function trackCpu(pid: () => number | undefined): { stop(): Promise<number> } {
  let last = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const id = pid();
      if (id !== undefined) {
        const now = await cpuSecondsOf(id);
        if (now > 0) last = now;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return last;
    },
  };
}

/**
 * The child ffmpeg of this process reading FLV from a pipe (the ingest's segmenter), found by
 * reading /proc (spawning `ps` would bill its own cost to this process).
 */
let segmenter: number | undefined;
async function findSegmenter(): Promise<void> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent !== process.pid) continue;
      const args = await readFile(`/proc/${entry}/cmdline`, "utf8");
      if (args.includes("pipe:0") && args.includes("segment")) segmenter = Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function pushClip(url: string): ChildProcess {
  return spawn(
    ffmpeg,
    ["-hide_banner", "-v", "error", "-re", "-i", clip, "-c", "copy", "-f", "flv", url],
    {
      stdio: "ignore",
    },
  );
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("close", () => resolve()));
}

interface Result {
  cpuSecondsPerStreamMinute: number;
  /** For the ingest: the part spent in this Node.js process (RTMP parsing, FLV tags). */
  nodeCpuSecondsPerStreamMinute?: number;
  firstPieceLagSeconds: number;
  medianPieceLagSeconds: number;
  pieces: number;
}

function summarize(lags: number[], cpuSeconds: number): Result {
  const rest = lags.slice(1).sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    cpuSecondsPerStreamMinute: round((cpuSeconds / seconds) * 60),
    firstPieceLagSeconds: round(lags[0] ?? Number.NaN),
    medianPieceLagSeconds: round(rest[Math.floor(rest.length / 2)] ?? Number.NaN),
    pieces: lags.length,
  };
}

async function benchIngest(): Promise<Result> {
  const lags: number[] = [];
  let pushedAt = 0;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const ingest = await startIngest({
    ffmpegPath: ffmpeg,
    tmpRoot: work,
    handlers: {
      authorize: () => ({ accept: true }),
      onPublish(stream) {
        void (async () => {
          while (segmenter === undefined) {
            await findSegmenter();
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          for await (const piece of stream.segments) {
            lags.push(
              (Date.now() - pushedAt) / 1000 - (piece.startSeconds + piece.durationSeconds),
            );
          }
          finished();
        })();
      },
    },
  });
  const cpuBefore = process.cpuUsage();
  const segmenterCpu = trackCpu(() => segmenter);
  pushedAt = Date.now();
  const pusher = pushClip(`${ingest.url}/live/bench`);
  await exited(pusher);
  await done;
  const own = process.cpuUsage(cpuBefore);
  const ffmpegCpu = await segmenterCpu.stop();
  await ingest.stop();
  const nodeCpu = (own.user + own.system) / 1e6;
  return {
    ...summarize(lags, nodeCpu + ffmpegCpu),
    nodeCpuSecondsPerStreamMinute: Math.round((nodeCpu / seconds) * 60 * 1000) / 1000,
  };
}

async function benchListener(): Promise<Result> {
  const port = await freePort();
  const dir = await mkdtemp(join(work, "listen-"));
  const listener = spawn(
    ffmpeg,
    [
      ...["-hide_banner", "-nostdin", "-v", "error", "-listen", "1"],
      ...["-i", `rtmp://127.0.0.1:${port}/live/bench`, "-map", "0:v:0", "-map", "0:a:0?"],
      ...["-c", "copy", "-f", "segment", "-segment_time", "2", "-segment_format", "mpegts"],
      ...["-segment_list", "pipe:1", "-segment_list_type", "csv", join(dir, "seg%06d.ts")],
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const lags: number[] = [];
  let pushedAt = 0;
  let pending = "";
  listener.stdout?.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
      const [, , end] = pending.slice(0, newline).split(",");
      pending = pending.slice(newline + 1);
      if (end !== undefined) lags.push((Date.now() - pushedAt) / 1000 - Number(end));
    }
  });
  const cpu = trackCpu(() => listener.pid);
  // ffmpeg needs a moment to open its listening socket.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  pushedAt = Date.now();
  const pusher = pushClip(`rtmp://127.0.0.1:${port}/live/bench`);
  await exited(pusher);
  await exited(listener);
  const cpuSeconds = await cpu.stop();
  await rm(dir, { recursive: true, force: true });
  return summarize(lags, cpuSeconds);
}

const clip = join(work, "clip.flv");
run([
  ...["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine"],
  ...["-t", String(seconds), "-c:v", "libx264", "-preset", "veryfast", "-g", "60"],
  ...["-b:v", "3M", "-c:a", "aac", "-f", "flv", clip],
]);

const loadBefore = loadavg()[0] ?? 0;
const ingest = await benchIngest();
const listener = await benchListener();
const leftovers = (await readdir(work)).filter((name) => name !== "clip.flv");
await rm(work, { recursive: true, force: true });
const result = {
  ffmpeg: `${binaries.ffmpeg.version} (${binaries.ffmpeg.source})`,
  seconds,
  loadAverage: Math.round(((loadBefore + (loadavg()[0] ?? 0)) / 2) * 10) / 10,
  ingest,
  ffmpegListener: listener,
  leftovers,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
