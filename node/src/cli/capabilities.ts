import type { Command } from "commander";
import { type Capabilities, getCapabilities } from "../media/index.ts";
import { parseIntegerOption } from "./options.ts";

function formatCapabilities(c: Capabilities): string {
  const yes = (works: boolean) => (works ? "yes" : "no ");
  const lines = [
    `ffmpeg   ${c.ffmpeg.version} (${c.ffmpeg.source}: ${c.ffmpeg.path})`,
    `ffprobe  ${c.ffprobe ? `${c.ffprobe.version} (${c.ffprobe.source}: ${c.ffprobe.path})` : "not found"}`,
    `cpu      ${c.cpuCores} cores`,
    "encoders",
    ...c.encoders.map(
      (e) =>
        `  ${yes(e.works)} ${e.name.padEnd(12)} ${e.codec.padEnd(5)} ${e.device.padEnd(7)}${e.error ? ` (${e.error})` : ""}`,
    ),
    "hardware decoders",
    ...c.decoders.map(
      (d) =>
        `  ${yes(d.works)} ${d.hwaccel.padEnd(12)} ${d.codecs.join(",").padEnd(5)} ${d.device.padEnd(7)}${d.error ? ` (${d.error})` : ""}`,
    ),
    "devices",
    ...c.devices.map((d) => `  ${d.id.padEnd(10)} ${d.maxSessions} concurrent sessions`),
    `detected in ${c.detectionSeconds.toFixed(2)} s`,
  ];
  return `${lines.join("\n")}\n`;
}

export function registerCapabilities(program: Command): void {
  program
    .command("capabilities")
    .summary("show which encoders, hardware decoders and session counts this machine offers")
    .description(
      "Find ffmpeg, then prove each encoder (libx264, libx265, libvpx-vp9, libaom-av1, NVENC, VAAPI,\n" +
        "QSV) and hardware decoder (CUDA/NVDEC, VAAPI, QSV) with a short test transcode. This is the\n" +
        "document an orchestrator advertises.",
    )
    .option(
      "--cpu-sessions <n>",
      "concurrent transcodes on the CPU (default: cores / 2)",
      parseIntegerOption(1, 1024),
    )
    .option(
      "--gpu-sessions <n>",
      "concurrent transcodes per NVIDIA GPU (default: 8)",
      parseIntegerOption(1, 1024),
    )
    .option("--json", "print the capability document as JSON")
    .action(async (flags: { json?: boolean; cpuSessions?: number; gpuSessions?: number }) => {
      const sessions: { cpu?: number; nvidia?: number } = {};
      if (flags.cpuSessions !== undefined) sessions.cpu = flags.cpuSessions;
      if (flags.gpuSessions !== undefined) sessions.nvidia = flags.gpuSessions;
      const capabilities = await getCapabilities({ sessions });
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(capabilities, null, 2)}\n`
          : formatCapabilities(capabilities),
      );
    });
}
