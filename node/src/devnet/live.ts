import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import path from "node:path";
import { type DaemonStreamReport, playbackId, startBroadcasterDaemon } from "../live/index.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { generateTestMedia, locateBinaries } from "../media/index.ts";
import { devnetSettings, type ExternalChain, type MarketPayments, startMarket } from "./market.ts";
import { stopProcess } from "./processes.ts";

const TOKEN = 10n ** 18n;

export interface LiveDevnetOptions {
  orchestrators: number;
  profiles: string;
  chainPort: number;
  /** Run on this existing chain instead of starting one. */
  chain?: ExternalChain;
  /** Recordings go here (OUT/STREAM_KEY/...). */
  outDir: string;
  /** host:port of the RTMP ingest and of the HTTP server. */
  rtmp: string;
  http: string;
  streamKey: string;
  /** Stream a generated clip (or `input`), looped in real time, to the ingest. */
  push: boolean;
  /** The clip `push` streams (H.264, keyframes every 2 s); a 720p30 test clip when unset. */
  input?: string;
  /** Stop after this many seconds (else when `signal` aborts). */
  durationSeconds?: number;
  log?: Logger;
  signal?: AbortSignal;
}

/** Printed (and with --json written as one line) once everything is up. */
export interface LiveDevnetReady {
  event: "live";
  rtmpUrl: string;
  hlsUrl: string;
  playerUrl: string;
  statusUrl: string;
  dashboards: string[];
  chainUrl: string;
  deploymentFile: string;
}

export interface LiveDevnetSummary extends MarketPayments {
  streams: DaemonStreamReport[];
  segments: number;
  lost: number;
  late: number;
  /** From a segment's first frame at the ingest to its renditions coming back, seconds. */
  availabilityP50Seconds: number | null;
  availabilityP95Seconds: number | null;
  ticketsSent: number;
  expectedValuePaid: string;
  wallSeconds: number;
}

/**
 * Streams `input` to an RTMP `url` in real time, as OBS would: once, or looped until stopped.
 * SIGTERM makes ffmpeg unpublish cleanly (the stream ends); SIGKILL drops the connection.
 */
export function pushRtmp(
  ffmpegPath: string,
  input: string,
  url: string,
  options: { loop: boolean },
): ChildProcess {
  return spawn(
    ffmpegPath,
    [
      "-hide_banner",
      "-loglevel",
      "error",
      "-re",
      ...(options.loop ? ["-stream_loop", "-1"] : []),
      "-i",
      input,
      "-c",
      "copy",
      // FLV carries AAC as raw frames with a config record, MPEG-TS as ADTS frames.
      "-bsf:a",
      "aac_adtstoasc",
      "-f",
      "flv",
      url,
    ],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
}

/**
 * The market with a live broadcaster: chain, contracts, orchestrators and the broadcaster
 * daemon, kept running until `signal` aborts (or `durationSeconds`), with an optional test
 * publisher. Then ENDLIST, the redemptions, and a summary of the stream and its payments.
 */
export async function runLiveDevnet(
  options: LiveDevnetOptions,
  onReady: (ready: LiveDevnetReady) => void,
): Promise<LiveDevnetSummary> {
  const log = options.log ?? silentLogger();
  const started = performance.now();
  const market = await startMarket({
    orchestrators: options.orchestrators,
    chainPort: options.chainPort,
    ...(options.chain === undefined ? {} : { chain: options.chain }),
    log,
  });
  let publisher: ChildProcess | undefined;
  try {
    const fundsBefore = await market.broadcasterFunds();
    const daemon = await startBroadcasterDaemon(
      {
        rpc: market.chainUrl,
        deployment: market.deploymentFile,
        privateKey: market.broadcaster.privateKey,
        profiles: options.profiles,
        deposit: devnetSettings.deposit,
        reserve: devnetSettings.reserve,
        // Hours of streaming on the devnet's funds: the daemon keeps its deposit topped up.
        autoDeposit: devnetSettings.broadcasterFunds / 2n,
        orchestrators: options.orchestrators,
        listen: ["/ip4/127.0.0.1/tcp/0"],
        bootstrap: market.orchestrators.flatMap((o) => o.multiaddrs.slice(0, 1)),
        rtmp: options.rtmp,
        http: options.http,
        outDir: options.outDir,
        streamKeys: [options.streamKey],
        maxSpend: 100n * TOKEN,
      },
      { log: log.child({ role: "broadcaster" }) },
    );
    const ingestUrl = `${daemon.rtmpUrl}/${encodeURIComponent(options.streamKey)}`;
    const id = playbackId(options.streamKey);
    onReady({
      event: "live",
      rtmpUrl: ingestUrl,
      hlsUrl: `${daemon.httpUrl}/live/${id}/index.m3u8`,
      playerUrl: `${daemon.httpUrl}/watch/${id}`,
      statusUrl: `${daemon.httpUrl}/status`,
      dashboards: market.orchestrators.map((o) => `${o.httpUrl}/`),
      chainUrl: market.chainUrl,
      deploymentFile: market.deploymentFile,
    });

    if (options.push) {
      const { ffmpeg } = await locateBinaries({});
      let input = options.input;
      if (input === undefined) {
        input = path.join(market.stateDir, "clip-720p30.ts");
        await generateTestMedia(ffmpeg.path, input, {
          width: 1280,
          height: 720,
          fps: 30,
          durationSeconds: 20,
          preset: "veryfast",
        });
      }
      publisher = pushRtmp(ffmpeg.path, input, ingestUrl, { loop: true });
      log.info({ url: ingestUrl }, "pushing the test clip in real time");
    }

    await new Promise<void>((resolve) => {
      const done = () => resolve();
      options.signal?.addEventListener("abort", done, { once: true });
      if (options.signal?.aborted) resolve();
      if (options.durationSeconds !== undefined) {
        setTimeout(done, options.durationSeconds * 1000).unref();
      }
    });

    if (publisher !== undefined) await stopProcess(publisher, 5_000);
    publisher = undefined;
    const final = await daemon.stop();
    const segments: Record<string, number> = {};
    for (const stream of final.streams) {
      for (const [address, count] of Object.entries(stream.orchestrators)) {
        segments[address] = (segments[address] ?? 0) + count;
      }
    }
    const autoDeposited = BigInt(final.funding.autoDeposited);
    const payments = await market.settle(
      fundsBefore + devnetSettings.deposit + devnetSettings.reserve + autoDeposited,
      segments,
    );
    const sum = (pick: (s: DaemonStreamReport) => number) =>
      final.streams.reduce((total, s) => total + pick(s), 0);
    const first = final.streams[0];
    return {
      streams: final.streams,
      segments: sum((s) => s.segments.in),
      lost: sum((s) => s.segments.lost),
      late: sum((s) => s.segments.late),
      availabilityP50Seconds: first?.availabilitySeconds.p50 ?? null,
      availabilityP95Seconds: first?.availabilitySeconds.p95 ?? null,
      ticketsSent: sum((s) => s.ticketsSent),
      expectedValuePaid: final.streams.reduce((t, s) => t + BigInt(s.spend), 0n).toString(),
      ...payments,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    if (publisher !== undefined) await stopProcess(publisher, 5_000);
    await market.stop();
  }
}
