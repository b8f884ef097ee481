import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  account,
  advanceRounds,
  type Connection,
  connect,
  deploySystem,
  type Fixture,
  MAX_UINT256,
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

const SEATS = 100;

/** `count` funded orchestrators with stakes 1,000 + i SGM, registered in one round. */
async function fillSet(f: Fixture, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const wallet = new Wallet(keccak256(toUtf8Bytes(`segmint-member-${i}`)), conn.ethers.provider);
    await conn.networkHelpers.setBalance(wallet.address, 10n ** 20n);
    const stake = 1_000n * TOKEN + BigInt(i) * TOKEN;
    await send(f.token, f.deployer, "transfer", wallet.address, stake);
    await send(f.token, wallet, "approve", f.deployment.contracts.BondingManager, MAX_UINT256);
    await send(f.bonding, wallet, "setOrchestratorParams", 0n, 0n);
    await send(f.bonding, wallet, "bond", stake, wallet.address);
  }
}

/** An outsider orchestrator (10 SGM of its own) with a delegator's 50 SGM, settled a round. */
async function outsiderWithDelegator(f: Fixture) {
  const [outsider, delegator] = [account(f, 0), account(f, 1)];
  await registerOrchestrator(f, outsider, 10n * TOKEN);
  await send(f.bonding, delegator, "bond", 50n * TOKEN, outsider.address);
  await advanceRounds(f);
  return { outsider, delegator };
}

describe("BondingManager: active set gas", () => {
  it("keeps a stake change that cannot win a seat in a full 100-seat set within 5k gas of the same change with no set", async () => {
    const full = await deploySystem(conn, { ...TEST_PARAMS, maxActiveSetSize: SEATS });
    await fillSet(full, SEATS);
    const { outsider, delegator } = await outsiderWithDelegator(full);
    expect((await read<string[]>(full.bonding, "nextActiveSet")).length).toBe(SEATS);
    // The first outsider change after the members' stakes settled refreshes the cached bound
    // with one scan over the members (bounded by the 100 seats); later ones need no scan.
    const scan = await send(full.bonding, delegator, "unbond", 1n);
    const cheap = await send(full.bonding, delegator, "unbond", 1n);
    const info = await read<{ inNextActiveSet: boolean }>(
      full.bonding,
      "getOrchestrator",
      outsider.address,
    );
    expect(info.inNextActiveSet).toBe(false);

    const alone = await deploySystem(conn, { ...TEST_PARAMS, maxActiveSetSize: SEATS });
    const same = await outsiderWithDelegator(alone);
    await send(alone.bonding, same.delegator, "unbond", 1n);
    const empty = await send(alone.bonding, same.delegator, "unbond", 1n);

    const difference = cheap.gasUsed - empty.gasUsed;
    expect(difference < 0n ? -difference : difference).toBeLessThanOrEqual(5_000n);
    // The scan itself: two cold storage reads per member, about 5,500 gas each.
    expect(scan.gasUsed).toBeLessThanOrEqual(650_000n);
  }, 600_000);

  it("lets an outsider with more settled stake than the smallest member in with one bounded scan", async () => {
    const f = await deploySystem(conn, { ...TEST_PARAMS, maxActiveSetSize: SEATS });
    await fillSet(f, SEATS);
    const big = account(f, 2);
    await registerOrchestrator(f, big, 5_000n * TOKEN);
    expect((await read<string[]>(f.bonding, "nextActiveSet")).includes(big.address)).toBe(false);
    await advanceRounds(f);
    const entry = await send(f.bonding, big, "setOrchestratorParams", 0n, 0n);
    const set = await read<string[]>(f.bonding, "nextActiveSet");
    expect(set.includes(big.address)).toBe(true);
    expect(set.length).toBe(SEATS);
    expect(entry.gasUsed).toBeLessThanOrEqual(650_000n);
  }, 600_000);
});
