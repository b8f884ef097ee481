import { describe, expect, it } from "vitest";
import {
  inBandParameterSetArgs,
  type PlanInput,
  planTranscode,
  SOFTWARE_ONLY,
  sourceFileArgs,
} from "../../../node/src/media/args.ts";
import { parseLadder } from "../../../node/src/media/profiles.ts";

const source = { codec: "h264", width: 1920, height: 1080, fps: 30 };

function plan(overrides: Partial<PlanInput> = {}) {
  return planTranscode({
    source,
    audioCodec: "aac",
    profiles: parseLadder("720p,480p,360p"),
    hardware: SOFTWARE_ONLY,
    audioBitrateBps: 128_000,
    ...overrides,
  });
}

function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? ""] : []));
}

describe("planTranscode", () => {
  it("decodes once and splits into one scaler and one encoder per rendition", () => {
    const { args, outputs } = plan();
    expect(valuesOf(args, "-i")).toEqual(["pipe:0"]);
    expect(valuesOf(args, "-f")[0]).toBe("mpegts");
    const graph = valuesOf(args, "-filter_complex");
    expect(graph).toEqual([
      "[0:v:0]split=3[s0][s1][s2];[s0]scale=1280:720[v0];[s1]scale=854:480[v1];[s2]scale=640:360[v2]",
    ]);
    expect(args.filter((a) => /^pipe:[3-9]$/.test(a))).toEqual(["pipe:3", "pipe:4", "pipe:5"]);
    expect(valuesOf(args, "-c:v")).toEqual(["libx264", "libx264", "libx264"]);
    expect(valuesOf(args, "-b:v")).toEqual(["3000000", "1600000", "800000"]);
    expect(valuesOf(args, "-g")).toEqual(["60", "60", "60"]);
    expect(outputs.map((o) => [o.width, o.height])).toEqual([
      [1280, 720],
      [854, 480],
      [640, 360],
    ]);
  });

  it("reads from and writes to files when given paths (file output mode)", () => {
    const { args } = plan({
      inputPath: "/tmp/x/in.ts",
      targets: ["/tmp/x/r0.ts", "/tmp/x/r1.ts", "/tmp/x/r2.ts"],
    });
    expect(valuesOf(args, "-i")).toEqual(["file:/tmp/x/in.ts"]);
    expect(args.filter((a) => a.startsWith("pipe:"))).toEqual([]);
    expect(args.slice(-1)).toEqual(["/tmp/x/r2.ts"]);
  });

  it("keeps the source timestamps and starts at zero mux delay", () => {
    const { args } = plan();
    expect(args).toContain("-copyts");
    expect(valuesOf(args, "-muxdelay")).toEqual(["0", "0", "0"]);
    expect(valuesOf(args, "-enc_time_base:v")).toEqual(["1:90000", "1:90000", "1:90000"]);
    // ...while the encoder still knows the real frame rate (it sets the H.264 level from it).
    expect(valuesOf(args, "-x264-params")).toEqual(["fps=30", "fps=30", "fps=30"]);
  });

  it("copies AAC audio, re-encodes other audio, and maps none when there is none", () => {
    expect(valuesOf(plan().args, "-c:a")).toEqual(["copy", "copy", "copy"]);
    const mp2 = plan({ audioCodec: "mp2" }).args;
    expect(valuesOf(mp2, "-c:a")).toEqual(["aac", "aac", "aac"]);
    expect(valuesOf(mp2, "-b:a")).toEqual(["128000", "128000", "128000"]);
    const silent = plan({ audioCodec: undefined }).args;
    expect(valuesOf(silent, "-map")).toEqual(["[v0]", "[v1]", "[v2]"]);
  });

  it("uses no split for a single rendition and adds an fps filter when lowering the rate", () => {
    const { args } = plan({ source: { ...source, fps: 60 }, profiles: parseLadder("360p30") });
    expect(valuesOf(args, "-filter_complex")).toEqual(["[0:v:0]scale=640:360,fps=30[v0]"]);
  });

  it("derives the GOP in frames from seconds and the output rate", () => {
    const { args } = plan({
      source: { ...source, fps: 60 },
      profiles: parseLadder("720p60,360p30"),
    });
    expect(valuesOf(args, "-g")).toEqual(["120", "60"]);
    expect(valuesOf(args, "-x264-params")).toEqual(["fps=60", "fps=30"]);
  });

  it("switches to CRF with a capped peak when the profile asks for it", () => {
    const profiles = parseLadder('{"name":"q","width":640,"height":360,"bitrate":"1M","crf":22}');
    const { args } = plan({ profiles });
    expect(valuesOf(args, "-crf")).toEqual(["22"]);
    expect(valuesOf(args, "-b:v")).toEqual([]);
    expect(valuesOf(args, "-maxrate")).toEqual(["1000000"]);
  });

  it("uses NVDEC and NVENC only when capability detection proved them", () => {
    const decodeOnly = plan({ hardware: { decoder: "cuda", workingEncoders: new Set() } }).args;
    expect(valuesOf(decodeOnly, "-hwaccel")).toEqual(["cuda"]);
    expect(decodeOnly.indexOf("-hwaccel")).toBeLessThan(decodeOnly.indexOf("-i"));
    expect(valuesOf(decodeOnly, "-c:v")).toEqual(["libx264", "libx264", "libx264"]);

    const full = plan({
      hardware: { decoder: "cuda", workingEncoders: new Set(["h264_nvenc"]) },
    }).args;
    expect(valuesOf(full, "-c:v")).toEqual(["h264_nvenc", "h264_nvenc", "h264_nvenc"]);

    const vp9Input = plan({
      source: { ...source, codec: "vp9" },
      hardware: { decoder: "cuda", workingEncoders: new Set() },
    });
    expect(valuesOf(vp9Input.args, "-hwaccel")).toEqual([]);
  });

  it("encodes HEVC profiles with libx265 and fixed keyframe intervals", () => {
    const profiles = parseLadder(
      '{"name":"h","width":640,"height":360,"bitrate":"700k","codec":"hevc"}',
    );
    const { args } = plan({ profiles });
    expect(valuesOf(args, "-c:v")).toEqual(["libx265"]);
    expect(valuesOf(args, "-x265-params")[0]).toContain("keyint=60:min-keyint=60");
  });
});

describe("interlaced sources", () => {
  it("deinterlaces once, before the split, only when the source says it is interlaced", () => {
    const interlaced = plan({ source: { ...source, interlaced: true } });
    expect(valuesOf(interlaced.args, "-filter_complex")).toEqual([
      "[0:v:0]yadif=deint=interlaced,split=3[s0][s1][s2];[s0]scale=1280:720[v0];[s1]scale=854:480[v1];[s2]scale=640:360[v2]",
    ]);
    const single = plan({ source: { ...source, interlaced: true }, profiles: parseLadder("360p") });
    expect(valuesOf(single.args, "-filter_complex")).toEqual([
      "[0:v:0]yadif=deint=interlaced,scale=640:360[v0]",
    ]);
    expect(valuesOf(plan().args, "-filter_complex")[0]).not.toContain("yadif");
  });
});

describe("source files", () => {
  it("drop the corrupt last packet of a truncated file instead of failing on it", () => {
    const args = sourceFileArgs("/videos/a:b.mp4");
    expect(valuesOf(args, "-fflags")).toEqual(["+discardcorrupt"]);
    expect(valuesOf(args, "-i")).toEqual(["file:/videos/a:b.mp4"]);
  });

  it("repeat H.264 and HEVC parameter sets at every keyframe, and leave other codecs alone", () => {
    expect(inBandParameterSetArgs("h264")).toEqual([
      "-bsf:v",
      "h264_mp4toannexb,dump_extra=freq=keyframe",
    ]);
    expect(inBandParameterSetArgs("hevc")).toEqual([
      "-bsf:v",
      "hevc_mp4toannexb,dump_extra=freq=keyframe",
    ]);
    expect(inBandParameterSetArgs("mpeg2video")).toEqual([]);
    expect(inBandParameterSetArgs(undefined)).toEqual([]);
  });
});
