/**
 * Parser for ffmpeg's `framecrc` muxer output: a header per stream (`#codec_id 0: h264`,
 * `#dimensions 0: 1920x1080`, `#tb 0: 1/90000`) and one line per packet
 * (`stream, dts, pts, duration, size, hash[, F=0xflags][, side data]`).
 *
 * Why framecrc and not ffprobe: the npm-shipped ffprobe 5.2 static build segfaults on every
 * MPEG-TS file carrying H.264 (checked by hand, see docs/performance.md), and MPEG-TS is all a
 * segment transcoder sees. `ffmpeg -c copy -f framecrc` demuxes with the same libavformat the
 * transcode will use, costs ~20 ms for a 2 s segment and exists in every ffmpeg since 3.x.
 */
export interface StreamHeader {
  index: number;
  mediaType: string | undefined;
  codec: string | undefined;
  width: number | undefined;
  height: number | undefined;
  timeBase: [number, number] | undefined;
  sampleRate: number | undefined;
  channelLayout: string | undefined;
}

export interface PacketLine {
  stream: number;
  dts: number | undefined;
  pts: number | undefined;
  duration: number;
  size: number;
  keyframe: boolean;
}

export interface FrameHash {
  streams: StreamHeader[];
  packets: PacketLine[];
}

// AV_NOPTS_VALUE (INT64_MIN) printed as a number; anything this low is "no timestamp".
const NO_TIMESTAMP = -(2 ** 62);

function header(streams: Map<number, StreamHeader>, index: number): StreamHeader {
  let stream = streams.get(index);
  if (!stream) {
    stream = {
      index,
      mediaType: undefined,
      codec: undefined,
      width: undefined,
      height: undefined,
      timeBase: undefined,
      sampleRate: undefined,
      channelLayout: undefined,
    };
    streams.set(index, stream);
  }
  return stream;
}

function timestamp(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text.trim());
  if (!Number.isFinite(value) || value < NO_TIMESTAMP) return undefined;
  return value;
}

export function parseFrameHash(text: string): FrameHash {
  const streams = new Map<number, StreamHeader>();
  const packets: PacketLine[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.length === 0) continue;
    if (line.startsWith("#")) {
      const match = /^#(\w+) (\d+):\s*(.*)$/.exec(line);
      if (!match) continue;
      const [, key, indexText, value = ""] = match;
      const stream = header(streams, Number(indexText));
      switch (key) {
        case "media_type":
          stream.mediaType = value;
          break;
        case "codec_id":
          stream.codec = value;
          break;
        case "dimensions": {
          const dims = /^(\d+)x(\d+)$/.exec(value);
          if (dims) {
            stream.width = Number(dims[1]);
            stream.height = Number(dims[2]);
          }
          break;
        }
        case "tb": {
          const tb = /^(\d+)\/(\d+)$/.exec(value);
          if (tb) stream.timeBase = [Number(tb[1]), Number(tb[2])];
          break;
        }
        case "sample_rate":
          stream.sampleRate = Number(value);
          break;
        case "channel_layout_name":
          stream.channelLayout = value;
          break;
        default:
          break;
      }
      continue;
    }
    const fields = line.split(",").map((field) => field.trim());
    if (fields.length < 6) continue;
    const flagsField = fields.slice(6).find((field) => field.startsWith("F="));
    // framecrc prints F= only when the flags differ from "keyframe".
    const keyframe = flagsField === undefined ? true : (Number(flagsField.slice(2)) & 1) === 1;
    packets.push({
      stream: Number(fields[0]),
      dts: timestamp(fields[1]),
      pts: timestamp(fields[2]),
      duration: Number(fields[3]) || 0,
      size: Number(fields[4]) || 0,
      keyframe,
    });
  }
  return { streams: [...streams.values()].sort((a, b) => a.index - b.index), packets };
}
