/**
 * `npm run bench:transcode [-- --json] [--seconds 10] [--rounds 3]`
 *
 * Generates a 1080p30 H.264 + AAC clip, cuts it into 2 s segments, then times in the same run
 * (a) the bare ffmpeg CLI making 720p, 480p and 360p in one process per segment (files in,
 * files out) and (b) the engine (SegmentTranscoder: Buffer in, Buffers out, probe, validation
 * and measurement included) on the same segments with the same encoder settings. The engine is
 * timed twice: handed the segments as a stream delivers them (all queued, one encode at a time,
 * so probing and validating the next segment overlaps the current encode, as on an orchestrator
 * serving a stream: this is `engineSeconds`), and strictly one segment after another
 * (`sequentialEngineSeconds`, its probe on the critical path). Rounds alternate which side runs
 * first; the medians are reported. Prints one JSON object with --json:
 * { baselineSeconds, engineSeconds, ratio, realtimeFactor, sequentialRatio, ... }.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  generateTestMedia,
  locateBinaries,
  parseLadder,
  probeMedia,
  SegmentTranscoder,
  segmentFile,
} from "../node/src/media/index.ts";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    // How the engine gets renditions back from ffmpeg (see docs/performance.md).
    "output-mode": { type: "string", default: "pipe" },
  },
});
const clipSeconds = Number(values.seconds);
const rounds = Number(values.rounds);
const outputMode = values["output-mode"];
if (outputMode !== "pipe" && outputMode !== "file") {
  process.stderr.write("--output-mode must be pipe or file\n");
  process.exit(2);
}
if (!(clipSeconds >= 2 && clipSeconds <= 600) || !(rounds >= 1 && rounds <= 50)) {
  process.stderr.write("--seconds must be 2..600 and --rounds 1..50\n");
  process.exit(2);
}

// The ladder and its settings, spelled out for the baseline exactly as the presets define them.
const LADDER = [
  { name: "720p", width: 1280, height: 720, bitrate: 3_000_000 },
  { name: "480p", width: 854, height: 480, bitrate: 1_600_000 },
  { name: "360p", width: 640, height: 360, bitrate: 800_000 },
];
const GOP = "60"; // 2 s at 30 fps

function baselineArgs(input: string, outDir: string): string[] {
  const split = `[0:v]split=3[s0][s1][s2];${LADDER.map((r, i) => `[s${i}]scale=${r.width}:${r.height}[v${i}]`).join(";")}`;
  const args = [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-y",
    "-copyts",
    "-i",
    input,
    "-filter_complex",
    split,
  ];
  LADDER.forEach((r, i) => {
    args.push("-map", `[v${i}]`, "-map", "0:a:0", "-c:a", "copy");
    args.push("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p");
    args.push("-g", GOP, "-keyint_min", GOP, "-sc_threshold", "0", "-x264-params", "fps=30");
    args.push(
      "-b:v",
      String(r.bitrate),
      "-maxrate",
      String(r.bitrate),
      "-bufsize",
      String(r.bitrate * 2),
    );
    args.push("-enc_time_base:v", "1:90000", "-muxdelay", "0", "-muxpreload", "0");
    args.push("-f", "mpegts", join(outDir, `${r.name}.ts`));
  });
  return args;
}

function runFfmpeg(path: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg exit ${code}: ${stderr}`)),
    );
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const log = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};

const work = await mkdtemp(join(tmpdir(), "segmint-bench-"));
try {
  const binaries = await locateBinaries();
  const ffmpeg = binaries.ffmpeg.path;
  const source = join(work, "source.ts");
  log(`generating a ${clipSeconds} s 1080p30 H.264 + AAC clip with ${binaries.ffmpeg.version}`);
  await generateTestMedia(ffmpeg, source, {
    width: 1920,
    height: 1080,
    fps: 30,
    durationSeconds: clipSeconds,
    gopSeconds: 2,
    preset: "veryfast",
  });
  const segments: Array<{ path: string; data: Buffer; seconds: number }> = [];
  for await (const segment of segmentFile(source, { ffmpegPath: ffmpeg, targetSeconds: 2 })) {
    const path = join(work, `seg${segment.index}.ts`);
    await writeFile(path, segment.data);
    // Media seconds are the video's presentation span, not the segment list's (which counts
    // audio that runs a few ms past the last frame).
    const info = await probeMedia(segment.data, { ffmpegPath: ffmpeg, format: "mpegts" });
    segments.push({
      path,
      data: segment.data,
      seconds: info.video?.durationSeconds ?? segment.durationSeconds,
    });
  }
  const mediaSeconds = segments.reduce((sum, s) => sum + s.seconds, 0);
  const outDir = join(work, "baseline");
  await mkdir(outDir);

  // Software only and one run at a time: the baseline is one ffmpeg at a time, too.
  const transcoder = new SegmentTranscoder({
    ffmpegPath: ffmpeg,
    options: { useHardware: false, maxConcurrentTranscodes: 1, outputMode },
  });
  const profiles = parseLadder("720p,480p,360p");

  const baseline = async () => {
    const start = performance.now();
    for (const s of segments) await runFfmpeg(ffmpeg, baselineArgs(s.path, outDir));
    return (performance.now() - start) / 1000;
  };
  const engine = async () => {
    const start = performance.now();
    // maxConcurrentTranscodes 1: encodes still run one at a time, like the baseline's.
    await Promise.all(segments.map((s) => transcoder.transcode(s.data, { profiles })));
    return (performance.now() - start) / 1000;
  };
  const engineSequential = async () => {
    const start = performance.now();
    for (const s of segments) await transcoder.transcode(s.data, { profiles });
    return (performance.now() - start) / 1000;
  };

  // Warm the page cache and both code paths once before timing.
  await runFfmpeg(ffmpeg, baselineArgs(segments[0]?.path ?? source, outDir));
  if (segments[0]) await transcoder.transcode(segments[0].data, { profiles });

  const loadBefore = loadavg()[0];
  const baselineRuns: number[] = [];
  const engineRuns: number[] = [];
  const sequentialRuns: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      baselineRuns.push(await baseline());
      engineRuns.push(await engine());
      sequentialRuns.push(await engineSequential());
    } else {
      sequentialRuns.push(await engineSequential());
      engineRuns.push(await engine());
      baselineRuns.push(await baseline());
    }
    log(
      `round ${round + 1}: baseline ${baselineRuns.at(-1)?.toFixed(3)} s, engine ${engineRuns.at(-1)?.toFixed(3)} s`,
    );
  }
  const baselineSeconds = median(baselineRuns);
  const engineSeconds = median(engineRuns);
  const sequentialSeconds = median(sequentialRuns);
  const result = {
    baselineSeconds: Number(baselineSeconds.toFixed(3)),
    engineSeconds: Number(engineSeconds.toFixed(3)),
    ratio: Number((engineSeconds / baselineSeconds).toFixed(3)),
    realtimeFactor: Number((mediaSeconds / engineSeconds).toFixed(3)),
    baselineRealtimeFactor: Number((mediaSeconds / baselineSeconds).toFixed(3)),
    sequentialEngineSeconds: Number(sequentialSeconds.toFixed(3)),
    sequentialRatio: Number((sequentialSeconds / baselineSeconds).toFixed(3)),
    segments: segments.length,
    mediaSeconds: Number(mediaSeconds.toFixed(3)),
    rounds,
    outputMode,
    baselineRuns: baselineRuns.map((s) => Number(s.toFixed(3))),
    engineRuns: engineRuns.map((s) => Number(s.toFixed(3))),
    sequentialEngineRuns: sequentialRuns.map((s) => Number(s.toFixed(3))),
    ladder: LADDER.map((r) => `${r.name} ${r.width}x${r.height} ${r.bitrate / 1000}k`),
    encoder: "libx264 veryfast, GOP 60, no scenecut, CBR-capped (maxrate = bitrate), audio copied",
    ffmpeg: { version: binaries.ffmpeg.version, source: binaries.ffmpeg.source },
    cpuCores: availableParallelism(),
    loadAverage1m: {
      before: Number(loadBefore?.toFixed(2)),
      after: Number(loadavg()[0]?.toFixed(2)),
    },
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(
      `baseline (bare ffmpeg) ${result.baselineSeconds} s, engine ${result.engineSeconds} s, ` +
        `ratio ${result.ratio}, engine ${result.realtimeFactor}x realtime ` +
        `(baseline ${result.baselineRealtimeFactor}x) over ${result.segments} segments, ${rounds} rounds; ` +
        `one segment at a time: engine ${result.sequentialEngineSeconds} s, ratio ${result.sequentialRatio}\n`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
