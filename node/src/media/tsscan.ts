/**
 * A minimal MPEG-TS walk over ffmpeg's own output: counts video PES packets (ffmpeg's mpegts
 * muxer writes exactly one PES per video frame) and reads their PTS. The transcoder uses it to
 * report frames and duration of what it just produced without another process per rendition
 * (~15 ms each); verifiers should use `measureRendition`, which demuxes with ffmpeg.
 */
export interface TsVideoScan {
  frames: number;
  durationSeconds: number;
  startSeconds: number;
}

const PACKET = 188;
const CLOCK = 90_000;

function readPts(b: Buffer, at: number): number {
  // 33-bit PTS split 3/15/15 with marker bits (ISO 13818-1 2.4.3.7).
  const high = ((b[at] ?? 0) >> 1) & 0x07;
  const mid = (((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0)) >> 1;
  const low = (((b[at + 3] ?? 0) << 8) | (b[at + 4] ?? 0)) >> 1;
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}

/**
 * `frameSeconds` is the length of one frame when the stream itself cannot tell (one frame has
 * no neighbour to measure against); a one-frame segment then lasts one frame, not zero.
 */
export function scanTsVideo(ts: Buffer, frameSeconds = 0): TsVideoScan {
  const pts: number[] = [];
  let frames = 0;
  for (let offset = 0; offset + PACKET <= ts.length; offset += PACKET) {
    if (ts[offset] !== 0x47) continue;
    const b1 = ts[offset + 1] ?? 0;
    if ((b1 & 0x40) === 0) continue; // not the start of a PES
    const control = ((ts[offset + 3] ?? 0) >> 4) & 0x03;
    if ((control & 0x01) === 0) continue; // no payload
    let payload = offset + 4;
    if (control & 0x02) payload += 1 + (ts[offset + 4] ?? 0);
    if (payload + 14 > offset + PACKET) continue;
    if (ts[payload] !== 0 || ts[payload + 1] !== 0 || ts[payload + 2] !== 1) continue;
    const streamId = ts[payload + 3] ?? 0;
    if (streamId < 0xe0 || streamId > 0xef) continue; // video streams only
    frames++;
    if (((ts[payload + 7] ?? 0) & 0x80) !== 0) pts.push(readPts(ts, payload + 9));
  }
  if (pts.length === 0) return { frames, durationSeconds: 0, startSeconds: 0 };
  pts.sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < pts.length; i++) {
    const gap = (pts[i] ?? 0) - (pts[i - 1] ?? 0);
    if (gap > 0) gaps.push(gap);
  }
  gaps.sort((a, b) => a - b);
  const frameTicks = gaps[Math.floor(gaps.length / 2)] ?? Math.round(frameSeconds * CLOCK);
  const first = pts[0] ?? 0;
  const last = pts[pts.length - 1] ?? 0;
  return {
    frames,
    startSeconds: first / CLOCK,
    durationSeconds: (last - first + frameTicks) / CLOCK,
  };
}
