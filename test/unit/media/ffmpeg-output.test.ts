import { describe, expect, it } from "vitest";
import { parseVersionLine } from "../../../node/src/media/binaries.ts";
import { parseEncoders, parseHwaccels } from "../../../node/src/media/ffmpeg-lists.ts";
import { parseFrameHash } from "../../../node/src/media/framehash.ts";
import { mediaInfoFromFrameHash } from "../../../node/src/media/probe.ts";

// Recorded from the npm static ffmpeg 4.1 (N-47683-g0e8eb07980-static), trimmed.
const ENCODERS_STATIC_41 = `Encoders:
 V..... = Video
 A..... = Audio
 S..... = Subtitle
 .F.... = Frame-level multithreading
 ..S... = Slice-level multithreading
 ...X.. = Codec is experimental
 ....B. = Supports draw_horiz_band
 .....D = Supports direct rendering method 1
 ------
 V..... a64multi             Multicolor charset for Commodore 64 (codec a64_multi)
 V..X.. libaom-av1           libaom AV1 (codec av1)
 V..... libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 V..... h264_vaapi           H.264/AVC (VAAPI) (codec h264)
 V..... libx265              libx265 H.265 / HEVC (codec hevc)
 V..... libvpx-vp9           libvpx VP9 (codec vp9)
 A..... aac                  AAC (Advanced Audio Coding)
 S..... ass                  ASS (Advanced SubStation Alpha) subtitle
`;

// Recorded from Debian 12's ffmpeg 5.1.9, trimmed.
const ENCODERS_DEBIAN_51 = `Encoders:
 V..... = Video
 A..... = Audio
 S..... = Subtitle
 .F.... = Frame-level multithreading
 ..S... = Slice-level multithreading
 ...X.. = Codec is experimental
 ....B. = Supports draw_horiz_band
 .....D = Supports direct rendering method 1
 ------
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)
 V..... h264_qsv             H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (Intel Quick Sync Video acceleration) (codec h264)
 V....D h264_vaapi           H.264/AVC (VAAPI) (codec h264)
 V....D hevc_nvenc           NVIDIA NVENC hevc encoder (codec hevc)
 A..... aac                  AAC (Advanced Audio Coding)
`;

const HWACCELS_STATIC_41 = "Hardware acceleration methods:\nvdpau\nvaapi\n\n";
const HWACCELS_DEBIAN_51 =
  "Hardware acceleration methods:\nvdpau\ncuda\nvaapi\nqsv\ndrm\nopencl\nvulkan\n\n";

describe("ffmpeg -encoders / -hwaccels parsing", () => {
  it("lists the static 4.1 build's encoders without the legend lines", () => {
    const encoders = parseEncoders(ENCODERS_STATIC_41);
    expect(encoders.map((e) => e.name)).toEqual([
      "a64multi",
      "libaom-av1",
      "libx264",
      "h264_vaapi",
      "libx265",
      "libvpx-vp9",
      "aac",
      "ass",
    ]);
    expect(encoders.find((e) => e.name === "aac")?.type).toBe("audio");
    expect(encoders.find((e) => e.name === "ass")?.type).toBe("subtitle");
    expect(encoders.some((e) => e.name.endsWith("_nvenc"))).toBe(false);
  });

  it("finds NVENC and QSV in Debian's 5.1 build", () => {
    const names = parseEncoders(ENCODERS_DEBIAN_51).map((e) => e.name);
    expect(names).toEqual(["libx264", "h264_nvenc", "h264_qsv", "h264_vaapi", "hevc_nvenc", "aac"]);
  });

  it("lists hardware acceleration methods", () => {
    expect(parseHwaccels(HWACCELS_STATIC_41)).toEqual(["vdpau", "vaapi"]);
    expect(parseHwaccels(HWACCELS_DEBIAN_51)).toEqual([
      "vdpau",
      "cuda",
      "vaapi",
      "qsv",
      "drm",
      "opencl",
      "vulkan",
    ]);
  });

  it("reads the version from -version output", () => {
    expect(
      parseVersionLine(
        "ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/  Copyright",
      ),
    ).toBe("N-47683-g0e8eb07980-static");
    expect(parseVersionLine("ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026")).toBe(
      "5.1.9-0+deb12u1",
    );
    expect(parseVersionLine("garbage")).toBe("unknown");
  });
});

// Recorded: `ffmpeg -copyts -i seg.ts -map 0 -c copy -copyinkf -f framecrc -`, first packets.
const FRAMECRC = `#extradata 0:       38, 0xbac80aa9
#software: Lavf58.24.100
#tb 0: 1/90000
#media_type 0: video
#codec_id 0: h264
#dimensions 0: 1920x1080
#sar 0: 1/1
#tb 1: 1/90000
#media_type 1: audio
#codec_id 1: aac
#sample_rate 1: 48000
#channel_layout 1: 4
#channel_layout_name 1: mono
0,     306000,     312000,     3000,    50712, 0x738fbb55, S=1,        1, 0x00e000e0
1,     306720,     306720,     1920,      202, 0xa8fc6452, S=1,        1, 0x00c000c0
0,     308280,     321000,     3000,    29417, 0x23dd3a79, F=0x0, S=1,        1, 0x00e000e0
1,     308640,     308640,     1920,      204, 0xb08662a4
0,     311280,     315000,     3000,    17016, 0x86d71623, F=0x0
0,     314280,     318000,     3000,    17016, 0x86d71623, F=0x0
`;

describe("framecrc parsing", () => {
  it("reads stream headers and packets, with keyframes from the flags column", () => {
    const hash = parseFrameHash(FRAMECRC);
    expect(hash.streams.map((s) => [s.index, s.mediaType, s.codec])).toEqual([
      [0, "video", "h264"],
      [1, "audio", "aac"],
    ]);
    expect(hash.streams[0]).toMatchObject({ width: 1920, height: 1080, timeBase: [1, 90000] });
    expect(hash.streams[1]).toMatchObject({ sampleRate: 48000, channelLayout: "mono" });
    const video = hash.packets.filter((p) => p.stream === 0);
    expect(video.map((p) => p.keyframe)).toEqual([true, false, false, false]);
    expect(video[0]).toMatchObject({ dts: 306000, pts: 312000, duration: 3000, size: 50712 });
  });

  it("derives frames, keyframes, start and duration in presentation order", () => {
    const info = mediaInfoFromFrameHash(parseFrameHash(FRAMECRC), 123);
    expect(info.video).toMatchObject({
      codec: "h264",
      width: 1920,
      height: 1080,
      frames: 4,
      keyframes: 1,
      startsWithKeyframe: true,
      fps: 30,
    });
    // pts 312000..321000 plus one 3000-tick frame = 12000 ticks.
    expect(info.video?.startSeconds).toBeCloseTo(312000 / 90000, 9);
    expect(info.video?.durationSeconds).toBeCloseTo(12000 / 90000, 9);
    expect(info.audio).toMatchObject({ codec: "aac", packets: 2 });
    expect(info.sizeBytes).toBe(123);
  });

  it("treats INT64_MIN timestamps as missing and a stream without packets as empty", () => {
    const text =
      "#tb 0: 1/90000\n#media_type 0: video\n#codec_id 0: h264\n#dimensions 0: 64x64\n0, -9223372036854775808, -9223372036854775808, 0, 10, 0x0, F=0x0\n";
    const info = mediaInfoFromFrameHash(parseFrameHash(text), 10);
    expect(info.video).toMatchObject({
      frames: 1,
      keyframes: 0,
      startsWithKeyframe: false,
      durationSeconds: 0,
    });
  });
});
