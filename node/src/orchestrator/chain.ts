import type { ChainErrorCode } from "../chain/errors.ts";
import type { ChainSession } from "../chain/session.ts";
import type { TxSender } from "../chain/tx.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import type { BrokerClient } from "../payments/broker-client.ts";
import type { RedeemChain } from "../payments/interface.ts";
import type { OrchestratorErrorCode } from "./errors.ts";

/**
 * The redeemer's chain calls over payments' BrokerClient, with its two sends queued behind the
 * orchestrator's other transactions (one account, one nonce sequence) and the nonce manager
 * reset when a send fails before reaching the chain.
 */
export function queuedRedeemChain(broker: BrokerClient, tx: TxSender): RedeemChain {
  return {
    currentRound: () => broker.currentRound(),
    ticketValidityRounds: () => broker.ticketValidityRounds(),
    feeQuote: () => broker.feeQuote(),
    isTicketUsed: (hash) => broker.isTicketUsed(hash),
    receipt: (hash) => broker.receipt(hash),
    blockNumber: () => broker.blockNumber(),
    redeemWinningTicket: (win, fees) =>
      tx.run("redeemWinningTicket", () => broker.redeemWinningTicket(win, fees)),
    batchRedeemWinningTickets: (wins, fees) =>
      tx.run("batchRedeemWinningTickets", () => broker.batchRedeemWinningTickets(wins, fees)),
  };
}

/** The faults the chain watch reports: two of the chain session's codes and one of its own. */
type ChainHealthCode =
  | Extract<ChainErrorCode, "CHAIN_UNREACHABLE" | "DEPLOYMENT_NO_CODE">
  | Extract<OrchestratorErrorCode, "REGISTRATION_LOST">;

/** Whether the node's chain is as it left it; /healthz answers 503 while it is not. */
export type ChainHealth =
  | { ok: true }
  | {
      ok: false;
      code: ChainHealthCode;
      reason: string;
    };

/** What the watch reads each poll (chainWatchReads adapts the session). */
export interface ChainObservation {
  /** Whether the deployment's contracts still have code. */
  deployed: boolean;
  registered: boolean;
  round: bigint;
  block: number;
}

export interface ChainWatchDeps {
  observe(): Promise<ChainObservation>;
  /** Registers again (terms, stake, registry entry); null when the operator turned it off. */
  reregister: (() => Promise<void>) | null;
  /** Told when the chain went backwards (a reset): cached rounds and funds are stale. */
  onReset(): void;
  log: Logger;
}

/**
 * Notices what a chain restart does to a running node: the chain stops answering, the
 * deployment's code disappears (restarted, not redeployed), the round or block number goes
 * backwards (reset), or this address is no longer registered (redeployed). Each turns health
 * unhealthy with the reason, logged once; a lost registration is restored when configured.
 */
export class ChainWatch {
  private current: ChainHealth = { ok: true };
  private last: { round: bigint; block: number } | null = null;

  constructor(private readonly deps: ChainWatchDeps) {}

  get health(): ChainHealth {
    return this.current;
  }

  async tick(): Promise<void> {
    let seen: ChainObservation;
    try {
      seen = await this.deps.observe();
    } catch (error) {
      this.set({
        ok: false,
        code: "CHAIN_UNREACHABLE",
        reason: `the chain does not answer: ${errorMessage(error)}`,
      });
      return;
    }
    const last = this.last;
    if (last !== null && (seen.block < last.block || seen.round < last.round)) {
      this.deps.log.warn(
        { round: seen.round.toString(), lastRound: last.round.toString(), block: seen.block },
        `the chain went back from round ${last.round} to ${seen.round} (block ${last.block} to ${seen.block}): it was reset`,
      );
      this.deps.onReset();
    }
    this.last = { round: seen.round, block: seen.block };
    if (!seen.deployed) {
      this.set({
        ok: false,
        code: "DEPLOYMENT_NO_CODE",
        reason:
          "the deployment's contracts have no code on the chain (restarted without a redeploy?)",
      });
      return;
    }
    if (!seen.registered) {
      if (this.deps.reregister !== null) {
        this.deps.log.warn("this orchestrator is no longer registered on chain: registering again");
        try {
          await this.deps.reregister();
          this.set({ ok: true });
          return;
        } catch (error) {
          this.set({
            ok: false,
            code: "REGISTRATION_LOST",
            reason: `not registered on chain, and registering again failed: ${errorMessage(error)}`,
          });
          return;
        }
      }
      this.set({
        ok: false,
        code: "REGISTRATION_LOST",
        reason:
          "this orchestrator is no longer registered on chain (the chain was reset or redeployed)",
      });
      return;
    }
    this.set({ ok: true });
  }

  private set(health: ChainHealth): void {
    const before = this.current;
    this.current = health;
    if (health.ok && !before.ok) this.deps.log.info("the chain is healthy again");
    if (!health.ok && (before.ok || before.code !== health.code)) {
      this.deps.log.error({ code: health.code }, health.reason);
    }
  }
}

/** The watch's reads over a chain session. */
export function chainWatchReads(
  session: ChainSession,
  address: string,
): () => Promise<ChainObservation> {
  return async () => {
    const { reader, provider, deployment } = session;
    const [code, block] = await Promise.all([
      provider.getCode(deployment.contracts.BondingManager),
      provider.getBlockNumber(),
    ]);
    if (code === "0x") return { deployed: false, registered: false, round: 0n, block };
    const [registered, round] = await Promise.all([
      reader.bondingManager.isRegisteredOrchestrator(address),
      reader.roundsManager.currentRound(),
    ]);
    return { deployed: true, registered, round, block };
  };
}
