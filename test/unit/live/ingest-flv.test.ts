import { encodeAmf0Data } from "node-media-server/src/protocol/amf.js";
import { describe, expect, it } from "vitest";
import {
  FLV_VIDEO,
  flvHeader,
  flvTag,
  readAudioTag,
  readMetadata,
  readVideoTag,
} from "../../../node/src/live/ingest-flv.ts";

/** SPS and PPS that libx264 wrote for a 1280x720 and a 1080x1920 (portrait) picture. */
const SPS_720P = Buffer.from("6742c01fda014016ec0440000003004000000f03c60ca8", "hex");
const SPS_PORTRAIT = Buffer.from("6742c028da01100f1e5f0110000003001000000303c0f1832a", "hex");
const PPS = Buffer.from("68ce0fc8", "hex");

/** An FLV video tag body holding an AVCDecoderConfigurationRecord, as OBS sends first. */
function avcSequenceHeader(sps: Buffer): Buffer {
  const record = Buffer.concat([
    Buffer.from([1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xff, 0xe1]),
    Buffer.from([sps.length >> 8, sps.length & 0xff]),
    sps,
    Buffer.from([1, PPS.length >> 8, PPS.length & 0xff]),
    PPS,
  ]);
  return Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), record]);
}

describe("readVideoTag", () => {
  it("reads the picture size from an H.264 configuration record", () => {
    expect(readVideoTag(avcSequenceHeader(SPS_720P))).toEqual({
      codec: "h264",
      config: true,
      keyframe: false,
      size: { width: 1280, height: 720 },
    });
    expect(readVideoTag(avcSequenceHeader(SPS_PORTRAIT)).size).toEqual({
      width: 1080,
      height: 1920,
    });
  });

  it("tells H.264 keyframes from other pictures, with trailing bytes of a reused buffer ignored", () => {
    const key = Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0x21]), Buffer.alloc(64, 0x55)]);
    const inter = Buffer.from([0x27, 1, 0, 0, 0x21, 9, 9]);
    expect(readVideoTag(key)).toMatchObject({ codec: "h264", config: false, keyframe: true });
    expect(readVideoTag(inter)).toMatchObject({ codec: "h264", keyframe: false });
  });

  it("names codecs the ingest refuses", () => {
    expect(readVideoTag(Buffer.from([0x12, 0, 0])).codec).toBe("flv1");
    expect(readVideoTag(Buffer.from([0x14, 0, 0])).codec).toBe("vp6f");
    expect(readVideoTag(Buffer.from([0x1c, 0, 0])).codec).toBe("hevc");
    // Enhanced RTMP: the codec is a FourCC after the first byte.
    const av1 = Buffer.concat([Buffer.from([0x90]), Buffer.from("av01"), Buffer.alloc(4)]);
    expect(readVideoTag(av1)).toMatchObject({ codec: "av1", config: true });
  });

  it("returns no size for a truncated configuration record instead of throwing", () => {
    const header = avcSequenceHeader(SPS_720P);
    expect(readVideoTag(header.subarray(0, 14)).size).toBeNull();
    expect(readVideoTag(Buffer.from([0x17, 0])).size).toBeNull();
  });
});

describe("readAudioTag", () => {
  it("names AAC (and its configuration), MP3 and what the ingest refuses", () => {
    expect(readAudioTag(Buffer.from([0xaf, 0, 0x11, 0x90]))).toEqual({
      codec: "aac",
      config: true,
    });
    expect(readAudioTag(Buffer.from([0xaf, 1, 0x21]))).toEqual({ codec: "aac", config: false });
    expect(readAudioTag(Buffer.from([0x2f, 0xff])).codec).toBe("mp3");
    expect(readAudioTag(Buffer.from([0xb6, 0])).codec).toBe("speex");
    expect(readAudioTag(Buffer.from([0x46, 0])).codec).toBe("nellymoser");
  });
});

describe("readMetadata", () => {
  it("reads what OBS and ffmpeg declare in @setDataFrame onMetaData", () => {
    const body = encodeAmf0Data({
      cmd: "@setDataFrame",
      method: "onMetaData",
      dataObj: {
        width: 1920,
        height: 1080,
        framerate: 59.94,
        videodatarate: 6000,
        videocodecid: 7,
        audiocodecid: 10,
        encoder: "obs-output module",
      },
    });
    expect(readMetadata(body)).toEqual({
      width: 1920,
      height: 1080,
      frameRate: 59.94,
      videoDataRate: 6000,
      audioCodec: 10,
    });
  });

  it("leaves out what is absent or not a number, and ignores other data messages", () => {
    const body = encodeAmf0Data({
      cmd: "@setDataFrame",
      method: "onMetaData",
      dataObj: { width: "wide", framerate: 30 },
    });
    expect(readMetadata(body)).toEqual({ frameRate: 30 });
    expect(readMetadata(Buffer.from([0x02, 0, 3, 0x61, 0x62, 0x63]))).toBeNull();
  });
});

describe("flvHeader and flvTag", () => {
  it("flag audio only when it will come", () => {
    expect(flvHeader(true).subarray(0, 5).toString("latin1")).toBe("FLV\x01\x05");
    expect(flvHeader(false)[4]).toBe(1);
    expect(flvHeader(false).length).toBe(13);
  });

  it("writes the 32-bit timestamp as 24 bits plus the extension byte and closes with the tag size", () => {
    const body = Buffer.from([1, 2, 3]);
    const tag = flvTag(FLV_VIDEO, 0x12345678, body);
    expect(tag.length).toBe(11 + 3 + 4);
    expect(tag[0]).toBe(FLV_VIDEO);
    expect(tag.readUIntBE(1, 3)).toBe(3);
    expect(tag.readUIntBE(4, 3)).toBe(0x345678);
    expect(tag[7]).toBe(0x12);
    expect(tag.readUIntBE(8, 3)).toBe(0);
    expect([...tag.subarray(11, 14)]).toEqual([1, 2, 3]);
    expect(tag.readUInt32BE(14)).toBe(14);
  });
});
