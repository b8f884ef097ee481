import { type IngestRefusal, refusal } from "./ingest-errors.ts";

/**
 * The ingest's rules, as pure functions and small state machines over numbers: which URL and
 * key a publisher may use, which streams fit the limits, how fast a publisher may send.
 */

export interface IngestLimits {
  /** Publishers live at once (those still connecting count too). */
  maxStreams: number;
  /** Largest picture, either orientation (1920x1080 also admits 1080x1920). */
  maxWidth: number;
  maxHeight: number;
  /** Lifts the picture limit to 3840x2160 and the default bitrate limit to 60 Mbit/s. */
  allow4k: boolean;
  /** Video bits per second, averaged over `BITRATE_WINDOW_MS` of stream time; null: default. */
  maxVideoBitsPerSecond: number | null;
  maxFrameRate: number;
  /** A publisher that sends nothing for this long is ended. */
  idleSeconds: number;
  /** From TCP connect to the first keyframe: handshake, publish and the first picture. */
  connectSeconds: number;
  /** Segments cut but not yet read by the consumer; past it the oldest is dropped. */
  maxQueuedSegments: number;
}

export const defaultIngestLimits: IngestLimits = {
  // Each stream costs one ffmpeg remuxer (a few % of a core) plus its transcoding budget on the
  // network; a handful fits one broadcaster, more is a deployment decision.
  maxStreams: 8,
  maxWidth: 1920,
  maxHeight: 1080,
  allow4k: false,
  maxVideoBitsPerSecond: null,
  // OBS offers up to 60 fps; higher rates would multiply the network's per-pixel cost.
  maxFrameRate: 60,
  // OBS and ffmpeg send a frame every 17-42 ms and RTMP pings within 60 s; 10 s of silence is
  // a stalled encoder or a dead link, and five 2 s segments is as long as a viewer can wait.
  idleSeconds: 10,
  connectSeconds: 10,
  // 30 segments (a minute of 2 s segments, ~15 MB at 2 Mbit/s) is far behind live already.
  maxQueuedSegments: 30,
};

/** The defaults with every limit the caller set; a setting left undefined keeps its default. */
export function resolveLimits(overrides: Partial<IngestLimits> = {}): IngestLimits {
  const limits: IngestLimits = { ...defaultIngestLimits };
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== undefined && name in limits) Object.assign(limits, { [name]: value });
  }
  return limits;
}

/** YouTube's 1080p60 ceiling is 12 Mbit/s and its 2160p60 ceiling 51 Mbit/s; some headroom. */
const DEFAULT_MAX_BITS_1080P = 20_000_000;
const DEFAULT_MAX_BITS_4K = 60_000_000;
const LIMIT_4K = { width: 3840, height: 2160 };

/** Bitrate is averaged over this much stream time: three 2 s GOPs, so one keyframe cannot trip it. */
export const BITRATE_WINDOW_MS = 6_000;

/** Frame rates a little over the limit are timestamp jitter (59.94 rounds, 60.02 is measured). */
const FRAME_RATE_TOLERANCE = 0.5;

export function effectiveMaxBitsPerSecond(limits: IngestLimits): number {
  return (
    limits.maxVideoBitsPerSecond ?? (limits.allow4k ? DEFAULT_MAX_BITS_4K : DEFAULT_MAX_BITS_1080P)
  );
}

export function effectiveMaxSize(limits: IngestLimits): { width: number; height: number } {
  return limits.allow4k
    ? {
        width: Math.max(limits.maxWidth, LIMIT_4K.width),
        height: Math.max(limits.maxHeight, LIMIT_4K.height),
      }
    : { width: limits.maxWidth, height: limits.maxHeight };
}

/** Every problem with a set of limits, empty when they are usable. */
export function limitProblems(limits: IngestLimits): string[] {
  const problems: string[] = [];
  const positiveInt = (name: keyof IngestLimits) => {
    const value = limits[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      problems.push(`${name} must be a positive integer, got ${String(value)}`);
    }
  };
  const positive = (name: keyof IngestLimits) => {
    const value = limits[name];
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
      problems.push(`${name} must be a positive number, got ${String(value)}`);
    }
  };
  positiveInt("maxStreams");
  positiveInt("maxWidth");
  positiveInt("maxHeight");
  positive("maxFrameRate");
  positive("idleSeconds");
  positive("connectSeconds");
  positiveInt("maxQueuedSegments");
  if (limits.maxVideoBitsPerSecond !== null) positive("maxVideoBitsPerSecond");
  return problems;
}

/** The application every publisher must use: rtmp://HOST:PORT/live/STREAM_KEY. */
export const INGEST_APP = "live";

/** Keys are URL path segments and log-safe: letters, digits and `-_.~`, at most 128. */
const KEY_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;

/** The stream key of a publish request, or why the URL cannot be one. */
export function parseStreamPath(
  app: string,
  name: string,
): { key: string } | { refusal: IngestRefusal } {
  // OBS sends the app with a trailing slash when the server URL ends in one.
  const cleanApp = app.replace(/\/+$/, "");
  if (cleanApp !== INGEST_APP) {
    return {
      refusal: refusal(
        "INGEST_WRONG_APP",
        `publish to rtmp://HOST:PORT/${INGEST_APP}/STREAM_KEY, not application "${cleanApp.slice(0, 64)}"`,
        { app: cleanApp.slice(0, 64) },
      ),
    };
  }
  if (!KEY_PATTERN.test(name)) {
    return {
      refusal: refusal(
        "INGEST_BAD_KEY",
        "a stream key is 1-128 letters, digits or -_.~ characters",
        { length: name.length },
      ),
    };
  }
  return { key: name };
}

/** A key as it may appear in logs: enough to tell streams apart, not enough to publish. */
export function keyHint(key: string): string {
  return key.length <= 4 ? "****" : `${key.slice(0, 4)}…(${key.length})`;
}

export function checkVideoCodec(codec: string): IngestRefusal | null {
  if (codec === "h264") return null;
  return refusal(
    "INGEST_UNSUPPORTED_CODEC",
    `video must be H.264, got ${codec}; set the encoder to x264 or a hardware H.264 encoder`,
    { codec, kind: "video" },
  );
}

/** AAC is what OBS sends; MP3 is ffmpeg's default for FLV and also fits in MPEG-TS. */
export function checkAudioCodec(codec: string): IngestRefusal | null {
  if (codec === "aac" || codec === "mp3") return null;
  return refusal(
    "INGEST_UNSUPPORTED_CODEC",
    `audio must be AAC (or MP3), got ${codec}; set the audio encoder to AAC`,
    { codec, kind: "audio" },
  );
}

export function checkResolution(
  size: { width: number; height: number },
  limits: IngestLimits,
): IngestRefusal | null {
  const max = effectiveMaxSize(limits);
  const long = Math.max(size.width, size.height);
  const short = Math.min(size.width, size.height);
  if (long <= Math.max(max.width, max.height) && short <= Math.min(max.width, max.height)) {
    return null;
  }
  return refusal(
    "INGEST_RESOLUTION_TOO_LARGE",
    `${size.width}x${size.height} is over the ingest's ${max.width}x${max.height} limit; scale the output down${limits.allow4k ? "" : " (or enable 4K on the broadcaster)"}`,
    { width: size.width, height: size.height, maxWidth: max.width, maxHeight: max.height },
  );
}

export function checkFrameRate(fps: number, limits: IngestLimits): IngestRefusal | null {
  if (fps <= limits.maxFrameRate + FRAME_RATE_TOLERANCE) return null;
  return refusal(
    "INGEST_FRAME_RATE_TOO_HIGH",
    `${fps} fps is over the ingest's ${limits.maxFrameRate} fps limit; lower the output frame rate`,
    { fps, max: limits.maxFrameRate },
  );
}

/**
 * Video bits per second over the last `windowMs` of stream time (timestamps, not arrival, so a
 * publisher that catches up after a network hiccup is not punished for the burst). Holds one
 * entry per frame in the window: bounded by the frame rate.
 */
export class BitrateMeter {
  private readonly entries: Array<{ ms: number; bytes: number }> = [];
  private head = 0;
  private bytes = 0;
  private firstMs: number | undefined;

  constructor(private readonly windowMs = BITRATE_WINDOW_MS) {}

  /** Adds one frame; returns the rate once a whole window has been seen, else null. */
  add(timestampMs: number, bytes: number): number | null {
    this.firstMs ??= timestampMs;
    this.entries.push({ ms: timestampMs, bytes });
    this.bytes += bytes;
    const from = timestampMs - this.windowMs;
    while (this.head < this.entries.length && (this.entries[this.head]?.ms ?? 0) <= from) {
      this.bytes -= this.entries[this.head]?.bytes ?? 0;
      this.head++;
    }
    if (this.head > 1024) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    if (timestampMs - this.firstMs < this.windowMs) return null;
    return (this.bytes * 8 * 1000) / this.windowMs;
  }
}

export function checkBitrate(bitsPerSecond: number, limits: IngestLimits): IngestRefusal | null {
  const max = effectiveMaxBitsPerSecond(limits);
  if (bitsPerSecond <= max) return null;
  return refusal(
    "INGEST_BITRATE_TOO_HIGH",
    `video arrives at ${Math.round(bitsPerSecond / 1000)} kbit/s, over the ingest's ${Math.round(max / 1000)} kbit/s limit; lower the encoder bitrate`,
    { bitsPerSecond: Math.round(bitsPerSecond), max },
  );
}

/**
 * Frame rate from the first frames' timestamps, for publishers that do not declare one. FLV
 * timestamps are whole milliseconds (60 fps arrives as gaps of 16 and 17 ms), so it is the mean
 * gap over `frames` frames. Returns null until then.
 */
export class FrameRateEstimator {
  private readonly gaps: number[] = [];
  private last: number | undefined;

  constructor(private readonly frames = 30) {}

  add(timestampMs: number): number | null {
    if (this.last !== undefined && timestampMs > this.last && this.gaps.length < this.frames) {
      this.gaps.push(timestampMs - this.last);
    }
    this.last = timestampMs;
    return this.estimate();
  }

  estimate(): number | null {
    if (this.gaps.length < this.frames) return null;
    const total = this.gaps.reduce((sum, gap) => sum + gap, 0);
    return total > 0 ? Math.round(((this.gaps.length * 1000) / total) * 100) / 100 : null;
  }
}
