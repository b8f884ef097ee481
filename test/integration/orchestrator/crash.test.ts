import { readFile } from "node:fs/promises";
import path from "node:path";
import { multiaddr } from "@multiformats/multiaddr";
import { getBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { generateTestMedia, locateBinaries, presetProfile } from "../../../node/src/media/index.ts";
import {
  createHost,
  defaultP2pOptions,
  requestInfo,
  requestTranscode,
  type SegmintNode,
} from "../../../node/src/p2p/index.ts";
import { TicketSender } from "../../../node/src/payments/index.ts";
import {
  maxChargeablePixels,
  paymentToWire,
  ticketParamsFromWire,
} from "../../../node/src/protocol/index.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import {
  eventually,
  type OrchestratorProcess,
  spawnOrchestrator,
  startTestChain,
  type TestChain,
  TOKEN,
} from "./helpers.ts";

const FACE_VALUE = TOKEN;

/**
 * Issue 4's crash test, end to end: a broadcaster pays a real orchestrator process over libp2p
 * with a ticket that always wins, gets its renditions back, and the orchestrator is SIGKILLed
 * at once, before its redeemer's next pass. The winner was journaled before the answer, so
 * the restarted process redeems it: the sender's deposit falls by exactly the face value.
 */
describe("crash safety of the orchestrator process", () => {
  let t: TestChain;
  let host: SegmintNode | null = null;
  let orch: OrchestratorProcess | null = null;

  beforeAll(async () => {
    t = await startTestChain();
  });

  afterAll(async () => {
    await orch?.kill();
    await host?.stop();
    await t?.close();
  });

  it("redeems after a restart a winning ticket journaled just before SIGKILL", async () => {
    const me = t.wallet(4);
    const broadcaster = t.wallet(5);
    await t.fund(me.address, 2_000n * TOKEN);
    await t.fund(broadcaster.address, 100n * TOKEN);
    const asBroadcaster = t.as(5);
    await (
      await asBroadcaster.token.approve(t.deployment.contracts.TicketBroker, 50n * TOKEN)
    ).wait();
    await (await asBroadcaster.ticketBroker.fundDepositAndReserve(50n * TOKEN, 0n)).wait();

    const dataDir = path.join(t.dir, "crash-orch");
    const args = [
      "--rpc",
      t.chain.url,
      "--deployment",
      t.deploymentFile,
      "--data-dir",
      dataDir,
      "--price-per-pixel",
      "1",
      "--stake",
      (1_000n * TOKEN).toString(),
      "--face-value",
      FACE_VALUE.toString(),
      "--win-prob",
      "1",
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--http-port",
      "0",
    ];
    const env = { SEGMINT_PRIVATE_KEY: t.key(4) };
    // The redeemer runs one pass at start-up; a 10-minute interval means no second pass
    // before the kill, so the winner is certainly still unredeemed when the process dies.
    orch = await spawnOrchestrator([...args, "--poll-interval", "600000"], env);
    const firstPeerId = orch.ready.peerId;
    const addr = multiaddr(orch.ready.multiaddrs[0] ?? "");

    host = await createHost(
      {
        ...defaultP2pOptions.host,
        dataDir: path.join(t.dir, "broadcaster"),
        listen: ["/ip4/127.0.0.1/tcp/0"],
        gossipsub: false,
      },
      silentLogger(),
    );
    // A seat comes with the round after the bond: only a seated orchestrator quotes.
    await t.mineRounds(1);
    const dialer = host;
    const info = await eventually(
      () => requestInfo(dialer, addr, { sender: broadcaster.address }).catch(() => undefined),
      30_000,
      "the orchestrator to quote once seated",
    );
    const params = ticketParamsFromWire(info.ticketParams, BigInt(info.pricePerPixel));
    expect(params.faceValue).toBe(FACE_VALUE);
    const sender = new TicketSender(
      getBytes(t.key(5)),
      { chainId: 31337n, verifyingContract: t.deployment.contracts.TicketBroker },
      { maxPricePerPixel: 10n, maxTicketEV: 2n * TOKEN, maxTotalSpend: 10n * TOKEN },
    );
    const fee = maxChargeablePixels([presetProfile("360p30")], 2) * params.pricePerPixel;
    const payments = sender.createTickets(params, fee);
    expect(payments).toHaveLength(1);

    const ffmpeg = (await locateBinaries()).ffmpeg.path;
    const segmentFile = path.join(t.dir, "segment.ts");
    await generateTestMedia(ffmpeg, segmentFile, {
      width: 640,
      height: 360,
      fps: 30,
      durationSeconds: 2,
    });
    const segment = await readFile(segmentFile);
    const response = await requestTranscode(
      host,
      addr,
      {
        streamId: "crash",
        seq: 0,
        durationSec: 2,
        profiles: [{ name: "360p30" }],
        tickets: payments.map(paymentToWire),
      },
      segment,
    );
    expect(response.renditions.map((r) => r.profile)).toEqual(["360p30"]);
    await orch.kill();
    orch = null;

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

    orch = await spawnOrchestrator([...args, "--poll-interval", "200"], env);
    // Same identity; registration and stake already match the chain, so no transaction for them.
    expect(orch.ready.peerId).toBe(firstPeerId);
    expect(orch.stderr()).not.toMatch(
      /registered as an orchestrator|orchestrator params updated|stake bonded/,
    );
    expect(orch.stderr()).toContain("unsettled winning tickets found in the journal");
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
        const s = (await (await fetch(`${orch?.ready.httpUrl}/status`)).json()) as {
          tickets: { redeemed: number; redeemedValue: string };
        };
        return s.tickets.redeemed === 1 ? s : undefined;
      },
      10_000,
      "/status to count the redemption",
    );
    expect(status.tickets.redeemedValue).toBe(FACE_VALUE.toString());
    expect(await orch.stop()).toBe(0);
    orch = null;
  });
});
