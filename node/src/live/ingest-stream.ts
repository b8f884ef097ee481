import { PassThrough } from "node:stream";
import type { Logger } from "../log/index.ts";
import { isMediaError } from "../media/errors.ts";
import { segmentInput } from "../media/segmenter.ts";
import { KeyframeClock } from "./ingest-clock.ts";
import type { IngestMetrics } from "./ingest-metrics.ts";
import { DropOldestQueue } from "./ingest-queue.ts";
import type {
  LiveSegment,
  LiveSourceInfo,
  PublishEndReason,
  PublishedStream,
} from "./interface.ts";

/**
 * One accepted publisher's media path: FLV tags in (written by the connection as they arrive),
 * one ffmpeg that copies them into keyframe-aligned MPEG-TS pieces, a bounded queue of pieces
 * out. ffmpeg never re-encodes, so it costs a few percent of a core per stream.
 */

export interface IngestStreamOptions {
  streamKey: string;
  ffmpegPath: string;
  segmentSeconds: number;
  maxQueuedSegments: number;
  /** What the publisher sends, read when the first piece is cut (the frame rate may only be
   * measured by then). */
  source: () => LiveSourceInfo;
  log: Logger;
  /** Where ffmpeg's working directory is made. */
  tmpRoot?: string | undefined;
  /** Drops the publisher's connection (PublishedStream.close). */
  disconnect(reason: string): void;
  metrics?: IngestMetrics | null;
}

/**
 * Bytes written to ffmpeg but not yet read by it before the connection stops reading the
 * socket: 4 MB is 1.6 s of a 20 Mbit/s stream, plenty for a remuxer that keeps up, and TCP
 * then slows the publisher instead of memory growing.
 */
const INPUT_HIGH_WATER = 4 * 1024 * 1024;

/** How much of the stream ffmpeg reads before it starts cutting: the first configuration tags and frames. */
const PROBE_MICROSECONDS = 500_000;

export class IngestStream {
  readonly published: PublishedStream;
  /** Settles when ffmpeg has exited and every piece is queued (never rejects). */
  readonly done: Promise<void>;
  // The readable side only hands bytes on to ffmpeg's stdin, so it holds little of its own.
  private readonly input = new PassThrough({
    writableHighWaterMark: INPUT_HIGH_WATER,
    readableHighWaterMark: 64 * 1024,
  });
  private readonly queue: DropOldestQueue<LiveSegment>;
  private readonly abort = new AbortController();
  private readonly clock = new KeyframeClock();
  private sourceInfo: LiveSourceInfo | null = null;
  private ended: PublishEndReason | null = null;
  private endedAs: PublishEndReason = "dropped";
  private segmentsOut = 0;
  private dropped = 0;

  constructor(private readonly options: IngestStreamOptions) {
    const log = options.log;
    this.queue = new DropOldestQueue<LiveSegment>(options.maxQueuedSegments, (segment, queued) => {
      this.dropped++;
      options.metrics?.segmentDropped();
      log.warn(
        { index: segment.index, queued, dropped: this.dropped },
        "live segment dropped: the consumer is too far behind",
      );
    });
    this.published = {
      streamKey: options.streamKey,
      source: () => this.sourceInfo,
      segments: this.queue,
      close: (reason: string) => options.disconnect(reason),
      endReason: () => this.ended,
    };
    // Writes racing ffmpeg's exit are dropped by write(); nothing to report here.
    this.input.on("error", () => {});
    this.done = this.pump();
  }

  /** Writes FLV bytes; false when ffmpeg is behind (wait for `onDrain` before reading more). */
  write(bytes: Buffer): boolean {
    if (this.input.writableEnded || this.input.destroyed) return true;
    return this.input.write(bytes);
  }

  onDrain(listener: () => void): void {
    this.input.once("drain", listener);
  }

  /** Records when a keyframe (a possible segment start) arrived. */
  keyframe(timestampMs: number, wallMs: number): void {
    this.clock.keyframe(timestampMs, wallMs);
  }

  /**
   * The publisher is gone: ffmpeg reads to the end and closes the last piece; `endReason()`
   * says `reason` once the segments have ended.
   */
  finish(reason: PublishEndReason = "dropped"): void {
    if (this.input.writableEnded) return;
    this.endedAs = reason;
    this.input.end();
  }

  /** Shutdown: ffmpeg is killed, pieces not yet closed are lost. */
  kill(): void {
    this.finish("closed");
    this.abort.abort();
  }

  private async pump(): Promise<void> {
    const { options } = this;
    const args = [
      "-hide_banner",
      "-nostdin",
      "-v",
      "error",
      // The stream's codecs are known from its configuration tags, written first; ffmpeg's
      // default 5 s of probing would hold the first pieces back (it waits that long when the
      // stream has no audio).
      "-analyzeduration",
      String(PROBE_MICROSECONDS),
      "-f",
      "flv",
      "-i",
      "pipe:0",
      "-map",
      "0:v:0",
      "-map",
      "0:a:0?",
    ];
    try {
      for await (const piece of segmentInput(
        { args, stdin: this.input, label: "the live stream" },
        {
          ffmpegPath: options.ffmpegPath,
          targetSeconds: options.segmentSeconds,
          timeoutMs: Number.POSITIVE_INFINITY,
          signal: this.abort.signal,
          tmpRoot: options.tmpRoot,
        },
      )) {
        const segment: LiveSegment = {
          index: piece.index,
          data: piece.data,
          startSeconds: piece.startSeconds,
          durationSeconds: piece.durationSeconds,
          wallClockMs: this.clock.pieceStarted(piece.startSeconds) ?? Date.now(),
        };
        // The source is reported with the first piece, as the seam promises.
        this.sourceInfo ??= options.source();
        this.segmentsOut++;
        options.metrics?.segmentCut(
          (Date.now() - segment.wallClockMs) / 1000 - segment.durationSeconds,
        );
        options.log.debug(
          {
            index: segment.index,
            startSeconds: segment.startSeconds,
            durationSeconds: segment.durationSeconds,
            bytes: segment.data.length,
            behindMs: Date.now() - segment.wallClockMs,
          },
          "live segment cut",
        );
        this.queue.push(segment);
      }
      this.endSegments();
    } catch (error) {
      if (isMediaError(error, "TRANSCODE_ABORTED")) {
        this.endSegments();
      } else if (isMediaError(error, "INPUT_INVALID")) {
        // ffmpeg exited on its own: almost always data it could not read (the publisher's
        // doing), else a killed process. Not worth failing the consumer over: the segments end
        // (endReason "closed") with the cause in the log.
        options.log.warn({ err: error }, "live stream ended: its segmenter (ffmpeg) failed");
        this.endSegments();
      } else {
        options.log.error({ err: error }, "live segmenter failed");
        this.endSegments(error);
      }
    } finally {
      // ffmpeg is gone; if the publisher is still sending, nothing can take its data any more.
      if (!this.input.writableEnded) options.disconnect("the stream's segmenter stopped");
      this.input.destroy();
      options.log.info(
        { segments: this.segmentsOut, dropped: this.dropped },
        "live stream segments finished",
      );
    }
  }

  /** endReason() is set before the consumer can see the end of the segments. */
  private endSegments(failure?: unknown): void {
    // ffmpeg stopped before its input ended: the ingest, not the publisher, ended the stream.
    if (!this.input.writableEnded) this.endedAs = "closed";
    this.ended = this.endedAs;
    if (failure === undefined) this.queue.end();
    else this.queue.fail(failure);
  }
}
