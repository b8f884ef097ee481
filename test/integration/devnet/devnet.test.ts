import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevnetSummary } from "../../../node/src/devnet/index.ts";
import { probeMedia } from "../../../node/src/media/index.ts";
import { runCli } from "../../helpers/cli.ts";
import { createMediaWorkspace, type MediaWorkspace, playHlsVariant } from "../../helpers/media.ts";

/**
 * `segmint devnet --json` end to end: a chain, the contracts, two orchestrator processes and a
 * broadcast, checked from the outside: the HLS decodes, the renditions have their sizes and the
 * source's duration, both orchestrators worked, and the money on chain adds up exactly.
 */
describe("segmint devnet", () => {
  let media: MediaWorkspace;
  let dir: string;
  let clip: string;
  let clipSeconds: number;

  beforeAll(async () => {
    media = await createMediaWorkspace();
    dir = await mkdtemp(path.join(tmpdir(), "segmint-devnet-it-"));
    // A short 480p clip (2 s keyframes: three segments) keeps the run quick; the default
    // 10 s 1080p clip is what `npm run devnet` shows.
    clip = await media.clip("source.ts", { width: 854, height: 480, fps: 30, durationSeconds: 6 });
    clipSeconds =
      (await probeMedia(clip, { ffmpegPath: media.ffmpegPath })).video?.durationSeconds ?? 0;
  });

  afterAll(async () => {
    await media?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("broadcasts through two orchestrators into playable HLS and settles on chain", async () => {
    const out = path.join(dir, "hls");
    const result = await runCli(
      [
        "devnet",
        "--json",
        "--input",
        clip,
        "--out",
        out,
        "--profiles",
        "360p,240p",
        "--log-level",
        "warn",
      ],
      { timeoutMs: 280_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split("\n");
    const summary = JSON.parse(lines[lines.length - 1] ?? "") as DevnetSummary;

    expect(summary.hlsDir).toBe(out);
    expect(summary.segments).toBe(3);
    expect(summary.renditions).toBe(2);
    for (const [name, width, height] of [
      ["360p", 640, 360],
      ["240p", 426, 240],
    ] as const) {
      const playlist = path.join(out, name, "index.m3u8");
      const played = await playHlsVariant(media.ffmpegPath, playlist);
      expect(played.errors).toBe("");
      expect([played.width, played.height]).toEqual([width, height]);
      expect(Math.abs(played.durationSeconds - clipSeconds)).toBeLessThanOrEqual(0.2);
    }

    // Both orchestrators did work.
    expect(summary.orchestrators).toHaveLength(2);
    for (const o of summary.orchestrators) expect(o.segments).toBeGreaterThan(0);
    expect(summary.orchestrators.reduce((s, o) => s + o.segments, 0)).toBe(summary.segments);

    // Money: tickets were sent and won; every winner was redeemed; what the TicketBroker paid is
    // exactly what left the broadcaster's deposit and reserve, exactly what the orchestrators'
    // journals say they redeemed, and (but for fee-share rounding dust) what they can withdraw.
    expect(summary.ticketsSent).toBeGreaterThan(0);
    expect(summary.redeemedTickets).toBe(summary.winningTickets);
    expect(BigInt(summary.paid)).toBe(BigInt(summary.broadcasterFundsSpent));
    const journaled = summary.orchestrators.reduce(
      (s, o) => s + BigInt(o.journalRedeemedValue),
      0n,
    );
    expect(journaled).toBe(BigInt(summary.paid));
    for (const o of summary.orchestrators) {
      const earned = BigInt(o.feesEarned);
      const withdrawable = BigInt(o.pendingFees);
      expect(withdrawable).toBeLessThanOrEqual(earned);
      expect(earned - withdrawable).toBeLessThan(1_000n);
    }
  });
});
