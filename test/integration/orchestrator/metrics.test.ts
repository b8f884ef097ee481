import path from "node:path";
import { describe, expect, it } from "vitest";
import { segmintClients } from "../../../node/src/chain/contracts.ts";
import { TxSender } from "../../../node/src/chain/tx.ts";
import { isSegmintError } from "../../../node/src/errors.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import type { OrchestratorStatus } from "../../../node/src/orchestrator/index.ts";
import type { RoundEarningsJson } from "../../../node/src/orchestrator/status.ts";
import { requestTranscode } from "../../../node/src/p2p/index.ts";
import { runCli } from "../../helpers/cli.ts";
import { openDialerHost } from "../../helpers/market.ts";
import {
  eventually,
  firstMultiaddr,
  fundOrchestratorAndBroadcaster,
  paidOrchestratorArgs,
  payOneSegment,
  quoteOnceSeated,
  spawnOrchestrator,
  TOKEN,
  useChainSuite,
} from "./helpers.ts";

const FACE_VALUE = TOKEN;

/** The value of the sample `name{labels}` in Prometheus text, or undefined when absent. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map<string, string>();
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      present.set(pair[1] ?? "", pair[2] ?? "");
    }
    if (Object.entries(labels).every(([k, v]) => present.get(k) === v)) return Number(match[3]);
  }
  return undefined;
}

/**
 * A real orchestrator process on a real chain, paid for one real segment over libp2p with a
 * ticket that always wins: its /metrics shows every subsystem (media, p2p, payments, chain,
 * store) and the counters moved by that segment; /status shows the payment before and after
 * the win is redeemed.
 */
describe("orchestrator /metrics and /status", () => {
  const suite = useChainSuite();

  it("exports every subsystem's metrics on one registry, moved by a paid segment", async () => {
    const { t } = suite;
    const me = t.wallet(3);
    const broadcaster = t.wallet(4);
    await fundOrchestratorAndBroadcaster(t, 3, 4);

    suite.orch = await spawnOrchestrator(
      [
        ...paidOrchestratorArgs(t, path.join(t.dir, "metrics-orch"), FACE_VALUE),
        "--poll-interval",
        "200",
      ],
      { SEGMINT_PRIVATE_KEY: t.key(3) },
    );
    const url = suite.orch.ready.httpUrl;
    const scrape = async () => (await fetch(`${url}/metrics`)).text();
    const status = async () => (await (await fetch(`${url}/status`)).json()) as OrchestratorStatus;

    // Idle: each subsystem already has a sample.
    const idle = await scrape();
    expect(sample(idle, "segmint_media_running_transcodes")).toBe(0);
    expect(sample(idle, "segmint_p2p_connections")).toBeGreaterThanOrEqual(0);
    expect(sample(idle, "segmint_tickets_received_total")).toBe(0);
    expect(
      sample(idle, "segmint_chain_rpc_requests_total", { method: "eth_call" }),
    ).toBeGreaterThan(0);
    expect(sample(idle, "segmint_chain_round")).toBeGreaterThan(0);
    expect(sample(idle, "segmint_store_winning_tickets", { status: "pending" })).toBe(0);
    expect(sample(idle, "segmint_transcode_capacity_sessions")).toBeGreaterThanOrEqual(1);
    expect(sample(idle, "segmint_process_resident_memory_bytes")).toBeGreaterThan(0);
    const before = await status();
    expect(before.state).toBe("serving");
    expect(before.tickets.received).toBe(0);
    expect(before.liveSessions).toEqual([]);

    // One paid segment over libp2p.
    suite.host = await openDialerHost(path.join(t.dir, "metrics-broadcaster"));
    const addr = firstMultiaddr(suite.orch);
    const params = await quoteOnceSeated(t, suite.host, addr, broadcaster.address);
    const { payments, segment, response } = await payOneSegment(t, suite.host, addr, {
      params,
      senderIndex: 4,
      streamId: "metrics-stream",
      profile: "240p30",
      width: 426,
      height: 240,
      segmentFile: path.join(t.dir, "metrics-segment.ts"),
    });
    expect(response.renditions.map((r) => r.profile)).toEqual(["240p30"]);

    // A refusal: a profile no one offers.
    const refusal = await requestTranscode(
      suite.host,
      addr,
      {
        streamId: "metrics-stream",
        seq: 1,
        durationSec: 2,
        profiles: [{ name: "no-such" }],
        tickets: [],
      },
      segment,
    ).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isSegmintError(refusal) ? refusal.code : refusal).toBe("BAD_REQUEST");

    // The winner is journaled and redeemed by the redeemer's next passes.
    const settled = await eventually(
      async () => {
        const s = await status();
        return s.tickets.redeemed === 1 ? s : undefined;
      },
      30_000,
      "the winning ticket to be redeemed",
    );
    expect(settled.tickets).toMatchObject({
      received: 1,
      won: 1,
      redeemed: 1,
      redeemedValue: FACE_VALUE.toString(),
      paidValue: FACE_VALUE.toString(),
    });
    // Win probability 1 is (2^256-1)/2^256: the expected value is the face value less dust.
    expect(BigInt(settled.tickets.expectedValueEarned)).toBeGreaterThan(FACE_VALUE - 1_000n);
    expect(BigInt(settled.tickets.expectedValueEarned)).toBeLessThanOrEqual(FACE_VALUE);
    expect(settled.throughput.segments).toBe(1);
    expect(settled.throughput.segmentsPerSecond).toBeGreaterThan(0);
    expect(settled.liveSessions).toEqual([
      expect.objectContaining({
        streamId: "metrics-stream",
        sender: broadcaster.address.toLowerCase(),
        segments: 1,
      }),
    ]);
    expect(settled.recentErrors[0]?.code).toBe("BAD_REQUEST");
    expect(settled.earnings.feesWithdrawn).toBe("0");
    expect(settled.earnings.rewards).not.toBeNull();

    const after = await scrape();
    // media
    expect(sample(after, "segmint_media_transcodes_total", { result: "ok" })).toBe(1);
    expect(sample(after, "segmint_media_ffmpeg_processes_total")).toBe(1);
    expect(sample(after, "segmint_media_transcode_seconds_count")).toBe(1);
    // p2p
    expect(
      sample(after, "segmint_p2p_streams_total", {
        protocol: "/segmint/transcode/1.0.0",
        result: "ok",
      }),
    ).toBe(1);
    expect(sample(after, "segmint_p2p_connections")).toBeGreaterThanOrEqual(1);
    // payments
    expect(sample(after, "segmint_tickets_received_total")).toBe(1);
    expect(sample(after, "segmint_tickets_won_total")).toBe(1);
    expect(sample(after, "segmint_tickets_expected_value_wei_total")).toBeCloseTo(1e18, -6);
    expect(sample(after, "segmint_tickets_redeemed_total", { status: "redeemed" })).toBe(1);
    expect(sample(after, "segmint_value_redeemed_wei_total")).toBe(1e18);
    // chain: the redemption went out as a raw transaction
    expect(
      sample(after, "segmint_chain_rpc_requests_total", { method: "eth_sendRawTransaction" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, "segmint_chain_rpc_seconds_count", { method: "eth_call" }),
    ).toBeGreaterThan(0);
    // store
    expect(sample(after, "segmint_store_winning_tickets", { status: "redeemed" })).toBe(1);
    expect(sample(after, "segmint_store_write_seconds_count", { operation: "record" })).toBe(1);
    // the orchestrator's own
    expect(sample(after, "segmint_segments_total", { result: "ok" })).toBe(1);
    expect(sample(after, "segmint_errors_total", { code: "BAD_REQUEST" })).toBe(1);

    // Earnings from the chain's events: the operator settles its fees, which then wait the
    // unlock period; meanwhile, from the next round (the first it is active in), its node's
    // reward() calls mint into its pool. Once the fees are unlocked it withdraws them.
    // Sent as a CLI command beside the running daemon would: its own sender on the daemon's
    // key, whose nonce the daemon's reward() calls may take first.
    const operator = new TxSender(me, t.provider, silentLogger());
    const bm = segmintClients(t.deployment, operator.signer).bondingManager;
    const fees = await bm.pendingFees(me.address);
    expect(fees).toBeGreaterThan(0n);
    await operator.sendAndWait("claimEarnings", () => bm.claimEarnings());
    const lock = await bm.feeBalance(me.address);
    expect(lock.locked + lock.laterLocked).toBe(fees);
    const unlockRound = lock.laterLocked > 0n ? lock.laterUnlockRound : lock.unlockRound;
    while ((await t.as(3).roundsManager.currentRound()) < unlockRound) await t.mineRounds(1);
    await eventually(
      async () => ((await status()).rewardCalls >= 1 ? true : undefined),
      30_000,
      "the reward call",
    );
    await operator.sendAndWait("withdrawFees", () => bm.withdrawFees(me.address, fees));
    // The event scan follows the chain head within a /status call or two. The node goes on
    // calling reward() as rounds pass, so the mints are summed again at each look.
    const minted = async () =>
      (await bm.queryFilter(bm.filters.Rewarded(me.address))).reduce(
        (sum, e) => sum + e.args.amount,
        0n,
      );
    expect(await minted()).toBeGreaterThan(0n);
    await eventually(
      async () => {
        const { earnings } = await status();
        const total = await minted();
        return earnings.feesWithdrawn === fees.toString() && earnings.rewards === total.toString()
          ? true
          : undefined;
      },
      10_000,
      "the fee withdrawal and the reward mint in /status",
    );

    // The earnings history, read from the data dir by `segmint earnings` while the daemon runs
    // (a WAL reader beside it): the paid ticket in the round it names, redeemed with its gas,
    // and a round whose reward() minted tokens, as /status shows them too.
    const ticketRound = payments[0]?.ticket.creationRound.toString();
    const readEarnings = async () => {
      const result = await runCli([
        "earnings",
        "--json",
        "--rounds",
        "50",
        "--data-dir",
        path.join(t.dir, "metrics-orch"),
      ]);
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as {
        rounds: RoundEarningsJson[];
        tickets: { status: string; txHash: string | null; gasFee: string | null; round: string }[];
      };
    };
    const history = await eventually(
      async () => {
        const h = await readEarnings();
        const paid = h.rounds.find((r) => r.round === ticketRound);
        return paid && paid.redemptionGas !== "0" && h.rounds.some((r) => r.rewardMinted !== null)
          ? h
          : undefined;
      },
      10_000,
      "the history to hold the receipt, the redemption's gas and a reward",
    );
    expect(history.rounds.find((r) => r.round === ticketRound)).toMatchObject({
      ticketsReceived: 1,
      winners: 1,
      redeemed: 1,
      winnersFaceValue: FACE_VALUE.toString(),
      redeemedValue: FACE_VALUE.toString(),
    });
    const evInRound = history.rounds.find((r) => r.round === ticketRound)?.expectedValue ?? "0";
    expect(BigInt(evInRound)).toBeGreaterThan(FACE_VALUE - 1_000n);
    const rewarded = history.rounds.filter((r) => r.rewardMinted !== null);
    expect(rewarded.every((r) => BigInt(r.rewardMinted ?? "0") > 0n)).toBe(true);
    expect(history.tickets).toEqual([
      expect.objectContaining({ status: "redeemed", round: ticketRound }),
    ]);
    expect(BigInt(history.tickets[0]?.gasFee ?? "0")).toBeGreaterThan(0n);
    expect(history.tickets[0]?.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await status()).rounds.find((r) => r.round === ticketRound)).toMatchObject({
      ticketsReceived: 1,
      redeemed: 1,
    });

    // A folder with no store is said as such, not created.
    const nowhere = await runCli(["earnings", "--data-dir", path.join(t.dir, "no-such-node")]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr.trim()).toMatch(/^error \[STORE_NOT_FOUND\]/);

    expect(await suite.orch.stop()).toBe(0);
    suite.orch = null;
  });
});
