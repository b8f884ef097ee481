/**
 * Parsers for `ffmpeg -hide_banner -encoders` and `-hwaccels`. A listed encoder is only
 * compiled in; capabilities.ts still proves each one with a test transcode.
 */
export interface ListedEncoder {
  name: string;
  type: "video" | "audio" | "subtitle";
  description: string;
}

// " V..... libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)"
const ENCODER_LINE = /^\s*([VAS])[.FSXBD]{5}\s+(\S+)\s+(.*)$/;

export function parseEncoders(output: string): ListedEncoder[] {
  const encoders: ListedEncoder[] = [];
  let pastLegend = false;
  for (const line of output.split("\n")) {
    // The legend ends with a " ------" line; before it, "V..... = Video" lines would match.
    if (/^\s*-{6}\s*$/.test(line)) {
      pastLegend = true;
      continue;
    }
    if (!pastLegend) continue;
    const match = ENCODER_LINE.exec(line);
    if (!match) continue;
    const [, kind, name = "", description = ""] = match;
    encoders.push({
      name,
      type: kind === "V" ? "video" : kind === "A" ? "audio" : "subtitle",
      description: description.trim(),
    });
  }
  return encoders;
}

export function parseHwaccels(output: string): string[] {
  const methods: string[] = [];
  let inList = false;
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (/^Hardware acceleration methods:?$/.test(line)) {
      inList = true;
      continue;
    }
    if (inList && /^[\w-]+$/.test(line)) methods.push(line);
  }
  return methods;
}
