import { mkdtemp, readFile, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { inBandParameterSetArgs, sourceFileArgs } from "./args.ts";
import { MediaError, stderrTail } from "./errors.ts";
import { runBinary } from "./process.ts";

export interface Segment {
  index: number;
  /** MPEG-TS bytes, timestamps continuous with the neighbouring segments. */
  data: Buffer;
  startSeconds: number;
  durationSeconds: number;
}

export interface SegmentOptions {
  ffmpegPath: string;
  /** Target segment length; cuts land on the first keyframe at or after it. Default 2 s. */
  targetSeconds?: number;
  signal?: AbortSignal | undefined;
  /** Whole-run limit; the caller scales it to the input's duration. Default 30 min. */
  timeoutMs?: number;
  /** Where the working directory is made (removed again before the generator returns). */
  tmpRoot?: string;
  /**
   * The input's video codec, when known: H.264 and HEVC segments then carry their parameter
   * sets at every keyframe (see `inBandParameterSetArgs`), whatever the source container.
   */
  codec?: string | undefined;
}

/** An input other than a file: ffmpeg's input arguments and, for a pipe, what feeds stdin. */
export interface SegmentInput {
  /** Everything before the output options (`-f flv -i pipe:0 ...`), maps included. */
  args: readonly string[];
  /** Piped into ffmpeg's stdin as it arrives; ending it ends the last segment. */
  stdin?: Readable | undefined;
  /** Names the input in errors. */
  label: string;
}

/**
 * Cuts a file into keyframe-aligned MPEG-TS segments without re-encoding and yields each one
 * as soon as ffmpeg closes it: the segment muxer prints a line to its list (on stdout) when a
 * segment is complete, which is also what a live input needs (see `segmentInput`). Video is
 * copied, so the source's keyframes decide the cut points (a 2 s GOP gives 2 s segments).
 */
export function segmentFile(input: string, options: SegmentOptions): AsyncGenerator<Segment> {
  return segmentInput({ args: sourceFileArgs(input), label: input }, options);
}

/**
 * `segmentFile` for any ffmpeg input, a live one included: with `stdin` a stream and
 * `timeoutMs: Infinity` it cuts for as long as the stream lasts and yields the final partial
 * segment when the stream ends.
 */
export async function* segmentInput(
  input: SegmentInput,
  options: SegmentOptions,
): AsyncGenerator<Segment> {
  const target = options.targetSeconds ?? 2;
  if (!(target > 0)) {
    throw new MediaError("PROFILE_INVALID", `segment length must be positive, got ${target}`, {
      target,
    });
  }
  const dir = await mkdtemp(join(options.tmpRoot ?? tmpdir(), "segmint-seg-"));
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;

  const ready: Array<{ file: string; start: number; end: number }> = [];
  let wake: (() => void) | undefined;
  let pending = "";
  const onStdout = (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      // csv list: "seg000001.ts,2.066667,4.066667"
      const [file, start, end] = line.split(",");
      if (file && start !== undefined && end !== undefined) {
        ready.push({ file, start: Number(start), end: Number(end) });
      }
      newline = pending.indexOf("\n");
    }
    wake?.();
  };

  let finished = false;
  const run = runBinary(options.ffmpegPath, {
    args: [
      ...input.args,
      "-c",
      "copy",
      ...inBandParameterSetArgs(options.codec),
      "-f",
      "segment",
      "-segment_time",
      String(target),
      // A keyframe a hair before the boundary (2 s GOPs from a publisher's clock, rounded to
      // FLV's milliseconds) still starts the next piece; without it the cut slips a whole GOP
      // and a 4 s piece raises every live playlist's target duration for good.
      "-segment_time_delta",
      "0.1",
      "-segment_format",
      "mpegts",
      "-segment_list",
      "pipe:1",
      "-segment_list_type",
      "csv",
      join(dir, "seg%06d.ts"),
    ],
    stdin: input.stdin,
    onStdout,
    timeoutMs: options.timeoutMs ?? 30 * 60_000,
    signal,
  }).finally(() => {
    finished = true;
    wake?.();
  });
  // Observed below; this keeps an early failure from being reported as unhandled meanwhile.
  run.catch(() => {});

  let index = 0;
  try {
    for (;;) {
      const next = ready.shift();
      if (next) {
        const path = join(dir, next.file);
        const data = await readFile(path);
        await unlink(path);
        yield {
          index: index++,
          data,
          startSeconds: next.start,
          durationSeconds: next.end - next.start,
        };
        continue;
      }
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    const result = await run;
    if (result.exitCode !== 0) {
      throw new MediaError(
        "INPUT_INVALID",
        `could not cut ${input.label} into segments: ${stderrTail(result.stderr)}`,
        { input: input.label, stderr: stderrTail(result.stderr, 10) },
        { hint: "the segmenter copies video into MPEG-TS; use H.264 or HEVC input" },
      );
    }
  } finally {
    // Reached on completion, on error and when the consumer stops early (return/throw).
    stop.abort();
    await run.catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
