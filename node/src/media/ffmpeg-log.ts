/**
 * ffmpeg's stderr read at `-loglevel level+info`: every line carries its level
 * (`[h264 @ 0x...] [error] no frame!`, `[info]   Stream #0:0: Video: h264 ...`), so one run
 * gives both the errors and the input's stream dump. The dump says what no packet does: the
 * display rotation of a phone video (`displaymatrix: rotation of -90.00 degrees`) and whether
 * the video is interlaced (`yuv420p(top first)`). Both ffmpeg 4.1 and 5.1 print these forms.
 */
export const LEVEL_TAGGED_LOG = ["-nostats", "-loglevel", "level+info"] as const;

export interface InputVideoFacts {
  /** Clockwise turn, 0, 90, 180 or 270 degrees, a player applies to show the picture upright. */
  rotation: number;
  /** The stream declares a field order (top or bottom field first). */
  interlaced: boolean;
  /**
   * The frame rate ffmpeg guessed from the stream (`25 tbr`, from the codec's own timing
   * when packets carry no durations): how long a lone frame lasts.
   */
  frameRate: number | undefined;
}

export interface FfmpegLog {
  /** The error, fatal and panic lines without their level tag, as `-v error` prints them. */
  errors: string;
  /** Facts about the first video stream of input #0, when the dump lists one. */
  video: InputVideoFacts | undefined;
}

const TAGGED =
  /^(\[[^\]]* @ [^\]]*\] )?\[(panic|fatal|error|warning|info|verbose|debug|trace)\] ?(.*)$/;
const ERROR_LEVELS = new Set(["panic", "fatal", "error"]);

/** ffmpeg prints the counter-clockwise angle; players turn the picture clockwise by this. */
function clockwise(counterClockwiseDegrees: number): number {
  const quarter = Math.round(-counterClockwiseDegrees / 90);
  return (((quarter % 4) + 4) % 4) * 90;
}

export function parseFfmpegLog(stderr: string): FfmpegLog {
  const errors: string[] = [];
  let level = "info";
  let section: "none" | "input" | "done" = "none";
  let inVideo = false;
  let video: InputVideoFacts | undefined;
  for (const raw of stderr.split("\n")) {
    const tagged = TAGGED.exec(raw);
    let text = raw;
    if (tagged) {
      level = tagged[2] ?? level;
      text = `${tagged[1] ?? ""}${tagged[3] ?? ""}`;
    }
    if (ERROR_LEVELS.has(level)) {
      if (text.trim().length > 0) errors.push(text);
      continue;
    }
    if (level !== "info" || section === "done") continue;
    const trimmed = text.trim();
    if (trimmed.startsWith("Input #0")) {
      section = "input";
      continue;
    }
    if (section !== "input") continue;
    if (/^(Output #|Input #|Stream mapping:)/.test(trimmed)) {
      section = "done";
      continue;
    }
    if (trimmed.startsWith("Stream #")) {
      inVideo = video === undefined && /: Video: /.test(trimmed);
      if (inVideo) {
        const tbr = /, (\d+(?:\.\d+)?) tbr\b/.exec(trimmed);
        const frameRate = tbr ? Number(tbr[1]) : undefined;
        video = {
          rotation: 0,
          interlaced: /\b(top|bottom) (coded )?first\b/.test(trimmed),
          // "90k tbr" is a time base, not a rate (no match above); a real rate is below 1000.
          frameRate:
            frameRate !== undefined && frameRate > 0 && frameRate < 1000 ? frameRate : undefined,
        };
      }
      continue;
    }
    const rotation = /displaymatrix: rotation of (-?\d+(?:\.\d+)?) degrees/.exec(trimmed);
    if (inVideo && video && rotation) video.rotation = clockwise(Number(rotation[1]));
  }
  return { errors: errors.join("\n"), video };
}
