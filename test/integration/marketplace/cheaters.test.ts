import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBroadcast } from "../../../node/src/broadcaster/index.ts";
import { ReputationStore } from "../../../node/src/broadcaster/reputation.ts";
import {
  type OrchestratorNode,
  orchestratorConfigSchema,
  startOrchestrator,
} from "../../../node/src/orchestrator/index.ts";
import {
  CAUGHT_BY,
  CHEATS,
  type Cheat,
  writeCheatingFfmpeg,
} from "../../helpers/cheating-ffmpeg.ts";
import { type LongRunning, startCli } from "../../helpers/cli.ts";
import {
  broadcast144p,
  type MarketChain,
  oneSecondSegmentsClip,
  startMarketChain,
} from "../../helpers/market.ts";
import { createMediaWorkspace, type MediaWorkspace, playHlsVariant } from "../../helpers/media.ts";

const TOKEN = 10n ** 18n;
// Long rounds: the eight start-ups send dozens of transactions (one block each on this chain),
// and no round may end while they do, or a registration estimated in one round runs in the next.
const ROUND_LENGTH = 500;
// A 1 s 144p segment is 1.1 Mpixel: 1.1e15 wei at this price, about one ticket.
const PRICE = "1000000000";
const TICKET_EV = "1000000000000000";
const SEGMENTS = 12;

/**
 * Cheating orchestrators on a real market: one honest orchestrator and seven `segmint
 * orchestrator` processes whose FFMPEG_PATH is a wrapper that cheats (black, frozen, blur,
 * crf 51, doubled frames, half size, truncated), all staked on one Hardhat chain and found
 * through the registry. One broadcast uses all eight at once: each cheat is caught on the first
 * result it returns, suspended at once, paid for that one result only (reported), recorded in
 * the reputation file, and none of its output reaches the HLS; the honest one is never failed.
 */
describe("cheating orchestrators in one broadcast", () => {
  let market: MarketChain;
  let media: MediaWorkspace;
  let honest: OrchestratorNode;
  const cheats = new Map<string, Cheat>();
  const children: LongRunning[] = [];
  let broadcasterKey: string;

  beforeAll(async () => {
    market = await startMarketChain({
      dirPrefix: "segmint-cheaters-",
      accounts: 3 + CHEATS.length,
      roundLength: ROUND_LENGTH,
    });
    media = await createMediaWorkspace();
    const [broadcaster, honestAccount, ...cheatAccounts] = market.accounts;
    if (!broadcaster || !honestAccount) throw new Error("dev accounts");
    broadcasterKey = broadcaster.privateKey;
    for (const account of [broadcaster, honestAccount, ...cheatAccounts]) {
      await market.fund(account.address, 1_000n * TOKEN);
    }
    const stake = (100n * TOKEN).toString();
    honest = await startOrchestrator(
      orchestratorConfigSchema.parse({
        rpc: market.chain.url,
        deployment: market.deploymentFile,
        privateKey: honestAccount.privateKey,
        dataDir: join(market.dir, "honest"),
        pricePerPixel: PRICE,
        stake,
        listen: ["/ip4/127.0.0.1/tcp/0"],
        httpPort: 0,
        maxSessions: 2,
        ticketEv: TICKET_EV,
        winProb: 0.1,
        logLevel: "silent",
      }),
    );
    // One after another: each start probes its ffmpeg's capabilities with ten test
    // transcodes at once, which a busy 2-core machine cannot run for seven at a time.
    for (const [i, cheat] of CHEATS.entries()) {
      const account = cheatAccounts[i];
      if (account === undefined) throw new Error("dev accounts");
      const ffmpeg = await writeCheatingFfmpeg(market.dir, cheat, media.ffmpegPath);
      const child = await startCli(
        [
          ...["orchestrator", "--rpc", market.chain.url, "--deployment", market.deploymentFile],
          ...["--key", account.privateKey, "--data-dir", join(market.dir, cheat)],
          ...["--price-per-pixel", PRICE, "--stake", stake, "--listen", "/ip4/127.0.0.1/tcp/0"],
          ...["--http-port", "0", "--max-sessions", "1", "--ticket-ev", TICKET_EV],
          ...["--win-prob", "0.1", "--log-level", "warn"],
        ],
        { timeoutMs: 120_000, env: { FFMPEG_PATH: ffmpeg } },
      );
      children.push(child);
      const address = (JSON.parse(child.firstLine) as { address: string }).address;
      cheats.set(address.toLowerCase(), cheat);
    }
    // Bonded stake counts from the next round: only active orchestrators are listed.
    await market.mineRound();
  }, 600_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await honest?.stop();
    await market?.close();
    await media?.cleanup();
  });

  it("catches each cheat on its first result, bounds and reports its pay, keeps its output out", async () => {
    const clip = await oneSecondSegmentsClip(media, SEGMENTS);
    const outDir = join(market.dir, "hls");
    const reputationFile = join(market.dir, "broadcaster", "reputation.sqlite");
    const summary = await runBroadcast({
      ...broadcast144p(market, { input: clip, outDir, privateKey: broadcasterKey }),
      orchestrators: 1 + CHEATS.length,
      // A segment may meet several cheats before the honest orchestrator.
      maxAttempts: 10,
      deposit: (10n * TOKEN).toString(),
      reserve: (1n * TOKEN).toString(),
      reputationFile,
      // Every result of an unproven orchestrator is spot-checked, so blur and crf 51 are
      // caught on their first segment too (by default half of them are).
      unprovenSpotCheckRate: 1,
    });

    // Every segment arrived, all from the honest orchestrator: no cheat's output in the HLS.
    expect(summary.segments).toBe(SEGMENTS);
    expect(Object.keys(summary.orchestrators)).toEqual([honest.address]);
    const played = await playHlsVariant(media.ffmpegPath, join(outDir, "144p", "index.m3u8"));
    expect(played.errors).toBe("");
    expect(Math.abs(played.durationSeconds - SEGMENTS)).toBeLessThanOrEqual(0.2);
    expect((await readdir(join(outDir, "144p"))).filter((f) => f.endsWith(".ts"))).toHaveLength(
      SEGMENTS,
    );

    // Each cheat failed once, on the check that catches it, and was suspended at once.
    const failures = summary.verification.failures;
    const byCheat = new Map(failures.map((f) => [cheats.get(f.orchestrator.toLowerCase()), f]));
    expect(failures).toHaveLength(CHEATS.length);
    for (const cheat of CHEATS) {
      const failure = byCheat.get(cheat);
      expect(failure, cheat).toBeDefined();
      expect(CAUGHT_BY[cheat], cheat).toContain(failure?.check);
      // What that one result cost: the tickets sent with it, one segment's fee rounded up
      // to whole tickets (each worth TICKET_EV: two), twice when its first payment was
      // refused (stale ticket params) and sent again with fresh ones.
      const paid = BigInt(failure?.valuePaid ?? "0");
      expect(paid, cheat).toBeGreaterThan(0n);
      expect(paid, cheat).toBeLessThanOrEqual(4n * BigInt(TICKET_EV));
    }
    const suspended = summary.suspended.map((a) => a.toLowerCase()).sort();
    expect(suspended).toEqual([...cheats.keys()].sort());
    expect(failures.some((f) => f.orchestrator === honest.address)).toBe(false);
    const rejected = failures.reduce((sum, f) => sum + BigInt(f.valuePaid), 0n);
    expect(BigInt(summary.verification.rejectedValue)).toBe(rejected);

    // The record outlives the run: the next session starts knowing who cheated.
    const store = ReputationStore.open(reputationFile);
    try {
      for (const address of cheats.keys()) expect(store.get(address).failed).toBe(1);
      expect(store.get(honest.address)).toMatchObject({ failed: 0, verified: SEGMENTS });
    } finally {
      store.close();
    }
  }, 300_000);
});
