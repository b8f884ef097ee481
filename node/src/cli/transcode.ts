import type { Command } from "commander";
import { checkOutFolder } from "../broadcaster/resume.ts";
import { createLogger } from "../log/index.ts";
import { type LocalTranscodeSummary, loadLadder, transcodeFile } from "../media/index.ts";
import { keyframeSpacing } from "../media/prepare.ts";
import { LOG_FORMAT_HELP, logFormatFlag, parseIntegerOption } from "./options.ts";
import { runMediaCommand } from "./progress.ts";

interface TranscodeFlags {
  logFormat?: string;
  profiles: string;
  out: string;
  segment: number;
  json?: boolean;
  hardware: boolean;
  reencode?: boolean;
  overwrite?: boolean;
}

/**
 * Slack over --segment before a segment counts as longer than asked: cuts land on keyframes,
 * and timestamps round to the frame (a 30 fps frame is 0.033 s).
 */
const SEGMENT_SLACK_SECONDS = 0.1;

/**
 * One line when the segments came out longer than --segment (the source's keyframes are
 * further apart, and segments are cut on keyframes), saying what to do; null when they did not.
 */
export function longSegmentNote(s: LocalTranscodeSummary, asked: number): string | null {
  if (s.longestSegmentSeconds <= asked + SEGMENT_SLACK_SECONDS) return null;
  const spacing = keyframeSpacing({ keyframeGapSeconds: s.source.keyframeGapSeconds });
  return (
    `note: segments run up to ${s.longestSegmentSeconds.toFixed(1)} s, not the ${asked} s of --segment: ` +
    `cuts fall on keyframes and the source has ${spacing}; ` +
    `add --reencode to re-encode it first with a keyframe every ${asked} s`
  );
}

function formatSummary(s: LocalTranscodeSummary): string {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  const lines = [
    `Transcoded ${s.input}`,
    `  source   ${s.source.width}x${s.source.height} ${s.source.codec} ${s.source.fps} fps, ` +
      `${s.source.durationSeconds.toFixed(2)} s, audio ${s.source.audio ?? "none"}`,
    `  ffmpeg   ${s.ffmpeg.version} (${s.ffmpeg.source}: ${s.ffmpeg.path})`,
    ...(s.normalized === null ? [] : [`  prepared re-encoded to H.264 first: ${s.normalized}`]),
    `  keyframes ${keyframeSpacing({ keyframeGapSeconds: s.source.keyframeGapSeconds })}, longest segment ${s.longestSegmentSeconds.toFixed(2)} s`,
    `  segments ${s.segments}, ${s.mediaSeconds.toFixed(2)} media s in ${s.wallSeconds.toFixed(2)} s ` +
      `(${s.realtimeFactor.toFixed(2)}x realtime)`,
    ...s.renditions.map(
      (r) =>
        `  ${r.name.padEnd(8)} ${`${r.width}x${r.height}`.padEnd(10)} ${String(r.frames).padStart(6)} frames ` +
        `${r.durationSeconds.toFixed(2)} s  ${mb(r.bytes)}  peak ${(r.bandwidth / 1000).toFixed(0)} kb/s  ${r.encoder}`,
    ),
    `  master   ${s.master}`,
  ];
  return `${lines.join("\n")}\n`;
}

export function registerTranscode(program: Command): void {
  program
    .command("transcode")
    .summary("transcode a local file into an HLS ladder (an operator's self-test)")
    .description(
      "Prepare INPUT as a broadcast does (re-encoded first when its codec, rotation or GOPs\n" +
        "would not cut cleanly, or always with --reencode), cut it into keyframe-aligned\n" +
        "segments (longer than --segment when keyframes are further apart: a note says so),\n" +
        "transcode each into every profile with one ffmpeg process, and write HLS (master.m3u8\n" +
        "plus one playlist per\n" +
        "rendition) to --out. A refused or failed run leaves nothing in --out. An --out holding\n" +
        "another run's files is refused (OUT_DIR_NOT_EMPTY) unless --overwrite.\n" +
        "Profiles: preset names (240p, 360p, 480p, 720p, 1080p, with 30 or 60 appended for the\n" +
        "frame rate, e.g. 720p60), JSON, or a .json file (see docs/transcoding.md).",
    )
    .argument("<input>", "a video file (any codec ffmpeg decodes; see docs/broadcaster-guide.md)")
    .option("--profiles <list>", "comma-separated presets, JSON, or a .json file", "720p,480p,360p")
    .requiredOption("--out <dir>", "output directory for the HLS files")
    .option(
      "--overwrite",
      "remove the Segmint HLS files of an earlier run (transcode or broadcast) from --out first, and nothing else",
    )
    .option("--segment <seconds>", "target segment length in seconds", parseIntegerOption(1, 10), 2)
    .option(
      "--reencode",
      "re-encode the input first with a keyframe every --segment seconds, so no segment runs longer (by default a file is cut on its own keyframes when it can be)",
    )
    .option("--no-hardware", "do not probe or use GPU encoders and decoders")
    .option("--json", "print the summary as one JSON object on stdout")
    .option("--log-format <format>", LOG_FORMAT_HELP)
    .action(async (input: string, flags: TranscodeFlags) => {
      const profiles = await loadLadder(flags.profiles);
      const logger = createLogger({
        level: process.env.SEGMINT_LOG_LEVEL ?? "warn",
        format: logFormatFlag(flags),
      });
      await runMediaCommand(
        "transcoding",
        flags,
        async ({ signal, onProgress }) => {
          // Before any work: segments of two runs never mix in one folder.
          await checkOutFolder(flags.out, flags.overwrite === true, "transcode");
          const summary = await transcodeFile(input, {
            profiles,
            outDir: flags.out,
            segmentSeconds: flags.segment,
            reencode: flags.reencode === true,
            detectHardware: flags.hardware,
            signal,
            logger,
            onProgress,
          });
          const note = longSegmentNote(summary, flags.segment);
          if (note !== null) process.stderr.write(`${note}\n`);
          return summary;
        },
        formatSummary,
      );
    });
}
