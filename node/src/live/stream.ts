import { randomBytes } from "node:crypto";
import { pushable } from "it-pushable";
import type { PaymentChannels } from "../broadcaster/channel.ts";
import { Dispatcher, type SegmentFailure } from "../broadcaster/dispatcher.ts";
import type {
  OrchestratorSource,
  SegmentOutcome,
  SegmentWorker,
  SourceSegment,
} from "../broadcaster/interface.ts";
import type { VerificationMetrics } from "../broadcaster/metrics.ts";
import { defaultVerificationOptions, type VerificationOptions } from "../broadcaster/options.ts";
import { type Reputation, ReputationStore } from "../broadcaster/reputation.ts";
import type { UnavailablePins } from "../broadcaster/selection.ts";
import { RunSpend, type SpendLog } from "../broadcaster/spend.ts";
import { ffmpegSpotCheckTools } from "../broadcaster/spot-check.ts";
import { SuspensionList } from "../broadcaster/suspension.ts";
import { StreamTrust, type VerificationReport } from "../broadcaster/trust.ts";
import {
  ffmpegSegmentChecks,
  NetworkSegmentWorker,
  type OrchestratorTransport,
} from "../broadcaster/worker.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import { codecsString } from "../media/hls.ts";
import type { Profile } from "../media/interface.ts";
import { outputFps, outputSize } from "../media/profiles.ts";
import { keyHint } from "./ingest-policy.ts";
import type {
  LivePlaylists,
  LiveRenditionInfo,
  LiveSegment,
  LiveSourceInfo,
  PublishedStream,
} from "./interface.ts";
import type { LiveMetrics } from "./metrics.ts";
import { type PinLists, StreamPins } from "./pins.ts";
import { playbackId } from "./publish-policy.ts";

export interface LiveStreamOptions {
  /** Target segment length, seconds (the ingest cuts at the first keyframe after it). */
  segmentSeconds: number;
  /** A segment not transcoded this long after it was cut is skipped in its renditions. */
  deadlineSeconds: number;
  /**
   * A try with no answer after this long is also sent to a second orchestrator (first good
   * answer wins), so a hung or slow node costs this long rather than the deadline.
   */
  hedgeAfterSeconds: number;
  /** How long a dropped publisher may take to come back and continue the same stream. */
  reconnectGraceSeconds: number;
  /** Expected value of all tickets this stream may send, token wei. */
  maxSpend: bigint;
  orchestrators: number;
  maxAttempts: number;
  /** Late segments in a row before the top rendition is shed. */
  shedAfterLate: number;
  /** Segments on time in a row before a shed rendition comes back. */
  restoreAfterOnTime: number;
}

export const defaultLiveStreamOptions: Omit<LiveStreamOptions, "maxSpend"> = {
  segmentSeconds: 2,
  // Three segment lengths: room for one retry on another orchestrator after a failure, while
  // a player holding three segments of buffer never runs dry.
  deadlineSeconds: 6,
  // A CPU orchestrator turns a 2 s segment into a 3-rung ladder in about 1 s: one that has not
  // answered after 2.5 s is stuck or overloaded, and a second try still fits the deadline.
  hedgeAfterSeconds: 2.5,
  reconnectGraceSeconds: 15,
  orchestrators: 2,
  maxAttempts: 3,
  shedAfterLate: 2,
  restoreAfterOnTime: 15,
};

export type LiveStreamState = "live" | "reconnecting" | "ending" | "ended";

export interface LiveStreamStats {
  streamKey: string;
  state: LiveStreamState;
  startedAt: string;
  /** Publisher connections so far (1 plus reconnects). */
  connections: number;
  source: LiveSourceInfo | null;
  segments: { in: number; out: number; lost: number; late: number };
  /** Profiles not transcoded now because the network fell behind. */
  shed: string[];
  /** From a segment's first frame at the ingest to its renditions coming back, seconds. */
  availabilitySeconds: { last: number | null; p50: number | null; p95: number | null };
  ticketsSent: number;
  /** Expected value of the tickets sent, token wei. */
  spend: string;
  /** Segments done per orchestrator address. */
  orchestrators: Record<string, number>;
  /** Pinned orchestrators (`--orchestrator`) this stream cannot use; null when none are pinned. */
  pinnedUnavailable: UnavailablePins | null;
  /** Who failed verification on which check, and what the rejected results were paid. */
  verification: VerificationReport;
}

export interface LiveStreamDeps {
  streamKey: string;
  /** The ladder, top rendition first. */
  profiles: readonly Profile[];
  /** Where orchestrators come from, how to reach them, and the stream's payments. */
  session: {
    source: OrchestratorSource;
    transport: Pick<OrchestratorTransport, "transcode">;
    /** A payment channel per orchestrator for this stream, under its own spend cap. */
    openPayments(maxSpend: bigint): PaymentChannels;
    /** The broadcaster's record of orchestrators; a store for this stream alone when unset. */
    reputation?: Reputation;
    verification?: VerificationOptions;
    /** The spend history (broadcaster/spend.ts); this stream's spend is not kept when unset. */
    spend?: SpendLog;
    /** The allow and deny lists: pins this stream cannot use are warned of and reported. */
    lists?: PinLists;
  };
  /** Makes the stream's live HLS once its source is known. */
  createPlaylists(renditions: LiveRenditionInfo[]): LivePlaylists;
  ffmpegPath: string;
  options: LiveStreamOptions;
  metrics: LiveMetrics | null;
  /** Who failed verification on which check (the daemon's /metrics). */
  verificationMetrics?: VerificationMetrics | null;
  log: Logger;
  /** Called once when the stream has ended (its playlists carry ENDLIST). */
  onEnded?: () => void;
  /** Replaces the network worker (pay, send, verify) for one publisher connection. */
  worker?: (
    source: LiveSourceInfo,
    payments: PaymentChannels,
    signal: AbortSignal,
  ) => SegmentWorker;
}

interface Pending {
  wallClockMs: number;
  /** performance.now() when the segment closed (was cut). */
  closedAt: number;
  profiles: readonly string[];
}

/** Audio bitrate assumed in nominal BANDWIDTH figures before segments are measured. */
const NOMINAL_AUDIO_BPS = 128_000;
/** Availability samples kept for the percentiles in stats (about 10 minutes of 2 s segments). */
const AVAILABILITY_SAMPLES = 300;

/**
 * One live stream, from its first publisher to its ENDLIST: every source segment goes into the
 * playlists at once (the passthrough rendition) and to the network, paid through the stream's
 * own payment channels; verified renditions are listed as they come back and a segment that misses
 * its deadline is skipped there, so the viewer never waits on a slow or dead orchestrator. A
 * publisher that drops may come back within the grace period and the stream continues.
 */
export class LiveStream {
  private readonly log: Logger;
  private readonly options: LiveStreamOptions;
  /** Ladder sorted top rendition first. */
  private readonly ladder: readonly Profile[];
  private readonly payments: PaymentChannels;
  private readonly suspension = new SuspensionList();
  private readonly verification: VerificationOptions;
  private readonly trust: StreamTrust;
  /** Stable id sent to orchestrators (never the stream key, which is a secret). */
  private readonly streamId = `live-${randomBytes(6).toString("hex")}`;
  private readonly abort = new AbortController();
  private readonly startedAt = new Date();
  private playlists: LivePlaylists | null = null;
  private source: LiveSourceInfo | null = null;
  private current: PublishedStream | null = null;
  private state: LiveStreamState = "live";
  private connections = 0;
  private nextSeq = 0;
  private shedCount = 0;
  private lateStreak = 0;
  private onTimeStreak = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly dispatches = new Set<Promise<void>>();
  private readonly availability: number[] = [];
  private readonly counts = { in: 0, out: 0, lost: 0, late: 0 };
  private ticketsSent = 0;
  /** The stream's spend already counted in the metrics, token wei. */
  private spendReported = 0n;
  private readonly byOrchestrator: Record<string, number> = {};
  private readonly spend: RunSpend;
  private readonly pins: StreamPins;
  private graceTimer: NodeJS.Timeout | undefined;
  private ended: Promise<void> | undefined;
  /** Playlist writes run in arrival order per stream. */
  private writes: Promise<void> = Promise.resolve();

  /** The stream in metric labels: its playback id, never the key (/metrics may be public). */
  private readonly label: string;

  constructor(private readonly deps: LiveStreamDeps) {
    this.label = playbackId(deps.streamKey);
    this.log = deps.log.child({ key: keyHint(deps.streamKey) });
    this.options = deps.options;
    this.ladder = [...deps.profiles].sort((a, b) => b.width * b.height - a.width * a.height);
    this.payments = deps.session.openPayments(deps.options.maxSpend);
    this.verification = deps.session.verification ?? defaultVerificationOptions;
    this.trust = new StreamTrust({
      reputation: deps.session.reputation ?? ReputationStore.open(":memory:"),
      suspension: this.suspension,
      options: this.verification,
      metrics: deps.verificationMetrics ?? null,
      log: this.log,
    });
    this.pins = new StreamPins(deps.session.lists, deps.options.orchestrators, this.log);
    this.spend = new RunSpend(
      { id: this.streamId, kind: "stream", label: this.label, startedAt: Date.now() },
      deps.session.spend ?? null,
      (error) => this.log.warn({ err: error }, "the spend history cannot be written"),
    );
  }

  get streamKey(): string {
    return this.deps.streamKey;
  }

  /** True while a publisher is sending or may still come back. */
  get open(): boolean {
    return this.state === "live" || this.state === "reconnecting";
  }

  /** Whether a new publisher on this key continues this stream (it dropped within the grace). */
  get awaitingReconnect(): boolean {
    return this.state === "reconnecting";
  }

  /** Takes a publisher's connection: the first one, or one coming back within the grace period. */
  attach(published: PublishedStream): void {
    if (!this.open) throw new Error(`stream ${this.streamKey} has ended`);
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    const reconnect = this.connections > 0;
    this.connections += 1;
    this.state = "live";
    this.current = published;
    if (reconnect) this.log.info({ connection: this.connections }, "publisher reconnected");
    const run = this.runConnection(published, reconnect)
      .catch((error: unknown) => {
        this.log.error({ err: errorMessage(error) }, "live stream connection failed");
      })
      .finally(() => this.afterConnection(published));
    void run;
  }

  stats(): LiveStreamStats {
    const sorted = [...this.availability].sort((a, b) => a - b);
    const pct = (p: number) =>
      sorted.length === 0
        ? null
        : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? null);
    return {
      streamKey: this.streamKey,
      state: this.state,
      startedAt: this.startedAt.toISOString(),
      connections: this.connections,
      source: this.source,
      segments: { ...this.counts },
      shed: this.ladder.slice(0, this.shedCount).map((p) => p.name),
      availabilitySeconds: {
        last: this.availability.at(-1) ?? null,
        p50: pct(0.5),
        p95: pct(0.95),
      },
      ticketsSent: this.ticketsSent,
      spend: this.payments.spent().toString(),
      orchestrators: { ...this.byOrchestrator },
      pinnedUnavailable: this.pins.status(),
      verification: this.trust.report(),
    };
  }

  /**
   * Ends the stream now (daemon shutdown): drops the publisher, gives in-flight segments up to
   * one segment length, and writes ENDLIST.
   */
  stop(): Promise<void> {
    this.current?.close("the broadcaster is shutting down");
    return this.finish();
  }

  private async runConnection(published: PublishedStream, reconnect: boolean): Promise<void> {
    const feed = pushable<SourceSegment>({ objectMode: true });
    let dispatch: Promise<void> | undefined;
    let first = true;
    try {
      for await (const segment of published.segments) {
        const source = published.source();
        if (source !== null && this.source === null) this.source = source;
        if (dispatch === undefined && source !== null) {
          const running = this.dispatch(source, feed);
          dispatch = running;
          this.dispatches.add(running);
          void running.finally(() => this.dispatches.delete(running));
        }
        await this.accept(segment, reconnect && first, feed);
        first = false;
      }
    } finally {
      feed.end();
    }
  }

  /** One source segment in: listed as the source rendition at once, then sent to the network. */
  private async accept(
    segment: LiveSegment,
    discontinuity: boolean,
    feed: { push(segment: SourceSegment): unknown },
  ): Promise<void> {
    const seq = this.nextSeq++;
    this.counts.in += 1;
    this.deps.metrics?.segmentsIn.inc({ stream: this.label });
    const playlists = this.playlistsFor(segment);
    await this.serially(() => playlists.addSource(seq, segment, discontinuity));
    this.adjustLadder();
    const wanted = this.ladder.slice(this.shedCount).map((p) => p.name);
    for (const shed of this.ladder.slice(0, this.shedCount)) {
      await this.serially(() => playlists.skip(seq, shed.name));
    }
    this.pending.set(seq, {
      wallClockMs: segment.wallClockMs,
      closedAt: performance.now(),
      profiles: wanted,
    });
    feed.push({
      index: seq,
      data: segment.data,
      startSeconds: segment.startSeconds,
      durationSeconds: segment.durationSeconds,
      profiles: wanted,
    });
  }

  private playlistsFor(segment: LiveSegment): LivePlaylists {
    if (this.playlists !== null) return this.playlists;
    const source = this.source;
    const width = source?.width ?? 0;
    const height = source?.height ?? 0;
    const fps = source?.fps ?? 30;
    const hasAudio = source?.audioCodec != null;
    const sourceCodecs = codecsString(Buffer.from(segment.data), "h264", hasAudio);
    const sourceBps = Math.ceil(
      (segment.data.byteLength * 8) / Math.max(0.5, segment.durationSeconds),
    );
    const renditions: LiveRenditionInfo[] = [
      { name: "source", width, height, bandwidth: sourceBps, codecs: sourceCodecs, frameRate: fps },
      ...this.ladder.map((profile) => {
        const size = outputSize({ width, height }, profile);
        return {
          name: profile.name,
          width: size.width,
          height: size.height,
          bandwidth: profile.bitrateBps + (hasAudio ? NOMINAL_AUDIO_BPS : 0),
          codecs: codecsString(Buffer.alloc(0), profile.codec, hasAudio),
          frameRate: outputFps(fps, profile) ?? fps,
        };
      }),
    ];
    this.playlists = this.deps.createPlaylists(renditions);
    return this.playlists;
  }

  /** The network side of one publisher connection: pay, transcode, verify, within deadlines. */
  private async dispatch(
    source: LiveSourceInfo,
    feed: AsyncIterable<SourceSegment>,
  ): Promise<void> {
    const signal = this.abort.signal;
    const injected = this.deps.worker?.(source, this.payments, signal);
    const spotCheckTools =
      injected === undefined ? await ffmpegSpotCheckTools(this.deps.ffmpegPath, signal) : undefined;
    const worker =
      injected ??
      new NetworkSegmentWorker({
        transport: this.deps.session.transport,
        channels: this.payments,
        profiles: this.ladder,
        source: { width: source.width, height: source.height, fps: source.fps },
        streamId: this.streamId,
        ...ffmpegSegmentChecks(this.deps.ffmpegPath, signal),
        verification: this.verification,
        trust: this.trust,
        ...(spotCheckTools === undefined ? {} : { spotCheckTools }),
        log: this.log,
      });
    const dispatcher = new Dispatcher({
      worker,
      source: this.pins.watch(this.deps.session.source),
      suspension: this.suspension,
      sink: { write: (segment, outcome) => this.onDone(segment, outcome) },
      log: this.log,
      options: {
        orchestrators: this.options.orchestrators,
        maxAttempts: this.options.maxAttempts,
        deadlineMs: this.options.deadlineSeconds * 1000,
        hedgeAfterMs: this.options.hedgeAfterSeconds * 1000,
        requireOrchestratorsAtStart: false,
        // Deadlines bound the queue; this only keeps the reader from racing ahead of them.
        readAhead: Math.max(
          4,
          Math.ceil(this.options.deadlineSeconds / this.options.segmentSeconds) * 2,
        ),
      },
      onSegmentFailed: (segment, failure) => this.onLost(segment, failure),
      onSegmentDone: (_segment, orchestrator, outcome) => {
        this.byOrchestrator[orchestrator] = (this.byOrchestrator[orchestrator] ?? 0) + 1;
        this.spend.segment(orchestrator, outcome);
        this.spend.failures(this.trust.report().failures);
      },
    });
    try {
      await dispatcher.run(feed, signal);
    } catch (error) {
      if (signal.aborted) return;
      const code =
        typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
      this.log.error(
        { code, err: errorMessage(error) },
        "the stream's transcoding stopped; ending the stream",
      );
      this.current?.close(`transcoding stopped: ${String(code ?? errorMessage(error))}`);
    } finally {
      await spotCheckTools?.close();
    }
  }

  private async onDone(segment: SourceSegment, outcome: SegmentOutcome): Promise<void> {
    const playlists = this.playlists;
    if (playlists === null) return;
    for (const rendition of outcome.renditions) {
      await this.serially(() => playlists.addRendition(segment.index, rendition));
    }
    this.ticketsSent += outcome.ticketsSent;
    this.reportSpend();
    this.counts.out += 1;
    this.deps.metrics?.segmentsOut.inc({ stream: this.label });
    this.settle(segment.index, true);
  }

  private async onLost(segment: SourceSegment, failure: SegmentFailure): Promise<void> {
    const playlists = this.playlists;
    const names = segment.profiles ?? this.ladder.map((p) => p.name);
    this.counts.lost += 1;
    this.deps.metrics?.segmentsLost.inc({ stream: this.label });
    this.log.warn(
      { segment: segment.index, lastError: failure.lastError, attempts: failure.attempts },
      "segment skipped in the transcoded renditions",
    );
    this.settle(segment.index, false);
    this.reportSpend();
    if (playlists === null) return;
    for (const name of names) await this.serially(() => playlists.skip(segment.index, name));
  }

  /** Adds what the payment channels sent since the last report to the spend metric. */
  private reportSpend(): void {
    const spent = this.payments.spent();
    if (spent === this.spendReported) return;
    this.deps.metrics?.spendTokens.inc(
      { stream: this.label },
      Number(spent - this.spendReported) / 1e18,
    );
    this.spendReported = spent;
  }

  /** Records how long the segment took and whether it kept up with real time. */
  private settle(seq: number, ok: boolean): void {
    this.pins.warnOnce();
    const pending = this.pending.get(seq);
    if (pending === undefined) return;
    this.pending.delete(seq);
    if (!ok) {
      this.lateStreak += 1;
      this.onTimeStreak = 0;
      return;
    }
    const availability = (Date.now() - pending.wallClockMs) / 1000;
    this.availability.push(availability);
    if (this.availability.length > AVAILABILITY_SAMPLES) this.availability.shift();
    this.deps.metrics?.availabilitySeconds.observe({ stream: this.label }, availability);
    const processing = (performance.now() - pending.closedAt) / 1000;
    if (processing > this.options.segmentSeconds) {
      this.counts.late += 1;
      this.deps.metrics?.segmentsLate.inc({ stream: this.label });
      this.lateStreak += 1;
      this.onTimeStreak = 0;
    } else {
      this.lateStreak = 0;
      this.onTimeStreak += 1;
    }
  }

  /**
   * Backpressure: when segments keep coming back later than real time, or more are waiting than
   * the orchestrators can hold, the top rendition is shed before queues grow; it comes back
   * after a run of segments on time.
   */
  private adjustLadder(): void {
    const backlog = this.pending.size;
    const maxBacklog = this.options.orchestrators * 2 + 1;
    const behind = this.lateStreak >= this.options.shedAfterLate || backlog > maxBacklog;
    if (behind && this.shedCount < this.ladder.length - 1) {
      this.shedCount += 1;
      this.lateStreak = 0;
      this.onTimeStreak = 0;
      this.deps.metrics?.renditionsShed.set({ stream: this.label }, this.shedCount);
      this.log.warn(
        { shed: this.ladder[this.shedCount - 1]?.name, backlog },
        "the network is behind real time: shedding the top rendition",
      );
    } else if (
      this.shedCount > 0 &&
      this.onTimeStreak >= this.options.restoreAfterOnTime &&
      backlog <= this.options.orchestrators
    ) {
      this.shedCount -= 1;
      this.onTimeStreak = 0;
      this.deps.metrics?.renditionsShed.set({ stream: this.label }, this.shedCount);
      this.log.info(
        { restored: this.ladder[this.shedCount]?.name },
        "the network keeps up again: rendition restored",
      );
    }
  }

  private afterConnection(published: PublishedStream): void {
    if (this.current !== published) return;
    this.current = null;
    if (!this.open) return;
    const reason = published.endReason() ?? "dropped";
    if (reason === "dropped" || reason === "stalled") {
      this.state = "reconnecting";
      this.log.warn(
        { reason, graceSeconds: this.options.reconnectGraceSeconds },
        "publisher gone; waiting for it to come back",
      );
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        if (this.state === "reconnecting") void this.finish();
      }, this.options.reconnectGraceSeconds * 1000);
      this.graceTimer.unref();
      return;
    }
    this.log.info({ reason }, "publisher finished");
    void this.finish();
  }

  /**
   * Ends the stream: segments still in flight get at most one segment length (so ENDLIST
   * follows the publisher's end within about a segment), the rest are skipped, then ENDLIST.
   */
  private finish(): Promise<void> {
    this.ended ??= (async () => {
      if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
      this.state = "ending";
      const inFlight = Promise.allSettled([...this.dispatches]);
      const timer = setTimeout(
        () => this.abort.abort(new Error("stream ended")),
        this.options.segmentSeconds * 1000 * 0.75,
      );
      await inFlight;
      clearTimeout(timer);
      this.abort.abort(new Error("stream ended"));
      await this.writes;
      const playlists = this.playlists;
      if (playlists !== null) {
        for (const seq of [...this.pending.keys()]) {
          const p = this.pending.get(seq);
          this.pending.delete(seq);
          this.counts.lost += 1;
          this.deps.metrics?.segmentsLost.inc({ stream: this.label });
          for (const name of p?.profiles ?? [])
            await this.serially(() => playlists.skip(seq, name));
        }
        await this.serially(() => playlists.end());
      }
      this.reportSpend();
      this.state = "ended";
      this.log.info({ segments: this.counts }, "live stream ended");
      this.deps.onEnded?.();
    })();
    return this.ended;
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.writes.then(step);
    this.writes = next.catch((error: unknown) => {
      this.log.error({ err: errorMessage(error) }, "live playlist update failed");
    });
    return next;
  }
}
