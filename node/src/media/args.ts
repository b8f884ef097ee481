import type { Profile } from "./interface.ts";
import { CODEC_ENCODERS, outputFps, outputSize } from "./profiles.ts";

/**
 * Reads a local file as a broadcast source: its first video stream and, when it has one, its
 * first audio stream (other streams such as subtitles or data cannot go into the segments).
 * The `file:` prefix keeps a name with a colon from being read as a protocol. A file cut short
 * mid-packet ends in a packet the demuxer marks corrupt: dropping it keeps everything before it
 * (ffmpeg 5.1's stream copy otherwise fails on it and nothing at all is cut).
 */
export function sourceFileArgs(path: string): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-fflags",
    "+discardcorrupt",
    "-i",
    `file:${path}`,
    "-map",
    "0:v:0",
    "-map",
    "0:a:0?",
  ];
}

/**
 * Stream-copy options that put the parameter sets (SPS/PPS, and VPS for HEVC) in front of
 * every keyframe, so a segment cut there decodes on its own. An MP4 or MKV keeps them once, in
 * the header; the Annex B conversion the MPEG-TS muxer applies repeats them only before IDR
 * pictures, and x264's open GOPs start later GOPs with a non-IDR I-frame. Other codecs, and
 * streams already in Annex B form, pass through unchanged.
 */
export function inBandParameterSetArgs(codec: string | undefined): string[] {
  if (codec === "h264") return ["-bsf:v", "h264_mp4toannexb,dump_extra=freq=keyframe"];
  if (codec === "hevc") return ["-bsf:v", "hevc_mp4toannexb,dump_extra=freq=keyframe"];
  return [];
}

/** What the hardware side of the capability document allows for one run. */
export interface HardwarePlan {
  /** `-hwaccel` method for decoding, when a working one covers the input codec. */
  decoder: "cuda" | undefined;
  /** Encoders proven to work by capability detection. */
  workingEncoders: ReadonlySet<string>;
}

export const SOFTWARE_ONLY: HardwarePlan = { decoder: undefined, workingEncoders: new Set() };

export interface PlannedOutput {
  profile: Profile;
  width: number;
  height: number;
  fps: number | undefined;
  encoder: string;
}

export interface TranscodePlan {
  args: string[];
  outputs: PlannedOutput[];
}

export interface PlanInput {
  source: { codec: string; width: number; height: number; fps: number; interlaced?: boolean };
  audioCodec: string | undefined;
  profiles: readonly Profile[];
  hardware: HardwarePlan;
  audioBitrateBps: number;
  /** Where each rendition goes; default: pipe:3, pipe:4, ... */
  targets?: readonly string[] | undefined;
  /** Where the segment is read from; default: stdin. */
  inputPath?: string | undefined;
}

function encoderFor(profile: Profile, hardware: HardwarePlan): string {
  const choice = CODEC_ENCODERS[profile.codec];
  return hardware.workingEncoders.has(choice.nvidia) ? choice.nvidia : choice.software;
}

function frames(seconds: number, fps: number): number {
  return Math.max(1, Math.round(seconds * fps));
}

export function videoEncoderArgs(output: PlannedOutput, sourceFps: number): string[] {
  const { profile, encoder } = output;
  const fps = output.fps ?? (sourceFps > 0 ? sourceFps : 30);
  const gop = String(frames(profile.gopSeconds, fps));
  const rate = String(profile.bitrateBps);
  const buffer = String(profile.bitrateBps * 2);
  const args = ["-c:v", encoder];
  switch (encoder) {
    case "libx264":
      args.push("-preset", profile.preset, "-pix_fmt", "yuv420p", "-g", gop, "-keyint_min", gop);
      // Scene-cut keyframes would make renditions' GOPs differ; HLS switching wants them equal.
      args.push("-sc_threshold", "0");
      // The 90 kHz encoder time base (see planTranscode) would otherwise be taken as 90000 fps,
      // and the SPS would claim level 6.2 (seen), which players may refuse.
      args.push("-x264-params", `fps=${fps}`);
      break;
    case "libx265":
      args.push("-preset", profile.preset, "-pix_fmt", "yuv420p");
      args.push(
        "-x265-params",
        `keyint=${gop}:min-keyint=${gop}:scenecut=0:fps=${fps}:log-level=error`,
      );
      break;
    case "h264_nvenc":
    case "hevc_nvenc":
      // "fast" exists in the preset lists of both old (4.x) and new (p1-p7 era) NVENC.
      args.push("-preset", "fast", "-g", gop, "-forced-idr", "1");
      break;
    default:
      args.push("-g", gop);
  }
  if (profile.crf !== undefined) {
    args.push("-crf", String(profile.crf), "-maxrate", rate, "-bufsize", buffer);
  } else {
    args.push("-b:v", rate, "-maxrate", rate, "-bufsize", buffer);
  }
  return args;
}

/**
 * One ffmpeg process per segment: one decode, a split filter feeding one scaler per rendition,
 * one encoder per output, each output an MPEG-TS written to its own pipe (fd 3, 4, ...).
 * `-copyts` with zero mux delay keeps the source's timestamps so renditions line up in HLS.
 */
export function planTranscode(input: PlanInput): TranscodePlan {
  const { source, profiles, hardware } = input;
  const outputs: PlannedOutput[] = profiles.map((profile) => ({
    profile,
    ...outputSize(source, profile),
    fps: outputFps(source.fps, profile),
    encoder: encoderFor(profile, hardware),
  }));

  const args = ["-hide_banner", "-nostdin", "-v", "error", "-copyts"];
  if (hardware.decoder === "cuda" && (source.codec === "h264" || source.codec === "hevc")) {
    // Frames come back to system memory, so the CPU scalers and encoders work unchanged.
    args.push("-hwaccel", "cuda");
  }
  args.push("-f", "mpegts", "-i", input.inputPath ? `file:${input.inputPath}` : "pipe:0");

  // Deinterlaced once, before the split. deint=interlaced passes frames not flagged as
  // interlaced through untouched, and send_frame (the default mode) keeps one frame per
  // frame, so frame counts and timestamps stay those of the source.
  const head = source.interlaced ? "yadif=deint=interlaced," : "";
  const chains = outputs.map((out, i) => {
    const filters = [`scale=${out.width}:${out.height}`];
    if (out.fps !== undefined) filters.push(`fps=${out.fps}`);
    return `${outputs.length > 1 ? `[s${i}]` : `[0:v:0]${head}`}${filters.join(",")}[v${i}]`;
  });
  const split =
    outputs.length > 1
      ? `[0:v:0]${head}split=${outputs.length}${outputs.map((_, i) => `[s${i}]`).join("")};`
      : "";
  args.push("-filter_complex", split + chains.join(";"));

  outputs.forEach((out, i) => {
    args.push("-map", `[v${i}]`);
    if (input.audioCodec !== undefined) {
      args.push("-map", "0:a:0");
      // AAC is what HLS players expect; anything else is re-encoded once per output.
      if (input.audioCodec === "aac") args.push("-c:a", "copy");
      else args.push("-c:a", "aac", "-b:a", String(input.audioBitrateBps));
    }
    args.push(...videoEncoderArgs(out, source.fps));
    // Encoders default to a 1/fps time base, which rounds the first timestamp to a frame
    // boundary (12 ms off seen); MPEG-TS's own 90 kHz keeps it exact.
    args.push("-enc_time_base:v", "1:90000");
    args.push(
      "-muxdelay",
      "0",
      "-muxpreload",
      "0",
      "-f",
      "mpegts",
      input.targets?.[i] ?? `pipe:${3 + i}`,
    );
  });
  return { args, outputs };
}
