import { describe, expect, it } from "vitest";
import {
  InfoResponseSchema,
  isWireCode,
  RefusalSchema,
  refusalAnswer,
  refusalDetails,
  TranscodeResponseSchema,
  WIRE_ERROR_CODES,
} from "../../../node/src/protocol/index.ts";

describe("refusals on the wire", () => {
  it("keep scalar details, bigints as decimal strings, and drop what must stay local", () => {
    const details = refusalDetails({
      reason: "SENDER_UNLOCKING",
      withdrawRound: 9n,
      size: 5,
      partial: false,
      missing: null,
      stderr: { lines: ["/tmp/segmint-x/in.ts: invalid data"] },
      paths: ["/var/lib/segmint"],
      infinite: Number.POSITIVE_INFINITY,
      "bad key": "x",
    });
    expect(details).toEqual({
      reason: "SENDER_UNLOCKING",
      withdrawRound: "9",
      size: 5,
      partial: false,
      missing: null,
    });
  });

  it("cut long strings, cap the count, and drop a reason that is not a code", () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(refusalDetails(many))).toHaveLength(16);
    expect(refusalDetails({ note: "x".repeat(5000) }).note).toHaveLength(256);
    expect(refusalDetails({ reason: "not a code" })).toEqual({});
  });

  it("build an answer the schema takes back, with or without details", () => {
    const answer = refusalAnswer("BAD_TICKET", "x".repeat(2000), { reason: "STALE_PARAMS" });
    expect(answer.message).toHaveLength(1024);
    expect(RefusalSchema.parse(JSON.parse(JSON.stringify(answer)))).toEqual(answer);
    const bare = refusalAnswer("CAPACITY_FULL", "busy");
    expect(bare).not.toHaveProperty("details");
    // What an orchestrator from before details existed sends still decodes.
    expect(TranscodeResponseSchema.parse({ ok: false, code: "TIMEOUT", message: "slow" })).toEqual({
      ok: false,
      code: "TIMEOUT",
      message: "slow",
    });
  });

  it("refuse an unknown code, and details that are not scalars", () => {
    expect(InfoResponseSchema.safeParse({ ok: false, code: "NOPE", message: "" }).success).toBe(
      false,
    );
    const nested = { ok: false, code: "BAD_REQUEST", message: "", details: { a: { b: 1 } } };
    expect(TranscodeResponseSchema.safeParse(nested).success).toBe(false);
    const reason = { ok: false, code: "BAD_REQUEST", message: "", details: { reason: "lower" } };
    expect(TranscodeResponseSchema.safeParse(reason).success).toBe(false);
  });

  it("keep every code once, NOT_ACTIVE among them", () => {
    expect(new Set(WIRE_ERROR_CODES).size).toBe(WIRE_ERROR_CODES.length);
    expect(isWireCode("NOT_ACTIVE")).toBe(true);
    expect(isWireCode("SENDER_UNLOCKING")).toBe(false);
  });
});
