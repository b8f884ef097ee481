import nmsLogger from "node-media-server/src/core/logger.js";
import { decodeAmf0Data } from "node-media-server/src/protocol/amf.js";
import { parseH264Sps } from "node-media-server/src/protocol/sps_info.js";

/**
 * FLV tags as RTMP carries them (an RTMP audio, video or data message is an FLV tag body):
 * what the ingest reads from them to check a publisher, and how it writes them back out as an
 * FLV byte stream for ffmpeg to cut. Pure functions over bytes, tested alone.
 */

// node-media-server prints its own log lines (malformed AMF, unknown commands) to stdout, which
// our commands keep for their JSON output; the ingest logs every event that matters itself.
nmsLogger.log = () => {};

export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;
export const FLV_DATA = 18;

/** FLV (and legacy RTMP) video codec ids, E.4.3.1 of the FLV spec; 12 is the common HEVC id. */
const VIDEO_CODECS: Record<number, string> = {
  2: "flv1",
  3: "flashsv",
  4: "vp6f",
  5: "vp6a",
  6: "flashsv2",
  7: "h264",
  12: "hevc",
};

/** Enhanced RTMP video FourCCs. */
const VIDEO_FOURCCS: Record<string, string> = { hvc1: "hevc", av01: "av1", vp09: "vp9" };

/** FLV sound formats, E.4.2.1. */
const AUDIO_CODECS: Record<number, string> = {
  0: "pcm",
  1: "adpcm_swf",
  2: "mp3",
  3: "pcm_s16le",
  4: "nellymoser",
  5: "nellymoser",
  6: "nellymoser",
  7: "pcm_alaw",
  8: "pcm_mulaw",
  10: "aac",
  11: "speex",
  14: "mp3",
};

/** Enhanced RTMP audio FourCCs. */
const AUDIO_FOURCCS: Record<string, string> = {
  mp4a: "aac",
  ".mp3": "mp3",
  Opus: "opus",
  "ac-3": "ac3",
  "ec-3": "eac3",
  fLaC: "flac",
};

export interface VideoTagInfo {
  codec: string;
  /** A decoder configuration (the H.264 SPS/PPS record), not a picture. */
  config: boolean;
  /** A picture a decoder can start from. */
  keyframe: boolean;
  /** From the SPS of an H.264 configuration record. */
  size: { width: number; height: number } | null;
}

/** Reads the header of a video tag body; `data` may be longer than `size` (a reused buffer). */
export function readVideoTag(data: Buffer): VideoTagInfo {
  const first = data[0] ?? 0;
  const frameType = (first >> 4) & 0x07;
  if ((first & 0x80) !== 0) {
    // Enhanced RTMP: the low nibble is the packet type, the codec a FourCC.
    const packetType = first & 0x0f;
    const fourcc = data.subarray(1, 5).toString("latin1");
    return {
      codec: VIDEO_FOURCCS[fourcc] ?? `fourcc:${fourcc}`,
      config: packetType === 0,
      keyframe: packetType !== 0 && frameType === 1,
      size: null,
    };
  }
  const codecId = first & 0x0f;
  const codec = VIDEO_CODECS[codecId] ?? `flv-video-${codecId}`;
  if (codecId !== 7) return { codec, config: false, keyframe: frameType === 1, size: null };
  const config = data[1] === 0;
  return {
    codec,
    config,
    keyframe: !config && data[1] === 1 && frameType === 1,
    size: config ? avcConfigSize(data) : null,
  };
}

/**
 * Picture size from an AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1), which starts at
 * byte 5 of the tag body: 5 bytes of profile and lengths, the SPS count, then the first SPS
 * behind its 16-bit length.
 */
function avcConfigSize(data: Buffer): { width: number; height: number } | null {
  const record = 5;
  const spsCount = (data[record + 5] ?? 0) & 0x1f;
  if (spsCount === 0 || data.length < record + 8) return null;
  const length = data.readUInt16BE(record + 6);
  const start = record + 8;
  if (length === 0 || start + length > data.length) return null;
  return parseH264Sps(data.subarray(start, start + length));
}

export interface AudioTagInfo {
  codec: string;
  /** An AAC AudioSpecificConfig (or an enhanced sequence start), not samples. */
  config: boolean;
}

export function readAudioTag(data: Buffer): AudioTagInfo {
  const first = data[0] ?? 0;
  const format = first >> 4;
  if (format === 9) {
    const fourcc = data.subarray(1, 5).toString("latin1");
    return { codec: AUDIO_FOURCCS[fourcc] ?? `fourcc:${fourcc}`, config: (first & 0x0f) === 0 };
  }
  return {
    codec: AUDIO_CODECS[format] ?? `flv-audio-${format}`,
    config: format === 10 && data[1] === 0,
  };
}

/** What a publisher declares in onMetaData (OBS and ffmpeg both send it); claims, not facts. */
export interface StreamMetadata {
  width?: number;
  height?: number;
  frameRate?: number;
  /** kbit/s as declared. */
  videoDataRate?: number;
  /** Present when the publisher says it will send audio. */
  audioCodec?: string | number;
}

/** Reads `@setDataFrame onMetaData {...}` (or a bare `onMetaData {...}`); null when it is not one. */
export function readMetadata(body: Buffer): StreamMetadata | null {
  let decoded: Record<string, unknown>;
  try {
    decoded = decodeAmf0Data(body);
  } catch {
    return null;
  }
  const isMetadata = decoded.cmd === "onMetaData" || decoded.method === "onMetaData";
  const object = decoded.dataObj;
  if (!isMetadata || typeof object !== "object" || object === null) return null;
  const fields = new Map(Object.entries(object));
  const number = (name: string): number | undefined => {
    const value = fields.get(name);
    return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
  };
  const metadata: StreamMetadata = {};
  const width = number("width");
  const height = number("height");
  const frameRate = number("framerate") ?? number("fps");
  const videoDataRate = number("videodatarate");
  if (width !== undefined) metadata.width = width;
  if (height !== undefined) metadata.height = height;
  if (frameRate !== undefined) metadata.frameRate = frameRate;
  if (videoDataRate !== undefined) metadata.videoDataRate = videoDataRate;
  const audio = fields.get("audiocodecid");
  if (typeof audio === "number" || (typeof audio === "string" && audio.length > 0)) {
    metadata.audioCodec = audio;
  }
  return metadata;
}

/** The 9-byte FLV file header and the first (zero) PreviousTagSize. */
export function flvHeader(hasAudio: boolean): Buffer {
  const header = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x01, 0, 0, 0, 9, 0, 0, 0, 0]);
  // Audio is flagged only when it will come: ffmpeg waits for every flagged stream to appear
  // before it starts cutting.
  if (hasAudio) header[4] = 0x05;
  return header;
}

/** One FLV tag: 11-byte header, the body, and the PreviousTagSize that follows it. */
export function flvTag(type: number, timestampMs: number, body: Buffer): Buffer {
  // Every byte is written below, so the buffer need not be zeroed first (one per frame).
  const tag = Buffer.allocUnsafe(11 + body.length + 4);
  tag[0] = type;
  tag.writeUIntBE(body.length, 1, 3);
  // 24 bits of milliseconds, then the extension byte holding bits 24-31.
  const ts = timestampMs >>> 0;
  tag.writeUIntBE(ts & 0xffffff, 4, 3);
  tag[7] = (ts >>> 24) & 0xff;
  // Stream id, always 0.
  tag.writeUIntBE(0, 8, 3);
  body.copy(tag, 11);
  tag.writeUInt32BE(11 + body.length, 11 + body.length);
  return tag;
}
