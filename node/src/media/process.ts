import { type ChildProcess, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { MediaError, stderrTail } from "./errors.ts";

/**
 * The one way this module runs ffmpeg. fluent-ffmpeg cannot give us what the segment
 * transcoder needs (input on stdin, one output per extra pipe fd so renditions come back as
 * Buffers without temp files) nor a kill that is guaranteed to be reaped before we return,
 * so every run goes through this helper: SIGKILL on timeout or abort, and the promise settles
 * only after the child has exited.
 */
export interface RunOptions {
  args: readonly string[];
  /**
   * Bytes written to stdin, which is closed afterwards; or a stream piped into stdin as it
   * produces data (a live input), closed when that stream ends. Absent: stdin is not opened.
   */
  stdin?: Buffer | Readable | undefined;
  /** Number of extra output pipes (fd 3, 4, ...) collected into Buffers. */
  outputPipes?: number;
  /** Collect stdout (else ignored). */
  captureStdout?: boolean;
  maxOutputBytes?: number;
  /** Whole-run limit; `Infinity` for a run that lasts as long as its input (a live stream). */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Called with each stdout chunk as it arrives (the segmenter reads its list this way). */
  onStdout?: (chunk: Buffer) => void;
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  outputs: Buffer[];
}

const live = new Set<ChildProcess>();

/** ffmpeg/ffprobe children started by this module that have not exited yet. */
export function liveProcessCount(): number {
  return live.size;
}

const STDERR_KEEP = 64 * 1024;

export function runBinary(path: string, options: RunOptions): Promise<RunResult> {
  const pipes = options.outputPipes ?? 0;
  const maxOut = options.maxOutputBytes ?? Number.POSITIVE_INFINITY;
  if (options.signal?.aborted) {
    return Promise.reject(abortedError(options.signal));
  }
  return new Promise<RunResult>((resolve, reject) => {
    const stdio: ("pipe" | "ignore")[] = [
      options.stdin === undefined ? "ignore" : "pipe",
      options.captureStdout || options.onStdout ? "pipe" : "ignore",
      "pipe",
    ];
    for (let i = 0; i < pipes; i++) stdio.push("pipe");
    let child: ChildProcess;
    try {
      child = spawn(path, options.args, { stdio, windowsHide: true });
    } catch (cause) {
      reject(new MediaError("FFMPEG_FAILED", `could not start ${path}`, { path }, { cause }));
      return;
    }
    live.add(child);
    let failure: MediaError | undefined;
    const kill = (error: MediaError) => {
      if (failure === undefined) failure = error;
      child.kill("SIGKILL");
    };

    const stdoutChunks: Buffer[] = [];
    let stderr = "";
    const outputs: Buffer[][] = Array.from({ length: pipes }, () => []);
    const outputBytes: number[] = Array.from({ length: pipes }, () => 0);

    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      stderr += text;
      if (stderr.length > STDERR_KEEP * 2) stderr = stderr.slice(-STDERR_KEEP);
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (options.captureStdout) stdoutChunks.push(chunk);
      options.onStdout?.(chunk);
    });
    for (let i = 0; i < pipes; i++) {
      const stream = child.stdio[3 + i] as Readable | null;
      stream?.on("data", (chunk: Buffer) => {
        const total = (outputBytes[i] ?? 0) + chunk.length;
        outputBytes[i] = total;
        if (total > maxOut) {
          kill(
            new MediaError(
              "OUTPUT_TOO_LARGE",
              `output ${i} grew past ${maxOut} bytes`,
              { output: i, max: maxOut },
              { hint: "raise maxOutputBytes or lower the profile bitrate" },
            ),
          );
          return;
        }
        outputs[i]?.push(chunk);
      });
      // A pipe error after a kill is expected; the exit handler reports the real cause.
      stream?.on("error", () => {});
    }
    if (options.stdin !== undefined && child.stdin) {
      const stdin: Writable = child.stdin;
      // ffmpeg closes stdin early when it rejects the input; EPIPE then is not our failure.
      stdin.on("error", () => {});
      if (Buffer.isBuffer(options.stdin)) {
        stdin.end(options.stdin);
      } else {
        options.stdin.pipe(stdin);
      }
    }

    // setTimeout clamps anything past 2^31-1 ms to 1 ms, so an unlimited run gets no timer.
    const timer = Number.isFinite(options.timeoutMs)
      ? setTimeout(() => {
          kill(
            new MediaError(
              "TRANSCODE_TIMEOUT",
              `ffmpeg did not finish within ${options.timeoutMs} ms and was killed`,
              { timeoutMs: options.timeoutMs },
              { hint: "the input may be malformed, or the machine overloaded" },
            ),
          );
        }, options.timeoutMs)
      : undefined;
    const onAbort = () => {
      if (options.signal) kill(abortedError(options.signal));
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (cause) => {
      // spawn failures (ENOENT, EACCES) arrive here; 'close' still follows.
      if (failure === undefined) {
        failure = new MediaError(
          "FFMPEG_NOT_FOUND",
          `could not run ${path}: ${cause.message}`,
          { path },
          { hint: "set FFMPEG_PATH to a working ffmpeg binary", cause },
        );
      }
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      if (options.stdin !== undefined && !Buffer.isBuffer(options.stdin) && child.stdin) {
        options.stdin.unpipe(child.stdin);
      }
      options.signal?.removeEventListener("abort", onAbort);
      live.delete(child);
      if (failure) {
        reject(failure);
        return;
      }
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdoutChunks),
        stderr,
        outputs: outputs.map((chunks) => Buffer.concat(chunks)),
      });
    });
  });
}

function abortedError(signal: AbortSignal): MediaError {
  return new MediaError(
    "TRANSCODE_ABORTED",
    "the transcode was aborted",
    {},
    {
      cause: signal.reason,
    },
  );
}

/** Throws FFMPEG_FAILED with the tail of stderr when a run did not exit cleanly. */
export function assertSuccess(result: RunResult, what: string): void {
  if (result.exitCode === 0) return;
  throw new MediaError(
    "FFMPEG_FAILED",
    `${what} failed (exit ${result.exitCode ?? result.signal}): ${stderrTail(result.stderr)}`,
    { exitCode: result.exitCode, signal: result.signal, stderr: stderrTail(result.stderr, 10) },
  );
}
