import { mkdir, rmdir, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { silentLogger } from "../log/index.ts";
import { type BinaryInfo, locateBinaries } from "./binaries.ts";
import { getCapabilities } from "./capabilities.ts";
import { MediaError } from "./errors.ts";
import { codecsString, MediaPlaylist, writeVodHls } from "./hls.ts";
import type { Profile, Rendition, TranscodeResult } from "./interface.ts";
import { type MediaOptions, resolveMediaOptions } from "./options.ts";
import { type PreparedInput, prepareInput } from "./prepare.ts";
import { segmentFile } from "./segmenter.ts";
import { SegmentTranscoder } from "./transcoder.ts";

export interface LocalTranscodeOptions {
  profiles: readonly Profile[];
  outDir: string;
  segmentSeconds?: number;
  media?: Partial<MediaOptions>;
  /** Re-encode the input first with a keyframe every `segmentSeconds` (see prepare.ts). */
  reencode?: boolean;
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
    /** Keyframe spacing of what was cut (the re-encoded copy when there is one). */
    keyframeGapSeconds: { max: number; typical: number };
  };
  /** The longest segment cut: longer than asked when keyframes are further apart. */
  longestSegmentSeconds: number;
  /** The input was re-encoded before cutting, and why (null when it was cut as it is). */
  normalized: string | null;
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

/**
 * An operator's self-test, and the broadcaster's local path: file -> input preparation, the
 * same as a network broadcast's (so both accept the same files) -> segmenter -> segment transcoder (every
 * rendition from one decode) -> HLS (master + one playlist per rendition). A run that fails
 * leaves nothing behind in `outDir`: what it wrote is removed again.
 */
export async function transcodeFile(
  input: string,
  options: LocalTranscodeOptions,
): Promise<LocalTranscodeSummary> {
  const started = performance.now();
  const log = options.logger ?? silentLogger();
  const media = resolveMediaOptions(options.media);
  const binaries = await locateBinaries(media);
  const prepared = await prepareInput(input, {
    ffmpegPath: binaries.ffmpeg.path,
    media,
    gopSeconds: options.segmentSeconds ?? 2,
    ...(options.reencode === undefined ? {} : { reencode: options.reencode }),
    log,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const written: string[] = [];
  const created: string[] = [];
  try {
    return await transcodePrepared(prepared, options, {
      input: resolve(input),
      media,
      ffmpeg: binaries.ffmpeg,
      log,
      started,
      written,
      created,
    });
  } catch (error) {
    await removeOutput(written, created);
    throw error;
  } finally {
    await prepared.cleanup();
  }
}

/** Removes the files a failed run wrote, then the folders it made (deepest first, if empty). */
async function removeOutput(written: readonly string[], created: readonly string[]) {
  for (const file of written) await unlink(file).catch(() => {});
  for (const dir of [...created].sort((a, b) => b.length - a.length)) {
    await rmdir(dir).catch(() => {});
  }
}

interface RunContext {
  /** The input as named, made absolute (the prepared file may be a re-encoded copy). */
  input: string;
  media: MediaOptions;
  ffmpeg: BinaryInfo;
  log: Logger;
  started: number;
  /** Files and folders this run made in the output, for removal if it fails. */
  written: string[];
  created: string[];
}

async function transcodePrepared(
  prepared: PreparedInput,
  options: LocalTranscodeOptions,
  context: RunContext,
): Promise<LocalTranscodeSummary> {
  const { media, log, started, written, created } = context;
  const ffmpegPath = context.ffmpeg.path;
  const { info: source, video, path } = prepared;
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
  const makeDir = async (dir: string) => {
    const first = await mkdir(dir, { recursive: true });
    if (first === undefined) return;
    // mkdir names the topmost folder it made; every folder from there down to `dir` is new.
    for (let d = dir; d.length >= first.length; d = join(d, "..")) created.push(d);
  };
  for (const profile of options.profiles) await makeDir(join(outDir, profile.name));

  const finished = new Map<number, TranscodeResult>();
  let nextToWrite = 0;
  let done = 0;
  let mediaSeconds = 0;
  let longestSegmentSeconds = 0;
  // Playlists must list segments in order; results can complete out of order.
  const flush = async () => {
    for (let result = finished.get(nextToWrite); result; result = finished.get(nextToWrite)) {
      finished.delete(nextToWrite);
      const uri = `seg${String(nextToWrite).padStart(6, "0")}.ts`;
      await Promise.all(
        result.renditions.map(async (rendition, i) => {
          const file = join(outDir, rendition.profile, uri);
          written.push(file);
          await writeFile(file, rendition.data);
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
    codec: video.codec,
    targetSeconds: options.segmentSeconds ?? 2,
    signal,
    timeoutMs: media.timeoutBaseMs + media.timeoutPerMediaSecondMs * source.durationSeconds,
  });
  try {
    for await (const segment of segments) {
      if (failure !== undefined) break;
      longestSegmentSeconds = Math.max(longestSegmentSeconds, segment.durationSeconds);
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
    throw new MediaError("INPUT_INVALID", `${context.input} produced no segments`, {
      input: context.input,
    });
  }

  written.push(
    join(outDir, "master.m3u8"),
    ...options.profiles.map((p) => join(outDir, p.name, "index.m3u8")),
  );
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
    input: context.input,
    outDir,
    master,
    ffmpeg: context.ffmpeg,
    source: {
      width: video.width,
      height: video.height,
      codec: video.codec,
      fps: video.fps,
      durationSeconds: video.durationSeconds,
      audio: source.audio?.codec ?? null,
      keyframeGapSeconds: video.keyframeGapSeconds,
    },
    longestSegmentSeconds,
    normalized: prepared.normalized,
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
