/**
 * Test media made on the spot with ffmpeg's lavfi sources (testsrc2 + sine): nothing is
 * committed. Other test suites may reuse `createMediaWorkspace` and `clip`.
 */
import { execFile, execFileSync } from "node:child_process";
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

/** Temp entries the media module creates (segmenter and file-mode transcoder work dirs). */
export async function mediaTempEntries(): Promise<string[]> {
  const entries = await readdir(tmpdir());
  return entries
    .filter((name) => name.startsWith("segmint-seg-") || name.startsWith("segmint-tx-"))
    .sort();
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
