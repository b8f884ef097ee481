import type { Log } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  account,
  advanceRounds,
  type Connection,
  connect,
  currentRound,
  type Fixture,
  loadSystem,
  read,
  registerOrchestrator,
  send,
  TEST_PARAMS,
  TOKEN,
} from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

async function active(f: Fixture, who: { address: string }): Promise<boolean> {
  return read<boolean>(f.bonding, "isActiveOrchestrator", who.address);
}

async function nextSet(f: Fixture): Promise<string[]> {
  return [...(await read<string[]>(f.bonding, "nextActiveSet"))];
}

// TEST_PARAMS.maxActiveSetSize is 3.
describe("BondingManager: active set", () => {
  it("admits the top stakes, with every change taking effect the next round", async () => {
    const f = await loadSystem(conn);
    const [o1, o2, o3, o4, o5] = [0, 1, 2, 3, 4].map((i) => account(f, i)) as [
      ReturnType<typeof account>,
      ReturnType<typeof account>,
      ReturnType<typeof account>,
      ReturnType<typeof account>,
      ReturnType<typeof account>,
    ];
    await registerOrchestrator(f, o1, 100n * TOKEN);
    await registerOrchestrator(f, o2, 200n * TOKEN);
    await registerOrchestrator(f, o3, 300n * TOKEN);
    expect(await nextSet(f)).toEqual([o1.address, o2.address, o3.address]);
    expect(await active(f, o1)).toBe(false);
    expect(await read(f.bonding, "activeOrchestratorCount")).toBe(0n);
    expect(await read(f.bonding, "totalActiveStake")).toBe(0n);
    expect(await read(f.bonding, "nextRoundTotalActiveStake")).toBe(600n * TOKEN);

    await advanceRounds(f);
    expect([await active(f, o1), await active(f, o2), await active(f, o3)]).toEqual([
      true,
      true,
      true,
    ]);
    expect(await read(f.bonding, "activeOrchestratorCount")).toBe(3n);
    expect(await read(f.bonding, "totalActiveStake")).toBe(600n * TOKEN);
    expect(await read(f.bonding, "activeStatus", o1.address)).toEqual([true, 3n]);

    // A bigger newcomer cannot evict anyone with stake bonded this round.
    await registerOrchestrator(f, o4, 400n * TOKEN);
    await registerOrchestrator(f, o5, 200n * TOKEN);
    expect(await nextSet(f)).toEqual([o1.address, o2.address, o3.address]);

    // From the next round its stake counts: its next touch evicts the smallest member, from the
    // round after on.
    await advanceRounds(f);
    const round = await currentRound(f);
    const receipt = await send(f.bonding, o4, "setOrchestratorParams", 0n, 0n);
    expect(seatEvents(f, receipt)).toEqual([
      ["OrchestratorDeactivated", o1.address, round + 1n],
      ["OrchestratorActivated", o4.address, round + 1n],
    ]);
    expect(await nextSet(f)).toEqual([o4.address, o2.address, o3.address]);
    expect(await active(f, o1)).toBe(true);
    expect(await active(f, o4)).toBe(false);
    expect(await read(f.bonding, "totalActiveStake")).toBe(600n * TOKEN);
    expect(await read(f.bonding, "nextRoundTotalActiveStake")).toBe(900n * TOKEN);

    // Not more than the smallest member: stays out.
    await send(f.bonding, o5, "setOrchestratorParams", 0n, 0n);
    expect(await nextSet(f)).toEqual([o4.address, o2.address, o3.address]);
    const o5info = await read<{ inNextActiveSet: boolean }>(
      f.bonding,
      "getOrchestrator",
      o5.address,
    );
    expect(o5info.inNextActiveSet).toBe(false);

    await advanceRounds(f);
    expect([await active(f, o1), await active(f, o4), await active(f, o5)]).toEqual([
      false,
      true,
      false,
    ]);
    expect(await read(f.bonding, "totalActiveStake")).toBe(900n * TOKEN);
    expect(await read(f.bonding, "activeOrchestratorCount")).toBe(3n);
    const o1info = await read<{
      active: boolean;
      inNextActiveSet: boolean;
      deactivationRound: bigint;
    }>(f.bonding, "getOrchestrator", o1.address);
    expect([o1info.active, o1info.inNextActiveSet, o1info.deactivationRound]).toEqual([
      false,
      false,
      round + 1n,
    ]);
  });

  it("lets an evicted orchestrator earn its last active round's reward, which can bring it back", async () => {
    const f = await loadSystem(conn);
    const [o1, o2, o3, o4] = [account(f, 0), account(f, 1), account(f, 2), account(f, 3)];
    await registerOrchestrator(f, o1, 100n * TOKEN);
    await registerOrchestrator(f, o2, 200n * TOKEN);
    await registerOrchestrator(f, o3, 300n * TOKEN);
    await registerOrchestrator(f, o4, 400n * TOKEN);
    await advanceRounds(f);
    await send(f.bonding, o4, "setOrchestratorParams", 0n, 0n);
    expect(await nextSet(f)).toEqual([o4.address, o2.address, o3.address]);
    // o1 had 100 of the round's 600 active stake: a sixth of the inflation, which lifts it past o2.
    await send(f.bonding, o1, "reward");
    const o1Stake = 100n * TOKEN + TEST_PARAMS.inflationPerRound / 6n;
    expect(await read(f.bonding, "orchestratorTotalStake", o1.address)).toBe(o1Stake);
    expect(await nextSet(f)).toEqual([o4.address, o1.address, o3.address]);
    await advanceRounds(f);
    expect([await active(f, o1), await active(f, o2), await active(f, o4)]).toEqual([
      true,
      false,
      true,
    ]);
    expect(await read(f.bonding, "totalActiveStake")).toBe(700n * TOKEN + o1Stake);
  });

  it("drops an orchestrator whose stake falls to zero, next round", async () => {
    const f = await loadSystem(conn);
    const [o1, o2, o3] = [account(f, 0), account(f, 1), account(f, 2)];
    await registerOrchestrator(f, o1, 100n * TOKEN);
    await registerOrchestrator(f, o2, 200n * TOKEN);
    await registerOrchestrator(f, o3, 300n * TOKEN);
    await advanceRounds(f);
    await send(f.bonding, o1, "unbond", 100n * TOKEN);
    expect(await nextSet(f)).toEqual([o3.address, o2.address]);
    expect(await active(f, o1)).toBe(true);
    expect(await read(f.bonding, "nextRoundTotalActiveStake")).toBe(500n * TOKEN);
    await advanceRounds(f);
    expect(await active(f, o1)).toBe(false);
    expect(await read(f.bonding, "activeOrchestratorCount")).toBe(2n);
    expect(await read(f.bonding, "totalActiveStake")).toBe(500n * TOKEN);
    // Bonding again brings it back into the free seat.
    await send(f.bonding, o1, "bond", 10n * TOKEN, o1.address);
    await advanceRounds(f);
    expect(await active(f, o1)).toBe(true);
    expect(await read(f.bonding, "activeOrchestratorCount")).toBe(3n);
  });

  it("keeps an orchestrator active, announcing no new entry, when it is evicted and re-enters in the same round", async () => {
    const f = await loadSystem(conn);
    const [o1, o2, o3, o4] = [account(f, 0), account(f, 1), account(f, 2), account(f, 3)];
    await registerOrchestrator(f, o1, 100n * TOKEN);
    await registerOrchestrator(f, o2, 200n * TOKEN);
    await registerOrchestrator(f, o3, 300n * TOKEN);
    await registerOrchestrator(f, o4, 400n * TOKEN);
    await advanceRounds(f);
    const round = await currentRound(f);
    await send(f.bonding, o4, "setOrchestratorParams", 0n, 0n);
    // Stake bonded now counts from the next round: it does not bring o1 back.
    await send(f.bonding, o1, "bond", 500n * TOKEN, o1.address);
    expect(await nextSet(f)).toEqual([o4.address, o2.address, o3.address]);
    // Its reward, on stake it had since the round began, does.
    const receipt = await send(f.bonding, o1, "reward");
    expect(seatEvents(f, receipt)).toEqual([
      ["OrchestratorDeactivated", o2.address, round + 1n],
      ["OrchestratorDeactivationCancelled", o1.address, round + 1n],
    ]);
    expect(await nextSet(f)).toEqual([o4.address, o1.address, o3.address]);
    expect([await active(f, o1), await active(f, o2)]).toEqual([true, true]);
    await advanceRounds(f);
    expect([await active(f, o1), await active(f, o2), await active(f, o4)]).toEqual([
      true,
      false,
      true,
    ]);
  });

  it("lets an outsider in through setOrchestratorParams once a member has shrunk", async () => {
    const f = await loadSystem(conn);
    const [o1, o2, o3, o4] = [account(f, 0), account(f, 1), account(f, 2), account(f, 3)];
    await registerOrchestrator(f, o1, 100n * TOKEN);
    await registerOrchestrator(f, o2, 200n * TOKEN);
    await registerOrchestrator(f, o3, 300n * TOKEN);
    await registerOrchestrator(f, o4, 90n * TOKEN);
    expect(await nextSet(f)).not.toContain(o4.address);
    await send(f.bonding, o2, "unbond", 150n * TOKEN);
    // o4's 90 were bonded this round: they count from the next.
    await send(f.bonding, o4, "setOrchestratorParams", 0n, 0n);
    expect(await nextSet(f)).not.toContain(o4.address);
    await advanceRounds(f);
    await send(f.bonding, o4, "setOrchestratorParams", 0n, 0n);
    expect(await nextSet(f)).toEqual([o1.address, o4.address, o3.address]);
  });
});

const SEAT_EVENTS = new Set([
  "OrchestratorActivated",
  "OrchestratorDeactivated",
  "OrchestratorDeactivationCancelled",
]);

/** The active-set events of a receipt, as [name, ...args]. */
function seatEvents(f: Fixture, receipt: { logs: readonly Log[] }): unknown[][] {
  return receipt.logs
    .map((l) => f.bonding.interface.parseLog(l))
    .filter((e) => e !== null && SEAT_EVENTS.has(e.name))
    .map((e) => [e?.name, ...(e?.args.toArray() ?? [])]);
}
