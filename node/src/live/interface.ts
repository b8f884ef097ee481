/**
 * The live path's seams. A live stream flows:
 *
 *   RTMP publisher -> ingest (ingest.ts: accepts or refuses the key, cuts keyframe-aligned
 *   MPEG-TS pieces as they arrive) -> the broadcaster daemon's stream (stream.ts: pays,
 *   dispatches, verifies, retries within a deadline) -> live HLS (playlists.ts: sliding-window
 *   playlists per rendition, the source as a passthrough rendition, a VOD recording on disk)
 *   -> HTTP (http-server.ts: playlists, segments, the player page, /status, /metrics).
 *
 * Each side is injected, so each is tested alone with fakes and together in the integration
 * tests.
 */

import type { SourceSegment, VerifiedRendition } from "../broadcaster/interface.ts";

/** One keyframe-aligned piece of a live stream, yielded the moment the segmenter closes it. */
export interface LiveSegment extends SourceSegment {
  /** Ingest wall clock (ms since the epoch) when the segment's first frame arrived. */
  wallClockMs: number;
}

/** What the publisher sends, read from the stream's metadata and first packets. */
export interface LiveSourceInfo {
  videoCodec: string;
  width: number;
  height: number;
  fps: number;
  audioCodec: string | null;
}

/** One publisher's connection on a stream key, from connect to disconnect. */
export interface PublishedStream {
  streamKey: string;
  /** Set once the first segment is cut (the segmenter reads it from the stream itself). */
  source(): LiveSourceInfo | null;
  /**
   * The stream's pieces, index 0 upwards for this connection. Ends when the publisher
   * disconnects (or stalls past the ingest's idle limit); throws only on a local fault.
   */
  segments: AsyncIterable<LiveSegment>;
  /** Drops the publisher's connection (a refusal after connect, or shutdown). */
  close(reason: string): void;
  /**
   * Why the segments ended, once they have: "unpublished" when the publisher stopped cleanly
   * (RTMP FCUnpublish/deleteStream: the stream is over), "dropped" when the connection was lost
   * without that (the publisher may come back: the stream waits a grace period), "stalled"
   * when nothing arrived for the idle limit, "closed" after `close()`. Null while live.
   */
  endReason(): PublishEndReason | null;
}

export type PublishEndReason = "unpublished" | "dropped" | "stalled" | "closed";

/** The ingest's answer at connect time. */
export type PublishDecision = { accept: true } | { accept: false; reason: string };

export interface IngestHandlers {
  /** Called when a publisher asks to publish `streamKey`; a refusal is logged and the connection dropped. */
  authorize(streamKey: string): PublishDecision;
  /** Called for each accepted publisher. */
  onPublish(stream: PublishedStream): void;
}

/** A rendition of a live stream as listed in the master playlist. */
export interface LiveRenditionInfo {
  /** Folder name under /live/KEY/ (a profile name, or "source"). */
  name: string;
  width: number;
  height: number;
  /** Nominal bitrate for BANDWIDTH before measured segments exist, bits/s. */
  bandwidth: number;
  codecs: string;
  frameRate: number;
}

/**
 * The live HLS of one stream. Segments are numbered by the stream (sequence numbers keep
 * counting across publisher reconnects). The source rendition gets every segment as it
 * arrives; each transcoded rendition gets the segment when verified or a skip when its deadline
 * passes. A rendition's playlist lists segments strictly in order: it advances to N only when
 * N has been published or skipped there. Skipped segments are left out and the next listed one
 * carries EXT-X-DISCONTINUITY; a publisher reconnect (`discontinuity` on the source segment)
 * gives every rendition a discontinuity there. Every listed segment carries
 * EXT-X-PROGRAM-DATE-TIME from its wallClockMs.
 */
export interface LivePlaylists {
  readonly streamKey: string;
  /** The source as it arrived (passthrough rendition); call once per sequence number, in order. */
  addSource(seq: number, segment: LiveSegment, discontinuity: boolean): Promise<void>;
  /** A verified rendition of segment `seq`. */
  addRendition(seq: number, rendition: VerifiedRendition): Promise<void>;
  /** Rendition `profile` of segment `seq` will never come. */
  skip(seq: number, profile: string): Promise<void>;
  /** The publisher is gone for good: every playlist gets EXT-X-ENDLIST, the recording is finished. */
  end(): Promise<void>;
}
