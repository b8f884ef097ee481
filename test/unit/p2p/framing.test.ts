import * as lp from "it-length-prefixed";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isP2pError } from "../../../node/src/p2p/errors.ts";
import { FrameReader } from "../../../node/src/p2p/framing.ts";

function frame(bytes: Uint8Array | string): Uint8Array {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return lp.encode.single(data).subarray();
}

/** A byte source that yields `chunks`, then either ends or hangs (a stalled peer). */
async function* source(chunks: Uint8Array[], hang = false): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
  if (hang) await new Promise(() => {});
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  return isP2pError(error) ? error.code : `not a P2pError: ${String(error)}`;
}

const signal = () => AbortSignal.timeout(5_000);
const Header = z.object({ n: z.int() });

describe("FrameReader", () => {
  it("reads a JSON header then a body split over frames and chunk boundaries", async () => {
    const body = new Uint8Array(1000).map((_, i) => i & 0xff);
    const wire = Buffer.concat([
      frame('{"n":7}'),
      frame(body.subarray(0, 600)),
      frame(body.subarray(600)),
    ]);
    // Re-cut the wire bytes at odd places, as TCP may.
    const chunks = [wire.subarray(0, 3), wire.subarray(3, 650), wire.subarray(650)];
    const reader = new FrameReader(source(chunks), { signal: signal(), stallMs: 1_000 });
    expect(await reader.readJson(Header, 100, "header")).toEqual({ n: 7 });
    expect(await reader.readBody(1000, 600, "body")).toEqual(body);
    expect(await reader.nextOrEnd(100, "end")).toBeNull();
    expect(reader.bytesRead).toBe(wire.byteLength);
  });

  it("refuses a frame over the cap as soon as its length prefix arrives", async () => {
    // Only the prefix of a 1 MB frame is ever sent: the refusal must not wait for the data.
    const prefixOnly = frame(new Uint8Array(1_000_000)).subarray(0, 3);
    const reader = new FrameReader(source([prefixOnly], true), {
      signal: signal(),
      stallMs: 5_000,
    });
    expect(await codeOf(reader.next(1024, "header"))).toBe("P2P_FRAME_TOO_LARGE");
  });

  it("refuses a body that overruns its declared size", async () => {
    const reader = new FrameReader(source([frame(new Uint8Array(20))]), {
      signal: signal(),
      stallMs: 1_000,
    });
    expect(await codeOf(reader.readBody(10, 1024, "body"))).toBe("P2P_FRAME_TOO_LARGE");
  });

  it("reports bad JSON and schema mismatches as P2P_BAD_HEADER with the failing path", async () => {
    const notJson = new FrameReader(source([frame("{nope")]), { signal: signal(), stallMs: 1_000 });
    expect(await codeOf(notJson.readJson(Header, 100, "header"))).toBe("P2P_BAD_HEADER");
    const wrong = new FrameReader(source([frame('{"n":"x"}')]), {
      signal: signal(),
      stallMs: 1_000,
    });
    const error = await wrong.readJson(Header, 100, "header").catch((e: unknown) => e);
    expect(isP2pError(error) && error.details).toMatchObject({ problems: [{ path: "n" }] });
    const badUtf8 = new FrameReader(source([frame(new Uint8Array([0x7b, 0xff, 0x7d]))]), {
      signal: signal(),
      stallMs: 1_000,
    });
    expect(await codeOf(badUtf8.readJson(Header, 100, "header"))).toBe("P2P_BAD_HEADER");
  });

  it("fails with P2P_STREAM_ENDED on a clean end before a required frame, and on a cut frame", async () => {
    const empty = new FrameReader(source([]), { signal: signal(), stallMs: 1_000 });
    expect(await codeOf(empty.next(100, "header"))).toBe("P2P_STREAM_ENDED");
    const cut = new FrameReader(source([frame("hello").subarray(0, 3)]), {
      signal: signal(),
      stallMs: 1_000,
    });
    expect(await codeOf(cut.next(100, "header"))).toBe("P2P_MALFORMED_FRAME");
  });

  it("fails with P2P_STREAM_STALLED when no byte arrives for stallMs mid-frame", async () => {
    const half = frame(new Uint8Array(100)).subarray(0, 50);
    const reader = new FrameReader(source([half], true), { signal: signal(), stallMs: 50 });
    expect(await codeOf(reader.next(1000, "body"))).toBe("P2P_STREAM_STALLED");
  });

  it("fails with P2P_STREAM_TIMEOUT when the exchange's signal fires", async () => {
    const controller = new AbortController();
    const reader = new FrameReader(source([], true), {
      signal: controller.signal,
      stallMs: 60_000,
    });
    const pending = reader.next(100, "header");
    controller.abort(new DOMException("late", "TimeoutError"));
    expect(await codeOf(pending)).toBe("P2P_STREAM_TIMEOUT");
  });

  it("wraps a transport failure as P2P_STREAM_ENDED", async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield frame("{").subarray(0, 1);
      throw new Error("stream reset");
    }
    const reader = new FrameReader(broken(), { signal: signal(), stallMs: 1_000 });
    expect(await codeOf(reader.next(100, "header"))).toBe("P2P_STREAM_ENDED");
  });
});

describe("FrameReader timers", () => {
  it("leaves no stall timer behind once the caller stops reading", async () => {
    const reader = new FrameReader(source([frame("{}")], true), {
      signal: signal(),
      stallMs: 60_000,
    });
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    await reader.next(100, "header");
    const after = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(after).toBe(before);
  });
});
