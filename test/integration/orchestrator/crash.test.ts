import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
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

/**
 * Issue 4's crash test, end to end: a broadcaster pays a real orchestrator process over libp2p
 * with a ticket that always wins, gets its renditions back, and the orchestrator is SIGKILLed
 * at once, before its redeemer's next pass. The winner was journaled before the answer, so
 * the restarted process redeems it: the sender's deposit falls by exactly the face value.
 */
describe("crash safety of the orchestrator process", () => {
  const suite = useChainSuite();

  it("redeems after a restart a winning ticket journaled just before SIGKILL", async () => {
    const { t } = suite;
    const me = t.wallet(4);
    const broadcaster = t.wallet(5);
    await fundOrchestratorAndBroadcaster(t, 4, 5);

    const dataDir = path.join(t.dir, "crash-orch");
    const args = paidOrchestratorArgs(t, dataDir, FACE_VALUE);
    const env = { SEGMINT_PRIVATE_KEY: t.key(4) };
    // The redeemer runs one pass at start-up; a 10-minute interval means no second pass
    // before the kill, so the winner is certainly still unredeemed when the process dies.
    suite.orch = await spawnOrchestrator([...args, "--poll-interval", "600000"], env);
    const firstPeerId = suite.orch.ready.peerId;
    const addr = firstMultiaddr(suite.orch);

    suite.host = await openDialerHost(path.join(t.dir, "broadcaster"));
    const params = await quoteOnceSeated(t, suite.host, addr, broadcaster.address);
    expect(params.faceValue).toBe(FACE_VALUE);
    const { response } = await payOneSegment(t, suite.host, addr, {
      params,
      senderIndex: 5,
      streamId: "crash",
      profile: "360p30",
      width: 640,
      height: 360,
      segmentFile: path.join(t.dir, "segment.ts"),
    });
    expect(response.renditions.map((r) => r.profile)).toEqual(["360p30"]);
    await suite.orch.kill();
    suite.orch = null;

    // The answer came after the journal write: the winner is on disk, not yet on chain.
    const db = openDatabase(path.join(dataDir, "orchestrator.sqlite"));
    const pending = new TicketJournal(db).listByStatus(["pending"]);
    db.close();
    expect(pending).toHaveLength(1);
    const ticketHash = pending[0]?.ticketHash ?? "";
    const broker = t.as(0).ticketBroker;
    expect(await broker.isTicketUsed(ticketHash)).toBe(false);
    expect((await broker.getSenderInfo(broadcaster.address)).deposit).toBe(50n * TOKEN);
    const feesBefore = await t.as(0).bondingManager.pendingFees(me.address);

    suite.orch = await spawnOrchestrator([...args, "--poll-interval", "200"], env);
    // Same identity; registration and stake already match the chain, so no transaction for them.
    expect(suite.orch.ready.peerId).toBe(firstPeerId);
    expect(suite.orch.stderr()).not.toMatch(
      /registered as an orchestrator|orchestrator params updated|stake bonded/,
    );
    expect(suite.orch.stderr()).toContain("unsettled winning tickets found in the journal");
    await eventually(
      async () => ((await broker.isTicketUsed(ticketHash)) ? true : undefined),
      30_000,
      "the journaled winner to be redeemed",
    );
    expect((await broker.getSenderInfo(broadcaster.address)).deposit).toBe(
      50n * TOKEN - FACE_VALUE,
    );
    // The orchestrator is its own only delegator, so the whole face value comes back to it
    // (less at most rounding dust from the fee-per-share arithmetic).
    const gained = (await t.as(0).bondingManager.pendingFees(me.address)) - feesBefore;
    expect(gained).toBeLessThanOrEqual(FACE_VALUE);
    expect(gained).toBeGreaterThan(FACE_VALUE - 1_000n);
    const status = await eventually(
      async () => {
        const s = (await (await fetch(`${suite.orch?.ready.httpUrl}/status`)).json()) as {
          tickets: { redeemed: number; redeemedValue: string };
        };
        return s.tickets.redeemed === 1 ? s : undefined;
      },
      10_000,
      "/status to count the redemption",
    );
    expect(status.tickets.redeemedValue).toBe(FACE_VALUE.toString());
    expect(await suite.orch.stop()).toBe(0);
    suite.orch = null;
  });
});
