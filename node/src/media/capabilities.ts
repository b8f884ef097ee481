import { existsSync } from "node:fs";
import { z } from "zod";
import { errorMessage } from "../errors.ts";
import { type Binaries, type LocateOptions, locateBinaries } from "./binaries.ts";
import { MediaError, stderrTail } from "./errors.ts";
import { parseEncoders, parseHwaccels } from "./ffmpeg-lists.ts";
import { cpuCores } from "./options.ts";
import { runBinary } from "./process.ts";

const binarySchema = z.object({
  path: z.string(),
  source: z.enum(["option", "env", "path", "npm"]),
  version: z.string(),
});

export const capabilitiesSchema = z.object({
  schema: z.literal(1),
  ffmpeg: binarySchema,
  ffprobe: binarySchema.nullable(),
  cpuCores: z.number().int().positive(),
  encoders: z.array(
    z.object({
      name: z.string(),
      codec: z.string(),
      hardware: z.boolean(),
      device: z.enum(["cpu", "nvidia", "vaapi", "qsv"]),
      listed: z.boolean(),
      works: z.boolean(),
      error: z.string().optional(),
    }),
  ),
  decoders: z.array(
    z.object({
      hwaccel: z.enum(["cuda", "vaapi", "qsv"]),
      device: z.enum(["nvidia", "vaapi", "qsv"]),
      codecs: z.array(z.string()),
      listed: z.boolean(),
      works: z.boolean(),
      error: z.string().optional(),
    }),
  ),
  devices: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(["cpu", "nvidia", "vaapi", "qsv"]),
      maxSessions: z.number().int().positive(),
    }),
  ),
  detectedAt: z.string(),
  detectionSeconds: z.number().nonnegative(),
});

export type Capabilities = z.infer<typeof capabilitiesSchema>;
type EncoderCap = Capabilities["encoders"][number];
type DecoderCap = Capabilities["decoders"][number];
type DeviceKind = EncoderCap["device"];

interface EncoderProbe {
  name: string;
  codec: string;
  device: DeviceKind;
  /** Args between the lavfi input and the output. */
  args: string[];
  /** Args before the input (device set-up). */
  pre?: string[];
}

const VAAPI_NODE = "/dev/dri/renderD128";

// Test sources are tiny (256x144, 10 frames) so ten probes in parallel finish in well under a
// second on 2 cores; the hardware encoders need at least this size (NVENC's minimum is 145x49
// on some generations, QSV wants multiples of 16).
export const ENCODER_PROBES: readonly EncoderProbe[] = [
  { name: "libx264", codec: "h264", device: "cpu", args: ["-preset", "ultrafast"] },
  {
    name: "libx265",
    codec: "hevc",
    device: "cpu",
    args: ["-preset", "ultrafast", "-x265-params", "log-level=error"],
  },
  {
    name: "libvpx-vp9",
    codec: "vp9",
    device: "cpu",
    args: ["-deadline", "realtime", "-cpu-used", "8"],
  },
  {
    name: "libaom-av1",
    codec: "av1",
    device: "cpu",
    args: ["-cpu-used", "8", "-strict", "experimental"],
  },
  { name: "h264_nvenc", codec: "h264", device: "nvidia", args: [] },
  { name: "hevc_nvenc", codec: "hevc", device: "nvidia", args: [] },
  {
    name: "h264_vaapi",
    codec: "h264",
    device: "vaapi",
    pre: ["-vaapi_device", VAAPI_NODE],
    args: ["-vf", "format=nv12,hwupload"],
  },
  {
    name: "h264_qsv",
    codec: "h264",
    device: "qsv",
    pre: ["-init_hw_device", "qsv=hw", "-filter_hw_device", "hw"],
    args: ["-vf", "hwupload=extra_hw_frames=64,format=qsv"],
  },
];

interface DecoderProbe {
  hwaccel: DecoderCap["hwaccel"];
  device: DecoderCap["device"];
  /** Decoding must really happen on the device: frames stay there until hwdownload, which
   * fails on software frames, so a silent CPU fallback is reported as "not working". */
  pre: string[];
  filter: string;
}

export const DECODER_PROBES: readonly DecoderProbe[] = [
  {
    hwaccel: "cuda",
    device: "nvidia",
    pre: ["-hwaccel", "cuda", "-hwaccel_output_format", "cuda"],
    filter: "hwdownload,format=nv12",
  },
  {
    hwaccel: "vaapi",
    device: "vaapi",
    pre: ["-hwaccel", "vaapi", "-hwaccel_device", VAAPI_NODE, "-hwaccel_output_format", "vaapi"],
    filter: "hwdownload,format=nv12",
  },
  {
    hwaccel: "qsv",
    device: "qsv",
    pre: ["-hwaccel", "qsv", "-c:v", "h264_qsv"],
    filter: "hwdownload,format=nv12",
  },
];

const PROBE_TIMEOUT_MS = 20_000;
const TEST_SOURCE = "testsrc2=size=256x144:rate=30:duration=1";

export interface DetectOptions extends LocateOptions {
  /** Sessions per device kind; defaults: CPU = cores / 2 (a 1080p ladder keeps ~2 cores busy),
   * NVIDIA = 8 (consumer NVENC caps at 8 sessions in recent drivers), VAAPI/QSV = 4. */
  sessions?: Partial<Record<DeviceKind, number>>;
}

async function ffmpegOk(
  ffmpeg: string,
  args: string[],
  stdin?: Buffer,
): Promise<{ ok: boolean; error?: string }> {
  try {
    const result = await runBinary(ffmpeg, { args, stdin, timeoutMs: PROBE_TIMEOUT_MS });
    if (result.exitCode === 0) return { ok: true };
    return {
      ok: false,
      error: stderrTail(result.stderr, 2) || `exit ${result.exitCode ?? result.signal}`,
    };
  } catch (error) {
    return { ok: false, error: errorMessage(error) };
  }
}

/**
 * Why a listed accelerator cannot work here without running a probe (which would only fail
 * with a vaguer message), or null when nothing rules it out.
 */
function missingDevice(device: DeviceKind): string | null {
  if (device === "vaapi" && !existsSync(VAAPI_NODE)) return `no VAAPI render node (${VAAPI_NODE})`;
  return null;
}

async function listOutput(ffmpeg: string, flag: string): Promise<string> {
  const result = await runBinary(ffmpeg, {
    args: ["-hide_banner", flag],
    captureStdout: true,
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return result.stdout.toString("utf8");
}

/** A 1 s H.264 MPEG-TS clip made in memory, for hardware decode probes. */
async function sampleH264(ffmpeg: string): Promise<Buffer | undefined> {
  const result = await runBinary(ffmpeg, {
    args: [
      "-hide_banner",
      "-nostdin",
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      TEST_SOURCE,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      "-f",
      "mpegts",
      "pipe:1",
    ],
    captureStdout: true,
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return result.exitCode === 0 && result.stdout.length > 0 ? result.stdout : undefined;
}

export async function detectCapabilities(options: DetectOptions = {}): Promise<Capabilities> {
  const started = performance.now();
  const binaries: Binaries = await locateBinaries(options);
  const ffmpeg = binaries.ffmpeg.path;
  const [encoderList, hwaccelList, sample] = await Promise.all([
    listOutput(ffmpeg, "-encoders").then(parseEncoders),
    listOutput(ffmpeg, "-hwaccels").then(parseHwaccels),
    sampleH264(ffmpeg),
  ]);
  const listedEncoders = new Set(encoderList.map((e) => e.name));
  const hwaccels = new Set(hwaccelList);

  const encoders = await Promise.all(
    ENCODER_PROBES.map(async (probe): Promise<EncoderCap> => {
      const base = {
        name: probe.name,
        codec: probe.codec,
        hardware: probe.device !== "cpu",
        device: probe.device,
      };
      if (!listedEncoders.has(probe.name)) {
        return { ...base, listed: false, works: false, error: "not compiled into this ffmpeg" };
      }
      const absent = missingDevice(probe.device);
      if (absent !== null) return { ...base, listed: true, works: false, error: absent };
      const { ok, error } = await ffmpegOk(ffmpeg, [
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        ...(probe.pre ?? []),
        "-f",
        "lavfi",
        "-i",
        TEST_SOURCE,
        "-frames:v",
        "10",
        "-c:v",
        probe.name,
        ...probe.args,
        "-f",
        "null",
        "-",
      ]);
      return { ...base, listed: true, works: ok, ...(error ? { error } : {}) };
    }),
  );
  const decoders = await Promise.all(
    DECODER_PROBES.map(async (probe): Promise<DecoderCap> => {
      const base = { hwaccel: probe.hwaccel, device: probe.device, codecs: ["h264"] };
      if (!hwaccels.has(probe.hwaccel)) {
        return { ...base, listed: false, works: false, error: "not compiled into this ffmpeg" };
      }
      const absent = missingDevice(probe.device);
      if (absent !== null) return { ...base, listed: true, works: false, error: absent };
      if (!sample)
        return { ...base, listed: true, works: false, error: "no H.264 sample to decode" };
      const { ok, error } = await ffmpegOk(
        ffmpeg,
        [
          "-hide_banner",
          "-nostdin",
          "-v",
          "error",
          ...probe.pre,
          "-f",
          "mpegts",
          "-i",
          "pipe:0",
          "-vf",
          probe.filter,
          "-f",
          "null",
          "-",
        ],
        sample,
      );
      return { ...base, listed: true, works: ok, ...(error ? { error } : {}) };
    }),
  );
  return buildCapabilities(
    binaries,
    encoders,
    decoders,
    cpuCores(),
    options.sessions ?? {},
    started,
  );
}

export function buildCapabilities(
  binaries: Binaries,
  encoders: EncoderCap[],
  decoders: DecoderCap[],
  cores: number,
  sessions: Partial<Record<DeviceKind, number>>,
  started: number,
): Capabilities {
  const kinds = new Set<DeviceKind>(["cpu"]);
  for (const e of encoders) if (e.works) kinds.add(e.device);
  for (const d of decoders) if (d.works) kinds.add(d.device);
  const defaults: Record<DeviceKind, number> = {
    cpu: Math.max(1, Math.floor(cores / 2)),
    nvidia: 8,
    vaapi: 4,
    qsv: 4,
  };
  const devices = [...kinds].map((kind) => ({
    id: kind === "cpu" ? "cpu" : `${kind}:0`,
    kind,
    maxSessions: sessions[kind] ?? defaults[kind],
  }));
  const document = {
    schema: 1 as const,
    ffmpeg: binaries.ffmpeg,
    ffprobe: binaries.ffprobe ?? null,
    cpuCores: cores,
    encoders,
    decoders,
    devices,
    detectedAt: new Date().toISOString(),
    detectionSeconds: Math.round(performance.now() - started) / 1000,
  };
  return parseCapabilities(document);
}

export function parseCapabilities(value: unknown): Capabilities {
  const parsed = capabilitiesSchema.safeParse(value);
  if (!parsed.success) {
    throw new MediaError(
      "CAPABILITIES_INVALID",
      `invalid capability document: ${parsed.error.message}`,
      {
        problems: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      },
    );
  }
  return parsed.data;
}

const cache = new Map<string, Promise<Capabilities>>();

/** Detection runs once per process (per settings); the orchestrator calls this at start-up. */
export function getCapabilities(options: DetectOptions = {}): Promise<Capabilities> {
  const key = JSON.stringify([options.ffmpegPath, options.ffprobePath, options.sessions]);
  let hit = cache.get(key);
  if (!hit) {
    hit = detectCapabilities(options);
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}
