import { accessSync, constants, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { MediaError } from "./errors.ts";
import { runBinary } from "./process.ts";

export type BinarySource = "option" | "env" | "path" | "npm";

export interface BinaryInfo {
  path: string;
  source: BinarySource;
  /** The version string ffmpeg prints (`ffmpeg version <this> ...`). */
  version: string;
}

export interface Binaries {
  ffmpeg: BinaryInfo;
  ffprobe: BinaryInfo | undefined;
}

export interface LocateOptions {
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

const require = createRequire(import.meta.url);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir.length === 0) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function npmBinary(pkg: "@ffmpeg-installer/ffmpeg" | "@ffprobe-installer/ffprobe") {
  try {
    const mod: unknown = require(pkg);
    if (typeof mod === "object" && mod !== null && "path" in mod && typeof mod.path === "string") {
      return mod.path;
    }
  } catch {
    // Not installed for this platform: fall through to "not found".
  }
  return undefined;
}

/** Finds a binary in the documented order: option, env, PATH, npm static build. */
export function findBinary(
  name: "ffmpeg" | "ffprobe",
  options: LocateOptions = {},
): { path: string; source: BinarySource } | undefined {
  const env = options.env ?? process.env;
  const explicit = name === "ffmpeg" ? options.ffmpegPath : options.ffprobePath;
  if (explicit) return { path: explicit, source: "option" };
  const fromEnv = name === "ffmpeg" ? env.FFMPEG_PATH : env.FFPROBE_PATH;
  if (fromEnv) return { path: fromEnv, source: "env" };
  const found = onPath(name, env);
  if (found) return { path: found, source: "path" };
  const npm = npmBinary(
    name === "ffmpeg" ? "@ffmpeg-installer/ffmpeg" : "@ffprobe-installer/ffprobe",
  );
  if (npm) return { path: npm, source: "npm" };
  return undefined;
}

/** `ffmpeg version N-47683-g0e8eb07980-static https://...` -> `N-47683-g0e8eb07980-static`. */
export function parseVersionLine(output: string): string {
  const match = /^(?:ffmpeg|ffprobe) version (\S+)/m.exec(output);
  return match?.[1] ?? "unknown";
}

async function describe(
  name: "ffmpeg" | "ffprobe",
  found: { path: string; source: BinarySource },
): Promise<BinaryInfo> {
  if (!isExecutable(found.path)) {
    throw new MediaError(
      "FFMPEG_NOT_FOUND",
      `${name} at ${found.path} (from ${found.source}) is not an executable file`,
      { name, ...found },
      { hint: `fix ${name === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH"} or install ${name}` },
    );
  }
  const result = await runBinary(found.path, {
    args: ["-hide_banner", "-version"],
    captureStdout: true,
    timeoutMs: 10_000,
  });
  if (result.exitCode !== 0) {
    throw new MediaError(
      "FFMPEG_NOT_FOUND",
      `${name} at ${found.path} did not run (exit ${result.exitCode ?? result.signal})`,
      { name, ...found },
      { hint: `point ${name === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH"} at a working build` },
    );
  }
  return { ...found, version: parseVersionLine(result.stdout.toString("utf8")) };
}

const cache = new Map<string, Promise<Binaries>>();

/**
 * Locates and versions ffmpeg (required) and ffprobe (reported when present; the media
 * module does not depend on it, see probe.ts). Cached per process and per setting.
 */
export function locateBinaries(options: LocateOptions = {}): Promise<Binaries> {
  const ffmpeg = findBinary("ffmpeg", options);
  const ffprobe = findBinary("ffprobe", options);
  const key = `${ffmpeg?.path}|${ffprobe?.path}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const promise = (async (): Promise<Binaries> => {
    if (!ffmpeg) {
      throw new MediaError(
        "FFMPEG_NOT_FOUND",
        "no ffmpeg found (FFMPEG_PATH, PATH and @ffmpeg-installer/ffmpeg all came up empty)",
        {},
        { hint: "install ffmpeg or set FFMPEG_PATH" },
      );
    }
    const [ffmpegInfo, ffprobeInfo] = await Promise.all([
      describe("ffmpeg", ffmpeg),
      ffprobe ? describe("ffprobe", ffprobe).catch(() => undefined) : undefined,
    ]);
    return { ffmpeg: ffmpegInfo, ffprobe: ffprobeInfo };
  })();
  cache.set(key, promise);
  promise.catch(() => cache.delete(key));
  return promise;
}
