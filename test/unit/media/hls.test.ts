import { describe, expect, it } from "vitest";
import { codecsString, MediaPlaylist, masterPlaylist } from "../../../node/src/media/hls.ts";

describe("MediaPlaylist", () => {
  it("writes a VOD playlist with a rounded target duration and ENDLIST", () => {
    const playlist = new MediaPlaylist({ type: "vod" });
    playlist.add({ uri: "seg000000.ts", durationSeconds: 2.066667, bytes: 500_000 });
    playlist.add({ uri: "seg000001.ts", durationSeconds: 1.5, bytes: 250_000 });
    playlist.end();
    expect(playlist.render()).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXTINF:2.066667,",
        "seg000000.ts",
        "#EXTINF:1.500000,",
        "seg000001.ts",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
    // Peak: 500 kB in 2.066667 s; average: 750 kB in 3.566667 s.
    expect(playlist.bandwidth.peak).toBe(Math.ceil((500_000 * 8) / 2.066667));
    expect(playlist.bandwidth.average).toBe(Math.ceil((750_000 * 8) / 3.566667));
    expect(() => playlist.add({ uri: "late.ts", durationSeconds: 2, bytes: 1 })).toThrow();
  });

  it("keeps a sliding window for live playlists and advances the media sequence", () => {
    const playlist = new MediaPlaylist({ type: "live", windowSize: 2 });
    for (let i = 0; i < 5; i++) playlist.add({ uri: `s${i}.ts`, durationSeconds: 2, bytes: 1000 });
    const text = playlist.render();
    expect(text).toContain("#EXT-X-MEDIA-SEQUENCE:3");
    expect(text).not.toContain("s2.ts");
    expect(text).toContain("s3.ts");
    expect(text).toContain("s4.ts");
    expect(text).not.toContain("ENDLIST");
    expect(text).not.toContain("PLAYLIST-TYPE");
  });

  it("writes PROGRAM-DATE-TIME, a target duration floor and the discontinuity sequence of a sliding window", () => {
    const playlist = new MediaPlaylist({ type: "live", windowSize: 2, targetDurationSeconds: 2.5 });
    const at = Date.UTC(2026, 5, 1, 12, 0, 0, 250);
    for (let i = 0; i < 4; i++) {
      playlist.add({
        uri: `s${i}.ts`,
        durationSeconds: 2,
        bytes: 1000,
        discontinuity: i === 1,
        programDateTimeMs: at + i * 2000,
      });
    }
    expect(playlist.render()).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:3",
        "#EXT-X-MEDIA-SEQUENCE:2",
        "#EXT-X-DISCONTINUITY-SEQUENCE:1",
        "#EXT-X-PROGRAM-DATE-TIME:2026-06-01T12:00:04.250Z",
        "#EXTINF:2.000000,",
        "s2.ts",
        "#EXT-X-PROGRAM-DATE-TIME:2026-06-01T12:00:06.250Z",
        "#EXTINF:2.000000,",
        "s3.ts",
        "",
      ].join("\n"),
    );
    expect(playlist.mediaSequence).toBe(2);
    expect(playlist.discontinuitySequence).toBe(1);
  });
});

describe("masterPlaylist", () => {
  it("lists renditions highest bandwidth first with resolution and codecs", () => {
    const text = masterPlaylist([
      {
        uri: "360p/index.m3u8",
        width: 640,
        height: 360,
        bandwidth: 900_000,
        codecs: "avc1.64001e,mp4a.40.2",
      },
      {
        uri: "720p/index.m3u8",
        width: 1280,
        height: 720,
        bandwidth: 3_300_000,
        averageBandwidth: 3_000_000,
        codecs: "avc1.64001f,mp4a.40.2",
        frameRate: 30,
      },
    ]);
    const lines = text.trim().split("\n");
    expect(lines[3]).toBe(
      '#EXT-X-STREAM-INF:BANDWIDTH=3300000,AVERAGE-BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000',
    );
    expect(lines[4]).toBe("720p/index.m3u8");
    expect(lines[5]).toBe(
      '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2"',
    );
  });
});

describe("codecsString", () => {
  it("reads profile, constraints and level from an H.264 SPS", () => {
    // ... start code, NAL type 7 (SPS), profile_idc 100 (High), constraints 0, level 31.
    const ts = Buffer.concat([
      Buffer.alloc(40, 0xff),
      Buffer.from([0, 0, 0, 1, 0x67, 100, 0, 31]),
      Buffer.alloc(40, 0xff),
    ]);
    expect(codecsString(ts, "h264", true)).toBe("avc1.64001f,mp4a.40.2");
    expect(codecsString(ts, "h264", false)).toBe("avc1.64001f");
  });

  it("falls back to a generic string when no parameter set is found", () => {
    expect(codecsString(Buffer.alloc(100, 0xff), "h264", false)).toBe("avc1.640028");
  });
});
