import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

/** The npm-shipped static ffmpeg 4.1 (what `npm ci` installs everywhere). */
const npmFfmpeg: string = require("@ffmpeg-installer/ffmpeg").path;

/**
 * A distribution's ffmpeg, as many users have it: the first `ffmpeg` on PATH. CI installs
 * Debian's (`.ci/run`). Without one, the system-ffmpeg project fails with FFMPEG_NOT_FOUND
 * rather than passing untested.
 */
function systemFfmpeg(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir.length === 0 || dir.includes("node_modules")) continue;
    try {
      accessSync(join(dir, "ffmpeg"), constants.X_OK);
      return join(dir, "ffmpeg");
    } catch {
      // Not in this folder.
    }
  }
  return "/usr/bin/ffmpeg";
}

// One project per test tier (docs/architecture.md): unit tests use injected fakes and run
// fast; contract tests run on Hardhat's in-process chain; integration tests use the real
// ffmpeg, a Hardhat chain over JSON-RPC and libp2p hosts on 127.0.0.1. The media engine's
// integration tests run twice, once per ffmpeg build: the two differ in what they accept (a
// truncated file, a crash on `-f hls -var_stream_map`), in their encoders and in their
// decoders' messages (docs/performance.md gives the time it adds).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: "contracts",
          include: ["test/contracts/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // The static build, even where a system ffmpeg comes first on PATH.
          env: { FFMPEG_PATH: npmFfmpeg },
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Integration tests start chains, ffmpeg processes and libp2p hosts; on a
          // 2-core machine running files in parallel only makes each one flaky.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "media-system-ffmpeg",
          include: ["test/integration/media/**/*.test.ts"],
          // The CLI's wiring (flags, output, one-line errors) does not depend on the build, and
          // its 1080p ladder is the costliest file: the engine's own files cover the build.
          exclude: ["test/integration/media/cli.test.ts"],
          env: { FFMPEG_PATH: systemFfmpeg() },
          // After the other projects (group 0), so its ffmpeg runs never compete with the
          // integration project's for the same cores.
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
