import { mkdir, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  codecsString,
  type HlsRendition,
  MediaPlaylist,
  masterPlaylist,
  writeAtomic,
} from "../media/hls.ts";
import type { Profile } from "../media/interface.ts";
import type { ResultSink, SegmentOutcome, SourceSegment, VerifiedRendition } from "./interface.ts";

interface Written {
  index: number;
  uri: string;
  renditions: VerifiedRendition[];
}

/** The file a segment's rendition is written to in its profile's folder. */
export function segmentName(index: number): string {
  return `seg${String(index).padStart(6, "0")}.ts`;
}

export interface HlsOutputOptions {
  dir: string;
  profiles: readonly Profile[];
  hasAudio: boolean;
  /** The frame rate each rendition plays at (for the master's FRAME-RATE). */
  frameRate: (profile: Profile) => number;
}

/**
 * HLS written while the broadcast runs: each verified segment's renditions land in
 * DIR/<profile>/segNNNNNN.ts as they arrive (in any order); the variant playlists list the
 * segments done so far in order (an EVENT playlist a player can start on), and `finish()`
 * turns them into VOD playlists with ENDLIST. The master follows the first segment.
 */
export class HlsOutput implements ResultSink {
  private readonly done = new Map<number, Written>();
  /** Next segment index the playlists wait for. */
  private next = 0;
  private readonly listed: Written[] = [];
  private masterWritten = false;
  /** Folders `init` made (not there before), removed again when nothing was written. */
  private readonly created: string[] = [];
  /** Playlist rewrites run one after another: results arrive concurrently. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: HlsOutputOptions) {}

  get masterPath(): string {
    return join(this.options.dir, "master.m3u8");
  }

  /** Each profile that has at least one segment, with its measured size. */
  variants(): Array<{ name: string; width: number; height: number }> {
    return this.options.profiles.flatMap((profile) => {
      for (const w of this.listed) {
        const r = w.renditions.find((x) => x.profile === profile.name);
        if (r !== undefined) return [{ name: profile.name, width: r.width, height: r.height }];
      }
      return [];
    });
  }

  async init(): Promise<void> {
    for (const profile of this.options.profiles) {
      const dir = join(this.options.dir, profile.name);
      const first = await mkdir(dir, { recursive: true });
      if (first === undefined) continue;
      // mkdir names the topmost folder it made; every folder from there down to `dir` is new.
      for (let d = dir; d.length >= first.length; d = join(d, "..")) this.created.push(d);
    }
    // Empty EVENT playlists: a player pointed at the folder early finds valid files.
    await this.serially(() => this.writePlaylists(false));
  }

  async write(segment: SourceSegment, outcome: SegmentOutcome): Promise<void> {
    const uri = segmentName(segment.index);
    await Promise.all(
      outcome.renditions.map((r) => writeAtomic(join(this.options.dir, r.profile, uri), r.data)),
    );
    this.done.set(segment.index, { index: segment.index, uri, renditions: outcome.renditions });
    let advanced = false;
    for (let w = this.done.get(this.next); w !== undefined; w = this.done.get(this.next)) {
      this.done.delete(this.next);
      this.listed.push(w);
      this.next += 1;
      advanced = true;
    }
    if (advanced) await this.serially(() => this.writePlaylists(false));
  }

  /**
   * Ends the playlists. Segments after a gap (a segment that failed everywhere) are still
   * listed, so what was paid for is playable; the first one after the gap carries an
   * EXT-X-DISCONTINUITY tag, so players reset their timeline there instead of stalling.
   * When no segment at all was written (a refused input), the empty playlists and the folders
   * `init` made are removed instead: a failed run leaves nothing behind.
   */
  async finish(): Promise<{ master: string; segments: number }> {
    for (const index of [...this.done.keys()].sort((a, b) => a - b)) {
      const w = this.done.get(index);
      if (w !== undefined) this.listed.push(w);
    }
    this.done.clear();
    if (this.listed.length === 0) {
      await this.serially(() => this.removeEmpty());
      return { master: this.masterPath, segments: 0 };
    }
    await this.serially(() => this.writePlaylists(true));
    return { master: this.masterPath, segments: this.listed.length };
  }

  private async removeEmpty(): Promise<void> {
    for (const profile of this.options.profiles) {
      await unlink(join(this.options.dir, profile.name, "index.m3u8")).catch(() => {});
    }
    // Deepest first; rmdir leaves any folder something else has put files in since.
    for (const dir of [...this.created].sort((a, b) => b.length - a.length)) {
      await rmdir(dir).catch(() => {});
    }
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.writing.then(step);
    // A failed write is reported to its caller; the chain goes on for the next one.
    this.writing = next.catch(() => {});
    return next;
  }

  private async writePlaylists(ended: boolean): Promise<void> {
    const entries: HlsRendition[] = [];
    for (const profile of this.options.profiles) {
      const playlist = new MediaPlaylist(ended ? { type: "vod" } : { type: "live" });
      let first: VerifiedRendition | undefined;
      let previous: number | undefined;
      for (const w of this.listed) {
        const r = w.renditions.find((x) => x.profile === profile.name);
        if (r === undefined) continue;
        first ??= r;
        playlist.add({
          uri: w.uri,
          durationSeconds: r.durationSeconds,
          bytes: r.data.byteLength,
          discontinuity: previous !== undefined && w.index !== previous + 1,
        });
        previous = w.index;
      }
      if (ended) playlist.end();
      await writeAtomic(join(this.options.dir, profile.name, "index.m3u8"), playlist.render());
      if (first === undefined) continue;
      const { peak, average } = playlist.bandwidth;
      entries.push({
        uri: `${profile.name}/index.m3u8`,
        width: first.width,
        height: first.height,
        bandwidth: peak,
        averageBandwidth: average,
        codecs: codecsString(Buffer.from(first.data), profile.codec, this.options.hasAudio),
        frameRate: this.options.frameRate(profile),
      });
    }
    if (entries.length > 0 && (ended || !this.masterWritten)) {
      await writeAtomic(this.masterPath, masterPlaylist(entries));
      this.masterWritten = true;
    }
  }
}
