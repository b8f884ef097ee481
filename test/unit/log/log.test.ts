import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { SegmintError } from "../../../node/src/errors.ts";
import { createLogger } from "../../../node/src/log/index.ts";

/** A stream that keeps every JSON line written to it. */
function lines(): { stream: Writable; read(): Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    read: () =>
      out
        .join("")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("logs a person reads", () => {
  it("logs an error's code and message without its stack unless stacks are asked for", () => {
    const error = new SegmintError("NO_ORCHESTRATORS", "nobody answered", {});
    const brief = lines();
    createLogger({ destination: brief.stream, pretty: false }).warn({ err: error }, "try failed");
    expect(brief.read()[0]?.err).toEqual({
      type: "SegmintError",
      code: "NO_ORCHESTRATORS",
      message: "nobody answered",
    });
    const verbose = lines();
    createLogger({ destination: verbose.stream, pretty: false, stacks: true }).warn(
      { err: error },
      "try failed",
    );
    expect(verbose.read()[0]?.err).toMatchObject({
      stack: expect.stringContaining("nobody answered"),
    });
  });
});
