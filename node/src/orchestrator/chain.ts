import {
  type ContractTransactionResponse,
  JsonRpcProvider,
  NonceManager,
  type Wallet,
} from "ethers";
import type { BrokerClient } from "../chain/broker-client.ts";
import type { Deployment } from "../chain/deployment.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import type { RedeemChain } from "../payments/interface.ts";
import { OrchestratorError } from "./errors.ts";

/** Connects to `rpc`, or a CHAIN_UNREACHABLE error naming the URL. */
export async function connectProvider(
  rpc: string,
): Promise<{ provider: JsonRpcProvider; chainId: bigint }> {
  // A static network stops ethers from polling eth_chainId before every call; 250 ms polling
  // keeps receipts prompt on 1 s dev blocks without flooding a remote node.
  const provider = new JsonRpcProvider(rpc, undefined, {
    staticNetwork: true,
    pollingInterval: 250,
  });
  try {
    const chainId = BigInt(await provider.send("eth_chainId", []));
    return { provider, chainId };
  } catch (cause) {
    provider.destroy();
    throw new OrchestratorError(
      "CHAIN_UNREACHABLE",
      `no JSON-RPC chain answers at ${rpc}`,
      { rpc },
      { hint: "check --rpc (start a local chain with `segmint chain`)", cause },
    );
  }
}

/** The deployment must be for this chain and every contract in it must have code. */
export async function checkDeployment(
  provider: JsonRpcProvider,
  chainId: bigint,
  deployment: Deployment,
  file: string,
): Promise<void> {
  if (BigInt(deployment.chainId) !== chainId) {
    throw new OrchestratorError(
      "CHAIN_ID_MISMATCH",
      `the deployment ${file} is for chain ${deployment.chainId}, but the RPC serves chain ${chainId}`,
      { file, deploymentChainId: deployment.chainId, rpcChainId: chainId.toString() },
      { hint: "point --rpc and --deployment at the same chain" },
    );
  }
  const entries = Object.entries(deployment.contracts);
  const codes = await Promise.all(entries.map(([, address]) => provider.getCode(address)));
  const missing = entries.filter((_, i) => codes[i] === "0x").map(([name]) => name);
  if (missing.length > 0) {
    throw new OrchestratorError(
      "DEPLOYMENT_NO_CODE",
      `no contract code on chain ${chainId} for ${missing.join(", ")} from ${file}`,
      { file, missing },
      { hint: "the chain was restarted or the deployment is stale: run `segmint deploy` again" },
    );
  }
}

/**
 * One account's transactions, sent one at a time. ethers' provider caches the pending nonce
 * briefly, so a NonceManager hands them out; a send that fails before reaching the chain still
 * takes a NonceManager nonce, so the manager is reset after any failure.
 */
export class TxSender {
  readonly signer: NonceManager;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    wallet: Wallet,
    readonly provider: JsonRpcProvider,
    private readonly log: Logger,
  ) {
    this.signer = new NonceManager(wallet.connect(provider));
  }

  /** Runs `send` after every earlier send has gone out (not mined), and returns its result. */
  run<T>(label: string, send: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      try {
        return await send();
      } catch (error) {
        this.signer.reset();
        this.log.debug({ label, err: errorMessage(error) }, "send failed");
        throw error;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Sends and waits for one confirmation; a revert becomes TX_REVERTED naming `label`. */
  async sendAndWait(
    label: string,
    send: () => Promise<ContractTransactionResponse>,
  ): Promise<string> {
    const tx = await this.run(label, send);
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1) {
      throw new OrchestratorError("TX_REVERTED", `${label}: transaction ${tx.hash} reverted`, {
        label,
        tx: tx.hash,
      });
    }
    this.log.info({ tx: tx.hash, label, gasUsed: receipt.gasUsed.toString() }, "transaction mined");
    return tx.hash;
  }
}

/**
 * The redeemer's chain calls over payments' BrokerClient, with its two sends queued behind the
 * orchestrator's other transactions (one account, one nonce sequence) and the nonce manager
 * reset when a send fails before reaching the chain.
 */
export function queuedRedeemChain(broker: BrokerClient, tx: TxSender): RedeemChain {
  return {
    currentRound: () => broker.currentRound(),
    ticketValidityRounds: () => broker.ticketValidityRounds(),
    gasPrice: () => broker.gasPrice(),
    isTicketUsed: (hash) => broker.isTicketUsed(hash),
    receipt: (hash) => broker.receipt(hash),
    blockNumber: () => broker.blockNumber(),
    redeemWinningTicket: (win, gasPrice) =>
      tx.run("redeemWinningTicket", () => broker.redeemWinningTicket(win, gasPrice)),
    batchRedeemWinningTickets: (wins, gasPrice) =>
      tx.run("batchRedeemWinningTickets", () => broker.batchRedeemWinningTickets(wins, gasPrice)),
  };
}

/** What an operator can do about the contract errors these commands meet most. */
const REVERT_HINTS: Record<string, string> = {
  BondingManagerNotOrchestrator:
    "that address is not a registered orchestrator (see `segmint orchestrator-params`)",
  BondingManagerOrchestratorCannotDelegate: "an orchestrator can only bond to itself",
  BondingManagerDelegatedElsewhere: "unbond from your current orchestrator first",
  BondingManagerNotBonded: "this account has no stake bonded",
  BondingManagerInsufficientStake: "unbond at most the bonded stake (see `segmint status`)",
  BondingManagerUnknownUnbondingLock: "no such unbonding lock (see `segmint status`)",
  BondingManagerUnbondingLockNotWithdrawable:
    "the unbonding period is not over yet; try again later",
  BondingManagerInsufficientFees: "withdraw at most the pending fees (see `segmint status`)",
  BondingManagerInvalidFraction: "parts per million go from 0 to 1000000",
  BondingManagerZeroAmount: "give an amount above 0",
  BondingManagerAmountTooSmall: "give a larger amount",
  TicketBrokerZeroAmount: "give an amount above 0",
  TicketBrokerEmptyDepositAndReserve: "there is nothing deposited to unlock or withdraw",
  TicketBrokerAlreadyUnlocking:
    "an unlock is already in progress (cancel it with `segmint deposit cancel-unlock`)",
  TicketBrokerNotUnlocking: "start with `segmint deposit unlock`",
  TicketBrokerUnlockPeriodNotOver: "the unlock period is not over yet; try again later",
  ERC20InsufficientBalance: "the account holds fewer tokens than that",
  OrchestratorRegistryPeerIdTaken:
    "another address published this peer id: give this orchestrator its own --data-dir",
  OrchestratorRegistryNotOrchestrator: "register first (set a reward cut and fee share)",
};

/**
 * Runs a contract call's eth_call preflight and turns a revert into one coded error: the
 * contract's custom error name, its arguments and what to do. (A send that fails its gas
 * estimate would also waste a NonceManager nonce.)
 */
export async function preflight(label: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    const revert = (error as { revert?: { name?: string; args?: unknown[] } }).revert;
    if (revert?.name !== undefined) {
      const args = (revert.args ?? []).map((a) => String(a));
      throw new OrchestratorError(
        "TX_REVERTED",
        `${label} would fail: ${revert.name}(${args.join(", ")})`,
        { revert: revert.name, args },
        REVERT_HINTS[revert.name] === undefined ? {} : { hint: REVERT_HINTS[revert.name] },
      );
    }
    throw error;
  }
}
