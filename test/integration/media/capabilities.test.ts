import { describe, expect, it } from "vitest";
import { getCapabilities, parseCapabilities } from "../../../node/src/media/index.ts";
import { ffmpegChildren } from "../../helpers/media.ts";

describe("capability detection with the real ffmpeg", () => {
  it("proves libx264 by a test transcode, reports what is missing, and caches per process", async () => {
    const first = getCapabilities({ sessions: { cpu: 3 } });
    const second = getCapabilities({ sessions: { cpu: 3 } });
    expect(second).toBe(first);
    const document = await first;
    // Round-trips through the schema the orchestrator will advertise.
    expect(parseCapabilities(JSON.parse(JSON.stringify(document)))).toEqual(document);
    const x264 = document.encoders.find((e) => e.name === "libx264");
    expect(x264).toMatchObject({ listed: true, works: true, device: "cpu" });
    for (const encoder of document.encoders) {
      if (!encoder.listed) expect(encoder.works).toBe(false);
    }
    expect(document.devices.find((d) => d.kind === "cpu")?.maxSessions).toBe(3);
    expect(document.ffmpeg.version.length).toBeGreaterThan(0);
    expect(ffmpegChildren()).toEqual([]);
  });
});
