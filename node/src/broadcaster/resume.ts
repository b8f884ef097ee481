import { createHash } from "node:crypto";
import { readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeAtomic } from "../media/hls.ts";
import type { Profile } from "../media/interface.ts";
import { segmentName } from "./hls-output.ts";
import type { SourceSegment, VerifiedRendition } from "./interface.ts";

/**
 * The record of a file broadcast's verified segments, kept in its `--out` folder so that the
 * same command run again (after Ctrl-C, a crash or a failed segment) pays only for what is
 * missing. A segment is taken back only when its source bytes hash to what was recorded and
 * every rendition file on disk still hashes to what was verified; anything else is sent again.
 * A record for another ladder is dropped with the files it lists, so a reused `--out` never
 * mixes two broadcasts.
 */
export const RESUME_FILE = ".segmint-broadcast.json";

const renditionRecord = z.strictObject({
  profile: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frames: z.number().int().nonnegative(),
  pixels: z.number().int().nonnegative(),
  durationSeconds: z.number().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const manifestSchema = z.strictObject({
  version: z.literal(1),
  /** The ladder, as profile names with their boxes: another ladder means another broadcast. */
  ladder: z.string(),
  segments: z.record(
    z.string(),
    z.strictObject({ sourceSha256: z.string(), renditions: z.array(renditionRecord) }),
  ),
});
type Manifest = z.output<typeof manifestSchema>;

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function ladderKey(profiles: readonly Profile[]): string {
  return profiles
    .map((p) => `${p.name}:${p.width}x${p.height}@${p.fps ?? "source"}:${p.codec}:${p.bitrateBps}`)
    .join(",");
}

export class BroadcastRecord {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly manifest: Manifest,
  ) {}

  /**
   * Opens the record in `dir`: the previous run's when it was for the same ladder, else a new
   * one (the previous run's files removed).
   */
  static async open(dir: string, profiles: readonly Profile[]): Promise<BroadcastRecord> {
    const ladder = ladderKey(profiles);
    let previous: Manifest | null = null;
    try {
      const parsed = manifestSchema.safeParse(
        JSON.parse(await readFile(join(dir, RESUME_FILE), "utf8")),
      );
      if (parsed.success) previous = parsed.data;
    } catch {
      // No record (or an unreadable one): a fresh broadcast.
    }
    if (previous !== null && previous.ladder === ladder) {
      return new BroadcastRecord(dir, previous);
    }
    if (previous !== null) {
      for (const [index, segment] of Object.entries(previous.segments)) {
        for (const r of segment.renditions) {
          await unlink(join(dir, r.profile, segmentName(Number(index)))).catch(() => {});
        }
      }
    }
    const record = new BroadcastRecord(dir, { version: 1, ladder, segments: {} });
    await record.save();
    return record;
  }

  /** Segments the record holds. */
  get size(): number {
    return Object.keys(this.manifest.segments).length;
  }

  /**
   * The verified renditions of `segment` from an earlier run, or null when it must be sent
   * (not recorded, another source segment, or a rendition file missing or changed).
   */
  async restore(segment: SourceSegment): Promise<VerifiedRendition[] | null> {
    const recorded = this.manifest.segments[String(segment.index)];
    if (recorded === undefined || recorded.sourceSha256 !== sha256(segment.data)) return null;
    const renditions: VerifiedRendition[] = [];
    for (const r of recorded.renditions) {
      let data: Uint8Array;
      try {
        data = await readFile(join(this.dir, r.profile, segmentName(segment.index)));
      } catch {
        return null;
      }
      if (sha256(data) !== r.sha256) return null;
      renditions.push({ ...r, data });
    }
    return renditions;
  }

  /** Records a verified segment (written to disk before this returns). */
  record(segment: SourceSegment, renditions: readonly VerifiedRendition[]): Promise<void> {
    this.manifest.segments[String(segment.index)] = {
      sourceSha256: sha256(segment.data),
      renditions: renditions.map((r) => ({
        profile: r.profile,
        width: r.width,
        height: r.height,
        frames: r.frames,
        pixels: r.pixels,
        durationSeconds: r.durationSeconds,
        sha256: r.sha256,
      })),
    };
    return this.save();
  }

  /** Removes the record file (a run that verified nothing leaves nothing behind). */
  async discard(): Promise<void> {
    await this.writing;
    await unlink(join(this.dir, RESUME_FILE)).catch(() => {});
  }

  private save(): Promise<void> {
    const text = `${JSON.stringify(this.manifest)}\n`;
    const next = this.writing.then(() => writeAtomic(join(this.dir, RESUME_FILE), text));
    this.writing = next.catch(() => {});
    return next;
  }
}
