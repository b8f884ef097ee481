import { describe, expect, it } from "vitest";
import {
  BitrateMeter,
  checkAudioCodec,
  checkBitrate,
  checkFrameRate,
  checkResolution,
  checkVideoCodec,
  defaultIngestLimits,
  effectiveMaxBitsPerSecond,
  FrameRateEstimator,
  type IngestLimits,
  keyHint,
  limitProblems,
  parseStreamPath,
  resolveLimits,
} from "../../../node/src/live/ingest-policy.ts";

const limits = (overrides: Partial<IngestLimits> = {}): IngestLimits => ({
  ...defaultIngestLimits,
  ...overrides,
});

describe("parseStreamPath", () => {
  it("takes the key from rtmp://HOST:PORT/live/KEY, OBS's trailing slash included", () => {
    expect(parseStreamPath("live", "abc-123_x.y~z")).toEqual({ key: "abc-123_x.y~z" });
    expect(parseStreamPath("live/", "k1")).toEqual({ key: "k1" });
  });

  it("refuses another application and keys that are empty, too long or not URL-safe", () => {
    const code = (app: string, name: string) => {
      const parsed = parseStreamPath(app, name);
      return "refusal" in parsed ? parsed.refusal.code : "accepted";
    };
    expect(code("app", "k1")).toBe("INGEST_WRONG_APP");
    expect(code("", "k1")).toBe("INGEST_WRONG_APP");
    expect(code("live", "")).toBe("INGEST_BAD_KEY");
    expect(code("live", "a/b")).toBe("INGEST_BAD_KEY");
    expect(code("live", "a b")).toBe("INGEST_BAD_KEY");
    expect(code("live", "k".repeat(129))).toBe("INGEST_BAD_KEY");
    expect(code("live", "k".repeat(128))).toBe("accepted");
  });

  it("logs keys only as a hint", () => {
    expect(keyHint("secretkey")).toBe("secr…(9)");
    expect(keyHint("abcd")).toBe("****");
  });
});

describe("codec checks", () => {
  it("take H.264 with AAC or MP3 and refuse the rest", () => {
    expect(checkVideoCodec("h264")).toBeNull();
    expect(checkVideoCodec("flv1")?.code).toBe("INGEST_UNSUPPORTED_CODEC");
    expect(checkVideoCodec("hevc")?.details).toEqual({ codec: "hevc", kind: "video" });
    expect(checkAudioCodec("aac")).toBeNull();
    expect(checkAudioCodec("mp3")).toBeNull();
    expect(checkAudioCodec("speex")?.code).toBe("INGEST_UNSUPPORTED_CODEC");
  });
});

describe("checkResolution", () => {
  it("takes up to 1080p in either orientation by default", () => {
    expect(checkResolution({ width: 1920, height: 1080 }, limits())).toBeNull();
    expect(checkResolution({ width: 1080, height: 1920 }, limits())).toBeNull();
    expect(checkResolution({ width: 1280, height: 720 }, limits())).toBeNull();
    const refused = checkResolution({ width: 3840, height: 2160 }, limits());
    expect(refused?.code).toBe("INGEST_RESOLUTION_TOO_LARGE");
    expect(refused?.details).toMatchObject({ maxWidth: 1920, maxHeight: 1080 });
    expect(checkResolution({ width: 1920, height: 1200 }, limits())?.code).toBe(
      "INGEST_RESOLUTION_TOO_LARGE",
    );
  });

  it("takes 4K when allowed, and no more", () => {
    expect(checkResolution({ width: 3840, height: 2160 }, limits({ allow4k: true }))).toBeNull();
    expect(checkResolution({ width: 4096, height: 2160 }, limits({ allow4k: true }))?.code).toBe(
      "INGEST_RESOLUTION_TOO_LARGE",
    );
  });
});

describe("frame rate", () => {
  it("allows 60 fps and its jitter, refuses more", () => {
    expect(checkFrameRate(60, limits())).toBeNull();
    expect(checkFrameRate(60.2, limits())).toBeNull();
    expect(checkFrameRate(120, limits())?.code).toBe("INGEST_FRAME_RATE_TOO_HIGH");
  });

  it("estimates the rate from whole-millisecond timestamps", () => {
    const sixty = new FrameRateEstimator(30);
    let estimate: number | null = null;
    for (let frame = 0; frame <= 30; frame++) {
      estimate = sixty.add(Math.round((frame * 1000) / 60));
      if (frame < 30) expect(estimate).toBeNull();
    }
    expect(estimate).toBeCloseTo(60, 0);
    expect(checkFrameRate(estimate ?? 0, limits())).toBeNull();
    const thirty = new FrameRateEstimator(30);
    for (let frame = 0; frame <= 30; frame++)
      estimate = thirty.add(Math.round((frame * 1000) / 30));
    expect(estimate).toBeCloseTo(30, 0);
  });
});

describe("BitrateMeter", () => {
  it("reports nothing until a whole window has passed, then bits per second over it", () => {
    const meter = new BitrateMeter(2_000);
    // 25 kB per 100 ms = 2 Mbit/s.
    const rates: Array<number | null> = [];
    for (let ms = 0; ms <= 4_000; ms += 100) rates.push(meter.add(ms, 25_000));
    expect(rates.slice(0, 20).every((rate) => rate === null)).toBe(true);
    expect(rates.at(-1)).toBe(2_000_000);
  });

  it("follows the rate as it changes and forgets what left the window", () => {
    const meter = new BitrateMeter(1_000);
    for (let ms = 0; ms <= 2_000; ms += 100) meter.add(ms, 50_000);
    let rate: number | null = null;
    for (let ms = 2_100; ms <= 4_000; ms += 100) rate = meter.add(ms, 5_000);
    expect(rate).toBe(400_000);
    expect(checkBitrate(rate ?? 0, limits())).toBeNull();
    expect(checkBitrate(25_000_000, limits())?.code).toBe("INGEST_BITRATE_TOO_HIGH");
  });

  it("defaults the limit by resolution class unless set", () => {
    expect(effectiveMaxBitsPerSecond(limits())).toBe(20_000_000);
    expect(effectiveMaxBitsPerSecond(limits({ allow4k: true }))).toBe(60_000_000);
    expect(effectiveMaxBitsPerSecond(limits({ maxVideoBitsPerSecond: 5_000_000 }))).toBe(5_000_000);
  });
});

describe("resolveLimits", () => {
  it("keeps the default for a setting left undefined (an absent flag)", () => {
    expect(resolveLimits({ maxStreams: undefined, maxVideoBitsPerSecond: undefined })).toEqual(
      defaultIngestLimits,
    );
    const resolved = resolveLimits({ allow4k: true, maxStreams: 3 });
    expect(resolved).toEqual({ ...defaultIngestLimits, allow4k: true, maxStreams: 3 });
    expect(limitProblems(resolved)).toEqual([]);
  });
});

describe("limitProblems", () => {
  it("accepts the defaults and lists every bad value at once", () => {
    expect(limitProblems(defaultIngestLimits)).toEqual([]);
    const problems = limitProblems(limits({ maxStreams: 0, idleSeconds: -1, maxWidth: 1.5 }));
    expect(problems).toHaveLength(3);
  });
});
