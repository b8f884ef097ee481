import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { VideoCodec } from "./interface.ts";

/**
 * HLS playlists written by us rather than by ffmpeg's hls muxer: the npm static ffmpeg 4.1
 * segfaults on `-f hls -var_stream_map` (seen on these machines), and renditions arrive one segment at
 * a time from the network, not from one local ffmpeg run.
 */
export interface PlaylistSegment {
  uri: string;
  durationSeconds: number;
  bytes: number;
  /**
   * The segment does not follow on from the one listed before it (a segment in between is
   * missing): it gets an EXT-X-DISCONTINUITY tag so players reset their timeline (RFC 8216 4.3.2.3).
   */
  discontinuity?: boolean;
  /**
   * Wall clock of the segment's first frame, ms since the epoch: written as
   * EXT-X-PROGRAM-DATE-TIME so players can tell how far behind real time they are.
   */
  programDateTimeMs?: number | undefined;
}

export interface MediaPlaylistOptions {
  /** "vod" writes PLAYLIST-TYPE:VOD and, once ended, ENDLIST. */
  type: "vod" | "live";
  /** Live only: keep the last N segments (a sliding window); undefined keeps all (EVENT). */
  windowSize?: number | undefined;
  /**
   * The smallest EXT-X-TARGETDURATION to write, s. A live playlist sets it from the configured
   * segment length so the value does not change as segments arrive (RFC 8216 6.2.1); it still
   * grows if a longer segment appears, since no EXTINF may exceed it.
   */
  targetDurationSeconds?: number | undefined;
}

/** The lines one segment takes in a media playlist (tags first, then its URI). */
export function segmentLines(segment: PlaylistSegment): string[] {
  const lines: string[] = [];
  if (segment.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
  if (segment.programDateTimeMs !== undefined) {
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTimeMs).toISOString()}`);
  }
  lines.push(`#EXTINF:${segment.durationSeconds.toFixed(6)},`, segment.uri);
  return lines;
}

export class MediaPlaylist {
  private segments: PlaylistSegment[] = [];
  private firstSequence = 0;
  /** Discontinuity tags that slid out of the window (EXT-X-DISCONTINUITY-SEQUENCE). */
  private droppedDiscontinuities = 0;
  private ended = false;
  private longest = 0;
  private totalBits = 0;
  private totalSeconds = 0;
  private peakBps = 0;

  constructor(private readonly options: MediaPlaylistOptions = { type: "vod" }) {}

  add(segment: PlaylistSegment): void {
    if (this.ended) throw new Error("playlist already ended");
    this.segments.push(segment);
    this.longest = Math.max(this.longest, segment.durationSeconds);
    const bits = segment.bytes * 8;
    this.totalBits += bits;
    this.totalSeconds += segment.durationSeconds;
    if (segment.durationSeconds > 0)
      this.peakBps = Math.max(this.peakBps, bits / segment.durationSeconds);
    const window = this.options.windowSize;
    if (this.options.type === "live" && window !== undefined && this.segments.length > window) {
      const drop = this.segments.length - window;
      for (const gone of this.segments.slice(0, drop)) {
        if (gone.discontinuity) this.droppedDiscontinuities += 1;
      }
      this.segments = this.segments.slice(drop);
      this.firstSequence += drop;
    }
  }

  /** EXT-X-MEDIA-SEQUENCE: the media sequence number of the first listed segment. */
  get mediaSequence(): number {
    return this.firstSequence;
  }

  /** EXT-X-DISCONTINUITY-SEQUENCE: the discontinuity number of the first listed segment. */
  get discontinuitySequence(): number {
    return this.droppedDiscontinuities;
  }

  /** EXT-X-TARGETDURATION, s: never decreases. */
  get targetDuration(): number {
    return Math.max(
      1,
      Math.ceil(this.options.targetDurationSeconds ?? 0),
      Math.round(this.longest),
    );
  }

  /** The segments listed now (the window, for a sliding playlist). */
  get listed(): readonly PlaylistSegment[] {
    return this.segments;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  end(): void {
    this.ended = true;
  }

  /** Peak segment bitrate (HLS BANDWIDTH) and the mean (AVERAGE-BANDWIDTH), bits/s. */
  get bandwidth(): { peak: number; average: number } {
    return {
      peak: Math.ceil(this.peakBps),
      average: this.totalSeconds > 0 ? Math.ceil(this.totalBits / this.totalSeconds) : 0,
    };
  }

  render(): string {
    const lines = [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      // RFC 8216 4.3.3.1: EXTINF rounded to the nearest integer must not exceed this.
      `#EXT-X-TARGETDURATION:${this.targetDuration}`,
      `#EXT-X-MEDIA-SEQUENCE:${this.firstSequence}`,
    ];
    const sliding = this.options.type === "live" && this.options.windowSize !== undefined;
    // A sliding window drops tagged segments, so players need the count to stay in step
    // across renditions (RFC 8216 6.2.2).
    if (sliding) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${this.droppedDiscontinuities}`);
    if (this.options.type === "vod") lines.push("#EXT-X-PLAYLIST-TYPE:VOD");
    else if (this.options.windowSize === undefined) lines.push("#EXT-X-PLAYLIST-TYPE:EVENT");
    for (const segment of this.segments) lines.push(...segmentLines(segment));
    if (this.ended) lines.push("#EXT-X-ENDLIST");
    return `${lines.join("\n")}\n`;
  }
}

let tempCounter = 0;

/** Writes a file through a temporary name so a player never reads half a playlist. */
export async function writeAtomic(path: string, text: string | Uint8Array): Promise<void> {
  tempCounter += 1;
  const temp = `${path}.${process.pid}.${tempCounter}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

export interface HlsRendition {
  uri: string;
  width: number;
  height: number;
  bandwidth: number;
  averageBandwidth?: number | undefined;
  codecs: string;
  frameRate?: number | undefined;
}

export function masterPlaylist(renditions: readonly HlsRendition[]): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  const sorted = [...renditions].sort((a, b) => b.bandwidth - a.bandwidth);
  for (const r of sorted) {
    const attrs = [`BANDWIDTH=${r.bandwidth}`];
    if (r.averageBandwidth !== undefined) attrs.push(`AVERAGE-BANDWIDTH=${r.averageBandwidth}`);
    attrs.push(`RESOLUTION=${r.width}x${r.height}`, `CODECS="${r.codecs}"`);
    if (r.frameRate !== undefined) attrs.push(`FRAME-RATE=${r.frameRate.toFixed(3)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, r.uri);
  }
  return `${lines.join("\n")}\n`;
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, "0");
}

/**
 * The RFC 6381 codecs string of an MPEG-TS rendition, read from its first parameter set:
 * `avc1.PPCCLL` from the H.264 SPS, `hvc1.P.C.Lnn.B0` from the HEVC SPS; AAC-LC as mp4a.40.2.
 */
export function codecsString(ts: Buffer, codec: VideoCodec, hasAudio: boolean): string {
  const audio = hasAudio ? ",mp4a.40.2" : "";
  const window = ts.subarray(0, Math.min(ts.length, 256 * 1024));
  for (let i = 0; i + 16 < window.length; i++) {
    if (window[i] !== 0 || window[i + 1] !== 0 || window[i + 2] !== 1) continue;
    const nal = window[i + 3] ?? 0;
    if (codec === "h264" && (nal & 0x1f) === 7) {
      const profile = window[i + 4] ?? 0;
      const constraints = window[i + 5] ?? 0;
      const level = window[i + 6] ?? 0;
      return `avc1.${hex2(profile)}${hex2(constraints)}${hex2(level)}${audio}`;
    }
    if (codec === "hevc" && ((nal >> 1) & 0x3f) === 33) {
      // SPS: 2-byte NAL header, 1 byte of ids, then profile_tier_level; level_idc is 12 bytes in.
      const ptl = window[i + 6] ?? 0;
      const profile = ptl & 0x1f;
      const tier = ptl & 0x20 ? "H" : "L";
      const level = window[i + 6 + 11] ?? 0;
      return `hvc1.${profile}.${profile === 2 ? 4 : 6}.${tier}${level}.B0${audio}`;
    }
  }
  return (codec === "h264" ? "avc1.640028" : "hvc1.1.6.L120.B0") + audio;
}

/** Writes a finished VOD set: one folder per rendition with its playlist, and the master. */
export async function writeVodHls(
  dir: string,
  renditions: ReadonlyArray<{
    name: string;
    playlist: MediaPlaylist;
    info: Omit<HlsRendition, "uri" | "bandwidth">;
  }>,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const entries: HlsRendition[] = [];
  for (const r of renditions) {
    r.playlist.end();
    await mkdir(join(dir, r.name), { recursive: true });
    await writeFile(join(dir, r.name, "index.m3u8"), r.playlist.render());
    const { peak, average } = r.playlist.bandwidth;
    entries.push({
      ...r.info,
      uri: `${r.name}/index.m3u8`,
      bandwidth: peak,
      averageBandwidth: average,
    });
  }
  const master = join(dir, "master.m3u8");
  await writeFile(master, masterPlaylist(entries));
  return master;
}
