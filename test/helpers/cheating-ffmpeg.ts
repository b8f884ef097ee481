import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Orchestrators that cheat: an ffmpeg "binary" (a perl script that execs the real ffmpeg) whose
 * transcode runs, the ones with a -filter_complex, are rewritten as a dishonest operator would
 * (probes and every other run pass through untouched). Point an orchestrator's FFMPEG_PATH at it.
 */
export const CHEATS = [
  /** Every frame black, at the right size, count and timestamps. */
  "black",
  /** The first frame shown for the whole segment. */
  "frozen",
  /** A heavy blur: the right size, little of the detail. */
  "blur",
  /** `-crf 51 -preset ultrafast`: the cheapest encode there is. */
  "crf51",
  /** Frames duplicated up to 60 fps, billed as twice the pixels. */
  "double-frames",
  /** Half the width and height asked for. */
  "half-size",
  /** Only the first 12 frames of each rendition (under half of a 1 s, 30 fps segment). */
  "truncated",
] as const;

export type Cheat = (typeof CHEATS)[number];

/** The verification check each cheat is expected to fail (either of two where both catch it). */
export const CAUGHT_BY: Record<Cheat, readonly string[]> = {
  black: ["black", "content"],
  frozen: ["frozen"],
  blur: ["content", "quality"],
  crf51: ["quality"],
  "double-frames": ["frames"],
  "half-size": ["claimed", "resolution"],
  truncated: ["frames"],
};

/** perl substitutions applied to the -filter_complex argument (each rendition's chain). */
const FILTER_REWRITE: Record<Cheat, string | null> = {
  black: "s/(scale=\\d+:\\d+)/$1,lutyuv=y=16:u=128:v=128/g",
  frozen:
    "s/(scale=\\d+:\\d+(?:,fps=[\\d.]+)?)\\[v(\\d+)\\]/$1,split[fa$2][fb$2];[fa$2]trim=end_frame=1[ff$2];[fb$2][ff$2]overlay=eof_action=repeat[v$2]/g",
  blur: "s/(scale=\\d+:\\d+)/$1,boxblur=8:3/g",
  crf51: null,
  "double-frames": "s/(scale=\\d+:\\d+)(,fps=[\\d.]+)?/$1,fps=60/g",
  "half-size": "s/scale=(\\d+):(\\d+)/'scale='.(2*int($1\\/4)).':'.(2*int($2\\/4))/ge",
  truncated: null,
};

/** Writes the wrapper for `cheat` into `dir` and returns its path. */
export async function writeCheatingFfmpeg(
  dir: string,
  cheat: Cheat,
  realFfmpeg: string,
): Promise<string> {
  const filter = FILTER_REWRITE[cheat];
  const lines = [
    "#!/usr/bin/perl",
    "use strict; use warnings;",
    // Single quotes: perl would read "@ffmpeg-installer/..." in double quotes as an array.
    `my $real = '${realFfmpeg.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}';`,
    "my @a = @ARGV;",
    "my $transcode = grep { $_ eq '-filter_complex' } @a;",
    "if ($transcode) {",
    "  for (my $i = 0; $i < @a; $i++) {",
  ];
  if (filter !== null) {
    lines.push(`    if ($i > 0 && $a[$i - 1] eq '-filter_complex') { $a[$i] =~ ${filter}; }`);
  }
  if (cheat === "crf51") {
    lines.push(
      "    if ($i > 0 && $a[$i - 1] eq '-preset') { $a[$i] = 'ultrafast'; }",
      "    if ($a[$i] eq '-b:v') { $a[$i] = '-crf'; $a[$i + 1] = '51'; }",
    );
  }
  lines.push("  }");
  if (cheat === "truncated") {
    // Every output stops after 12 frames: -frames:v before each output's -f mpegts.
    lines.push(
      "  my @b;",
      "  for (my $i = 0; $i < @a; $i++) {",
      "    if ($a[$i] eq '-f' && ($a[$i + 1] // '') eq 'mpegts' && ($a[$i + 2] // '') ne '-i') { push @b, '-frames:v', '12'; }",
      "    push @b, $a[$i];",
      "  }",
      "  @a = @b;",
    );
  }
  lines.push("}", 'exec { $real } $real, @a or die "cannot run $real: $!";', "");
  const path = join(dir, `ffmpeg-${cheat}`);
  await writeFile(path, lines.join("\n"));
  await chmod(path, 0o755);
  return path;
}
