import { readFile } from "node:fs/promises";
import { z } from "zod";
import { MediaError } from "./errors.ts";
import type { Profile, VideoCodec } from "./interface.ts";

/**
 * Named presets. Sizes and the 30/60 fps split follow Livepeer's P240p30fps16x9 ...
 * P720p60fps16x9 table; bitrates are ours: ~0.1 bit per pixel at 30 fps for H.264, x1.5 at
 * 60 fps (motion costs bits, not twice as many).
 */
const BASE: ReadonlyArray<{ height: number; width: number; kbps30: number }> = [
  { height: 144, width: 256, kbps30: 250 },
  { height: 240, width: 426, kbps30: 400 },
  { height: 360, width: 640, kbps30: 800 },
  { height: 480, width: 854, kbps30: 1600 },
  { height: 720, width: 1280, kbps30: 3000 },
  { height: 1080, width: 1920, kbps30: 6000 },
];

export const DEFAULT_GOP_SECONDS = 2;
export const DEFAULT_PRESET = "veryfast";

function preset(height: number, width: number, kbps30: number, fps: 30 | 60): Profile {
  return {
    name: `${height}p${fps}`,
    width,
    height,
    bitrateBps: (fps === 30 ? kbps30 : kbps30 * 1.5) * 1000,
    fps,
    codec: "h264",
    gopSeconds: DEFAULT_GOP_SECONDS,
    preset: DEFAULT_PRESET,
    crf: undefined,
    allowUpscale: false,
  };
}

export const PRESETS: ReadonlyMap<string, Profile> = new Map(
  BASE.flatMap(({ height, width, kbps30 }) =>
    ([30, 60] as const).map(
      (fps) => [`${height}p${fps}`, preset(height, width, kbps30, fps)] as const,
    ),
  ),
);

/** `720p` -> `720p30`; Livepeer names `P720p60fps16x9` -> `720p60`. */
function canonicalName(name: string): string {
  const trimmed = name.trim();
  const livepeer = /^P(\d+)p(\d+)fps16x9$/.exec(trimmed);
  if (livepeer) return `${livepeer[1]}p${livepeer[2]}`;
  if (/^\d+p$/.test(trimmed)) return `${trimmed}30`;
  return trimmed;
}

export function presetProfile(name: string): Profile {
  const found = PRESETS.get(canonicalName(name));
  if (!found) {
    throw new MediaError(
      "PROFILE_UNKNOWN",
      `unknown profile "${name}"`,
      { name },
      { hint: `use one of ${[...PRESETS.keys()].join(", ")} or a JSON profile` },
    );
  }
  return { ...found, name: name.trim() };
}

/** "3000k", "3M", "3000000" or a number of bits per second. */
const bitrateSchema = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d+(\.\d+)?[kKmM]?$/, "a bitrate like 3000k, 3M or 3000000")
    .transform((text) => {
      const unit = text.slice(-1).toLowerCase();
      const scale = unit === "k" ? 1e3 : unit === "m" ? 1e6 : 1;
      return Math.round(Number.parseFloat(text) * scale);
    }),
]);

const evenDimension = z.number().int().min(16).max(8192);

export const profileJsonSchema = z
  .object({
    // The name becomes a folder in the HLS output, so it must not be "." or "..".
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9][\w.-]*$/, "a letter or digit, then letters, digits, '.', '_' or '-'"),
    width: evenDimension,
    height: evenDimension,
    bitrate: bitrateSchema,
    fps: z.number().positive().max(240).optional(),
    // Renditions travel as MPEG-TS, which carries H.264 and HEVC (not VP9 or AV1).
    codec: z.enum(["h264", "hevc"]).default("h264"),
    gop: z.number().positive().max(20).default(DEFAULT_GOP_SECONDS),
    preset: z.string().min(1).max(32).default(DEFAULT_PRESET),
    crf: z.number().int().min(0).max(63).optional(),
    allowUpscale: z.boolean().default(false),
  })
  .strict();

export type ProfileJson = z.input<typeof profileJsonSchema>;

export function profileFromJson(value: unknown): Profile {
  const parsed = profileJsonSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      path: issue.path.join("."),
      message: issue.message,
    }));
    throw new MediaError(
      "PROFILE_INVALID",
      `invalid profile: ${problems.map((p) => `${p.path || "(root)"}: ${p.message}`).join("; ")}`,
      { problems },
      { hint: "see docs/transcoding.md for the profile fields" },
    );
  }
  const p = parsed.data;
  return {
    name: p.name,
    width: p.width,
    height: p.height,
    bitrateBps: p.bitrate,
    fps: p.fps,
    codec: p.codec,
    gopSeconds: p.gop,
    preset: p.preset,
    crf: p.crf,
    allowUpscale: p.allowUpscale,
  };
}

/**
 * A ladder from a CLI/config spec: comma-separated preset names ("720p,480p,360p"), or JSON
 * (one profile object or an array of them).
 */
export function parseLadder(spec: string): Profile[] {
  const text = spec.trim();
  let profiles: Profile[];
  if (text.startsWith("[") || text.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new MediaError("PROFILE_INVALID", "the profile JSON does not parse", {}, { cause });
    }
    profiles = (Array.isArray(json) ? json : [json]).map(profileFromJson);
  } else {
    profiles = text
      .split(",")
      .filter((name) => name.trim().length > 0)
      .map(presetProfile);
  }
  if (profiles.length === 0) {
    throw new MediaError(
      "PROFILE_INVALID",
      "the ladder is empty",
      {},
      {
        hint: "name at least one profile, e.g. 720p,480p,360p",
      },
    );
  }
  const names = new Set<string>();
  for (const profile of profiles) {
    if (names.has(profile.name)) {
      throw new MediaError("PROFILE_INVALID", `profile "${profile.name}" appears twice`, {
        name: profile.name,
      });
    }
    names.add(profile.name);
  }
  return profiles;
}

/** `--profiles` may also name a JSON file. */
export async function loadLadder(specOrFile: string): Promise<Profile[]> {
  if (specOrFile.trim().endsWith(".json")) {
    return parseLadder(await readFile(specOrFile.trim(), "utf8"));
  }
  return parseLadder(specOrFile);
}

/** The nearest even number, but never above `limit` (rounding 1279 up to 1280 would upscale). */
function even(value: number, limit: number): number {
  const nearest = 2 * Math.round(value / 2);
  return Math.max(2, nearest <= limit ? nearest : 2 * Math.floor(limit / 2));
}

/**
 * The output size for a source: the source's aspect ratio kept inside the profile's box,
 * the box turned to portrait for a portrait source (so "720p" means the short side), never
 * larger than the source unless the profile allows upscaling, both sides even (4:2:0).
 */
export function outputSize(
  source: { width: number; height: number },
  profile: Pick<Profile, "width" | "height" | "allowUpscale">,
): { width: number; height: number } {
  let boxW = profile.width;
  let boxH = profile.height;
  if (source.height > source.width && boxW > boxH) [boxW, boxH] = [boxH, boxW];
  let scale = Math.min(boxW / source.width, boxH / source.height);
  if (!profile.allowUpscale) scale = Math.min(scale, 1);
  const maxW = profile.allowUpscale ? boxW : Math.min(boxW, source.width);
  const maxH = profile.allowUpscale ? boxH : Math.min(boxH, source.height);
  return { width: even(source.width * scale, maxW), height: even(source.height * scale, maxH) };
}

/** Output frame rate: the profile's, but never above the source's (no duplicated frames). */
export function outputFps(sourceFps: number, profile: Pick<Profile, "fps">): number | undefined {
  if (profile.fps === undefined) return undefined;
  if (sourceFps > 0 && profile.fps >= sourceFps - 0.01) return undefined;
  return profile.fps;
}

export const CODEC_ENCODERS: Record<VideoCodec, { software: string; nvidia: string }> = {
  h264: { software: "libx264", nvidia: "h264_nvenc" },
  hevc: { software: "libx265", nvidia: "hevc_nvenc" },
};
