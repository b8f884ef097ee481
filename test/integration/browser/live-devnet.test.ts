import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  launchBrowser,
  readPlayer,
  type TestBrowser,
  waitForPlayer,
} from "../../helpers/browser.ts";
import { repoRoot, segmintBin } from "../../helpers/cli.ts";

const readySchema = z.object({
  event: z.literal("live"),
  rtmpUrl: z.string().startsWith("rtmp://127.0.0.1:"),
  hlsUrl: z.string(),
  playerUrl: z.string(),
  statusUrl: z.string(),
  dashboards: z.array(z.string()),
});

const summarySchema = z.object({
  segments: z.number(),
  lost: z.number(),
  late: z.number(),
  availabilityP50Seconds: z.number().nullable(),
  availabilityP95Seconds: z.number().nullable(),
  ticketsSent: z.number(),
  winningTickets: z.number(),
  redeemedTickets: z.number(),
  paid: z.string(),
  broadcasterFundsSpent: z.string(),
  orchestrators: z.array(z.object({ address: z.string(), segments: z.number() })),
  streams: z.array(z.object({ streamKey: z.string(), recording: z.string() })),
});

/** Runs `segmint ARGS`, handing each stdout line to `onLine` as it comes. */
function runLines(args: string[], onLine: (line: string) => void) {
  const child: ChildProcess = spawn(process.execPath, [segmintBin, ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let pending = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    pending += d.toString();
    for (let i = pending.indexOf("\n"); i >= 0; i = pending.indexOf("\n")) {
      onLine(pending.slice(0, i));
      pending = pending.slice(i + 1);
    }
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, exited, stderr: () => stderr };
}

describe("segmint devnet --live --push, watched in Chromium", () => {
  let browser: TestBrowser | undefined;
  let run: ReturnType<typeof runLines> | undefined;
  let outDir: string | undefined;

  afterAll(async () => {
    await browser?.close();
    if (run !== undefined && run.child.exitCode === null) {
      run.child.kill("SIGTERM");
      await run.exited;
    }
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  });

  it("shows the stream near the live edge in the player page, then reports what was paid", async () => {
    outDir = await mkdtemp(join(tmpdir(), "segmint-live-devnet-"));
    const lines: string[] = [];
    let onReady: (line: string) => void = () => {};
    const ready = new Promise<string>((resolve) => {
      onReady = resolve;
    });
    run = runLines(
      [
        "devnet",
        "--live",
        "--push",
        "--duration",
        "45",
        "--json",
        "--profiles",
        "360p,240p",
        "--rtmp",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--out",
        outDir,
        "--log-level",
        "warn",
      ],
      (line) => {
        lines.push(line);
        if (lines.length === 1) onReady(line);
      },
    );
    const first = await Promise.race([
      ready,
      run.exited.then((code) => {
        throw new Error(`devnet exited (${code}) before it was live: ${run?.stderr()}`);
      }),
    ]);
    const live = readySchema.parse(JSON.parse(first));
    expect(live.dashboards).toHaveLength(2);

    browser = await launchBrowser();
    const page = await browser.open(live.playerUrl);
    // Video time advances at the live edge: the player is playing and close to the newest
    // segment (a few segment lengths, whatever the machine's speed).
    const playing = await waitForPlayer(
      page,
      (p) => p.currentTime > 4 && p.latencySeconds !== null,
      60_000,
      "the player to play the live stream",
    );
    const later = await waitForPlayer(
      page,
      (p) => p.currentTime > playing.currentTime + 2,
      30_000,
      "video time to advance",
    );
    expect(later.edgeLatencySeconds ?? Number.POSITIVE_INFINITY).toBeLessThan(20);
    expect(later.levels.map((l) => l.name).sort()).toEqual(["240p", "360p", "source"].sort());
    expect(later.decodedFrames).toBeGreaterThan(0);
    const state = await readPlayer(page);
    expect(state.ended).toBe(false);
    expect(browser.pageErrors).toEqual([]);

    const code = await run.exited;
    expect(code, run.stderr()).toBe(0);
    const summary = summarySchema.parse(JSON.parse(lines.at(-1) ?? "{}"));
    expect(summary.segments).toBeGreaterThan(5);
    expect(summary.orchestrators.some((o) => o.segments > 0)).toBe(true);
    expect(summary.paid).toBe(summary.broadcasterFundsSpent);
    expect(summary.streams[0]?.recording).toContain(outDir);
  });
});
