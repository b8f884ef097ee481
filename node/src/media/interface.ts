/** Public types of the media subsystem. */

/** Output codecs: the ones MPEG-TS carries. */
export type VideoCodec = "h264" | "hevc";

/** A rendition to produce, fully resolved (see profiles.ts for presets and JSON input). */
export interface Profile {
  name: string;
  /** The target box; the source's aspect ratio is kept inside it. */
  width: number;
  height: number;
  bitrateBps: number;
  /** Output frame rate; undefined keeps the source's. */
  fps: number | undefined;
  codec: VideoCodec;
  /** Keyframe interval in seconds. */
  gopSeconds: number;
  /** Encoder speed preset (libx264/libx265 names; mapped for other encoders). */
  preset: string;
  /** Constant quality instead of a target bitrate (bitrate then caps the peak). */
  crf: number | undefined;
  /** Allow output larger than the source. Default false: never upscale. */
  allowUpscale: boolean;
}

export interface VideoStreamInfo {
  codec: string;
  width: number;
  height: number;
  frames: number;
  keyframes: number;
  /** Whether the first packet in decode order is a keyframe. */
  startsWithKeyframe: boolean;
  /** Presentation time of the first frame, seconds (timestamps are kept end to end). */
  startSeconds: number;
  durationSeconds: number;
  fps: number;
  /**
   * Keyframes followed, in decode order, by frames shown before them (open GOPs: x264's
   * open-gop, x265's CRA pictures). A cut at such a keyframe loses those frames, since they
   * reference the GOP before the cut.
   */
  openGops: number;
  /**
   * Spacing of the keyframes, seconds: the longest stretch without one (between two, or from
   * the last to the end: the longest segment a cut on keyframes can make) and the median gap
   * between two (the whole duration when there is one keyframe).
   */
  keyframeGapSeconds: { max: number; typical: number };
  /** Clockwise turn (0, 90, 180, 270) the container asks players to apply. */
  rotation: number;
  /** The stream declares a field order: its frames are interlaced. */
  interlaced: boolean;
}

export interface AudioStreamInfo {
  codec: string;
  sampleRate: number | undefined;
  channelLayout: string | undefined;
  packets: number;
  startSeconds: number;
  durationSeconds: number;
}

export interface MediaInfo {
  sizeBytes: number;
  video: VideoStreamInfo | undefined;
  audio: AudioStreamInfo | undefined;
  durationSeconds: number;
}

/** What is charged for and re-measured by broadcasters: pixels = width * height * frames. */
export interface RenditionMeasurement {
  bytes: number;
  durationSeconds: number;
  width: number;
  height: number;
  frames: number;
  pixels: number;
}

export interface Rendition extends RenditionMeasurement {
  profile: string;
  codec: VideoCodec;
  encoder: string;
  /** The MPEG-TS bytes of this rendition. */
  data: Buffer;
}

export interface TranscodeResult {
  source: MediaInfo;
  renditions: Rendition[];
  /** Wall time of the ffmpeg run, seconds. */
  ffmpegSeconds: number;
  /** Hardware used for this run ("cpu", "cuda", ...). */
  decoder: string;
}

export interface TranscodeRequest {
  profiles: readonly Profile[];
  signal?: AbortSignal | undefined;
  /** Overrides the duration-scaled default. */
  timeoutMs?: number | undefined;
}
