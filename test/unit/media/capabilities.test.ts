import { describe, expect, it } from "vitest";
import type { Binaries } from "../../../node/src/media/binaries.ts";
import {
  buildCapabilities,
  type Capabilities,
  parseCapabilities,
} from "../../../node/src/media/capabilities.ts";
import { MediaError } from "../../../node/src/media/errors.ts";
import { encodeSessions, hardwarePlan } from "../../../node/src/media/transcoder.ts";

const binaries: Binaries = {
  ffmpeg: { path: "/usr/bin/ffmpeg", source: "path", version: "5.1.9" },
  ffprobe: undefined,
};

type Encoder = Capabilities["encoders"][number];
type Decoder = Capabilities["decoders"][number];

const x264: Encoder = {
  name: "libx264",
  codec: "h264",
  hardware: false,
  device: "cpu",
  listed: true,
  works: true,
};
const nvenc = (works: boolean): Encoder => ({
  name: "h264_nvenc",
  codec: "h264",
  hardware: true,
  device: "nvidia",
  listed: true,
  works,
  ...(works ? {} : { error: "No capable devices found" }),
});
const nvdec = (works: boolean): Decoder => ({
  hwaccel: "cuda",
  device: "nvidia",
  codecs: ["h264"],
  listed: true,
  works,
});

describe("capability document", () => {
  it("has only a CPU device when no hardware works, sized at half the cores", () => {
    const doc = buildCapabilities(
      binaries,
      [x264, nvenc(false)],
      [nvdec(false)],
      2,
      {},
      performance.now(),
    );
    expect(doc.devices).toEqual([{ id: "cpu", kind: "cpu", maxSessions: 1 }]);
    expect(doc.ffprobe).toBeNull();
    expect(hardwarePlan(doc, true).decoder).toBeUndefined();
    expect(encodeSessions(doc, hardwarePlan(doc, true))).toBe(1);
  });

  it("adds the NVIDIA device when NVDEC works but keeps decoding on the CPU without NVENC", () => {
    // An H100: NVDEC yes, NVENC no. CPU encoders fed by NVDEC measured slower than CPU decode.
    const doc = buildCapabilities(
      binaries,
      [x264, nvenc(false)],
      [nvdec(true)],
      16,
      {},
      performance.now(),
    );
    expect(doc.devices.map((d) => [d.id, d.maxSessions])).toEqual([
      ["cpu", 8],
      ["nvidia:0", 8],
    ]);
    const plan = hardwarePlan(doc, true);
    expect(plan.decoder).toBeUndefined();
    expect([...plan.workingEncoders]).toEqual([]);
    // Encoding stays on the CPU, so the CPU's sessions bound the transcoder.
    expect(encodeSessions(doc, plan)).toBe(8);
  });

  it("uses configured session counts and NVENC's when NVENC works", () => {
    const doc = buildCapabilities(
      binaries,
      [x264, nvenc(true)],
      [nvdec(true)],
      4,
      { cpu: 3, nvidia: 5 },
      performance.now(),
    );
    const plan = hardwarePlan(doc, true);
    expect([...plan.workingEncoders]).toEqual(["h264_nvenc"]);
    expect(plan.decoder).toBe("cuda");
    expect(encodeSessions(doc, plan)).toBe(5);
    expect(hardwarePlan(doc, false)).toMatchObject({ decoder: undefined });
    expect(doc.devices.find((d) => d.kind === "cpu")?.maxSessions).toBe(3);
  });

  it("rejects a malformed document with CAPABILITIES_INVALID", () => {
    let error: unknown;
    try {
      parseCapabilities({ schema: 2, encoders: "none" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe("CAPABILITIES_INVALID");
  });
});
