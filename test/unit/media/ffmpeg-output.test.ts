import { describe, expect, it } from "vitest";
import { parseVersionLine } from "../../../node/src/media/binaries.ts";
import { parseEncoders, parseHwaccels } from "../../../node/src/media/ffmpeg-lists.ts";
import { parseFfmpegLog } from "../../../node/src/media/ffmpeg-log.ts";
import { parseFrameHash } from "../../../node/src/media/framehash.ts";
import { keyframeSpacing, normalizeReason } from "../../../node/src/media/prepare.ts";
import {
  countOpenGops,
  keyframeGaps,
  mediaInfoFromFrameHash,
} from "../../../node/src/media/probe.ts";

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

// Recorded at -loglevel level+info: the npm static ffmpeg 4.1 on an mp4 with a display
// rotation, and Debian's ffmpeg 5.1 on an interlaced MPEG-TS segment it cannot fully decode.
const ROTATED_41 = `[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:rot.mp4':
[info]   Metadata:
[info]     major_brand     : isom
[info]   Duration: 00:00:02.00, start: 0.000000, bitrate: 711 kb/s
[info]     Stream #0:0(und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p, 320x240 [SAR 1:1 DAR 4:3], 707 kb/s, 25 fps, 25 tbr, 12800 tbn, 50 tbc (default)
[info]     Metadata:
[info]       rotate          : 270
[info]     Side data:
[info]       displaymatrix: rotation of 90.00 degrees
[info] Output #0, framecrc, to 'pipe:1':
[info]     Stream #0:0(und): Video: h264, yuv420p(top first), 320x240, q=2-31, 25 fps, 25 tbr
[info]     Side data:
[info]       displaymatrix: rotation of -90.00 degrees
`;
const INTERLACED_51 = `[info] Input #0, mpegts, from 'pipe:0':
[info]   Duration: N/A, start: 1.400000, bitrate: N/A
[info]   Program 1
[info]   Stream #0:0[0x100]: Video: h264 (Main) ([27][0][0][0] / 0x001B), yuv420p(top first), 320x240 [SAR 1:1 DAR 4:3], 25 tbr, 90k tbn
[info]   Stream #0:1[0x101](und): Audio: aac (LC) ([15][0][0][0] / 0x000F), 48000 Hz, mono, fltp, 69 kb/s
[h264 @ 0x5596e7a079c0] [error] non-existing PPS 0 referenced
    Last message repeated 1 times
[h264 @ 0x5596e7a079c0] [error] no frame!
[info] Output #0, framecrc, to 'pipe:1':
[warning] some warning that is not an error
[info] Stream mapping:
`;

describe("ffmpeg's level-tagged log", () => {
  it("reads the input's video rotation, field order and frame rate, not the output's", () => {
    expect(parseFfmpegLog(ROTATED_41)).toEqual({
      errors: "",
      video: { rotation: 270, interlaced: false, frameRate: 25 },
    });
    expect(parseFfmpegLog(INTERLACED_51).video).toEqual({
      rotation: 0,
      interlaced: true,
      frameRate: 25,
    });
  });

  it("keeps the error lines, untagged, as -v error would print them", () => {
    expect(parseFfmpegLog(INTERLACED_51).errors.split("\n")).toEqual([
      "[h264 @ 0x5596e7a079c0] non-existing PPS 0 referenced",
      "    Last message repeated 1 times",
      "[h264 @ 0x5596e7a079c0] no frame!",
    ]);
    expect(parseFfmpegLog("").video).toBeUndefined();
  });
});

describe("open GOPs", () => {
  const packet = (pts: number, keyframe = false) => ({
    stream: 0,
    dts: undefined,
    pts,
    duration: 1,
    size: 1,
    keyframe,
  });

  it("counts later keyframes followed by frames shown before them", () => {
    // In decode order, I0 P3 B1 B2 | I6 B4 B5 P9 B7 B8 | I12 B10 B11 P15 B13 B14: the
    // keyframes at 6 and 12 are each followed by two frames shown before them.
    const open = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11, 15, 13, 14].map((pts) =>
      packet(pts, pts % 6 === 0),
    );
    expect(countOpenGops(open)).toBe(2);
    // Closed GOPs with B-frames: nothing after a keyframe is shown before it.
    const closed = [0, 3, 1, 2, 5, 4, 6, 9, 7, 8, 11, 10].map((pts) => packet(pts, pts % 6 === 0));
    expect(countOpenGops(closed)).toBe(0);
  });

  it("are a reason to re-encode the input, as are rotation, sparse keyframes and VP9", () => {
    const video = {
      codec: "h264",
      width: 320,
      height: 180,
      frames: 100,
      keyframes: 2,
      startsWithKeyframe: true,
      startSeconds: 0,
      durationSeconds: 4,
      fps: 25,
      openGops: 0,
      keyframeGapSeconds: { max: 2, typical: 2 },
      rotation: 0,
      interlaced: true,
    };
    expect(normalizeReason(video)).toBeNull();
    expect(normalizeReason({ ...video, openGops: 1 })).toMatch(/open GOPs/);
    expect(normalizeReason({ ...video, rotation: 90 })).toMatch(/rotated 90/);
    expect(
      normalizeReason({
        ...video,
        keyframes: 1,
        durationSeconds: 10,
        keyframeGapSeconds: { max: 10, typical: 10 },
      }),
    ).toBe("keyframes every 10.0 s");
    // 20 s with a keyframe every 8.33 s: the spacing, not the 6.7 s average of three.
    const sparse = keyframeGaps([0, 25 / 3, 50 / 3], 0, 20);
    expect(sparse.max).toBeCloseTo(25 / 3, 9);
    expect(sparse.typical).toBeCloseTo(25 / 3, 9);
    expect(normalizeReason({ ...video, keyframes: 3, keyframeGapSeconds: sparse })).toBe(
      "keyframes every 8.3 s",
    );
    // Mostly 2 s, one 6 s stretch: cut as it is, one segment would be 6 s long.
    const uneven = keyframeGaps([0, 2, 4, 10, 12], 0, 14);
    expect(uneven).toEqual({ max: 6, typical: 2 });
    expect(keyframeSpacing({ keyframeGapSeconds: uneven })).toBe(
      "keyframes up to 6.0 s apart (typically 2.0 s)",
    );
    expect(normalizeReason({ ...video, keyframeGapSeconds: uneven })).toMatch(/up to 6\.0 s/);
    // Within a wider limit (segmint transcode --segment 6 --reencode asks for 6 s) it is fine.
    expect(normalizeReason({ ...video, keyframeGapSeconds: uneven }, 6)).toBeNull();
    // A late first keyframe and a long tail count as stretches too.
    expect(keyframeGaps([3], 0, 4)).toEqual({ max: 3, typical: 3 });
    expect(keyframeGaps([0, 1], 0, 7)).toEqual({ max: 6, typical: 1 });
    expect(normalizeReason({ ...video, codec: "vp9" })).toBe("codec vp9");
  });
});
