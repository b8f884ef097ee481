import { join } from "node:path";
import { NonceManager, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBroadcast } from "../../../node/src/broadcaster/index.ts";
import { segmintClients } from "../../../node/src/chain/contracts.ts";
import {
  type OrchestratorNode,
  orchestratorConfigSchema,
  startOrchestrator,
} from "../../../node/src/orchestrator/index.ts";
import {
  broadcast144p,
  type MarketChain,
  oneSecondSegmentsClip,
  startMarketChain,
} from "../../helpers/market.ts";
import { createMediaWorkspace, type MediaWorkspace, playHlsVariant } from "../../helpers/media.ts";

const TOKEN = 10n ** 18n;
const ROUND_LENGTH = 10;
const SEGMENTS = 20;

/**
 * The marketplace in one piece: a broadcaster that knows nothing but the chain finds
 * the orchestrator through the on-chain registry, buys 20 segments from it over libp2p through
 * the real transcoder, verifies every rendition, and pays with tickets; winning tickets are
 * redeemed on chain and the orchestrator's token balance rises by exactly their face value.
 */
describe("20 paid segments from discovery to redemption", () => {
  let market: MarketChain;
  let media: MediaWorkspace;
  let orchestrator: OrchestratorNode;
  let orchestratorKey: string;
  let broadcasterKey: string;

  beforeAll(async () => {
    market = await startMarketChain({
      dirPrefix: "segmint-market-",
      accounts: 3,
      roundLength: ROUND_LENGTH,
    });
    media = await createMediaWorkspace();
    const [o, b] = market.accounts;
    if (!o || !b) throw new Error("dev accounts");
    orchestratorKey = o.privateKey;
    broadcasterKey = b.privateKey;
    for (const to of [o.address, b.address]) await market.fund(to, 1_000n * TOKEN);

    orchestrator = await startOrchestrator(
      orchestratorConfigSchema.parse({
        rpc: market.chain.url,
        deployment: market.deploymentFile,
        privateKey: orchestratorKey,
        dataDir: join(market.dir, "orchestrator"),
        pricePerPixel: "1000000000",
        stake: (100n * TOKEN).toString(),
        // No fee share: every fee is the orchestrator's own, so its withdrawal is exact.
        feeShare: 0,
        listen: ["/ip4/127.0.0.1/tcp/0"],
        httpPort: 0,
        maxSessions: 2,
        // One ticket per segment or so, winning a third of the time: several wins in 20 segments.
        ticketEv: "1100000000000000",
        winProb: 0.33,
        pollIntervalMs: 300,
        logLevel: "silent",
      }),
    );
    // Bonded stake counts from the next round; only active orchestrators are discoverable.
    await market.mineRound();
  });

  afterAll(async () => {
    await orchestrator?.stop();
    await market?.close();
    await media?.cleanup();
  });

  it("transcodes, verifies, pays and redeems", async () => {
    // 20 s of 256x144 with a keyframe every second: twenty 1 s segments.
    const clip = await oneSecondSegmentsClip(media, SEGMENTS);
    const outDir = join(market.dir, "hls");
    const summary = await runBroadcast({
      ...broadcast144p(market, { input: clip, outDir, privateKey: broadcasterKey }),
      orchestrators: 1,
      deposit: (10n * TOKEN).toString(),
      reserve: (1n * TOKEN).toString(),
      // No bootstrap address: the chain registry is the only way to the orchestrator.
      bootstrap: [],
    });
    expect(summary.segments).toBe(SEGMENTS);
    expect(summary.orchestrators[orchestrator.address]).toBe(SEGMENTS);
    expect(summary.retries).toBe(0);
    expect(summary.ticketsSent).toBeGreaterThanOrEqual(SEGMENTS);
    const played = await playHlsVariant(media.ffmpegPath, join(outDir, "144p", "index.m3u8"));
    expect(played.errors).toBe("");
    expect(Math.abs(played.durationSeconds - SEGMENTS)).toBeLessThanOrEqual(0.2);

    // Every winner is journaled before its answer; wait for the redeemer to settle them all.
    let status = await orchestrator.status();
    for (let i = 0; i < 100 && status.tickets.pending + status.tickets.submitted > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await orchestrator.status();
    }
    expect(status.tickets.pending + status.tickets.submitted).toBe(0);
    expect(status.tickets.redeemed).toBeGreaterThanOrEqual(1);

    const c = segmintClients(market.deployment, market.provider);
    const events = await c.ticketBroker.queryFilter(
      c.ticketBroker.filters.WinningTicketRedeemed(undefined, undefined, orchestrator.address),
    );
    expect(events).toHaveLength(status.tickets.redeemed);
    const faceValues = events.reduce((sum, e) => sum + e.args.faceValue, 0n);
    const paid = events.reduce(
      (sum, e) => sum + e.args.paidFromDeposit + e.args.paidFromReserve,
      0n,
    );
    expect(paid).toBe(faceValues);
    expect(BigInt(status.tickets.redeemedValue)).toBe(faceValues);
    const funds = await c.ticketBroker.getSenderInfo(new Wallet(broadcasterKey).address);
    expect(funds.deposit + funds.reserve).toBe(11n * TOKEN - faceValues);

    // The operator stops its node, settles its fees and, once they have waited the unlock
    // period, withdraws them: its token balance rises by exactly the face values.
    expect(await c.bondingManager.pendingFees(orchestrator.address)).toBe(faceValues);
    await orchestrator.stop();
    const orch = segmintClients(
      market.deployment,
      new NonceManager(new Wallet(orchestratorKey, market.provider)),
    );
    await (await orch.bondingManager.claimEarnings()).wait();
    await expect(
      orch.bondingManager.withdrawFees.staticCall(orchestrator.address, faceValues),
    ).rejects.toMatchObject({ revert: { name: "BondingManagerFeesLocked" } });
    const unlockPeriod = await c.ticketBroker.unlockPeriod();
    await market.provider.send("hardhat_mine", [
      `0x${(unlockPeriod * BigInt(ROUND_LENGTH)).toString(16)}`,
    ]);
    const before = await c.token.balanceOf(orchestrator.address);
    await (await orch.bondingManager.withdrawFees(orchestrator.address, faceValues)).wait();
    expect(await c.token.balanceOf(orchestrator.address)).toBe(before + faceValues);
  });
});
