import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Registry } from "prom-client";
import {
  escapeHtml,
  type HttpServer,
  listenHttp,
  type OperatorRoutes,
  send,
  sendText,
  serveOperatorRoute,
} from "../http.ts";
import { playerPage } from "./player.ts";
import type { LiveStreamView } from "./playlists.ts";

export interface LiveHttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The live streams by stream key, read on every request. */
  streams: () => ReadonlyMap<string, LiveStreamView>;
  /** The JSON body of GET /status. */
  status: () => Promise<unknown> | unknown;
  metrics: Registry | null;
  /** Whether the daemon is up and serving (GET /healthz answers 200, else 503). */
  healthy: () => boolean;
}

export type LiveHttpServer = HttpServer;

const PLAYLIST_TYPE = "application/vnd.apple.mpegurl";
const SEGMENT_TYPE = "video/mp2t";
/**
 * A live playlist changes with every segment: a cache may only hand out one it has checked
 * (a stale one adds its age to every viewer's latency).
 */
const LIVE_PLAYLIST_CACHE = "no-cache";
/** An ended playlist changes no more. */
const ENDED_PLAYLIST_CACHE = "public, max-age=30";
/**
 * A segment never changes while it is served, and a player only asks for it while it is in
 * the window (12 s by default). The same URL comes back with other bytes when a new stream on
 * the same key numbers its segments from 0 again, so a cache must not keep it much longer.
 */
const SEGMENT_CACHE = "public, max-age=30";
const ASSET_CACHE = "public, max-age=86400";
const CORS = { "access-control-allow-origin": "*" };

/** hls.js from node_modules, read on first request and kept: nothing comes from a CDN. */
const assets: Record<string, { module: string; type: string }> = {
  "/assets/hls.min.js": { module: "hls.js/dist/hls.min.js", type: "text/javascript" },
};
const assetCache = new Map<string, Buffer>();

async function readAsset(module: string): Promise<Buffer> {
  let bytes = assetCache.get(module);
  if (bytes === undefined) {
    bytes = await readFile(createRequire(import.meta.url).resolve(module));
    assetCache.set(module, bytes);
  }
  return bytes;
}

const SEGMENT_FILE = /^seg\d{6,}\.ts$/;

/**
 * The broadcaster's viewer-facing HTTP server:
 *
 *   GET /                                 the live streams, with links (HTML)
 *   GET /watch/KEY                        the player page (hls.js)
 *   GET /live/KEY/index.m3u8              master playlist
 *   GET /live/KEY/RENDITION/index.m3u8    media playlist (a sliding window)
 *   GET /live/KEY/RENDITION/segNNNNNN.ts  segment
 *   GET /assets/hls.min.js                hls.js, from node_modules
 *   GET /status, /metrics, /healthz       as on the orchestrator
 *
 * HEAD works everywhere; playlists and segments carry CORS so players on other origins can
 * read them.
 */
export function startLiveHttpServer(options: LiveHttpOptions): Promise<LiveHttpServer> {
  const operator: OperatorRoutes = options;
  return listenHttp(
    { host: options.host, port: options.port, portHint: "pass another --http HOST:PORT" },
    async (request, res) => {
      if (request.method === "OPTIONS") {
        res.writeHead(204, {
          ...CORS,
          "access-control-allow-methods": "GET, HEAD",
          "access-control-allow-headers": "Range",
          "access-control-max-age": "86400",
        });
        res.end();
        return;
      }
      if (request.method !== "GET" && request.method !== "HEAD") {
        sendText(res, 405, "method not allowed: use GET or HEAD", { allow: "GET, HEAD" });
        return;
      }
      const path = request.path;
      if (path === "/") return sendIndex(res, options.streams());
      const asset = assets[path];
      if (asset !== undefined) {
        const bytes = await readAsset(asset.module);
        send(res, 200, { "content-type": asset.type, "cache-control": ASSET_CACHE }, bytes);
        return;
      }
      const parts = path.split("/").slice(1).map(decodePart);
      if (parts[0] === "watch" && parts.length === 2 && validKey(parts[1])) {
        send(
          res,
          200,
          { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
          playerPage(parts[1] ?? ""),
        );
        return;
      }
      if (parts[0] === "live" && parts.length >= 3) return sendLive(res, options.streams(), parts);
      if (await serveOperatorRoute(path, operator, res)) return;
      sendText(
        res,
        404,
        "not found: try /, /watch/KEY, /live/KEY/index.m3u8, /status, /metrics or /healthz",
      );
    },
  );
}

/** A path part, percent-decoded; undefined when it does not decode. */
function decodePart(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function validKey(key: string | undefined): key is string {
  return key !== undefined && key.length > 0 && key.length <= 256 && !/[/\\\0]/.test(key);
}

function sendLive(
  res: ServerResponse,
  streams: ReadonlyMap<string, LiveStreamView>,
  parts: Array<string | undefined>,
): void {
  const [, key, first, second] = parts;
  const stream = key === undefined ? undefined : streams.get(key);
  if (stream === undefined || key === undefined) {
    sendText(res, 404, `no live stream "${key ?? ""}": it has not started, or it ended`, CORS);
    return;
  }
  if (parts.length === 3 && first === "index.m3u8") {
    const master = stream.masterPlaylist();
    if (master === null) {
      sendText(res, 404, `stream "${key}" has no segment yet: retry in a few seconds`, CORS);
      return;
    }
    const cache = stream.stats().ended ? ENDED_PLAYLIST_CACHE : LIVE_PLAYLIST_CACHE;
    send(res, 200, { ...CORS, "content-type": PLAYLIST_TYPE, "cache-control": cache }, master);
    return;
  }
  if (parts.length === 4 && first !== undefined && second === "index.m3u8") {
    const playlist = stream.mediaPlaylist(first);
    if (playlist === null) {
      sendText(res, 404, `stream "${key}" has no rendition "${first}"`, CORS);
      return;
    }
    const cache = stream.stats().ended ? ENDED_PLAYLIST_CACHE : LIVE_PLAYLIST_CACHE;
    send(res, 200, { ...CORS, "content-type": PLAYLIST_TYPE, "cache-control": cache }, playlist);
    return;
  }
  if (parts.length === 4 && first !== undefined && second !== undefined) {
    const bytes = SEGMENT_FILE.test(second) ? stream.segment(first, second) : null;
    if (bytes === null) {
      sendText(
        res,
        404,
        `segment ${first}/${second} of stream "${key}" is not in the live window (or never was)`,
        CORS,
      );
      return;
    }
    send(
      res,
      200,
      { ...CORS, "content-type": SEGMENT_TYPE, "cache-control": SEGMENT_CACHE },
      bytes,
    );
    return;
  }
  sendText(res, 404, `not found under /live/${key}/: try index.m3u8`, CORS);
}

function sendIndex(res: ServerResponse, streams: ReadonlyMap<string, LiveStreamView>): void {
  const rows = [...streams.values()].map((stream) => {
    const stats = stream.stats();
    const key = encodeURIComponent(stream.streamKey);
    const name = escapeHtml(stream.streamKey);
    const renditions = stats.renditions
      .map(
        (r) =>
          `${escapeHtml(r.name)} ${r.width}x${r.height} (${r.listed} listed, ${r.skipped} skipped)`,
      )
      .join("<br>");
    return `<tr><td><a href="/watch/${key}">${name}</a></td>
<td><a href="/live/${key}/index.m3u8">/live/${name}/index.m3u8</a></td>
<td>${stats.ended ? "ended" : "live"}</td><td>${stats.segmentsIn}</td><td>${renditions}</td></tr>`;
  });
  const table =
    rows.length === 0
      ? "<p>No live stream. Point OBS or ffmpeg at the broadcaster's RTMP URL to start one.</p>"
      : `<table><thead><tr><th>stream</th><th>HLS</th><th>state</th><th>segments in</th><th>renditions</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>`;
  send(
    res,
    200,
    { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Segmint live streams</title>
<meta http-equiv="refresh" content="5">
<style>body{font:14px/1.4 system-ui,sans-serif;margin:16px}table{border-collapse:collapse}
th,td{text-align:left;padding:4px 10px;border-bottom:1px solid #8884;vertical-align:top}</style>
</head><body><h1>Live streams</h1>${table}
<p><a href="/status">/status</a> · <a href="/metrics">/metrics</a></p></body></html>
`,
  );
}
