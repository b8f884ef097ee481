/**
 * `npm run bench:live -- [--json] [--seconds 60] [--no-player]`
 *
 * Pushes a 720p30 H.264 + AAC stream (2 s GOPs) in real time into a devnet (local chain, two
 * orchestrator processes, the broadcaster daemon with its default ladder) and reads it at the
 * live edge for `--seconds`:
 * - availability: from a segment's first frame at the ingest (its EXT-X-PROGRAM-DATE-TIME) to
 *   the segment being listed in every rendition's playlist, read by polling every 100 ms;
 * - player latency: the player page (/watch/KEY, hls.js with its own settings) in Chromium,
 *   wall clock minus the PROGRAM-DATE-TIME of the frame on screen, sampled each second;
 * - lost and late segments from the daemon, and the daemon's RSS growth after a 10 s warm-up.
 * Baseline, in the same run: ffmpeg's own live HLS packager (`-f hls`, no transcoding, no
 * network) fed the same stream; availability measured the same way; `availabilityRatioP95` is
 * ours over its.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pushRtmp } from "../node/src/devnet/live.ts";
import { devnetSettings, startMarket } from "../node/src/devnet/market.ts";
import { stopProcess } from "../node/src/devnet/processes.ts";
import { playbackId, startBroadcasterDaemon } from "../node/src/live/index.ts";
import { silentLogger } from "../node/src/log/index.ts";
import { generateTestMedia, locateBinaries } from "../node/src/media/index.ts";
import { launchBrowser, readPlayer } from "../test/helpers/browser.ts";
import { parseMediaPlaylist, sleep } from "../test/helpers/live-hls.ts";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "60" },
    "no-player": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
if (!(seconds >= 20 && seconds <= 7_200)) {
  process.stderr.write("--seconds must be 20..7200\n");
  process.exit(2);
}
const withPlayer = !values["no-player"];
const SEGMENT_SECONDS = 2;
const KEY = "bench";
const WARMUP_MS = 10_000;
const say = (text: string) => {
  if (!values.json) process.stderr.write(`${text}\n`);
};

function percentile(samples: number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? null;
}

const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);

/**
 * Polls playlists (read by `read`) every 100 ms; for each segment (by its program date-time)
 * records when it was first listed in each rendition. A segment's availability is the time it
 * was listed in the last of the renditions that carry it (seconds from its first frame); with
 * `complete`, only segments listed in every rendition are counted.
 */
function watchAvailability(
  renditions: string[],
  read: (name: string) => Promise<string | null>,
): { stop(): Promise<{ samples: number[]; complete: number; seen: number }> } {
  const listed = new Map<number, Map<string, number>>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const name of renditions) {
        const text = await read(name).catch(() => null);
        if (text === null) continue;
        const now = Date.now();
        let segments: ReturnType<typeof parseMediaPlaylist>["segments"];
        try {
          segments = parseMediaPlaylist(text).segments;
        } catch {
          // A playlist caught half-written (ffmpeg rewrites its file in place): read it again.
          continue;
        }
        for (const s of segments) {
          if (s.programDateTimeMs === null) continue;
          let seen = listed.get(s.programDateTimeMs);
          if (seen === undefined) {
            seen = new Map();
            listed.set(s.programDateTimeMs, seen);
          }
          if (!seen.has(name)) seen.set(name, now);
        }
      }
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const samples: number[] = [];
      let complete = 0;
      // PDTs of the different renditions of one segment are the same ingest clock. A segment
      // only the source carries (every transcoded rendition skipped it) is not available.
      for (const [pdt, seen] of listed) {
        if (seen.size === renditions.length) complete += 1;
        if (renditions.length > 1 && seen.size < 2) continue;
        samples.push((Math.max(...seen.values()) - pdt) / 1000);
      }
      return { samples, complete, seen: listed.size };
    },
  };
}

const { ffmpeg } = await locateBinaries();
const work = await mkdtemp(join(tmpdir(), "segmint-bench-live-"));
const clip = join(work, "clip-720p30.ts");
say("generating a 20 s 720p30 clip");
await generateTestMedia(ffmpeg.path, clip, {
  width: 1280,
  height: 720,
  fps: 30,
  durationSeconds: 20,
  preset: "veryfast",
});

say("starting the devnet (chain, contracts, 2 orchestrators)");
const market = await startMarket({ orchestrators: 2, chainPort: 0, log: silentLogger() });
let publisher: ChildProcess | undefined;
let packager: ChildProcess | undefined;
let result: Record<string, unknown>;
try {
  const daemon = await startBroadcasterDaemon({
    rpc: market.chainUrl,
    deployment: market.deploymentFile,
    privateKey: market.broadcaster.privateKey,
    deposit: devnetSettings.deposit,
    reserve: devnetSettings.reserve,
    autoDeposit: devnetSettings.broadcasterFunds / 2n,
    orchestrators: 2,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap: market.orchestrators.flatMap((o) => o.multiaddrs.slice(0, 1)),
    rtmp: "127.0.0.1:0",
    http: "127.0.0.1:0",
    outDir: join(work, "recordings"),
    streamKeys: [KEY],
    segmentSeconds: SEGMENT_SECONDS,
  });
  const base = `${daemon.httpUrl}/live/${playbackId(KEY)}`;
  publisher = pushRtmp(ffmpeg.path, clip, `${daemon.rtmpUrl}/${KEY}`, { loop: true });
  const started = Date.now();
  say(`pushing for ${seconds} s`);

  // Wait for the master, then watch every rendition it lists.
  let master = "";
  while (master === "" && Date.now() - started < 60_000) {
    const response = await fetch(`${base}/index.m3u8`).catch(() => null);
    if (response?.ok) master = await response.text();
    else await sleep(200);
  }
  const renditions = master
    .split("\n")
    .filter((l) => l.endsWith("/index.m3u8"))
    .map((l) => l.split("/")[0] ?? "");
  const availability = watchAvailability(renditions, async (name) => {
    const view = await fetch(`${base}/${name}/index.m3u8`);
    return view.ok ? view.text() : null;
  });

  const latencies: number[] = [];
  const browser = withPlayer ? await launchBrowser() : undefined;
  const page = await browser?.open(`${daemon.httpUrl}/watch/${playbackId(KEY)}`);
  let rssAtWarmup: number | undefined;
  let rssPeak = 0;
  while (Date.now() - started < seconds * 1000) {
    await sleep(1_000);
    const rss = process.memoryUsage().rss;
    if (rssAtWarmup === undefined && Date.now() - started > WARMUP_MS) rssAtWarmup = rss;
    rssPeak = Math.max(rssPeak, rss);
    if (page !== undefined) {
      const player = await readPlayer(page).catch(() => null);
      if (player?.latencySeconds != null && player.state === "playing") {
        latencies.push(player.latencySeconds);
      }
    }
  }
  const rssAtEnd = process.memoryUsage().rss;
  await browser?.close();
  const { samples, complete, seen } = await availability.stop();
  await stopProcess(publisher, 5_000);
  publisher = undefined;
  const final = await daemon.stop();
  const stream = final.streams[0];

  // Baseline: ffmpeg packages the same stream as live HLS itself.
  const baselineSeconds = Math.min(seconds, 30);
  say(`baseline: ffmpeg's own live HLS for ${baselineSeconds} s`);
  const baselineDir = join(work, "baseline");
  await rm(baselineDir, { recursive: true, force: true });
  await mkdir(baselineDir, { recursive: true });
  packager = spawn(
    ffmpeg.path,
    [
      "-hide_banner",
      "-loglevel",
      "error",
      "-re",
      "-stream_loop",
      "-1",
      "-i",
      clip,
      "-c",
      "copy",
      "-f",
      "hls",
      "-hls_time",
      String(SEGMENT_SECONDS),
      "-hls_list_size",
      "6",
      "-hls_flags",
      "program_date_time+delete_segments",
      join(baselineDir, "index.m3u8"),
    ],
    { stdio: "ignore" },
  );
  const baseline = watchAvailability(["baseline"], async () =>
    readFile(join(baselineDir, "index.m3u8"), "utf8").catch(() => null),
  );
  await sleep(baselineSeconds * 1000);
  const { samples: baselineSamples } = await baseline.stop();
  await stopProcess(packager, 5_000);

  const p95 = percentile(samples, 0.95);
  const baselineP95 = percentile(baselineSamples, 0.95);
  result = {
    seconds,
    segmentSeconds: SEGMENT_SECONDS,
    renditions,
    segments: stream?.segments.in ?? 0,
    /** Segments listed in every rendition (the rest were shed or lost in some). */
    segmentsInEveryRendition: complete,
    segmentsListed: seen,
    availabilityP50Seconds: round(percentile(samples, 0.5)),
    availabilityP95Seconds: round(p95),
    playerLatencyP50Seconds: round(percentile(latencies, 0.5)),
    playerLatencyP95Seconds: round(percentile(latencies, 0.95)),
    lostSegments: stream?.segments.lost ?? 0,
    lateSegments: stream?.segments.late ?? 0,
    shedRenditions: stream?.shed ?? [],
    rssGrowthMB: round((rssAtEnd - (rssAtWarmup ?? rssAtEnd)) / 2 ** 20),
    rssPeakMB: round(rssPeak / 2 ** 20),
    baseline: {
      what: "ffmpeg -f hls, same stream, no transcoding",
      availabilityP50Seconds: round(percentile(baselineSamples, 0.5)),
      availabilityP95Seconds: round(baselineP95),
    },
    availabilityRatioP95: p95 !== null && baselineP95 ? round(p95 / baselineP95) : null,
    loadAverage1m: round(loadavg()[0] ?? 0),
  };
} finally {
  if (publisher !== undefined) await stopProcess(publisher, 5_000);
  if (packager !== undefined && packager.exitCode === null) await stopProcess(packager, 5_000);
  await market.stop();
  await rm(work, { recursive: true, force: true });
}

if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const r = result;
  process.stdout.write(
    [
      `live, ${r.seconds} s of 720p30 through 2 orchestrators (${(r.renditions as string[]).join(", ")})`,
      `  availability p50 ${r.availabilityP50Seconds} s, p95 ${r.availabilityP95Seconds} s ` +
        `(ffmpeg's own HLS: p95 ${(r.baseline as { availabilityP95Seconds: number }).availabilityP95Seconds} s, ratio ${r.availabilityRatioP95})`,
      `  player latency p50 ${r.playerLatencyP50Seconds} s, p95 ${r.playerLatencyP95Seconds} s`,
      `  segments ${r.segments}, lost ${r.lostSegments}, late ${r.lateSegments}, shed ${JSON.stringify(r.shedRenditions)}`,
      `  RSS growth ${r.rssGrowthMB} MB after warm-up (peak ${r.rssPeakMB} MB); load average ${r.loadAverage1m}`,
      "",
    ].join("\n"),
  );
}
process.exit(0);
