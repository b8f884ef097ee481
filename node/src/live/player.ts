import { escapeHtml } from "../http.ts";

/**
 * The viewer's page for one live stream: hls.js (served by the broadcaster itself from
 * node_modules) playing /live/KEY/index.m3u8 muted, a rendition picker, the live latency and
 * basic stats. It waits for a stream that has not started and starts again after one that
 * went away, so a viewer can open it before the publisher connects.
 *
 * The page publishes its numbers as `window.segmintPlayer` for tests and scripts.
 */

/**
 * hls.js settings, chosen for latency first without stalling:
 * - liveSyncDurationCount 2: start two target durations (4 s with 2 s segments) behind the
 *   newest listed segment, then hold two usual segment lengths (followSegmentLength below).
 *   One is too tight: the next segment is listed only once it is whole and transcoded, so the
 *   buffer would run dry at every segment boundary. Measured in Chromium with 2 s segments
 *   listed 1.2-2 s after they close: 5-7 s behind the wall clock.
 * - lowLatencyMode off: our playlists have no LL-HLS parts, and in that mode hls.js resets the
 *   playback rate to 1 whenever the buffer is short, which is exactly when the page slows down
 *   (see steerPlaybackRate below), so the page steers the rate itself.
 * - liveMaxLatencyDurationCount 4: beyond four target durations behind (after a stall), jump
 *   to the live point instead of catching up slowly.
 * - liveMaxUnchangedPlaylistRefresh 6: a rendition whose playlist has not moved in six reloads
 *   (about three segment durations: its orchestrators keep missing the deadline, and skipped
 *   segments are simply left out) is given up for another, instead of waiting on it.
 * - maxBufferLength / backBufferLength: a live player never has more than the window ahead;
 *   keeping little behind holds memory flat over hours.
 * - Retries: playlists and segments are retried for longer than hls.js's default, since a live
 *   stream may pause for a publisher's reconnect.
 */
export const playerHlsConfig = {
  liveSyncDurationCount: 2,
  liveMaxLatencyDurationCount: 4,
  liveDurationInfinity: true,
  liveMaxUnchangedPlaylistRefresh: 6,
  maxBufferLength: 12,
  backBufferLength: 10,
  enableWorker: true,
  lowLatencyMode: false,
  playlistLoadPolicy: {
    default: {
      maxTimeToFirstByteMs: 8_000,
      maxLoadTimeMs: 10_000,
      timeoutRetry: { maxNumRetry: 4, retryDelayMs: 500, maxRetryDelayMs: 2_000 },
      errorRetry: { maxNumRetry: 6, retryDelayMs: 500, maxRetryDelayMs: 2_000 },
    },
  },
  fragLoadPolicy: {
    default: {
      maxTimeToFirstByteMs: 8_000,
      maxLoadTimeMs: 20_000,
      timeoutRetry: { maxNumRetry: 4, retryDelayMs: 250, maxRetryDelayMs: 2_000 },
      errorRetry: { maxNumRetry: 4, retryDelayMs: 250, maxRetryDelayMs: 2_000 },
    },
  },
} as const;

const style = `
  :root { color-scheme: light dark; --muted: #888; --line: #8884; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1000px; padding: 16px; }
  h1 { font-size: 18px; margin: 0 0 8px; }
  video { width: 100%; aspect-ratio: 16 / 9; background: #000; }
  .bar { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
  .state { color: var(--muted); }
  dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; margin: 8px 0; }
  dl > div { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
  dt { color: var(--muted); font-size: 12px; }
  dd { margin: 0; font-size: 16px; font-variant-numeric: tabular-nums; }
`;

/** The page's script, plain browser JavaScript; `Hls` comes from /assets/hls.min.js. */
function script(streamKey: string): string {
  // JSON in a script element: "<" escaped so a key cannot close the element.
  const key = JSON.stringify(streamKey).replace(/</g, "\\u003c");
  return `
"use strict";
const KEY = ${key};
const CONFIG = ${JSON.stringify(playerHlsConfig)};
const BASE = "/live/" + encodeURIComponent(KEY);
const video = document.getElementById("video");
const picker = document.getElementById("level");
const stateText = document.getElementById("state");
const player = {
  state: "waiting", latencySeconds: null, edgeLatencySeconds: null, currentTime: 0,
  bufferSeconds: 0, level: -1, autoLevel: true, levels: [], resolution: null, bitrate: null,
  bandwidthEstimate: null, playbackRate: 1, droppedFrames: 0, decodedFrames: 0, stalls: 0, ended: false, errors: [],
};
window.segmintPlayer = player;
let hls = null;

function setState(state, text) {
  player.state = state;
  stateText.textContent = text;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function renditionName(level) {
  const parts = String(level.url).split("/");
  return parts.length >= 2 ? decodeURIComponent(parts[parts.length - 2]) : "level";
}

function label(level) {
  const name = renditionName(level);
  const size = level.height + "p";
  return (name === size ? name : name + " · " + size) + " · " + Math.round(level.bitrate / 1000) + " kb/s";
}

function fillPicker() {
  picker.replaceChildren(new Option("auto", "-1"));
  hls.levels.forEach((level, index) => picker.appendChild(new Option(label(level), String(index))));
  picker.value = "-1";
  player.levels = hls.levels.map((level) => ({
    name: renditionName(level), width: level.width, height: level.height, bitrate: level.bitrate,
  }));
}

picker.addEventListener("change", () => {
  if (hls === null) return;
  // currentLevel switches at once (flushing what is buffered); -1 hands back to ABR.
  hls.currentLevel = Number(picker.value);
});

async function waitForStream() {
  setState("waiting", "waiting for the stream to start…");
  for (;;) {
    try {
      const response = await fetch(BASE + "/index.m3u8", { cache: "no-store" });
      if (response.ok) return;
    } catch (error) {
      // The server is away; keep trying.
    }
    await sleep(1000);
  }
}

function noteError(data) {
  player.errors.push({ at: Date.now(), type: data.type, details: data.details, fatal: data.fatal });
  if (player.errors.length > 20) player.errors.shift();
}

async function start() {
  await waitForStream();
  if (!window.Hls || !Hls.isSupported()) {
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      setState("native", "playing with the browser's own HLS");
      video.src = BASE + "/index.m3u8";
      video.play().catch(() => setState("blocked", "press play to start"));
    } else {
      setState("unsupported", "this browser cannot play HLS (no Media Source Extensions)");
    }
    return;
  }
  hls = new Hls(CONFIG);
  typicalSegment = null;
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    fillPicker();
    setState("loading", "loading…");
    video.play().catch(() => setState("blocked", "press play to start"));
  });
  hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
    if (!data.details) return;
    if (data.details.live === false) {
      player.ended = true;
      return;
    }
    followSegmentLength(data.details.fragments);
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    noteError(data);
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    // A fatal network error: the stream may have gone away; start over once it is back.
    setState("reconnecting", "lost the stream; reconnecting…");
    const stale = hls;
    hls = null;
    stale.destroy();
    start();
  });
  hls.loadSource(BASE + "/index.m3u8");
  hls.attachMedia(video);
}

video.addEventListener("playing", () => setState("playing", "live"));
video.addEventListener("waiting", () => {
  if (player.state === "playing") player.stalls += 1;
  setState("buffering", "buffering…");
});
video.addEventListener("ended", () => setState("ended", "the stream has ended"));

function bufferAhead() {
  const t = video.currentTime;
  for (let i = 0; i < video.buffered.length; i++) {
    if (video.buffered.start(i) <= t + 0.1 && t <= video.buffered.end(i)) return video.buffered.end(i) - t;
  }
  return 0;
}

function show(id, text) {
  document.getElementById(id).textContent = text;
}

/**
 * The stream's usual segment length: the median of the listed ones. hls.js measures its
 * distance from the live edge in target durations, and the target duration never shrinks
 * after one long segment (a late keyframe); the usual length keeps the distance where it was.
 */
let typicalSegment = null;
function followSegmentLength(fragments) {
  const durations = fragments.map((f) => f.duration).sort((a, b) => a - b);
  if (durations.length < 3) return;
  const typical = durations[Math.floor(durations.length / 2)];
  if (typicalSegment !== null && Math.abs(typical - typicalSegment) < 0.25) return;
  typicalSegment = typical;
  hls.targetLatency = CONFIG.liveSyncDurationCount * typical;
}

/**
 * Keeps the buffer between half a segment and under three: a skipped segment (a rendition that
 * missed its deadline), a late one or a long one eats into the buffer, so the page plays 10%
 * slower until a segment's worth is back; after a stall it holds more than it needs, so it
 * plays 10% faster until back to two. At the usual distance from the edge the buffer swings
 * between about one and two and a half segments, touching neither bound. 10% either way is
 * hard to hear (browsers keep the pitch) and hard to see.
 */
const SLOW = 0.9;
const FAST = 1.1;
function steerPlaybackRate(buffer) {
  if (hls === null || player.ended || video.paused || video.readyState < 3) return;
  const level = hls.levels[hls.currentLevel];
  const segment = typicalSegment || (level && level.details && level.details.targetduration) || 2;
  let rate = video.playbackRate;
  if (buffer < 0.5 * segment) rate = SLOW;
  else if (buffer > 2.75 * segment) rate = FAST;
  else if ((rate === SLOW && buffer >= segment) || (rate === FAST && buffer <= 2 * segment)) rate = 1;
  else if (rate !== SLOW && rate !== FAST) rate = 1;
  if (video.playbackRate !== rate) video.playbackRate = rate;
  player.playbackRate = rate;
}

function tick() {
  player.currentTime = video.currentTime;
  player.bufferSeconds = bufferAhead();
  steerPlaybackRate(player.bufferSeconds);
  const quality = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
  if (quality) {
    player.droppedFrames = quality.droppedVideoFrames;
    player.decodedFrames = quality.totalVideoFrames;
  }
  player.resolution = video.videoWidth > 0 ? video.videoWidth + "x" + video.videoHeight : null;
  if (hls !== null) {
    const date = hls.playingDate;
    player.latencySeconds = date ? (Date.now() - date.getTime()) / 1000 : null;
    player.edgeLatencySeconds = Number.isFinite(hls.latency) ? hls.latency : null;
    player.level = hls.currentLevel;
    player.autoLevel = hls.autoLevelEnabled;
    const level = hls.levels[hls.currentLevel];
    player.bitrate = level ? level.bitrate : null;
    player.bandwidthEstimate = Number.isFinite(hls.bandwidthEstimate) ? hls.bandwidthEstimate : null;
    const auto = picker.options[0];
    if (auto) auto.text = "auto" + (player.autoLevel && level ? " (" + renditionName(level) + ")" : "");
  }
  show("latency", player.latencySeconds === null ? "—" : player.latencySeconds.toFixed(1) + " s");
  show("resolution", player.resolution || "—");
  show("bitrate", player.bitrate === null ? "—" : (player.bitrate / 1e6).toFixed(2) + " Mb/s");
  show("buffer", player.bufferSeconds.toFixed(1) + " s");
  show("dropped", player.droppedFrames + " / " + player.decodedFrames);
  show("stalls", String(player.stalls));
}
setInterval(tick, 250);
start();
`;
}

/** The whole player page for `streamKey`. */
export function playerPage(streamKey: string): string {
  const name = escapeHtml(streamKey);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} · Segmint live</title>
<style>${style}</style></head>
<body>
<h1>${name}</h1>
<video id="video" muted autoplay playsinline controls></video>
<div class="bar">
  <label>rendition <select id="level"><option value="-1">auto</option></select></label>
  <span class="state" id="state">loading…</span>
</div>
<dl>
  <div><dt>latency (behind real time)</dt><dd id="latency">—</dd></div>
  <div><dt>resolution</dt><dd id="resolution">—</dd></div>
  <div><dt>bitrate</dt><dd id="bitrate">—</dd></div>
  <div><dt>buffer</dt><dd id="buffer">—</dd></div>
  <div><dt>dropped / decoded frames</dt><dd id="dropped">—</dd></div>
  <div><dt>stalls</dt><dd id="stalls">0</dd></div>
</dl>
<script src="/assets/hls.min.js"></script>
<script>${script(streamKey)}</script>
</body></html>
`;
}
