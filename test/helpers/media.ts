/**
 * Test media made on the spot with ffmpeg's lavfi sources (testsrc2 + sine): nothing is
 * committed. Other test suites may reuse `createMediaWorkspace` and `clip`.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  generateTestMedia,
  locateBinaries,
  probeMedia,
  type TestMediaSpec,
} from "../../node/src/media/index.ts";

export interface MediaWorkspace {
  dir: string;
  ffmpegPath: string;
  /** Generates a clip into the workspace and returns its path. */
  clip(name: string, spec: TestMediaSpec): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createMediaWorkspace(): Promise<MediaWorkspace> {
  const binaries = await locateBinaries();
  const dir = await mkdtemp(join(tmpdir(), "segmint-test-media-"));
  return {
    dir,
    ffmpegPath: binaries.ffmpeg.path,
    async clip(name, spec) {
      const path = join(dir, name);
      await generateTestMedia(binaries.ffmpeg.path, path, spec);
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** ffmpeg/ffprobe processes whose parent is this test process (should be none between tests). */
export function ffmpegChildren(): string[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], {
      encoding: "utf8",
    });
  } catch {
    // ps exits 1 when there are no children at all.
    return [];
  }
  return out
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /\b(ffmpeg|ffprobe)\b/.test(line));
}

/** Temp entries the media module creates (segmenter, file-mode transcoder, re-encoded inputs). */
export async function mediaTempEntries(): Promise<string[]> {
  const entries = await readdir(tmpdir());
  return entries.filter((name) => /^segmint-(seg|tx|src)-/.test(name)).sort();
}

export interface PlayedVariant {
  /** What ffmpeg printed at level "error" while decoding: empty when every frame decoded. */
  errors: string;
  durationSeconds: number;
  width: number | undefined;
  height: number | undefined;
}

/**
 * Plays one HLS variant playlist through ffmpeg's HLS demuxer, decoding every frame, and reads
 * the demuxed stream's resolution and duration. (The npm static ffprobe crashes on H.264
 * MPEG-TS on these machines, so ffmpeg itself is the player.)
 */
export async function playHlsVariant(ffmpegPath: string, playlist: string): Promise<PlayedVariant> {
  const decoded = await promisify(execFile)(ffmpegPath, [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-i",
    playlist,
    "-f",
    "null",
    "-",
  ]);
  const info = await probeMedia(playlist, { ffmpegPath });
  return {
    errors: decoded.stderr,
    durationSeconds: info.video?.durationSeconds ?? 0,
    width: info.video?.width,
    height: info.video?.height,
  };
}

/** Runs ffmpeg with these arguments (quiet, overwriting) and resolves when it exits cleanly. */
export async function ffmpegMake(ffmpegPath: string, args: readonly string[]): Promise<void> {
  await promisify(execFile)(ffmpegPath, ["-hide_banner", "-nostdin", "-v", "error", "-y", ...args]);
}

export interface Decoded {
  /** Video frames that came out of the decoder. */
  frames: number;
  /** A checksum of each decoded picture, in output order: equal lists, equal pictures. */
  checksums: string[];
  /** What ffmpeg printed at level "error". */
  errors: string;
}

/** Decodes every video frame of a file or of MPEG-TS bytes and counts them. */
export function decodeVideo(ffmpegPath: string, input: string | Buffer): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffmpegPath,
      [
        ...["-hide_banner", "-nostdin", "-v", "error"],
        ...(typeof input === "string" ? ["-i", input] : ["-f", "mpegts", "-i", "pipe:0"]),
        ...["-map", "0:v:0", "-f", "framecrc", "pipe:1"],
      ],
      { stdio: [typeof input === "string" ? "ignore" : "pipe", "pipe", "pipe"] },
    );
    let out = "";
    let errors = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", () => {
      const checksums = out
        .split("\n")
        .filter((line) => /^\d+,/.test(line))
        .map((line) => line.split(",")[5]?.trim() ?? "");
      resolve({ frames: checksums.length, checksums, errors: errors.trim() });
    });
    if (typeof input !== "string") child.stdin?.end(input);
  });
}

/**
 * The first video frame of a file, shrunk to `width`x`height` 8-bit gray pixels, for comparing
 * pictures (which way up they are) without caring about encoding noise. ffmpeg applies the
 * container's rotation while decoding, as a player does.
 */
export async function firstFrameGray(
  ffmpegPath: string,
  input: string,
  width: number,
  height: number,
): Promise<Buffer> {
  const { stdout } = await promisify(execFile)(
    ffmpegPath,
    [
      ...["-hide_banner", "-nostdin", "-v", "error", "-i", input, "-frames:v", "1"],
      ...["-vf", `scale=${width}:${height}`, "-pix_fmt", "gray", "-f", "rawvideo", "pipe:1"],
    ],
    { encoding: "buffer" },
  );
  return stdout;
}

/** Mean absolute difference of two equally sized gray pictures, 0-255. */
export function meanDifference(a: Buffer, b: Buffer): number {
  if (a.length !== b.length || a.length === 0) return 255;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}
