import type { ContractTransactionResponse } from "ethers";
import { preflight, type TxSender } from "../chain/tx.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import { PollLoop } from "../poll-loop.ts";

/** A contract write as the typed clients expose it: send it, or preview it with eth_call. */
export interface ContractWrite {
  (): Promise<ContractTransactionResponse>;
  staticCall(): Promise<unknown>;
}

/** The RoundsManager calls the service makes (the typed client satisfies it). */
export interface RoundsContract {
  currentRound(): Promise<bigint>;
  currentRoundInitialized(): Promise<boolean>;
  initializeRound: ContractWrite;
}

/** The BondingManager calls the service makes (the typed client satisfies it). */
export interface RewardContract {
  getOrchestrator(address: string): Promise<{ active: boolean; lastRewardRound: bigint }>;
  reward: ContractWrite;
}

export interface RoundServiceDeps {
  address: string;
  roundsManager: RoundsContract;
  bondingManager: RewardContract;
  tx: Pick<TxSender, "sendAndWait">;
  /** Call reward() while active (the operator can turn it off). */
  reward: boolean;
  pollIntervalMs: number;
  /** Told about every new round, so cached round data (block hash, reserve shares) is dropped. */
  onNewRound: (round: bigint) => void;
  /** Told about each reward() call once mined (the earnings history records what it minted). */
  onRewarded?: (round: bigint, txHash: string) => Promise<void> | void;
  log: Logger;
}

/**
 * Keeps this orchestrator in step with rounds. Once per round: makes sure the round is
 * initialized (its block hash is what fresh tickets carry; reward() initializes it too), and
 * while active calls reward() once, which mints this round's inflation to its pool. The round
 * is read on a timer rather than from events so a missed websocket message cannot skip one.
 */
export class RoundService {
  private readonly loop: PollLoop;
  private lastRound = -1n;
  /** Round whose reward() succeeded or was found done; no second attempt in that round. */
  private rewardedRound = -1n;
  rewardCalls = 0;

  constructor(private readonly deps: RoundServiceDeps) {
    this.loop = new PollLoop(
      () => this.tick(),
      deps.pollIntervalMs,
      (error) => deps.log.warn({ err: errorMessage(error) }, "round check failed"),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One look at the chain; exported for tests and for start-up (before tickets are issued). */
  async tick(): Promise<void> {
    const { roundsManager, bondingManager, tx, address, log } = this.deps;
    const round = await roundsManager.currentRound();
    if (round !== this.lastRound) {
      this.lastRound = round;
      this.deps.onNewRound(round);
      log.info({ round: round.toString() }, "new round");
    }
    if (this.deps.reward && this.rewardedRound !== round) {
      const info = await bondingManager.getOrchestrator(address);
      if (info.active && info.lastRewardRound === round) {
        this.rewardedRound = round;
      } else if (info.active) {
        // Preflight: reward() reverts when it cannot be called, and a failed send costs gas.
        await preflight("reward", () => bondingManager.reward.staticCall());
        const txHash = await tx.sendAndWait("reward", () => bondingManager.reward());
        this.rewardCalls += 1;
        this.rewardedRound = round;
        this.deps.onNewRound(round);
        await this.deps.onRewarded?.(round, txHash);
        log.info({ round: round.toString() }, "reward called");
        return;
      }
    }
    if (!(await roundsManager.currentRoundInitialized())) {
      await preflight("initializeRound", () => roundsManager.initializeRound.staticCall());
      await tx.sendAndWait("initializeRound", () => roundsManager.initializeRound());
      this.deps.onNewRound(round);
    }
  }
}
