import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BroadcasterError } from "../broadcaster/errors.ts";
import type { VerifiedRendition } from "../broadcaster/interface.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import {
  type HlsRendition,
  MediaPlaylist,
  masterPlaylist,
  type PlaylistSegment,
  segmentLines,
  writeAtomic,
} from "../media/hls.ts";
import type { LivePlaylists, LiveRenditionInfo, LiveSegment } from "./interface.ts";

/** The passthrough rendition's folder name: what the publisher sent, unchanged. */
export const SOURCE_RENDITION = "source";

export const liveHlsDefaults = {
  /**
   * Segments listed in each media playlist. Six 2 s segments give a player 12 s to join and
   * ride out a slow segment, while a playlist stays a few hundred bytes.
   */
  windowSize: 6,
  /**
   * Segments kept in memory after they leave the window: a player that read the playlist just
   * before the window moved may still ask for them (one playlist reload, about a segment
   * duration, plus the download).
   */
  graceSegments: 3,
  /** The configured segment length, s: EXT-X-TARGETDURATION starts at its ceiling. */
  segmentSeconds: 2,
  /**
   * How far a rendition may fall behind the source, in segments, before its missing segments
   * are skipped here. The stream's own deadline skips long before this (a few segment
   * durations); this bound only keeps memory flat when a rendition is never answered at all.
   */
  maxLagSegments: 30,
  /**
   * Segments per rendition the recording may fall behind the live playlists before calls wait
   * for the disk. A live call never waits for its own write (a slow disk must not hold the next
   * listing back); past this backlog it does, so held segment bytes stay bounded.
   */
  recordBacklogSegments: 4,
} as const;

export interface LiveHlsOptions {
  streamKey: string;
  /** Every rendition, the source ("source") included, as listed in the master playlist. */
  renditions: readonly LiveRenditionInfo[];
  windowSize?: number | undefined;
  graceSegments?: number | undefined;
  segmentSeconds?: number | undefined;
  maxLagSegments?: number | undefined;
  /** Where the whole stream is recorded as VOD HLS; null records nothing. */
  recordDir: string | null;
  log: Logger;
}

export interface LiveRenditionStats {
  name: string;
  width: number;
  height: number;
  /** Segments listed since the stream started. */
  listed: number;
  /** Segments left out (not returned in time, or never coming). */
  skipped: number;
  /** EXT-X-MEDIA-SEQUENCE now. */
  mediaSequence: number;
  /** Peak measured segment bitrate (the nominal one until a segment is listed), bits/s. */
  bandwidth: number;
}

export interface LiveStreamStats {
  streamKey: string;
  /** Source segments received. */
  segmentsIn: number;
  /** Ingest wall clock of the newest source segment, ms since the epoch. */
  lastWallClockMs: number | null;
  ended: boolean;
  /** Recording writes that failed (the live playlists went on without them). */
  recordErrors: number;
  /** Recording writes queued behind the live playlists. */
  recordBacklog: number;
  /** Segment bytes held for serving (the windows plus grace), bytes: flat over a long stream. */
  bytesInMemory: number;
  /** Results waiting for an earlier segment of their rendition, and source marks kept for them. */
  waiting: number;
  renditions: LiveRenditionStats[];
}

/** What the HTTP server reads from a live stream. */
export interface LiveStreamView {
  readonly streamKey: string;
  /** The master playlist, or null until the source has a listed segment. */
  masterPlaylist(): string | null;
  /** A rendition's media playlist, or null for an unknown rendition. */
  mediaPlaylist(name: string): string | null;
  /** A segment's bytes while it is in the window (or just left it), else null. */
  segment(name: string, file: string): Uint8Array | null;
  stats(): LiveStreamStats;
}

type Arrival = { data: Uint8Array; durationSeconds: number } | "skipped";

interface SourceMark {
  wallClockMs: number;
  /** The publisher reconnected before this segment. */
  discontinuity: boolean;
}

class RenditionTrack {
  readonly playlist: MediaPlaylist;
  /** Next sequence number this rendition's playlist waits for; null before the first source. */
  next: number | null = null;
  readonly arrived = new Map<number, Arrival>();
  /** A segment was skipped (or the publisher reconnected) since the last listed one. */
  gap = false;
  /** Bytes of the window plus the grace segments, oldest first. */
  readonly bytes = new Map<string, Uint8Array>();
  listed = 0;
  skipped = 0;
  /** The recording's playlist has its header. */
  recordStarted = false;

  constructor(
    readonly info: LiveRenditionInfo,
    windowSize: number,
    targetDurationSeconds: number,
  ) {
    this.playlist = new MediaPlaylist({ type: "live", windowSize, targetDurationSeconds });
  }
}

export function segmentFileName(seq: number): string {
  return `seg${String(seq).padStart(6, "0")}.ts`;
}

/**
 * The live HLS of one stream (the LivePlaylists seam): sliding-window media playlists per
 * rendition served from memory, and the whole stream recorded under `recordDir` as it goes
 * (segments, EVENT playlists appended to, then VOD playlists and a master on end()).
 *
 * The in-memory playlists change synchronously in each call, so a player sees a segment the
 * moment it is listed; the recording follows on one write chain and a failed write is logged
 * and counted, never stops the live playlists.
 */
export class LiveHls implements LivePlaylists, LiveStreamView {
  readonly streamKey: string;
  private readonly tracks = new Map<string, RenditionTrack>();
  private readonly windowSize: number;
  private readonly keepSegments: number;
  private readonly maxLag: number;
  private readonly targetDuration: number;
  /** Source arrivals that some rendition has not passed yet. */
  private readonly marks = new Map<number, SourceMark>();
  private lastSourceSeq: number | null = null;
  private segmentsIn = 0;
  private lastWallClockMs: number | null = null;
  private ended = false;
  private recordErrors = 0;
  private recording: Promise<void> = Promise.resolve();
  /** Recording steps queued and not yet done. */
  private backlog = 0;
  private readonly maxBacklog: number;

  constructor(private readonly options: LiveHlsOptions) {
    this.streamKey = options.streamKey;
    this.windowSize = options.windowSize ?? liveHlsDefaults.windowSize;
    this.keepSegments = this.windowSize + (options.graceSegments ?? liveHlsDefaults.graceSegments);
    this.maxLag = options.maxLagSegments ?? liveHlsDefaults.maxLagSegments;
    this.maxBacklog =
      liveHlsDefaults.recordBacklogSegments * Math.max(1, options.renditions.length);
    this.targetDuration = options.segmentSeconds ?? liveHlsDefaults.segmentSeconds;
    const problems: string[] = [];
    if (!Number.isInteger(this.windowSize) || this.windowSize < 1)
      problems.push(`windowSize ${this.windowSize} is not a whole number >= 1`);
    if (!(this.targetDuration > 0)) problems.push(`segmentSeconds ${this.targetDuration} <= 0`);
    if (options.renditions.length === 0) problems.push("no renditions");
    for (const info of options.renditions) {
      if (this.tracks.has(info.name)) problems.push(`rendition "${info.name}" listed twice`);
      if (!/^[A-Za-z0-9_-]+$/.test(info.name))
        problems.push(`rendition name "${info.name}" is not a folder name`);
      this.tracks.set(info.name, new RenditionTrack(info, this.windowSize, this.targetDuration));
    }
    if (problems.length > 0) {
      throw new BroadcasterError(
        "LIVE_HLS_OPTIONS_INVALID",
        `live HLS for stream ${options.streamKey}: ${problems.join("; ")}`,
        { streamKey: options.streamKey, problems },
        {
          hint: "give unique rendition names (letters, digits, - and _) and a window of 1 or more",
        },
      );
    }
  }

  async addSource(seq: number, segment: LiveSegment, discontinuity: boolean): Promise<void> {
    if (this.ended || (this.lastSourceSeq !== null && seq <= this.lastSourceSeq)) {
      this.ignore(this.ended ? "source after end" : "source out of order", seq, SOURCE_RENDITION);
      return;
    }
    const first = this.lastSourceSeq === null;
    if (first) for (const track of this.tracks.values()) track.next = seq;
    else if (this.lastSourceSeq !== null && seq > this.lastSourceSeq + 1) {
      // Never expected (the ingest numbers every piece): list around the hole, don't stall.
      this.options.log.warn(
        { streamKey: this.streamKey, from: this.lastSourceSeq + 1, to: seq - 1 },
        "source sequence numbers missing; skipped in every rendition",
      );
      for (let missing = this.lastSourceSeq + 1; missing < seq; missing++) {
        this.marks.set(missing, { wallClockMs: segment.wallClockMs, discontinuity: false });
        for (const track of this.tracks.values()) track.arrived.set(missing, "skipped");
      }
    }
    this.lastSourceSeq = seq;
    this.segmentsIn += 1;
    this.lastWallClockMs = segment.wallClockMs;
    this.marks.set(seq, {
      wallClockMs: segment.wallClockMs,
      discontinuity: discontinuity && !first,
    });
    const source = this.tracks.get(SOURCE_RENDITION);
    source?.arrived.set(seq, { data: segment.data, durationSeconds: segment.durationSeconds });
    this.enforceMaxLag(seq);
    for (const track of this.tracks.values()) this.advance(track);
    this.forgetPassedMarks();
    await this.recordingRoom();
  }

  async addRendition(seq: number, rendition: VerifiedRendition): Promise<void> {
    const track = this.accept(seq, rendition.profile, "rendition");
    if (track === null) return;
    track.arrived.set(seq, { data: rendition.data, durationSeconds: rendition.durationSeconds });
    this.advance(track);
    this.forgetPassedMarks();
    await this.recordingRoom();
  }

  async skip(seq: number, profile: string): Promise<void> {
    const track = this.accept(seq, profile, "skip");
    if (track === null) return;
    track.arrived.set(seq, "skipped");
    this.advance(track);
    this.forgetPassedMarks();
    await this.recordingRoom();
  }

  async end(): Promise<void> {
    if (this.ended) return this.recording;
    this.ended = true;
    for (const track of this.tracks.values()) {
      // What arrived after a hole is still listed (it was paid for); the rest never comes.
      if (track.next !== null && this.lastSourceSeq !== null) {
        for (let seq = track.next; seq <= this.lastSourceSeq; seq++) {
          if (!track.arrived.has(seq)) track.arrived.set(seq, "skipped");
        }
        this.advance(track);
      }
      track.arrived.clear();
      track.playlist.end();
    }
    this.marks.clear();
    this.record((dir) => this.finishRecording(dir));
    this.options.log.info(
      { streamKey: this.streamKey, segments: this.segmentsIn },
      "live playlists ended",
    );
    await this.recording;
  }

  /** Resolves once every recording write queued so far is done (or has failed and been counted). */
  recorded(): Promise<void> {
    return this.recording;
  }

  masterPlaylist(): string | null {
    const source = this.tracks.get(SOURCE_RENDITION) ?? this.tracks.values().next().value;
    if (source === undefined || source.listed === 0) return null;
    return masterPlaylist([...this.tracks.values()].map((track) => this.masterEntry(track)));
  }

  mediaPlaylist(name: string): string | null {
    return this.tracks.get(name)?.playlist.render() ?? null;
  }

  segment(name: string, file: string): Uint8Array | null {
    return this.tracks.get(name)?.bytes.get(file) ?? null;
  }

  stats(): LiveStreamStats {
    return {
      streamKey: this.streamKey,
      segmentsIn: this.segmentsIn,
      lastWallClockMs: this.lastWallClockMs,
      ended: this.ended,
      recordErrors: this.recordErrors,
      recordBacklog: this.backlog,
      bytesInMemory: [...this.tracks.values()].reduce(
        (sum, track) =>
          sum + [...track.bytes.values()].reduce((bytes, data) => bytes + data.byteLength, 0),
        0,
      ),
      waiting:
        this.marks.size +
        [...this.tracks.values()].reduce((sum, track) => sum + track.arrived.size, 0),
      renditions: [...this.tracks.values()].map((track) => ({
        name: track.info.name,
        width: track.info.width,
        height: track.info.height,
        listed: track.listed,
        skipped: track.skipped,
        mediaSequence: track.playlist.mediaSequence,
        bandwidth: this.masterEntry(track).bandwidth,
      })),
    };
  }

  /** The track a rendition result or skip is for, or null when it is too late or unknown. */
  private accept(seq: number, profile: string, what: string): RenditionTrack | null {
    const track = this.tracks.get(profile);
    if (track === undefined) {
      this.options.log.warn(
        { streamKey: this.streamKey, seq, profile },
        `${what} for a rendition this stream does not list; ignored`,
      );
      return null;
    }
    if (this.ended) return this.ignore(`${what} after end`, seq, profile);
    // Already listed or skipped here (a result that came after its deadline), or a repeat.
    if ((track.next !== null && seq < track.next) || track.arrived.has(seq))
      return this.ignore(`late ${what}`, seq, profile);
    return track;
  }

  private ignore(what: string, seq: number, profile: string): null {
    this.options.log.debug({ streamKey: this.streamKey, seq, profile }, `${what}; ignored`);
    return null;
  }

  /** Lists every segment the rendition can now list, strictly in sequence order. */
  private advance(track: RenditionTrack): void {
    while (track.next !== null) {
      const seq = track.next;
      const mark = this.marks.get(seq);
      const arrival = track.arrived.get(seq);
      if (mark === undefined || arrival === undefined) return;
      track.arrived.delete(seq);
      track.next = seq + 1;
      if (mark.discontinuity) track.gap = true;
      if (arrival === "skipped") {
        track.skipped += 1;
        track.gap = true;
        continue;
      }
      const entry: PlaylistSegment = {
        uri: segmentFileName(seq),
        durationSeconds: arrival.durationSeconds,
        bytes: arrival.data.byteLength,
        // Nothing before the first listed segment to be discontinuous with.
        discontinuity: track.gap && track.listed > 0,
        programDateTimeMs: mark.wallClockMs,
      };
      track.gap = false;
      track.playlist.add(entry);
      track.listed += 1;
      track.bytes.set(entry.uri, arrival.data);
      while (track.bytes.size > this.keepSegments) {
        const oldest = track.bytes.keys().next().value;
        if (oldest === undefined) break;
        track.bytes.delete(oldest);
      }
      this.record(() => this.recordSegment(track, entry, arrival.data));
    }
  }

  /** A rendition far behind the source gives up its oldest missing segments. */
  private enforceMaxLag(newest: number): void {
    for (const track of this.tracks.values()) {
      if (track.next === null || newest - track.next < this.maxLag) continue;
      const upTo = newest - this.maxLag;
      this.options.log.warn(
        { streamKey: this.streamKey, profile: track.info.name, from: track.next, to: upTo },
        "rendition fell too far behind the source; its missing segments are skipped",
      );
      for (let seq = track.next; seq <= upTo; seq++) {
        if (!track.arrived.has(seq)) track.arrived.set(seq, "skipped");
      }
    }
  }

  /** Source marks every rendition has passed are no longer needed. */
  private forgetPassedMarks(): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const track of this.tracks.values()) {
      if (track.next !== null) lowest = Math.min(lowest, track.next);
    }
    for (const seq of this.marks.keys()) {
      if (seq < lowest) this.marks.delete(seq);
    }
  }

  private masterEntry(track: RenditionTrack): HlsRendition {
    const { peak, average } = track.playlist.bandwidth;
    return {
      uri: `${track.info.name}/index.m3u8`,
      width: track.info.width,
      height: track.info.height,
      bandwidth: peak > 0 ? peak : track.info.bandwidth,
      averageBandwidth: average > 0 ? average : undefined,
      codecs: track.info.codecs,
      frameRate: track.info.frameRate,
    };
  }

  /** Runs a recording step after the ones before it; a failure is logged, counted, and passed. */
  private record(step: (dir: string) => Promise<void>): void {
    const dir = this.options.recordDir;
    if (dir === null) return;
    this.backlog += 1;
    this.recording = this.recording
      .then(() => step(dir))
      .catch((error: unknown) => {
        this.recordErrors += 1;
        this.options.log.error(
          { streamKey: this.streamKey, dir, err: errorMessage(error) },
          "recording the live stream failed; the live playlists go on without it",
        );
      })
      .finally(() => {
        this.backlog -= 1;
      });
  }

  /** Waits for the disk only when the recording has fallen too far behind. */
  private async recordingRoom(): Promise<void> {
    if (this.backlog > this.maxBacklog) await this.recording;
  }

  private async recordSegment(
    track: RenditionTrack,
    entry: PlaylistSegment,
    data: Uint8Array,
  ): Promise<void> {
    const dir = this.recordFolder(track);
    if (!track.recordStarted) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "index.m3u8"), recordingHeader(track.playlist, "EVENT"));
      track.recordStarted = true;
    }
    await writeFile(join(dir, entry.uri), data);
    // The playlist names the segment only once its bytes are on disk.
    await appendFile(join(dir, "index.m3u8"), `${segmentLines(entry).join("\n")}\n`);
  }

  /** VOD playlists (the final target duration, ENDLIST) and the master. */
  private async finishRecording(root: string): Promise<void> {
    const entries: HlsRendition[] = [];
    for (const track of this.tracks.values()) {
      if (!track.recordStarted) continue;
      const path = join(this.recordFolder(track), "index.m3u8");
      const written = await readFile(path, "utf8");
      const marker = "#EXT-X-PLAYLIST-TYPE:EVENT\n";
      const body = written.slice(written.indexOf(marker) + marker.length);
      await writeAtomic(path, `${recordingHeader(track.playlist, "VOD")}${body}#EXT-X-ENDLIST\n`);
      entries.push(this.masterEntry(track));
    }
    if (entries.length === 0) return;
    await writeAtomic(join(root, "index.m3u8"), masterPlaylist(entries));
  }

  private recordFolder(track: RenditionTrack): string {
    return join(this.options.recordDir ?? ".", track.info.name);
  }
}

function recordingHeader(playlist: MediaPlaylist, type: "EVENT" | "VOD"): string {
  return [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    `#EXT-X-TARGETDURATION:${playlist.targetDuration}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    `#EXT-X-PLAYLIST-TYPE:${type}`,
    "",
  ].join("\n");
}
