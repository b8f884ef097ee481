import { resolve } from "node:path";
import { resolveConfig } from "../config/load.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { locateBinaries } from "../media/binaries.ts";
import type { MediaOptions } from "../media/options.ts";
import { resolveMediaOptions } from "../media/options.ts";
import { loadLadder, outputFps } from "../media/profiles.ts";
import { segmentFile } from "../media/segmenter.ts";
import { Dispatcher } from "./dispatcher.ts";
import { BroadcasterError, isBroadcasterError } from "./errors.ts";
import { HlsOutput } from "./hls-output.ts";
import { normalizeInput, probeInput } from "./input.ts";
import type { SegmentOutcome, SourceSegment } from "./interface.ts";
import { openBroadcasterSession } from "./network-session.ts";
import { type BroadcastConfigInput, broadcastConfigSchema } from "./options.ts";
import { BroadcastRecord, checkOutFolder, inputFingerprint } from "./resume.ts";
import {
  pinnedUnavailableError,
  type SelectionStrategy,
  type UnavailablePins,
} from "./selection.ts";
import { RunSpend, type RunSpendEntry } from "./spend.ts";
import { ffmpegSpotCheckTools } from "./spot-check.ts";
import { SuspensionList } from "./suspension.ts";
import { StreamTrust, type VerificationReport } from "./trust.ts";
import { ffmpegSegmentChecks, NetworkSegmentWorker } from "./worker.ts";

export interface BroadcastProgress {
  segments: number;
  mediaSeconds: number;
  totalSeconds: number;
}

export interface BroadcastDeps {
  log?: Logger;
  signal?: AbortSignal;
  onProgress?: (progress: BroadcastProgress) => void;
  /** Replaces the weighted stake/price/latency/capacity/chance selection. */
  strategy?: SelectionStrategy;
  media?: Partial<MediaOptions>;
  suspension?: SuspensionList;
}

/** What `segmint broadcast --json` prints, and what the devnet reads. */
export interface BroadcastSummary {
  segments: number;
  /** Variant streams written (one per profile). */
  renditions: number;
  variants: Array<{ name: string; width: number; height: number }>;
  /** Segments done per orchestrator address. */
  orchestrators: Record<string, number>;
  retries: number;
  ticketsSent: number;
  /** Expected value of all tickets sent, token wei as a decimal string. */
  expectedValuePaid: string;
  wallSeconds: number;
  mediaSeconds: number;
  realtimeFactor: number;
  hlsDir: string;
  master: string;
  /** The input was re-encoded to H.264 first, and why (null when not). */
  normalized: string | null;
  suspended: string[];
  /**
   * What this run sent each orchestrator (also kept in the spend history with --data-dir):
   * segments, tickets, their face and expected value (wei), verification failures.
   */
  spend: RunSpendEntry[];
  /** Pinned orchestrators (--orchestrator) that did no work, and why; null without pins. */
  pinnedUnavailable: UnavailablePins | null;
  /** What was added to the deposit and reserve before starting (token wei); null: nothing. */
  funded: { deposit: string; reserve: string } | null;
  /** Segments taken back from an earlier run into the same --out, not sent or paid again. */
  resumed: number;
  /** Who failed verification on which check, and what was paid with the rejected results. */
  verification: VerificationReport;
}

type Cleanup = () => Promise<void> | void;

/**
 * The broadcaster's composition root: input -> segmenter -> dispatcher (selection, payment,
 * transcode over libp2p, verification, retries) -> HLS. Everything it starts is stopped, and
 * every temp file removed, however it ends. A segment that failed every attempt makes it
 * throw SEGMENT_FAILED after the HLS of the others is written.
 */
export async function runBroadcast(
  config: BroadcastConfigInput,
  deps: BroadcastDeps = {},
): Promise<BroadcastSummary> {
  const started = performance.now();
  const cfg = resolveConfig(broadcastConfigSchema, { flags: { ...config } });
  const log = deps.log ?? silentLogger();
  const signal = deps.signal ?? new AbortController().signal;
  const profiles = await loadLadder(cfg.profiles);
  const media = resolveMediaOptions(deps.media);
  const { ffmpeg } = await locateBinaries(media);
  const cleanups: Cleanup[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log.warn({ err: error }, "cleanup step failed");
      }
    }
  };

  try {
    const prepare = { ffmpegPath: ffmpeg.path, media, gopSeconds: cfg.segmentSeconds, log, signal };
    const probed = await probeInput(cfg.input, prepare);
    // Another run's files in --out are refused (or cleared) before anything is spent.
    const hlsDir = resolve(cfg.outDir);
    await checkOutFolder(hlsDir, cfg.overwrite);
    const fingerprint = await inputFingerprint(probed.path);
    // Chain, key and deposit before any re-encoding: a funding problem is found in seconds.
    const session = await openBroadcasterSession(cfg, {
      log,
      signal,
      ...(deps.strategy === undefined ? {} : { strategy: deps.strategy }),
    });
    cleanups.push(() => session.close());
    const input = await normalizeInput(probed, prepare);
    cleanups.push(() => input.cleanup());
    const { source, transport } = session;
    const payments = session.openPayments(cfg.maxSpend);
    const sourceVideo = {
      width: input.video.width,
      height: input.video.height,
      fps: input.video.fps,
    };
    const streamId = `b-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const suspension = deps.suspension ?? new SuspensionList();
    const trust = new StreamTrust({
      reputation: session.reputation,
      suspension,
      options: session.verification,
      metrics: null,
      log,
    });
    const spotCheckTools = await ffmpegSpotCheckTools(ffmpeg.path, signal);
    cleanups.push(() => spotCheckTools.close());
    const worker = new NetworkSegmentWorker({
      transport,
      channels: payments,
      profiles,
      source: sourceVideo,
      streamId,
      ...ffmpegSegmentChecks(ffmpeg.path, signal),
      verification: session.verification,
      trust,
      spotCheckTools,
      log,
    });

    const hls = new HlsOutput({
      dir: hlsDir,
      profiles,
      hasAudio: input.info.audio !== undefined,
      frameRate: (profile) => outputFps(input.video.fps, profile) ?? input.video.fps,
    });
    await hls.init();
    // What an earlier run of this command verified into this folder is kept, not paid again.
    const record = await BroadcastRecord.open(hlsDir, profiles, fingerprint);

    const spend = new RunSpend(
      { id: streamId, kind: "broadcast", label: resolve(cfg.input), startedAt: Date.now() },
      session.spend,
      (error) =>
        log.warn({ err: error }, "the spend history cannot be written; the broadcast goes on"),
    );
    const settle = (segment: SourceSegment, orchestrator: string, outcome: SegmentOutcome) => {
      spend.segment(orchestrator, outcome);
      spend.failures(trust.report().failures);
      segmentDone(segment);
    };

    let done = 0;
    let mediaDone = 0;
    const segmentDone = (segment: SourceSegment) => {
      done += 1;
      mediaDone += segment.durationSeconds;
      deps.onProgress?.({
        segments: done,
        mediaSeconds: mediaDone,
        totalSeconds: input.info.durationSeconds,
      });
    };
    const dispatcher = new Dispatcher({
      worker,
      source,
      suspension,
      sink: {
        write: async (segment, outcome) => {
          await hls.write(segment, outcome);
          await record.record(segment, outcome.renditions);
        },
      },
      log,
      options: { orchestrators: cfg.orchestrators, maxAttempts: cfg.maxAttempts },
      onSegmentDone: settle,
    });
    const cut = segmentFile(input.path, {
      ffmpegPath: ffmpeg.path,
      codec: input.video.codec,
      targetSeconds: cfg.segmentSeconds,
      signal,
      timeoutMs: media.timeoutBaseMs + media.timeoutPerMediaSecondMs * input.info.durationSeconds,
    });
    let resumed = 0;
    let resumedSeconds = 0;
    async function* unrecorded(): AsyncIterable<SourceSegment> {
      for await (const segment of cut) {
        const renditions = await record.restore(segment);
        if (renditions === null) {
          yield segment;
          continue;
        }
        await hls.write(segment, {
          renditions,
          ticketsSent: 0,
          expectedValue: 0n,
          faceValue: 0n,
          signature: "",
        });
        resumed += 1;
        resumedSeconds += segment.durationSeconds;
        segmentDone(segment);
      }
    }
    const segments = unrecorded();
    log.info(
      {
        input: cfg.input,
        durationSeconds: input.info.durationSeconds,
        streamId,
        recorded: record.size,
      },
      "broadcast started",
    );

    let dispatched: Awaited<ReturnType<Dispatcher["run"]>> | undefined;
    let runError: unknown;
    try {
      dispatched = await dispatcher.run(segments, signal);
    } catch (error) {
      runError = error;
    }
    spend.failures(trust.report().failures);
    // Whatever happened, what arrived is written out as playable HLS.
    if (record.size === 0) await record.discard();
    const written = await hls.finish();
    if (runError !== undefined && signal.aborted) {
      throw new BroadcasterError(
        "BROADCAST_ABORTED",
        `stopped with ${written.segments} segments in ${hlsDir} and tickets worth ${payments.spent()} wei sent`,
        {
          written: written.segments,
          resumed,
          expectedValuePaid: payments.spent().toString(),
          hlsDir,
          master: written.master,
          verification: trust.report(),
        },
        {
          hint: "run the same command again: the verified segments in --out are kept and not paid for again",
        },
      );
    }
    if (isBroadcasterError(runError, "NO_ORCHESTRATORS") && session.lists.pins > 0) {
      throw pinnedUnavailableError(session.lists.unavailable([]));
    }
    if (runError !== undefined) throw runError;
    if (dispatched === undefined) throw new Error("dispatcher returned nothing");
    if (dispatched.failed.length > 0) {
      const names = dispatched.failed.map((f) => f.segment);
      throw new BroadcasterError(
        "SEGMENT_FAILED",
        `segment${names.length > 1 ? "s" : ""} ${names.join(", ")} failed on every attempt (last error: ${dispatched.failed[0]?.lastError})`,
        {
          failed: dispatched.failed,
          written: written.segments,
          hlsDir,
          verification: trust.report(),
        },
        {
          hint: "the HLS holds the other segments; add orchestrators or check their logs, then run again",
        },
      );
    }
    const wallSeconds = (performance.now() - started) / 1000;
    const variants = hls.variants();
    const summary: BroadcastSummary = {
      segments: dispatched.segments + resumed,
      renditions: variants.length,
      variants,
      orchestrators: dispatched.orchestrators,
      retries: dispatched.retries,
      ticketsSent: dispatched.ticketsSent,
      expectedValuePaid: payments.spent().toString(),
      wallSeconds,
      mediaSeconds: dispatched.mediaSeconds + resumedSeconds,
      realtimeFactor: wallSeconds > 0 ? dispatched.mediaSeconds / wallSeconds : 0,
      hlsDir,
      master: written.master,
      normalized: input.normalized,
      suspended: dispatched.suspended,
      spend: spend.entries(),
      pinnedUnavailable:
        session.lists.pins > 0
          ? session.lists.unavailable(Object.keys(dispatched.orchestrators))
          : null,
      funded:
        session.funded === null
          ? null
          : {
              deposit: session.funded.deposit.toString(),
              reserve: session.funded.reserve.toString(),
            },
      resumed,
      verification: trust.report(),
    };
    log.info(
      { segments: summary.segments, retries: summary.retries, wallSeconds },
      "broadcast finished",
    );
    return summary;
  } finally {
    await runCleanups();
  }
}
