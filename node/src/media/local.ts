import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { silentLogger } from "../log/index.ts";
import { type BinaryInfo, locateBinaries } from "./binaries.ts";
import { getCapabilities } from "./capabilities.ts";
import { MediaError } from "./errors.ts";
import { codecsString, MediaPlaylist, writeVodHls } from "./hls.ts";
import type { Profile, Rendition, TranscodeResult } from "./interface.ts";
import { type MediaOptions, resolveMediaOptions } from "./options.ts";
import { probeMedia } from "./probe.ts";
import { segmentFile } from "./segmenter.ts";
import { SegmentTranscoder } from "./transcoder.ts";
import { checkInputFile, fileLimits, validateMedia } from "./validate.ts";

export interface LocalTranscodeOptions {
  profiles: readonly Profile[];
  outDir: string;
  segmentSeconds?: number;
  media?: Partial<MediaOptions>;
  /** Skip hardware probing (software only). */
  detectHardware?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  onProgress?: (progress: { segments: number; mediaSeconds: number; totalSeconds: number }) => void;
}

export interface LocalTranscodeSummary {
  input: string;
  outDir: string;
  master: string;
  ffmpeg: BinaryInfo;
  source: {
    width: number;
    height: number;
    codec: string;
    fps: number;
    durationSeconds: number;
    audio: string | null;
  };
  segments: number;
  mediaSeconds: number;
  wallSeconds: number;
  realtimeFactor: number;
  renditions: Array<{
    name: string;
    width: number;
    height: number;
    frames: number;
    pixels: number;
    bytes: number;
    durationSeconds: number;
    bandwidth: number;
    encoder: string;
  }>;
}

// Segments the segmenter may run ahead of the transcoder: enough to keep every slot busy
// while the next cut is read, few enough that a long file never sits in memory.
const READ_AHEAD = 2;

/** Codecs the segmenter can copy into MPEG-TS without re-encoding. */
const SEGMENTABLE = ["h264", "hevc", "mpeg2video"];

/**
 * An operator's self-test, and the broadcaster's local path: file -> segmenter -> segment
 * transcoder (every rendition from one decode) -> HLS (master + one playlist per rendition).
 */
export async function transcodeFile(
  input: string,
  options: LocalTranscodeOptions,
): Promise<LocalTranscodeSummary> {
  const started = performance.now();
  const log = options.logger ?? silentLogger();
  const media = resolveMediaOptions(options.media);
  const limits = fileLimits(media);
  const path = await checkInputFile(input, limits);

  const binaries = await locateBinaries(media);
  const ffmpegPath = binaries.ffmpeg.path;
  const source = await probeMedia(path, {
    ffmpegPath,
    signal: options.signal,
    timeoutMs: media.timeoutBaseMs * 4,
  });
  const video = validateMedia(source, limits);
  if (!SEGMENTABLE.includes(video.codec)) {
    throw new MediaError(
      "INPUT_UNSUPPORTED_CODEC",
      `the segmenter copies video into MPEG-TS, which cannot carry ${video.codec}`,
      { codec: video.codec },
      { hint: `re-encode the file to H.264 first (supported here: ${SEGMENTABLE.join(", ")})` },
    );
  }
  const capabilities = options.detectHardware === false ? undefined : await getCapabilities(media);
  const transcoder = new SegmentTranscoder({
    ffmpegPath,
    options: media,
    capabilities,
    logger: log,
  });

  const outDir = resolve(options.outDir);
  const playlists = options.profiles.map(() => new MediaPlaylist({ type: "vod" }));
  const firstRenditions: Rendition[] = [];
  const totals = options.profiles.map(() => ({
    frames: 0,
    pixels: 0,
    bytes: 0,
    durationSeconds: 0,
  }));
  for (const profile of options.profiles)
    await mkdir(join(outDir, profile.name), { recursive: true });

  const finished = new Map<number, TranscodeResult>();
  let nextToWrite = 0;
  let done = 0;
  let mediaSeconds = 0;
  // Playlists must list segments in order; results can complete out of order.
  const flush = async () => {
    for (let result = finished.get(nextToWrite); result; result = finished.get(nextToWrite)) {
      finished.delete(nextToWrite);
      const uri = `seg${String(nextToWrite).padStart(6, "0")}.ts`;
      await Promise.all(
        result.renditions.map(async (rendition, i) => {
          await writeFile(join(outDir, rendition.profile, uri), rendition.data);
          playlists[i]?.add({
            uri,
            durationSeconds: rendition.durationSeconds,
            bytes: rendition.bytes,
          });
          const total = totals[i];
          if (total) {
            total.frames += rendition.frames;
            total.pixels += rendition.pixels;
            total.bytes += rendition.bytes;
            total.durationSeconds += rendition.durationSeconds;
          }
          if (nextToWrite === 0) firstRenditions[i] = rendition;
        }),
      );
      nextToWrite++;
    }
  };

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const segments = segmentFile(path, {
    ffmpegPath,
    targetSeconds: options.segmentSeconds ?? 2,
    signal,
    timeoutMs: media.timeoutBaseMs + media.timeoutPerMediaSecondMs * source.durationSeconds,
  });
  try {
    for await (const segment of segments) {
      if (failure !== undefined) break;
      const task = transcoder
        .transcode(segment.data, { profiles: options.profiles, signal })
        .then(async (result) => {
          finished.set(segment.index, result);
          done++;
          mediaSeconds += result.source.video?.durationSeconds ?? result.source.durationSeconds;
          await flush();
          options.onProgress?.({
            segments: done,
            mediaSeconds,
            totalSeconds: video.durationSeconds,
          });
        })
        .catch((error: unknown) => {
          if (failure === undefined) failure = error;
          stop.abort();
        });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      while (inFlight.size >= transcoder.capacity + READ_AHEAD) await Promise.race(inFlight);
    }
  } catch (error) {
    if (failure === undefined) failure = error;
    stop.abort();
  } finally {
    await Promise.all(inFlight);
  }
  if (failure !== undefined) throw failure;
  if (done === 0) {
    throw new MediaError("INPUT_INVALID", `${input} produced no segments`, { input });
  }

  const master = await writeVodHls(
    outDir,
    options.profiles.map((profile, i) => {
      const first = firstRenditions[i];
      return {
        name: profile.name,
        playlist: playlists[i] ?? new MediaPlaylist(),
        info: {
          width: first?.width ?? 0,
          height: first?.height ?? 0,
          codecs: first
            ? codecsString(first.data, profile.codec, source.audio !== undefined)
            : "avc1.640028",
          frameRate: profile.fps !== undefined && profile.fps < video.fps ? profile.fps : video.fps,
        },
      };
    }),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  const summary: LocalTranscodeSummary = {
    input: path,
    outDir,
    master,
    ffmpeg: binaries.ffmpeg,
    source: {
      width: video.width,
      height: video.height,
      codec: video.codec,
      fps: video.fps,
      durationSeconds: video.durationSeconds,
      audio: source.audio?.codec ?? null,
    },
    segments: done,
    mediaSeconds,
    wallSeconds,
    realtimeFactor: wallSeconds > 0 ? mediaSeconds / wallSeconds : 0,
    renditions: options.profiles.map((profile, i) => ({
      name: profile.name,
      width: firstRenditions[i]?.width ?? 0,
      height: firstRenditions[i]?.height ?? 0,
      frames: totals[i]?.frames ?? 0,
      pixels: totals[i]?.pixels ?? 0,
      bytes: totals[i]?.bytes ?? 0,
      durationSeconds: totals[i]?.durationSeconds ?? 0,
      bandwidth: playlists[i]?.bandwidth.peak ?? 0,
      encoder: firstRenditions[i]?.encoder ?? "",
    })),
  };
  log.info({ segments: done, mediaSeconds, wallSeconds }, "file transcoded");
  return summary;
}
