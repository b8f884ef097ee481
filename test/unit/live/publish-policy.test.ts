import { describe, expect, it } from "vitest";
import {
  decidePublish,
  type PublishPolicy,
  playbackId,
} from "../../../node/src/live/publish-policy.ts";

function policy(overrides: Partial<PublishPolicy> = {}): PublishPolicy {
  return {
    keys: new Set(["studio"]),
    allowAnyKey: false,
    maxStreams: 2,
    stream: () => undefined,
    openStreams: () => 0,
    funds: () => ({ ok: true }),
    ...overrides,
  };
}

describe("decidePublish", () => {
  it("accepts a listed key with room and money", () => {
    expect(decidePublish("studio", policy())).toEqual({ accept: true, reconnect: false });
  });

  it("refuses an unknown key unless any key is allowed", () => {
    expect(decidePublish("guess", policy())).toMatchObject({ accept: false, code: "UNKNOWN_KEY" });
    expect(decidePublish("guess", policy({ allowAnyKey: true })).accept).toBe(true);
  });

  it("refuses a second publisher on a live key, but lets a dropped one come back", () => {
    const live = policy({ stream: () => ({ open: true, awaitingReconnect: false }) });
    expect(decidePublish("studio", live)).toMatchObject({ accept: false, code: "KEY_BUSY" });
    const dropped = policy({
      stream: () => ({ open: true, awaitingReconnect: true }),
      openStreams: () => 2,
      funds: () => ({ ok: false, reason: "no money" }),
    });
    // Coming back continues a stream already paid for: limits and funds do not apply again.
    expect(decidePublish("studio", dropped)).toEqual({ accept: true, reconnect: true });
  });

  it("refuses a new stream past the stream limit, and one the deposit cannot pay for", () => {
    expect(decidePublish("studio", policy({ openStreams: () => 2 }))).toMatchObject({
      accept: false,
      code: "STREAM_LIMIT",
    });
    expect(
      decidePublish("studio", policy({ funds: () => ({ ok: false, reason: "fund it" }) })),
    ).toEqual({ accept: false, code: "CANNOT_PAY", reason: "fund it" });
  });

  it("treats an ended stream on the key as none", () => {
    const ended = policy({ stream: () => ({ open: false, awaitingReconnect: false }) });
    expect(decidePublish("studio", ended).accept).toBe(true);
  });
});

describe("playbackId", () => {
  it("names a stream without revealing its key, the same every time", () => {
    const id = playbackId("studio-a-secret");
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(id).toBe(playbackId("studio-a-secret"));
    expect(id).not.toContain("studio");
    expect(playbackId("studio-b-secret")).not.toBe(id);
  });
});
