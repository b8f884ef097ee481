import type { ContractTransactionResponse } from "ethers";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { type ContractWrite, RoundService } from "../../../node/src/orchestrator/reward-service.ts";

/** A chain with one orchestrator: rounds, initialization and reward() as plain state. */
class FakeRounds {
  round = 5n;
  initialized = new Set<bigint>([5n]);
  active = true;
  lastRewardRound = (1n << 256n) - 1n;
  sent: string[] = [];
  rewardReverts = false;

  private write(name: string, effect: () => void, check: () => void = () => {}): ContractWrite {
    const send = async () => {
      check();
      effect();
      this.sent.push(name);
      return {} as ContractTransactionResponse;
    };
    return Object.assign(send, { staticCall: async () => check() });
  }

  readonly roundsManager = {
    currentRound: async () => this.round,
    currentRoundInitialized: async () => this.initialized.has(this.round),
    initializeRound: this.write("initializeRound", () => this.initialized.add(this.round)),
  };

  readonly bondingManager = {
    getOrchestrator: async (_address: string) => ({
      active: this.active,
      lastRewardRound: this.lastRewardRound,
    }),
    reward: this.write(
      "reward",
      () => {
        this.lastRewardRound = this.round;
        this.initialized.add(this.round);
      },
      () => {
        if (this.rewardReverts || !this.active || this.lastRewardRound === this.round) {
          throw new Error("BondingManagerRewardAlreadyCalled");
        }
      },
    ),
  };
}

function service(chain: FakeRounds, reward = true) {
  const rounds: bigint[] = [];
  const rewarded: Array<[bigint, string]> = [];
  const svc = new RoundService({
    address: "0x0000000000000000000000000000000000000001",
    roundsManager: chain.roundsManager,
    bondingManager: chain.bondingManager,
    tx: {
      sendAndWait: async (_label, send) => {
        await send();
        return "0xtx";
      },
    },
    reward,
    pollIntervalMs: 1_000,
    onNewRound: (round) => rounds.push(round),
    onRewarded: (round, txHash) => {
      rewarded.push([round, txHash]);
    },
    log: silentLogger(),
  });
  return { svc, rounds, rewarded };
}

describe("RoundService", () => {
  it("calls reward() exactly once per round while active", async () => {
    const chain = new FakeRounds();
    const { svc, rewarded } = service(chain);
    await svc.tick();
    await svc.tick();
    expect(chain.sent).toEqual(["reward"]);
    // Each mined reward() is handed on (to the earnings history) with its round and hash.
    expect(rewarded).toEqual([[5n, "0xtx"]]);
    chain.round = 6n;
    await svc.tick();
    await svc.tick();
    expect(chain.sent).toEqual(["reward", "reward"]);
    expect(svc.rewardCalls).toBe(2);
  });

  it("does not call reward() when inactive or turned off, but initializes each round", async () => {
    const chain = new FakeRounds();
    chain.active = false;
    chain.round = 6n;
    const { svc, rounds } = service(chain);
    await svc.tick();
    expect(chain.sent).toEqual(["initializeRound"]);
    await svc.tick();
    expect(chain.sent).toEqual(["initializeRound"]);
    expect(rounds).toContain(6n);

    const off = new FakeRounds();
    off.round = 9n;
    const { svc: quiet } = service(off, false);
    await quiet.tick();
    expect(off.sent).toEqual(["initializeRound"]);
  });

  it("skips a round whose reward another process already claimed, and retries a failed one", async () => {
    const chain = new FakeRounds();
    chain.lastRewardRound = 5n;
    const { svc } = service(chain);
    await svc.tick();
    expect(chain.sent).toEqual([]);

    chain.round = 6n;
    chain.initialized.add(6n);
    chain.rewardReverts = true;
    await expect(svc.tick()).rejects.toThrow();
    expect(chain.sent).toEqual([]);
    chain.rewardReverts = false;
    await svc.tick();
    expect(chain.sent).toEqual(["reward"]);
  });
});
