import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MediaError, stderrTail } from "./errors.ts";
import { parseFrameHash } from "./framehash.ts";
import { runBinary } from "./process.ts";

/**
 * The ffmpeg side of checking what an orchestrator returned, beyond its claims:
 *
 * - `pictureSummary`: one demux + decode of a segment (~20-60 ms at low resolutions) giving its
 *   video packets' timestamps and sizes, whether every packet decoded, and each frame as a tiny
 *   grey thumbnail. Comparing a rendition's thumbnails with its source's finds black, frozen or
 *   unrelated pictures; the packets give frame counts, first and last timestamps and the video
 *   bitrate. Cheap enough for every segment.
 * - `compareToSource`: SSIM and PSNR (ffmpeg's own filters) of a rendition against the source
 *   segment scaled to the rendition's size, the reference a spot check measures against.
 *
 * Thumbnails are what the area scaler makes of the whole picture at THUMB_W x THUMB_H: detail
 * (and so encoding quality) is averaged away, content and timing are not.
 */
export const THUMB_W = 32;
export const THUMB_H = 18;
const THUMB_BYTES = THUMB_W * THUMB_H;

export interface PictureSummary {
  /** Video packets demuxed (one per frame in MPEG-TS). */
  packets: number;
  /** Frames the decoder produced; fewer than `packets` means undecodable data. */
  decodedFrames: number;
  /** Presentation time of the first and last frame, seconds (timestamps kept as they are). */
  firstSeconds: number;
  lastSeconds: number;
  /** Sum of the video packets' sizes, bytes (no container or audio overhead). */
  videoBytes: number;
  width: number;
  height: number;
  /** One THUMB_W x THUMB_H 8-bit grey picture per decoded frame, in presentation order. */
  thumbnails: Uint8Array[];
}

export interface QualityRunOptions {
  ffmpegPath: string;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
}

/** Demuxes and decodes an MPEG-TS segment once, summarising its video (see the file comment). */
export async function pictureSummary(
  data: Uint8Array,
  options: QualityRunOptions,
): Promise<PictureSummary> {
  const args = [
    "-hide_banner",
    "-nostdin",
    "-v",
    "error",
    "-copyts",
    "-f",
    "mpegts",
    "-i",
    "pipe:0",
    // Output 1: the packets as they are (timestamps, sizes).
    "-map",
    "0:v:0",
    "-c",
    "copy",
    "-copyinkf",
    "-f",
    "framecrc",
    "pipe:1",
    // Output 2: every decoded frame, tiny and grey. passthrough: no frame dropped or duplicated.
    "-map",
    "0:v:0",
    "-vf",
    `scale=${THUMB_W}:${THUMB_H}:flags=area,format=gray`,
    "-vsync",
    "passthrough",
    "-f",
    "rawvideo",
    "pipe:3",
  ];
  const result = await runBinary(options.ffmpegPath, {
    args,
    stdin: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    captureStdout: true,
    outputPipes: 1,
    timeoutMs: options.timeoutMs ?? 30_000,
    signal: options.signal,
  });
  const hash = parseFrameHash(result.stdout.toString("utf8"));
  const video = hash.streams.find((s) => s.mediaType === "video") ?? hash.streams[0];
  if (video === undefined || result.exitCode !== 0) {
    throw new MediaError(
      "INPUT_INVALID",
      `the segment's video cannot be decoded: ${stderrTail(result.stderr) || "no video stream"}`,
      { exitCode: result.exitCode, stderr: stderrTail(result.stderr, 6) },
      { hint: "the segment is corrupt or not MPEG-TS video" },
    );
  }
  const packets = hash.packets.filter((p) => p.stream === video.index);
  const [num, den] = video.timeBase ?? [1, 90_000];
  const times = packets
    .map((p) => p.pts ?? p.dts)
    .filter((t) => t !== undefined)
    .map((t) => (t * num) / den)
    .sort((a, b) => a - b);
  const raw = result.outputs[0] ?? Buffer.alloc(0);
  const thumbnails: Uint8Array[] = [];
  for (let at = 0; at + THUMB_BYTES <= raw.length; at += THUMB_BYTES) {
    thumbnails.push(raw.subarray(at, at + THUMB_BYTES));
  }
  return {
    packets: packets.length,
    decodedFrames: thumbnails.length,
    firstSeconds: times[0] ?? 0,
    lastSeconds: times.at(-1) ?? 0,
    videoBytes: packets.reduce((sum, p) => sum + p.size, 0),
    width: video.width ?? 0,
    height: video.height ?? 0,
    thumbnails,
  };
}

/** Mean luma (0-255) of a set of thumbnails. */
export function meanLuma(thumbnails: readonly Uint8Array[]): number {
  let sum = 0;
  let count = 0;
  for (const t of thumbnails) {
    for (const v of t) sum += v;
    count += t.length;
  }
  return count === 0 ? 0 : sum / count;
}

/** Mean absolute difference (0-255) between two thumbnails. */
export function thumbnailDistance(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 255;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / n;
}

/** Mean distance between consecutive thumbnails: how much the picture moves (0 = frozen). */
export function motion(thumbnails: readonly Uint8Array[]): number {
  if (thumbnails.length < 2) return 0;
  let sum = 0;
  for (let i = 1; i < thumbnails.length; i++) {
    const a = thumbnails[i - 1];
    const b = thumbnails[i];
    if (a !== undefined && b !== undefined) sum += thumbnailDistance(a, b);
  }
  return sum / (thumbnails.length - 1);
}

/**
 * Mean distance between each rendition thumbnail and the source thumbnail shown at the same
 * moment. Frames are paired by position (a rendition with a lower frame rate is matched to the
 * source frames it was made from), each with the closest of its source frame's neighbours, so
 * a frame-rate converter that picks the next source frame costs nothing.
 */
export function contentDistance(
  rendition: readonly Uint8Array[],
  source: readonly Uint8Array[],
): number {
  if (rendition.length === 0 || source.length === 0) return 255;
  let sum = 0;
  for (let i = 0; i < rendition.length; i++) {
    const j = Math.min(
      source.length - 1,
      Math.floor((i * source.length) / Math.max(1, rendition.length)),
    );
    const a = rendition[i];
    if (a === undefined) continue;
    let best = 255;
    for (let k = Math.max(0, j - 1); k <= Math.min(source.length - 1, j + 1); k++) {
      const b = source[k];
      if (b !== undefined) best = Math.min(best, thumbnailDistance(a, b));
    }
    sum += best;
  }
  return sum / rendition.length;
}

export interface QualityScore {
  /** Mean SSIM over all frames, all planes (1 = identical). */
  ssim: number;
  /** Mean PSNR, dB (capped at 100 for identical pictures). */
  psnr: number;
}

/**
 * Compares a rendition with its source segment scaled (and, when the rendition lowers the frame
 * rate, resampled) the way an honest transcoder scales it, with ffmpeg's ssim and psnr filters.
 * Both inputs are aligned on their own first frame.
 */
export async function compareToSource(
  rendition: Uint8Array,
  source: Uint8Array,
  target: { width: number; height: number; fps: number | undefined },
  options: QualityRunOptions & { workDir: string },
): Promise<QualityScore> {
  const tag = randomBytes(6).toString("hex");
  const renditionPath = join(options.workDir, `q-${tag}-r.ts`);
  const sourcePath = join(options.workDir, `q-${tag}-s.ts`);
  await Promise.all([writeFile(renditionPath, rendition), writeFile(sourcePath, source)]);
  try {
    const ref = [`scale=${target.width}:${target.height}:flags=bicubic`, "format=yuv420p"];
    if (target.fps !== undefined) ref.push(`fps=${target.fps}`);
    const graph = [
      `[0:v:0]format=yuv420p,split=2[d1][d2]`,
      `[1:v:0]${ref.join(",")},split=2[r1][r2]`,
      "[d1][r1]ssim",
      "[d2][r2]psnr",
    ].join(";");
    const result = await runBinary(options.ffmpegPath, {
      args: [
        "-hide_banner",
        "-nostdin",
        "-v",
        "info",
        "-f",
        "mpegts",
        "-i",
        `file:${renditionPath}`,
        "-f",
        "mpegts",
        "-i",
        `file:${sourcePath}`,
        "-filter_complex",
        graph,
        "-f",
        "null",
        "-",
      ],
      timeoutMs: options.timeoutMs ?? 60_000,
      signal: options.signal,
    });
    const ssim = /SSIM .*All:([0-9.]+)/.exec(result.stderr)?.[1];
    const psnr = /PSNR .*average:([0-9.]+|inf)/.exec(result.stderr)?.[1];
    if (result.exitCode !== 0 || ssim === undefined) {
      throw new MediaError(
        "FFMPEG_FAILED",
        `comparing the rendition with its source failed: ${stderrTail(result.stderr)}`,
        { exitCode: result.exitCode, stderr: stderrTail(result.stderr, 6) },
      );
    }
    return {
      ssim: Number(ssim),
      psnr: psnr === undefined || psnr === "inf" ? 100 : Math.min(100, Number(psnr)),
    };
  } finally {
    await Promise.all([rm(renditionPath, { force: true }), rm(sourcePath, { force: true })]);
  }
}
