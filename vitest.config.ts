import { defineConfig } from "vitest/config";

// One project per test tier (ARCHITECTURE.md "Tests"): unit tests use injected fakes and
// run fast; contract tests run on Hardhat's in-process chain; integration tests use the
// real ffmpeg, a Hardhat chain over JSON-RPC and libp2p hosts on 127.0.0.1.
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
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Integration tests start chains, ffmpeg processes and libp2p hosts; on a
          // 2-core machine running files in parallel only makes each one flaky.
          fileParallelism: false,
        },
      },
    ],
  },
});
