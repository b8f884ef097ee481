import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSegmintError } from "../../../node/src/errors.ts";
import { type LiveHttpServer, startLiveHttpServer } from "../../../node/src/live/http-server.ts";
import type { LiveRenditionInfo } from "../../../node/src/live/interface.ts";
import { LiveHls, type LiveStreamView } from "../../../node/src/live/playlists.ts";
import { silentLogger } from "../../../node/src/log/index.ts";

const renditions: LiveRenditionInfo[] = [
  {
    name: "source",
    width: 1280,
    height: 720,
    bandwidth: 3e6,
    codecs: "avc1.64001f",
    frameRate: 30,
  },
  { name: "360p", width: 640, height: 360, bandwidth: 8e5, codecs: "avc1.64001e", frameRate: 30 },
];

function segment(seq: number) {
  return {
    index: seq,
    data: new Uint8Array(188 * 4).fill(0x47),
    startSeconds: seq * 2,
    durationSeconds: 2,
    wallClockMs: Date.now(),
  };
}

describe("live HTTP server", () => {
  const streams = new Map<string, LiveStreamView>();
  let server: LiveHttpServer;
  let healthy = false;
  let live: LiveHls;
  let url: string;

  beforeAll(async () => {
    const registry = new Registry();
    live = new LiveHls({
      streamKey: "cam 1",
      renditions,
      windowSize: 3,
      graceSegments: 1,
      recordDir: null,
      log: silentLogger(),
    });
    streams.set("cam 1", live);
    streams.set(
      "empty",
      new LiveHls({ streamKey: "empty", renditions, recordDir: null, log: silentLogger() }),
    );
    server = await startLiveHttpServer({
      host: "127.0.0.1",
      port: 0,
      streams: () => streams,
      status: () => ({ streams: streams.size, spent: 10n ** 18n }),
      metrics: registry,
      healthy: () => healthy,
    });
    url = server.url;
  });

  afterAll(async () => {
    await server?.close();
  });

  it("serves the master, media playlists and segments with live MIME types, CORS and caching", async () => {
    for (let seq = 0; seq < 5; seq++) {
      await live.addSource(seq, segment(seq), false);
      await live.addRendition(seq, {
        profile: "360p",
        data: new Uint8Array(188).fill(seq),
        width: 640,
        height: 360,
        frames: 60,
        pixels: 1,
        durationSeconds: 2,
        sha256: "",
      });
    }
    const base = `${url}/live/cam%201`;
    const master = await fetch(`${base}/index.m3u8`);
    expect(master.status).toBe(200);
    expect(master.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(master.headers.get("access-control-allow-origin")).toBe("*");
    expect(master.headers.get("cache-control")).toBe("no-cache");
    const masterText = await master.text();
    expect(masterText).toContain("source/index.m3u8");
    expect(masterText).toContain("360p/index.m3u8");

    const media = await fetch(`${base}/360p/index.m3u8`);
    expect(media.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(media.headers.get("cache-control")).toBe("no-cache");
    const mediaText = await media.text();
    expect(mediaText).toContain("#EXT-X-MEDIA-SEQUENCE:2");
    expect(mediaText).toContain("seg000004.ts");

    const seg = await fetch(`${base}/360p/seg000004.ts`);
    expect(seg.status).toBe(200);
    expect(seg.headers.get("content-type")).toBe("video/mp2t");
    expect(seg.headers.get("access-control-allow-origin")).toBe("*");
    expect(seg.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(new Uint8Array(await seg.arrayBuffer())).toEqual(new Uint8Array(188).fill(4));

    const head = await fetch(`${base}/source/seg000004.ts`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(188 * 4));
    expect(await head.text()).toBe("");

    // Window 3 + grace 1: segment 0 is gone, 1 is still served to a late player.
    expect((await fetch(`${base}/source/seg000001.ts`)).status).toBe(200);
    expect((await fetch(`${base}/source/seg000000.ts`)).status).toBe(404);
  });

  it("answers unknown streams, renditions, files and methods with clear refusals", async () => {
    const notFound = [
      "/live/nope/index.m3u8",
      "/live/empty/index.m3u8",
      "/live/cam%201/720p/index.m3u8",
      "/live/cam%201/source/seg999999.ts",
      "/live/cam%201/%2E%2E/index.m3u8",
      "/live/cam%201/source/passwd",
      "/live/%E0%A4%A/index.m3u8",
      "/elsewhere",
    ];
    for (const path of notFound) {
      const response = await fetch(`${url}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      expect((await response.text()).length).toBeGreaterThan(5);
    }
    // No segment yet: the master is not offered (a player would load empty playlists).
    expect(await (await fetch(`${url}/live/empty/index.m3u8`)).text()).toContain("no segment yet");
    const post = await fetch(`${url}/live/cam%201/index.m3u8`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const preflight = await fetch(`${url}/live/cam%201/index.m3u8`, { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("serves the player page, hls.js from node_modules and the list of streams", async () => {
    const page = await fetch(`${url}/watch/cam%201`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<script src="/assets/hls.min.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('const KEY = "cam 1";');

    // A key cannot break out of the page's markup or script.
    const hostile = await (
      await fetch(`${url}/watch/${encodeURIComponent("</script><b>")}`)
    ).text();
    expect(hostile).not.toContain("</script><b>");
    expect(hostile).not.toContain("<b>");

    const hlsJs = await fetch(`${url}/assets/hls.min.js`);
    expect(hlsJs.status).toBe(200);
    expect(hlsJs.headers.get("content-type")).toBe("text/javascript");
    expect((await hlsJs.text()).length).toBeGreaterThan(100_000);

    const index = await (await fetch(`${url}/`)).text();
    expect(index).toContain('href="/watch/cam%201"');
    expect(index).toContain('href="/live/cam%201/index.m3u8"');
    expect(index).toContain('href="/watch/empty"');
  });

  it("serves /status, /metrics and /healthz as the orchestrator does", async () => {
    const status = await fetch(`${url}/status`);
    expect(status.headers.get("content-type")).toBe("application/json");
    expect(await status.json()).toEqual({ streams: 2, spent: "1000000000000000000" });
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    healthy = true;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("lets an ended stream's playlists be cached and ends them with ENDLIST", async () => {
    await live.end();
    const media = await fetch(`${url}/live/cam%201/source/index.m3u8`);
    expect(media.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(await media.text()).toMatch(/#EXT-X-ENDLIST\n$/);
  });

  it("refuses a port in use with a coded error", async () => {
    let caught: unknown;
    try {
      await startLiveHttpServer({
        host: "127.0.0.1",
        port: server.port,
        streams: () => streams,
        status: () => ({}),
        metrics: null,
        healthy: () => true,
      });
    } catch (error) {
      caught = error;
    }
    expect(isSegmintError(caught) && caught.code).toBe("HTTP_PORT_IN_USE");
  });
});
