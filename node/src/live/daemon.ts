import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Registry } from "prom-client";
import { BroadcasterError } from "../broadcaster/errors.ts";
import { createVerificationMetrics } from "../broadcaster/metrics.ts";
import { type BroadcasterSession, openBroadcasterSession } from "../broadcaster/network-session.ts";
import type { SelectionStrategy } from "../broadcaster/selection.ts";
import { DEV_CHAIN_ID } from "../chain/devchain.ts";
import { resolveConfig } from "../config/load.ts";
import { errorMessage } from "../errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { locateBinaries } from "../media/binaries.ts";
import type { MediaOptions } from "../media/options.ts";
import { resolveMediaOptions } from "../media/options.ts";
import { loadLadder } from "../media/profiles.ts";
import { maxChargeablePixels } from "../protocol/index.ts";
import { DepositKeeper, depositChain, type FundingState } from "./funding.ts";
import { startLiveHttpServer } from "./http-server.ts";
import { type Ingest, startIngest } from "./ingest.ts";
import { createIngestMetrics } from "./ingest-metrics.ts";
import { keyHint } from "./ingest-policy.ts";
import type { PublishDecision, PublishedStream } from "./interface.ts";
import { createLiveMetrics, type LiveMetrics } from "./metrics.ts";
import { type DaemonConfig, type DaemonConfigInput, daemonConfigSchema } from "./options.ts";
import { LiveHls } from "./playlists.ts";
import { decidePublish, playbackId, toPublishDecision } from "./publish-policy.ts";
import { defaultLiveStreamOptions, LiveStream, type LiveStreamStats } from "./stream.ts";

export interface DaemonDeps {
  log?: Logger;
  signal?: AbortSignal;
  media?: Partial<MediaOptions>;
  strategy?: SelectionStrategy;
}

/**
 * One stream as /status and the summary show it. `streamKey` is only a hint of the key (the
 * page may be public); `playbackId` names the stream in its URLs.
 */
export interface DaemonStreamReport extends LiveStreamStats {
  playbackId: string;
  hlsUrl: string;
  playerUrl: string;
  /** The VOD recording's master playlist. */
  recording: string;
}

export interface DaemonStatus {
  address: string;
  rtmpUrl: string;
  httpUrl: string;
  streams: DaemonStreamReport[];
  funding: FundingState;
  /** Publishers refused at connect, by reason, since the start. */
  refusals: Record<string, number>;
}

export interface BroadcasterDaemon {
  /** rtmp://HOST:PORT/live: publishers append /STREAM_KEY. */
  readonly rtmpUrl: string;
  /** http://HOST:PORT: /live/KEY/index.m3u8, /watch/KEY, /status, /metrics. */
  readonly httpUrl: string;
  readonly address: string;
  readonly metrics: Registry;
  status(): DaemonStatus;
  /** Ends every stream (ENDLIST, recordings finished), then stops everything it started. */
  stop(): Promise<DaemonStatus>;
}

type Cleanup = () => Promise<void> | void;

const ONE_MINUTE_SECONDS = 60;
/** How often the deposit is re-read while streams run. */
const FUNDING_CHECK_MS = 15_000;

function splitHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(":");
  return { host: value.slice(0, i), port: Number(value.slice(i + 1)) };
}

/** A folder name for one recording: the stream's start time, sortable. */
function recordingStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * The broadcaster daemon's composition root: chain session and network (shared with the
 * one-shot broadcast), deposit keeper, RTMP ingest, one LiveStream per stream key and the live
 * HLS server. Started in that order, stopped in reverse; a failure part-way stops what started.
 */
export async function startBroadcasterDaemon(
  config: DaemonConfigInput,
  deps: DaemonDeps = {},
): Promise<BroadcasterDaemon> {
  const cfg: DaemonConfig = resolveConfig(daemonConfigSchema, { flags: { ...config } });
  const log = deps.log ?? silentLogger();
  const signal = deps.signal ?? new AbortController().signal;
  const profiles = await loadLadder(cfg.profiles);
  const media = resolveMediaOptions(deps.media);
  const { ffmpeg } = await locateBinaries(media);
  const outDir = resolve(cfg.outDir);
  await mkdir(outDir, { recursive: true });
  const keys = new Set(cfg.streamKeys);
  if (keys.size === 0 && !cfg.allowAnyKey) {
    throw new BroadcasterError(
      "LIVE_SETTINGS_INVALID",
      "no stream key is configured, so every publisher would be refused",
      {},
      { hint: "pass --stream-key KEY (repeatable) or streamKeys in the config file" },
    );
  }

  const cleanups: Cleanup[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log.warn({ err: errorMessage(error) }, "cleanup step failed");
      }
    }
  };

  try {
    const session: BroadcasterSession = await openBroadcasterSession(cfg, {
      log,
      signal,
      requireDeposit: false,
      ...(deps.strategy === undefined ? {} : { strategy: deps.strategy }),
    });
    cleanups.push(() => session.close());
    if (cfg.allowAnyKey && session.chainId !== BigInt(DEV_CHAIN_ID)) {
      throw new BroadcasterError(
        "LIVE_SETTINGS_INVALID",
        `--allow-any-key is for dev chains only; this chain has id ${session.chainId}`,
        { chainId: session.chainId.toString() },
        { hint: "list the stream keys you hand out with --stream-key" },
      );
    }

    const registry = new Registry();
    const metrics: LiveMetrics = createLiveMetrics(registry);
    const verificationMetrics = createVerificationMetrics(registry);
    const streams = new Map<string, LiveStream>();
    const views = new Map<string, LiveHls>();
    const recordings = new Map<string, string>();
    const refusals: Record<string, number> = {};
    const openStreams = () => [...streams.values()].filter((s) => s.open).length;

    const keeper = new DepositKeeper(
      depositChain(session.chain, log),
      {
        address: session.address,
        maxAutoDeposit: cfg.autoDeposit,
        perStreamPerMinute:
          maxChargeablePixels(profiles, ONE_MINUTE_SECONDS) * cfg.maxPricePerPixel,
        coverMinutes: cfg.coverMinutes,
        checkIntervalMs: FUNDING_CHECK_MS,
      },
      openStreams,
      log,
    );
    await keeper.start();
    cleanups.push(() => keeper.stop());

    const authorize = (streamKey: string): PublishDecision => {
      const verdict = decidePublish(streamKey, {
        keys,
        allowAnyKey: cfg.allowAnyKey,
        maxStreams: cfg.maxStreams,
        stream: (key) => streams.get(key),
        openStreams,
        funds: () => keeper.canStartStream(),
      });
      if (!verdict.accept) {
        refusals[verdict.code] = (refusals[verdict.code] ?? 0) + 1;
        metrics.refusals.inc({ reason: verdict.code });
        log.warn(
          { key: keyHint(streamKey), code: verdict.code, reason: verdict.reason },
          "publisher refused",
        );
      }
      return toPublishDecision(verdict);
    };

    const onPublish = (published: PublishedStream) => {
      const key = published.streamKey;
      const existing = streams.get(key);
      if (existing?.awaitingReconnect) {
        existing.attach(published);
        return;
      }
      const recordDir = join(outDir, key, recordingStamp(new Date()));
      recordings.set(key, join(recordDir, "index.m3u8"));
      const stream = new LiveStream({
        streamKey: key,
        profiles,
        session,
        createPlaylists: (renditions) => {
          const hls = new LiveHls({
            streamKey: playbackId(key),
            renditions,
            windowSize: cfg.windowSegments,
            segmentSeconds: cfg.segmentSeconds,
            recordDir,
            log,
          });
          views.set(playbackId(key), hls);
          return hls;
        },
        ffmpegPath: ffmpeg.path,
        options: {
          ...defaultLiveStreamOptions,
          segmentSeconds: cfg.segmentSeconds,
          deadlineSeconds: cfg.deadlineSeconds,
          hedgeAfterSeconds: Math.min(cfg.deadlineSeconds / 2, cfg.segmentSeconds * 1.25),
          reconnectGraceSeconds: cfg.reconnectGraceSeconds,
          maxSpend: cfg.maxSpend,
          orchestrators: cfg.orchestrators,
          maxAttempts: cfg.maxAttempts,
        },
        metrics,
        verificationMetrics,
        log,
        onEnded: () => {
          metrics.streams.dec();
          void keeper.check();
        },
      });
      streams.set(key, stream);
      metrics.streams.inc();
      stream.attach(published);
      log.info(
        { key: keyHint(key), playbackId: playbackId(key), recording: recordDir },
        "live stream started",
      );
    };

    const rtmp = splitHostPort(cfg.rtmp);
    const ingest: Ingest = await startIngest({
      host: rtmp.host,
      port: rtmp.port,
      handlers: { authorize, onPublish },
      ffmpegPath: ffmpeg.path,
      segmentSeconds: cfg.segmentSeconds,
      limits: {
        maxStreams: cfg.maxStreams,
        allow4k: cfg.allow4k,
        maxVideoBitsPerSecond: cfg.maxBitrateBps,
      },
      metrics: createIngestMetrics(registry),
      log,
    });
    // Streams end before the ingest's ffmpeg processes are gone; see stop() for the order.
    cleanups.push(() => ingest.stop());

    let httpUrl = "";
    let stopping = false;
    const report = (stream: LiveStream): DaemonStreamReport => {
      const id = playbackId(stream.streamKey);
      return {
        ...stream.stats(),
        streamKey: keyHint(stream.streamKey),
        playbackId: id,
        hlsUrl: `${httpUrl}/live/${id}/index.m3u8`,
        playerUrl: `${httpUrl}/watch/${id}`,
        recording: recordings.get(stream.streamKey) ?? "",
      };
    };
    const status = (): DaemonStatus => ({
      address: session.address,
      rtmpUrl: `${ingest.url}/live`,
      httpUrl,
      streams: [...streams.values()].map(report),
      funding: keeper.status(),
      refusals: { ...refusals },
    });
    const http = splitHostPort(cfg.http);
    const server = await startLiveHttpServer({
      host: http.host,
      port: http.port,
      streams: () => views,
      status,
      metrics: registry,
      healthy: () => !stopping,
    });
    httpUrl = server.url;
    cleanups.push(() => server.close());

    let stopped: Promise<DaemonStatus> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        stopping = true;
        // New publishers are refused from here; live ones get ENDLIST and a finished recording.
        await Promise.allSettled([...streams.values()].map((s) => s.stop()));
        const final = status();
        await runCleanups();
        return final;
      })();
      return stopped;
    };
    signal.addEventListener("abort", () => void stop(), { once: true });
    log.info(
      { rtmpUrl: `${ingest.url}/live`, httpUrl, address: session.address },
      "broadcaster daemon ready",
    );
    return {
      rtmpUrl: `${ingest.url}/live`,
      httpUrl,
      address: session.address,
      metrics: registry,
      status,
      stop,
    };
  } catch (error) {
    await runCleanups();
    throw error;
  }
}
