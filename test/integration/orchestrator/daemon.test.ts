import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.ts";
import {
  chainFlags,
  eventually,
  type OrchestratorProcess,
  spawnOrchestrator,
  startTestChain,
  type TestChain,
  TOKEN,
} from "./helpers.ts";

describe("segmint orchestrator (a real process on a real chain)", () => {
  let t: TestChain;
  let orch: OrchestratorProcess | null = null;

  beforeAll(async () => {
    t = await startTestChain();
  });

  afterAll(async () => {
    await orch?.kill();
    await t?.close();
  });

  it("registers, bonds, publishes its peer id, serves /status and /healthz, rewards, and exits 0 on SIGTERM", async () => {
    const me = t.wallet(1);
    await t.fund(me.address, 5_000n * TOKEN);
    orch = await spawnOrchestrator(
      [
        ...chainFlags(t),
        "--data-dir",
        path.join(t.dir, "o1"),
        "--price-per-pixel",
        "1000",
        "--reward-cut",
        "50000",
        "--fee-share",
        "400000",
        "--stake",
        (1_000n * TOKEN).toString(),
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--http-port",
        "0",
        "--poll-interval",
        "200",
      ],
      { SEGMINT_PRIVATE_KEY: t.key(1) },
    );
    const { ready } = orch;
    expect(ready.event).toBe("ready");
    expect(ready.address).toBe(me.address);
    expect(ready.peerId).toMatch(/^12D3KooW/);
    expect(ready.multiaddrs.length).toBeGreaterThan(0);
    expect(ready.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // On chain: registered with the asked terms, stake bonded; no service info before the seat.
    const bm = t.as(0).bondingManager;
    const info = await bm.getOrchestrator(me.address);
    expect(info.registered).toBe(true);
    expect(info.rewardCut).toBe(50_000n);
    expect(info.feeShare).toBe(400_000n);
    expect(await bm.pendingStake(me.address)).toBe(1_000n * TOKEN);
    expect((await t.as(0).registry.serviceInfo(me.address)).peerId).toBe("");

    const health = await fetch(`${ready.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const status = (await (await fetch(`${ready.httpUrl}/status`)).json()) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({
      address: me.address,
      peerId: ready.peerId,
      stake: (1_000n * TOKEN).toString(),
      pricePerPixel: "1000",
      sessions: 0,
      tickets: { pending: 0, redeemed: 0 },
    });
    expect(status.capacity).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`${ready.httpUrl}/metrics`)).text();
    expect(metrics).toContain("segmint_transcode_capacity_sessions");

    // A second daemon on the same data dir, or with the same key on this chain, is refused in
    // one line before it sends anything (it would take over the registry entry).
    const second = (dataDir: string) =>
      runCli(
        [
          "orchestrator",
          ...chainFlags(t),
          "--data-dir",
          dataDir,
          "--price-per-pixel",
          "1000",
          "--http-port",
          "0",
        ],
        { env: { SEGMINT_PRIVATE_KEY: t.key(1) } },
      );
    for (const [dataDir, code] of [
      [path.join(t.dir, "o1"), "DATA_DIR_IN_USE"],
      [path.join(t.dir, "o1-again"), "KEY_IN_USE"],
    ] as const) {
      const refused = await second(dataDir);
      expect(refused.code).toBe(1);
      const errors = refused.stderr.split("\n").filter((l) => l.startsWith("error"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`error [${code}]`);
    }

    // Active from the next round: the reward service calls reward() once, and stake grows.
    await t.mineRounds(1);
    const rewarded = await eventually(
      async () => {
        const s = (await (await fetch(`${ready.httpUrl}/status`)).json()) as {
          active: boolean;
          rewardCalls: number;
          stake: string;
        };
        return s.active && s.rewardCalls === 1 ? s : undefined;
      },
      30_000,
      "reward() in the first active round",
    );
    expect(BigInt(rewarded.stake)).toBeGreaterThan(1_000n * TOKEN);
    // Seated now: the daemon publishes its real peer id and addresses, with the key's proof.
    const service = await eventually(
      async () => {
        const entry = await t.as(0).registry.serviceInfo(me.address);
        return entry.peerId === "" ? undefined : entry;
      },
      30_000,
      "service info in the registry",
    );
    expect(service.peerId).toBe(ready.peerId);
    const port = /\/tcp\/(\d+)/.exec(ready.multiaddrs[0] ?? "")?.[1];
    expect(service.multiaddrs.some((a) => a.includes(`/tcp/${port}`))).toBe(true);
    expect(service.peerIdSignature).toMatch(/^0x[0-9a-f]{128}$/);
    // The market view finds it in the registry and asks it for its price over libp2p, as a
    // broadcaster with a deposit (orchestrators quote only to a sender that can pay).
    const sender = t.as(2);
    await t.fund(t.wallet(2).address, 10n * TOKEN);
    await (await sender.token.approve(t.deployment.contracts.TicketBroker, 10n * TOKEN)).wait();
    await (await sender.ticketBroker.fundDepositAndReserve(5n * TOKEN, 5n * TOKEN)).wait();
    const market = await runCli(["orchestrators", "--json", "--sender", t.wallet(2).address], {
      env: { SEGMINT_RPC: t.chain.url, SEGMINT_DEPLOYMENT: t.deploymentFile },
    });
    expect(market.code).toBe(0);
    expect(JSON.parse(market.stdout)).toMatchObject({
      orchestrators: [
        { address: me.address, active: true, reachable: true, pricePerPixel: "1000" },
      ],
    });
    expect((await bm.getOrchestrator(me.address)).lastRewardRound).toBe(
      await t.as(0).roundsManager.currentRound(),
    );

    expect(await orch.stop()).toBe(0);
    // Exactly one line on stdout: the ready line (logs go to stderr).
    expect(orch.stdout().trim().split("\n")).toHaveLength(1);
    expect(orch.stderr()).toContain("orchestrator stopped");
    orch = null;
  });

  it("reports every bad setting in one line and exits 1", async () => {
    const result = await runCli(
      ["orchestrator", "--rpc", "not-a-url", "--reward-cut", "2000000", "--http-port", "-1"],
      { env: { SEGMINT_PRICE_PER_PIXEL: "lots" } },
    );
    expect(result.code).toBe(1);
    const lines = result.stderr
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("error"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error \[CONFIG_INVALID\]/);
    for (const setting of ["rpc", "deployment", "pricePerPixel", "rewardCut", "httpPort"]) {
      expect(lines[0]).toContain(`${setting}:`);
    }
  });

  it("refuses an unreachable chain with a coded error", async () => {
    const result = await runCli(
      [
        "orchestrator",
        "--rpc",
        "http://127.0.0.1:1",
        "--deployment",
        t.deploymentFile,
        "--price-per-pixel",
        "1",
        "--data-dir",
        path.join(t.dir, "o2"),
      ],
      { env: { SEGMINT_PRIVATE_KEY: t.key(2) } },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error \[CHAIN_UNREACHABLE\]/);
  });
});
