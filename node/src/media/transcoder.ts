import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { silentLogger } from "../log/index.ts";
import { type HardwarePlan, planTranscode, SOFTWARE_ONLY } from "./args.ts";
import type { Capabilities } from "./capabilities.ts";
import { isMediaError, MediaError, stderrTail } from "./errors.ts";
import type { Rendition, TranscodeRequest, TranscodeResult } from "./interface.ts";
import type { MediaMetrics } from "./metrics.ts";
import { cpuCores, type MediaOptions, resolveMediaOptions } from "./options.ts";
import { probeMedia } from "./probe.ts";
import { runBinary } from "./process.ts";
import { Semaphore } from "./semaphore.ts";
import { scanTsVideo } from "./tsscan.ts";
import { checkInputSize, segmentLimits, validateMedia } from "./validate.ts";

export interface TranscoderDeps {
  ffmpegPath: string;
  options?: Partial<MediaOptions>;
  /** Hardware paths are taken only from a capability document (proven by test transcodes). */
  capabilities?: Capabilities | undefined;
  logger?: Logger;
  metrics?: MediaMetrics | null;
}

export function hardwarePlan(
  capabilities: Capabilities | undefined,
  useHardware: boolean,
): HardwarePlan {
  if (!capabilities || !useHardware) return SOFTWARE_ONLY;
  const workingEncoders = new Set(
    capabilities.encoders.filter((e) => e.works && e.hardware).map((e) => e.name),
  );
  const nvenc = [...workingEncoders].some((name) => name.endsWith("_nvenc"));
  const cuda = capabilities.decoders.some((d) => d.hwaccel === "cuda" && d.works);
  // NVDEC only pays when NVENC encodes too. Feeding CPU encoders from NVDEC copies every
  // frame back to system memory one at a time: measured on an H100 host (10 s 1080p ladder),
  // 6.9 s with NVDEC against 4.0 s on 16 CPU cores, and 10.2-11.1 s against 8.5-9.5 s on two
  // (docs/performance.md).
  return { decoder: cuda && nvenc ? "cuda" : undefined, workingEncoders };
}

/** Capacity is set by whatever encodes: NVENC sessions when it works, else the CPU's. */
export function encodeSessions(
  capabilities: Capabilities | undefined,
  hardware: HardwarePlan,
): number {
  // Without a document, what detection would give the CPU: half the cores.
  if (!capabilities) return Math.max(1, Math.floor(cpuCores() / 2));
  const nvenc = [...hardware.workingEncoders].some((name) => name.endsWith("_nvenc"));
  const device = capabilities.devices.find((d) => d.kind === (nvenc ? "nvidia" : "cpu"));
  return device?.maxSessions ?? 1;
}

/**
 * Transcodes one MPEG-TS segment (a Buffer, as it arrives from the network) into every
 * rendition of a ladder with one ffmpeg process. Input is probed and validated first; runs
 * are bounded by a semaphore sized to the device's capacity; each run has a timeout scaled
 * to the segment's duration and honours an AbortSignal.
 */
export class SegmentTranscoder {
  readonly options: MediaOptions;
  private readonly slots: Semaphore;
  private readonly hardware: HardwarePlan;
  private readonly log: Logger;
  private readonly metrics: MediaMetrics | null;

  constructor(private readonly deps: TranscoderDeps) {
    this.options = resolveMediaOptions(deps.options);
    this.hardware = hardwarePlan(deps.capabilities, this.options.useHardware);
    this.slots = new Semaphore(
      Math.max(
        1,
        this.options.maxConcurrentTranscodes ?? encodeSessions(deps.capabilities, this.hardware),
      ),
    );
    this.log = deps.logger ?? silentLogger();
    this.metrics = deps.metrics ?? null;
  }

  get capacity(): number {
    return this.slots.capacity;
  }

  get running(): number {
    return this.slots.inUse;
  }

  async transcode(segment: Buffer, request: TranscodeRequest): Promise<TranscodeResult> {
    const started = performance.now();
    let mediaSeconds = 0;
    try {
      const result = await this.run(segment, request);
      mediaSeconds = result.source.video?.durationSeconds ?? result.source.durationSeconds;
      this.metrics?.transcodeFinished({
        result: "ok",
        wallSeconds: (performance.now() - started) / 1000,
        mediaSeconds,
        pixels: result.renditions.reduce((sum, r) => sum + r.pixels, 0),
        renditions: result.renditions.length,
      });
      return result;
    } catch (error) {
      const code = isMediaError(error) ? error.code : "UNEXPECTED";
      this.metrics?.transcodeFinished({
        result: code,
        wallSeconds: (performance.now() - started) / 1000,
        mediaSeconds,
        pixels: 0,
        renditions: 0,
      });
      if (isMediaError(error)) {
        // A coded refusal goes back to the caller, who reports it; a stack adds nothing.
        this.log.info({ code, bytes: segment.length, reason: error.message }, "segment refused");
      } else {
        this.log.warn({ code, bytes: segment.length, err: error }, "segment transcode failed");
      }
      throw error;
    }
  }

  private async run(segment: Buffer, request: TranscodeRequest): Promise<TranscodeResult> {
    if (request.profiles.length === 0) {
      throw new MediaError("PROFILE_INVALID", "no renditions requested", {});
    }
    const limits = segmentLimits(this.options);
    checkInputSize(segment.length, limits);
    const { ffmpegPath } = this.deps;
    // Probing happens before taking a slot: bad input is refused without waiting for capacity,
    // and the cheap demux pass overlaps the previous segment's encode.
    const source = await probeMedia(segment, {
      ffmpegPath,
      format: "mpegts",
      timeoutMs: this.options.timeoutBaseMs,
      signal: request.signal,
    });
    const video = validateMedia(source, limits);
    const planInput = {
      source: video,
      audioCodec: source.audio?.codec,
      profiles: request.profiles,
      hardware: this.hardware,
      audioBitrateBps: this.options.audioBitrateBps,
    };
    const plan = planTranscode(planInput);
    const timeoutMs =
      request.timeoutMs ??
      Math.round(
        this.options.timeoutBaseMs +
          this.options.timeoutPerMediaSecondMs *
            Math.max(source.durationSeconds, 0.1) *
            plan.outputs.length,
      );

    this.metrics?.queueChanged(this.slots.waiting + 1, this.slots.inUse);
    const release = await this.slots.acquire(request.signal);
    this.metrics?.queueChanged(this.slots.waiting, this.slots.inUse);
    let ffmpegSeconds: number;
    let outputs: Buffer[];
    let workDir: string | undefined;
    try {
      let targets: string[] | undefined;
      let inputPath: string | undefined;
      if (this.options.outputMode === "file") {
        // ffmpeg then never waits on this process to feed or drain a pipe, which matters when
        // the CPU is oversubscribed and Node is slow to be scheduled.
        const dir = await mkdtemp(join(tmpdir(), "segmint-tx-"));
        workDir = dir;
        inputPath = join(dir, "in.ts");
        await writeFile(inputPath, segment);
        targets = plan.outputs.map((_, i) => join(dir, `r${i}.ts`));
      }
      const args = targets ? planTranscode({ ...planInput, targets, inputPath }).args : plan.args;
      this.metrics?.transcodeStarted();
      const started = performance.now();
      const result = await runBinary(ffmpegPath, {
        args,
        stdin: inputPath ? undefined : segment,
        outputPipes: targets ? 0 : plan.outputs.length,
        maxOutputBytes: this.options.maxOutputBytes,
        timeoutMs,
        signal: request.signal,
      });
      ffmpegSeconds = (performance.now() - started) / 1000;
      if (result.exitCode !== 0) {
        throw new MediaError(
          "FFMPEG_FAILED",
          `ffmpeg could not transcode the segment: ${stderrTail(result.stderr)}`,
          {
            exitCode: result.exitCode,
            signal: result.signal,
            stderr: stderrTail(result.stderr, 10),
          },
          { hint: "the segment may be corrupt; check it plays with ffplay" },
        );
      }
      outputs = targets ? await Promise.all(targets.map((t) => readFile(t))) : result.outputs;
    } finally {
      release();
      this.metrics?.queueChanged(this.slots.waiting, this.slots.inUse);
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }

    const renditions = plan.outputs.map((out, i): Rendition => {
      const data = outputs[i] ?? Buffer.alloc(0);
      if (data.length === 0) {
        throw new MediaError("FFMPEG_FAILED", `rendition ${out.profile.name} came out empty`, {
          profile: out.profile.name,
        });
      }
      const fps = out.fps ?? video.fps;
      const scan = scanTsVideo(data, fps > 0 ? 1 / fps : 0);
      if (scan.frames === 0) {
        throw new MediaError("FFMPEG_FAILED", `rendition ${out.profile.name} has no video frames`, {
          profile: out.profile.name,
        });
      }
      const measured = {
        bytes: data.length,
        durationSeconds: scan.durationSeconds,
        width: out.width,
        height: out.height,
        frames: scan.frames,
        pixels: out.width * out.height * scan.frames,
      };
      return {
        profile: out.profile.name,
        codec: out.profile.codec,
        encoder: out.encoder,
        data,
        ...measured,
      };
    });
    this.log.debug(
      {
        bytes: segment.length,
        mediaSeconds: source.durationSeconds,
        ffmpegSeconds,
        renditions: renditions.length,
      },
      "segment transcoded",
    );
    return { source, renditions, ffmpegSeconds, decoder: this.hardware.decoder ?? "cpu" };
  }
}
