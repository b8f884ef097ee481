import { createHash } from "node:crypto";
import { open, readdir, readFile, rmdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeAtomic } from "../media/hls.ts";
import type { Profile } from "../media/interface.ts";
import { BroadcasterError } from "./errors.ts";
import { segmentName } from "./hls-output.ts";
import type { SourceSegment, VerifiedRendition } from "./interface.ts";

/**
 * The record of a file broadcast's verified segments, kept in its `--out` folder so that the
 * same command run again (after Ctrl-C, a crash or a failed segment) pays only for what is
 * missing. A segment is taken back only when its source bytes hash to what was recorded and
 * every rendition file on disk still hashes to what was verified; anything else is sent again.
 * A record for another ladder or another input is dropped with the files it lists, and a
 * folder holding files without a record is refused (or, asked to, cleared of the files Segmint
 * names), so a reused `--out` never mixes two broadcasts.
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
  /** The input's fingerprint (`inputFingerprint`); absent in records of older versions. */
  input: z.string().optional(),
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

/** Bytes hashed from each end of the input for its fingerprint. */
const FINGERPRINT_BYTES = 1 << 20;

/**
 * The input file's identity for the record: its size and the hash of its first and last MiB.
 * Cheap on any size, and a different file (or the same name re-exported) shows as different;
 * the per-segment source hashes catch a change in between.
 */
export async function inputFingerprint(path: string): Promise<string> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const hash = createHash("sha256").update(String(size));
    const head = Buffer.alloc(Math.min(size, FINGERPRINT_BYTES));
    await handle.read(head, 0, head.length, 0);
    hash.update(head);
    const tailLength = Math.min(Math.max(0, size - head.length), FINGERPRINT_BYTES);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, size - tailLength);
    hash.update(tail);
    return `${size}:${hash.digest("hex")}`;
  } finally {
    await handle.close();
  }
}

/** Files Segmint writes in an output folder: the master, and each profile's playlist and segments. */
function isSegmintFile(relative: string): boolean {
  return /^(master\.m3u8|[^/]+\/(index\.m3u8|seg\d{6}\.ts))$/.test(relative);
}

/** Which command writes the folder: a broadcast resumes from its record, a transcode never does. */
export type OutFolderWriter = "broadcast" | "transcode";

/**
 * Checks an output folder before a broadcast or `segmint transcode` writes into it, so one
 * folder never mixes two runs' segments. A missing or empty folder is fine, and for a
 * broadcast so is one holding a broadcast record (the same broadcast resumes, another one's
 * files are dropped by `BroadcastRecord.open`). A folder holding anything else (an older run,
 * the other command's output, other files) is refused with OUT_DIR_NOT_EMPTY, unless
 * `overwrite`: then the files Segmint names (master.m3u8, <profile>/index.m3u8,
 * <profile>/segNNNNNN.ts, a broadcast record) are removed, and nothing else.
 */
export async function checkOutFolder(
  dir: string,
  overwrite: boolean,
  writer: OutFolderWriter = "broadcast",
): Promise<void> {
  const entries = await readdir(dir).catch(() => null);
  if (entries === null || entries.length === 0) return;
  if (writer === "broadcast" && entries.includes(RESUME_FILE)) {
    try {
      if (
        manifestSchema.safeParse(JSON.parse(await readFile(join(dir, RESUME_FILE), "utf8"))).success
      ) {
        return;
      }
    } catch {
      // Unreadable: as if there were none.
    }
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry);
    const info = await stat(path).catch(() => null);
    if (info?.isDirectory()) {
      for (const inner of await readdir(path).catch(() => [])) files.push(`${entry}/${inner}`);
    } else {
      files.push(entry);
    }
  }
  const ours = files.filter((file) => isSegmintFile(file) || file === RESUME_FILE);
  if (!overwrite) {
    throw new BroadcasterError(
      "OUT_DIR_NOT_EMPTY",
      `${dir} already holds ${files.length} files not from this ${writer} (${ours.length} of them Segmint HLS); a ${writer} never writes among another run's files`,
      { dir, files: files.length, segmintFiles: ours.length },
      {
        hint: "pick an empty --out, or add --overwrite to remove the Segmint HLS files there (nothing else)",
      },
    );
  }
  for (const file of ours) await unlink(join(dir, file)).catch(() => {});
  // Profile folders left empty go too; rmdir leaves any that hold something else.
  for (const entry of entries) await rmdir(join(dir, entry)).catch(() => {});
}

export class BroadcastRecord {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly manifest: Manifest,
  ) {}

  /**
   * Opens the record in `dir`: the previous run's when it was for the same ladder and input
   * (`inputFingerprint`; unset matches any), else a new one (the files the previous run
   * recorded, and its playlists, removed).
   */
  static async open(
    dir: string,
    profiles: readonly Profile[],
    input?: string,
  ): Promise<BroadcastRecord> {
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
    const sameInput =
      input === undefined || previous?.input === undefined || previous.input === input;
    if (previous !== null && previous.ladder === ladder && sameInput) {
      return new BroadcastRecord(dir, { ...previous, ...(input === undefined ? {} : { input }) });
    }
    if (previous !== null) {
      const folders = new Set<string>();
      for (const [index, segment] of Object.entries(previous.segments)) {
        for (const r of segment.renditions) {
          folders.add(r.profile);
          await unlink(join(dir, r.profile, segmentName(Number(index)))).catch(() => {});
        }
      }
      // Playlists of profiles this ladder lacks would list files no longer there (this run
      // rewrites its own profiles' playlists).
      const current = new Set(profiles.map((p) => p.name));
      for (const folder of [...folders].filter((f) => !current.has(f))) {
        await unlink(join(dir, folder, "index.m3u8")).catch(() => {});
        await rmdir(join(dir, folder)).catch(() => {});
      }
    }
    const record = new BroadcastRecord(dir, {
      version: 1,
      ladder,
      ...(input === undefined ? {} : { input }),
      segments: {},
    });
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
