import type { Stream } from "@libp2p/interface";
import * as lp from "it-length-prefixed";
import type { Uint8ArrayList } from "uint8arraylist";
import type { z } from "zod";
import { errorMessage } from "../errors.ts";
import { P2pError } from "./errors.ts";

/**
 * Wire framing shared by both protocols: unsigned-varint length-prefixed frames
 * (it-length-prefixed). The first frame of each direction is a UTF-8 JSON header checked with
 * zod; body bytes follow as frames of at most BODY_CHUNK_BYTES.
 */

/** Body bytes are cut into frames of this size: yamux' initial receive window (256 KiB). */
export const BODY_CHUNK_BYTES = 256 * 1024;

/**
 * The decoder's absolute cap, whatever the caller asks for: a varint length can announce
 * up to 2^63 bytes, and nothing in our protocols needs a frame above 16 MiB.
 */
const HARD_FRAME_CAP = 16 * 1024 * 1024;

type ByteSource = AsyncIterable<Uint8Array | Uint8ArrayList>;

export interface FrameReaderOptions {
  /** Aborting it makes the pending read fail (P2P_STREAM_TIMEOUT if the reason is a timeout). */
  signal: AbortSignal;
  /** No byte for this long fails the pending read with P2P_STREAM_STALLED. */
  stallMs: number;
}

/** Turns an abort reason into our coded error, so a timeout is told apart from a shutdown. */
export function abortError(signal: AbortSignal): P2pError {
  const reason: unknown = signal.reason;
  if (reason instanceof P2pError) return reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    return new P2pError("P2P_STREAM_TIMEOUT", "the exchange took longer than its time limit", {});
  }
  return new P2pError("P2P_STREAM_TIMEOUT", "the exchange was aborted", {}, { cause: reason });
}

/** A reset or failed transport read, as our coded error. */
function transportError(error: unknown): P2pError {
  if (error instanceof P2pError) return error;
  return new P2pError(
    "P2P_STREAM_ENDED",
    `the stream broke: ${errorMessage(error)}`,
    {},
    { cause: error },
  );
}

/**
 * Reads frames with a per-frame byte cap chosen by the caller at each read, a stall timer
 * that restarts on every chunk from the transport, and an overall abort signal. The cap is
 * checked as soon as the length prefix arrives, so an oversized frame is refused before any
 * of its bytes are buffered.
 */
export class FrameReader {
  private readonly frames: AsyncGenerator<Uint8ArrayList>;
  private limit = 0;
  private limitWhat = "frame";
  /** Bytes received from the transport, prefixes included (for logs and metrics). */
  bytesRead = 0;
  /**
   * Current stall limit; a caller may raise it while the remote is known to be busy (a
   * client waiting for the orchestrator to transcode) and lower it again for the body.
   */
  stallMs: number;

  constructor(source: ByteSource, options: FrameReaderOptions) {
    this.stallMs = options.stallMs;
    this.frames = lp.decode(this.guarded(source, options.signal), {
      maxDataLength: HARD_FRAME_CAP,
      onLength: (length) => {
        if (length > this.limit) {
          throw new P2pError(
            "P2P_FRAME_TOO_LARGE",
            `${this.limitWhat} of ${length} bytes is over the ${this.limit}-byte cap`,
            { size: length, max: this.limit, what: this.limitWhat },
          );
        }
      },
    });
  }

  private async *guarded(source: ByteSource, signal: AbortSignal): ByteSource {
    const iterator = source[Symbol.asyncIterator]();
    while (true) {
      const stallMs = this.stallMs;
      if (signal.aborted) throw abortError(signal);
      const next = iterator.next();
      // The transport's read may settle after we stopped waiting (stall or abort): keep that
      // late rejection from surfacing as an unhandled one.
      next.catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const interrupted = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(
            new P2pError("P2P_STREAM_STALLED", `no bytes received for ${stallMs} ms`, {
              stallMs,
            }),
          );
        }, stallMs);
        onAbort = () => reject(abortError(signal));
        signal.addEventListener("abort", onAbort, { once: true });
      });
      interrupted.catch(() => {});
      let result: IteratorResult<Uint8Array | Uint8ArrayList>;
      try {
        result = await Promise.race([
          next.catch((error: unknown) => {
            throw transportError(error);
          }),
          interrupted,
        ]);
      } finally {
        // Before yielding: a consumer that stops reading must not leave a live timer behind
        // (it would hold the process open for up to the stall limit).
        clearTimeout(timer);
        if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
      }
      if (result.done === true) return;
      this.bytesRead += result.value.byteLength;
      yield result.value;
    }
  }

  /** The next frame, or null when the remote closed its side cleanly between frames. */
  async nextOrEnd(maxBytes: number, what: string): Promise<Uint8Array | null> {
    this.limit = Math.min(maxBytes, HARD_FRAME_CAP);
    this.limitWhat = what;
    let result: IteratorResult<Uint8ArrayList>;
    try {
      result = await this.frames.next();
    } catch (error) {
      if (error instanceof P2pError) throw error;
      throw new P2pError(
        "P2P_MALFORMED_FRAME",
        `could not read the ${what}: ${errorMessage(error)}`,
        { what },
        { cause: error },
      );
    }
    if (result.done === true) return null;
    return result.value.subarray();
  }

  async next(maxBytes: number, what: string): Promise<Uint8Array> {
    const frame = await this.nextOrEnd(maxBytes, what);
    if (frame === null) {
      throw new P2pError("P2P_STREAM_ENDED", `the stream ended before the ${what}`, { what });
    }
    return frame;
  }

  /** A JSON header frame, parsed and checked against `schema`. */
  async readJson<S extends z.ZodType>(
    schema: S,
    maxBytes: number,
    what: string,
  ): Promise<z.output<S>> {
    const frame = await this.next(maxBytes, what);
    return decodeJson(schema, frame, what);
  }

  /**
   * Exactly `totalBytes` of body, in frames of at most `maxFrameBytes`. A frame that would go
   * past the total is refused: the sender declared the size up front and must keep to it.
   */
  async readBody(totalBytes: number, maxFrameBytes: number, what: string): Promise<Uint8Array> {
    // Frames are kept as they come and joined at the end: memory follows the bytes actually
    // received, not the size a (possibly hostile) sender declared up front.
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (offset < totalBytes) {
      const cap = Math.min(maxFrameBytes, totalBytes - offset);
      const frame = await this.next(cap, what);
      if (frame.byteLength === 0) {
        throw new P2pError("P2P_MALFORMED_FRAME", `empty frame inside the ${what}`, { what });
      }
      frames.push(frame);
      offset += frame.byteLength;
    }
    if (frames.length === 1 && frames[0] !== undefined) return frames[0];
    const body = new Uint8Array(totalBytes);
    offset = 0;
    for (const frame of frames) {
      body.set(frame, offset);
      offset += frame.byteLength;
    }
    return body;
  }
}

export function decodeJson<S extends z.ZodType>(
  schema: S,
  bytes: Uint8Array,
  what: string,
): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new P2pError(
      "P2P_BAD_HEADER",
      `the ${what} is not valid UTF-8 JSON`,
      { what },
      {
        cause: error,
      },
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join("."),
      message: issue.message,
    }));
    throw new P2pError("P2P_BAD_HEADER", `the ${what} is malformed`, { what, problems });
  }
  return parsed.data;
}

export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Writes one frame, waiting for the transport to drain when its buffer is full. */
export async function writeFrame(
  stream: Stream,
  payload: Uint8Array,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) throw abortError(signal);
  try {
    if (!stream.send(lp.encode.single(payload))) await stream.onDrain({ signal });
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    throw transportError(error);
  }
}

/** Writes `body` as frames of BODY_CHUNK_BYTES. */
export async function writeBody(
  stream: Stream,
  body: Uint8Array,
  signal: AbortSignal,
): Promise<void> {
  for (let offset = 0; offset < body.byteLength; offset += BODY_CHUNK_BYTES) {
    await writeFrame(stream, body.subarray(offset, offset + BODY_CHUNK_BYTES), signal);
  }
}
