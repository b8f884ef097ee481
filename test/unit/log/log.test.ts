import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { SegmintError } from "../../../node/src/errors.ts";
import { createLogger, resolveLogFormat } from "../../../node/src/log/index.ts";

/** A stream that keeps every JSON line written to it. */
function lines(): { stream: Writable; text(): string; read(): Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    text: () => out.join(""),
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
    createLogger({ destination: brief.stream, format: "json" }).warn({ err: error }, "try failed");
    expect(brief.read()[0]?.err).toEqual({
      type: "SegmintError",
      code: "NO_ORCHESTRATORS",
      message: "nobody answered",
    });
    const verbose = lines();
    createLogger({ destination: verbose.stream, format: "json", stacks: true }).warn(
      { err: error },
      "try failed",
    );
    expect(verbose.read()[0]?.err).toMatchObject({
      stack: expect.stringContaining("nobody answered"),
    });
  });

  it("chooses pretty on a terminal and json elsewhere unless a format is named, and refuses others", () => {
    expect(resolveLogFormat(undefined, true)).toBe("pretty");
    expect(resolveLogFormat(undefined, false)).toBe("json");
    expect(resolveLogFormat("", true)).toBe("pretty");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat(" Pretty ", false)).toBe("pretty");
    expect(() => resolveLogFormat("yaml", true)).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        details: { setting: "logFormat", value: "yaml" },
      }),
    );
  });

  it("writes pretty lines with a local time, the message and amounts in tokens and ETH", () => {
    const out = lines();
    createLogger({ destination: out.stream, format: "pretty", name: "orchestrator" }).info(
      { faceValue: "1500000000000000000", balance: "20000000000000000", round: "7" },
      "ticket economics",
    );
    const text = out.text();
    expect(() => JSON.parse(text)).toThrow();
    const [line] = text.split("\n");
    expect(line).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO \(orchestrator\): ticket economics$/,
    );
    expect(text).toContain("faceValue: 1.5 SGM");
    expect(text).toContain("balance: 0.02 ETH");
    expect(text).toContain('round: "7"');
    expect(text).not.toContain("pid");
  });

  it("writes one JSON object a line with exact wei in json", () => {
    const out = lines();
    createLogger({ destination: out.stream, format: "json" }).info(
      { faceValue: "1500000000000000001" },
      "ticket economics",
    );
    expect(out.read()).toEqual([
      expect.objectContaining({ msg: "ticket economics", faceValue: "1500000000000000001" }),
    ]);
  });
});
