/**
 * A small live HLS client for tests: reads media playlists the way a player does (media
 * sequence, discontinuities, program date-times, ENDLIST) and fetches segments.
 */

export interface ListedSegment {
  uri: string;
  /** Absolute sequence number: EXT-X-MEDIA-SEQUENCE plus the position in the playlist. */
  sequence: number;
  durationSeconds: number;
  /** EXT-X-PROGRAM-DATE-TIME in ms since the epoch, when the segment carries one. */
  programDateTimeMs: number | null;
  discontinuity: boolean;
}

export interface MediaPlaylistView {
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  ended: boolean;
  segments: ListedSegment[];
}

export function parseMediaPlaylist(text: string): MediaPlaylistView {
  const lines = text.split("\n").map((l) => l.trim());
  if (lines[0] !== "#EXTM3U") throw new Error(`not a playlist: ${text.slice(0, 80)}`);
  const view: MediaPlaylistView = {
    mediaSequence: 0,
    discontinuitySequence: 0,
    targetDuration: 0,
    ended: false,
    segments: [],
  };
  let duration: number | null = null;
  let pdt: number | null = null;
  let discontinuity = false;
  for (const line of lines) {
    if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) view.mediaSequence = Number(line.slice(22));
    else if (line.startsWith("#EXT-X-DISCONTINUITY-SEQUENCE:"))
      view.discontinuitySequence = Number(line.slice(30));
    else if (line.startsWith("#EXT-X-TARGETDURATION:"))
      view.targetDuration = Number(line.slice(22));
    else if (line === "#EXT-X-ENDLIST") view.ended = true;
    else if (line === "#EXT-X-DISCONTINUITY") discontinuity = true;
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) pdt = Date.parse(line.slice(25));
    else if (line.startsWith("#EXTINF:")) duration = Number(line.slice(8).split(",")[0]);
    else if (line !== "" && !line.startsWith("#")) {
      view.segments.push({
        uri: line,
        sequence: view.mediaSequence + view.segments.length,
        durationSeconds: duration ?? Number.NaN,
        programDateTimeMs: pdt,
        discontinuity,
      });
      duration = null;
      pdt = null;
      discontinuity = false;
    }
  }
  return view;
}

export async function fetchText(
  url: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

export async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export async function readPlaylist(url: string): Promise<MediaPlaylistView | null> {
  const { status, text } = await fetchText(url);
  return status === 200 ? parseMediaPlaylist(text) : null;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (not undefined), or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
