/**
 * Measures what the broadcaster's quality checks see on honest renditions and on cheats, the
 * figures its thresholds come from (docs/broadcaster-guide.md, "What is verified"):
 *
 *   npx tsx scripts/measure-quality.ts [--size 1280x720] [--seconds 6] [--segment 2]
 *     [--profiles 720p,480p,360p] [--source testsrc2|mandelbrot] [--cheats blur,crf51,...]
 *
 * A clip is made with lavfi, cut like a broadcast, each segment transcoded by the real engine
 * (honest) and by the cheating ffmpeg wrappers the integration test uses, and each rendition
 * measured against its source segment. Prints one JSON object: per profile and variant, the
 * lowest and highest value of each measure over the segments.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { locateBinaries } from "../node/src/media/binaries.ts";
import { parseLadder } from "../node/src/media/profiles.ts";
import {
  compareToSource,
  contentDistance,
  meanLuma,
  motion,
  pictureSummary,
} from "../node/src/media/quality.ts";
import { segmentFile } from "../node/src/media/segmenter.ts";
import { SegmentTranscoder } from "../node/src/media/transcoder.ts";
import { CHEATS, type Cheat, writeCheatingFfmpeg } from "../test/helpers/cheating-ffmpeg.ts";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const [width, height] = flag("size", "1280x720").split("x").map(Number);
const seconds = Number(flag("seconds", "6"));
const segmentSeconds = Number(flag("segment", "2"));
const profiles = parseLadder(flag("profiles", "720p,480p,360p"));
const sourceKind = flag("source", "testsrc2");
const cheats = flag("cheats", CHEATS.join(","))
  .split(",")
  .filter((c): c is Cheat => (CHEATS as readonly string[]).includes(c));

type Range = { min: number; max: number };
const figures: Record<string, Record<string, Record<string, Range>>> = {};
function note(profile: string, variant: string, measure: string, value: number): void {
  const p = figures[profile] ?? {};
  figures[profile] = p;
  const v = p[variant] ?? {};
  p[variant] = v;
  const r = v[measure];
  const rounded = Math.round(value * 10_000) / 10_000;
  if (r === undefined) v[measure] = { min: rounded, max: rounded };
  else v[measure] = { min: Math.min(r.min, rounded), max: Math.max(r.max, rounded) };
}

const dir = await mkdtemp(join(tmpdir(), "segmint-quality-"));
try {
  const { ffmpeg } = await locateBinaries();
  const clip = join(dir, "clip.ts");
  const lavfi =
    sourceKind === "mandelbrot"
      ? `mandelbrot=size=${width}x${height}:rate=30`
      : `testsrc2=size=${width}x${height}:rate=30`;
  const gop = String(Math.round(segmentSeconds * 30));
  await promisify(execFile)(ffmpeg.path, [
    ...["-hide_banner", "-v", "error", "-f", "lavfi", "-i", lavfi, "-t", String(seconds)],
    ...["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", gop, "-keyint_min", gop],
    ...["-sc_threshold", "0", "-pix_fmt", "yuv420p", "-f", "mpegts", clip],
  ]);
  const honest = new SegmentTranscoder({ ffmpegPath: ffmpeg.path });
  const cheaters = await Promise.all(
    cheats.map(async (cheat) => ({
      cheat,
      transcoder: new SegmentTranscoder({
        ffmpegPath: await writeCheatingFfmpeg(dir, cheat, ffmpeg.path),
      }),
    })),
  );
  for await (const segment of segmentFile(clip, {
    ffmpegPath: ffmpeg.path,
    targetSeconds: segmentSeconds,
  })) {
    const source = await pictureSummary(segment.data, { ffmpegPath: ffmpeg.path });
    const sourceMotion = motion(source.thumbnails);
    const variants = [{ cheat: "honest", transcoder: honest }, ...cheaters];
    for (const { cheat, transcoder } of variants) {
      let result: Awaited<ReturnType<SegmentTranscoder["transcode"]>>;
      try {
        result = await transcoder.transcode(segment.data, { profiles });
      } catch (error) {
        const code = error instanceof Error && "code" in error ? String(error.code) : "ERROR";
        for (const p of profiles) note(p.name, cheat, `refused:${code}`, 1);
        continue;
      }
      for (const [i, r] of result.renditions.entries()) {
        const profile = profiles[i];
        if (profile === undefined) continue;
        const pic = await pictureSummary(r.data, { ffmpegPath: ffmpeg.path });
        const duration =
          pic.lastSeconds - pic.firstSeconds + segmentSeconds / Math.max(1, pic.packets);
        note(profile.name, cheat, "frames/source", pic.packets / Math.max(1, source.packets));
        note(
          profile.name,
          cheat,
          "contentDistance",
          contentDistance(pic.thumbnails, source.thumbnails),
        );
        note(
          profile.name,
          cheat,
          "motion/source",
          sourceMotion > 0 ? motion(pic.thumbnails) / sourceMotion : 1,
        );
        note(profile.name, cheat, "luma", meanLuma(pic.thumbnails));
        note(profile.name, cheat, "sourceLuma", meanLuma(source.thumbnails));
        note(
          profile.name,
          cheat,
          "bitrate/profile",
          (pic.videoBytes * 8) / duration / profile.bitrateBps,
        );
        // A rendition of the wrong size is refused before any spot check.
        if (pic.width !== result.renditions[i]?.width) continue;
        const q = await compareToSource(
          r.data,
          segment.data,
          { width: pic.width, height: pic.height, fps: undefined },
          { ffmpegPath: ffmpeg.path, workDir: dir },
        );
        note(profile.name, cheat, "ssim", q.ssim);
        note(profile.name, cheat, "psnr", q.psnr);
      }
    }
  }
  console.log(
    JSON.stringify(
      { ffmpeg: ffmpeg.path, source: `${sourceKind} ${width}x${height}`, seconds, figures },
      null,
      1,
    ),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
