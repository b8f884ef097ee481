import { describe, expect, it } from "vitest";
import { SegmintError } from "../../../node/src/errors.ts";
import { MediaError } from "../../../node/src/media/index.ts";
import { asWireRefusal } from "../../../node/src/orchestrator/refusals.ts";
import { badTicket, PaymentsError } from "../../../node/src/payments/errors.ts";

describe("asWireRefusal", () => {
  it("sends a sender's funding problems as INSUFFICIENT_BALANCE with the cause as reason", () => {
    const cases: Array<[PaymentsError, string]> = [
      [
        new PaymentsError("SENDER_UNLOCKING", "unlocking", { withdrawRound: "9" }),
        "SENDER_UNLOCKING",
      ],
      [new PaymentsError("FACE_VALUE_TOO_HIGH", "too high", {}), "FACE_VALUE_TOO_HIGH"],
      [new PaymentsError("SENDER_FUNDS_TOO_LOW", "low", { maxFloat: "5" }), "SENDER_FUNDS_TOO_LOW"],
      [new PaymentsError("SENDER_FUNDS_TOO_LOW", "none", { maxFloat: "0" }), "NO_DEPOSIT"],
    ];
    for (const [error, reason] of cases) {
      const refusal = asWireRefusal(error);
      expect(refusal).toMatchObject({ code: "INSUFFICIENT_BALANCE", details: { reason } });
      expect(refusal).toHaveProperty("cause", error);
    }
  });

  it("keeps wire-coded errors as they are, bad tickets with their reason", () => {
    const error = badTicket("STALE_PARAMS", "stale");
    expect(asWireRefusal(error)).toBe(error);
  });

  it("says NOT_ACTIVE for a node out of the active set", () => {
    const error = new PaymentsError("ORCHESTRATOR_NOT_ACTIVE", "no seat", { round: "3" });
    expect(asWireRefusal(error)).toMatchObject({
      code: "NOT_ACTIVE",
      details: { reason: "ORCHESTRATOR_NOT_ACTIVE", round: "3" },
    });
  });

  it("leaves this node's own faults for the transport to answer INTERNAL", () => {
    const chain = new PaymentsError("CHAIN_UNAVAILABLE", "rpc down", {});
    expect(asWireRefusal(chain)).toBe(chain);
    const plain = new Error("bug");
    expect(asWireRefusal(plain)).toBe(plain);
    const other = new SegmintError("STORE_OPEN_FAILED", "disk", {});
    expect(asWireRefusal(other)).toBe(other);
  });

  it("maps every kind of media failure by its code, with no ffmpeg details on the wire", () => {
    const cases: Array<[MediaError, string]> = [
      [new MediaError("INPUT_NO_VIDEO", "audio only", { path: "/tmp/x.ts" }), "BAD_SEGMENT"],
      [new MediaError("INPUT_TOO_LARGE", "big", {}), "SEGMENT_TOO_LARGE"],
      [new MediaError("PROFILE_UNKNOWN", "9000p", {}), "BAD_REQUEST"],
      [new MediaError("TRANSCODE_TIMEOUT", "slow", {}), "TIMEOUT"],
      [new MediaError("FFMPEG_FAILED", "crash", { stderr: "..." }), "INTERNAL"],
    ];
    for (const [error, code] of cases) {
      const refusal = asWireRefusal(error);
      expect(refusal).toMatchObject({ code, details: { reason: error.code } });
      expect(refusal).not.toHaveProperty("details.path");
      expect(refusal).not.toHaveProperty("details.stderr");
    }
  });
});
