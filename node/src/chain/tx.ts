import {
  type ContractTransactionResponse,
  type JsonRpcProvider,
  NonceManager,
  type Wallet,
} from "ethers";
import { formatEth } from "../config/amounts.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import { ChainError } from "./errors.ts";

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

/** The custom error ethers decoded from a revert, if it decoded one. */
function decodedRevert(error: unknown): { name: string; args: unknown[] } | null {
  if (typeof error !== "object" || error === null || !("revert" in error)) return null;
  const revert: unknown = error.revert;
  if (typeof revert !== "object" || revert === null || !("name" in revert)) return null;
  if (typeof revert.name !== "string") return null;
  const args = "args" in revert && Array.isArray(revert.args) ? [...revert.args] : [];
  return { name: revert.name, args };
}

/**
 * Runs a contract call's eth_call preflight and turns a revert into one coded error: the
 * contract's custom error name, its arguments and what to do. (A send that fails its gas
 * estimate would also waste a NonceManager nonce.)
 */
export async function preflight(label: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    const revert = decodedRevert(error);
    if (revert !== null) {
      const args = revert.args.map((a) => String(a));
      const hint = REVERT_HINTS[revert.name];
      throw new ChainError(
        "TX_REVERTED",
        `${label} would fail: ${revert.name}(${args.join(", ")})`,
        { label, revert: revert.name, args },
        hint === undefined ? {} : { hint },
      );
    }
    throw error;
  }
}

/** Nodes word it differently: geth "insufficient funds", Hardhat "doesn't have enough funds". */
export function lacksFunds(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (/insufficient funds|enough funds/i.test(current.message)) return true;
    if ("code" in current && current.code === "INSUFFICIENT_FUNDS") return true;
    current = current.cause ?? ("error" in current ? current.error : undefined);
  }
  return false;
}

/**
 * Another sender used this account's next nonce first (a CLI command signing with a running
 * daemon's key, or the other way round): the transaction was never accepted, so sending it
 * again with a fresh nonce is safe.
 */
export function nonceTaken(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (
      "code" in current &&
      (current.code === "NONCE_EXPIRED" || current.code === "REPLACEMENT_UNDERPRICED")
    ) {
      return true;
    }
    if (
      /nonce too low|nonce has already been used|replacement transaction underpriced/i.test(
        current.message,
      )
    ) {
      return true;
    }
    current = current.cause ?? ("error" in current ? current.error : undefined);
  }
  return false;
}

/** INSUFFICIENT_ETH for `address`, naming the shortfall when the cost is known. */
export function insufficientEth(
  address: string,
  label: string,
  balance: bigint,
  cost: bigint | null,
  cause?: unknown,
): ChainError {
  const short = cost === null ? null : cost - balance;
  return new ChainError(
    "INSUFFICIENT_ETH",
    short === null
      ? `${address} holds ${formatEth(balance)}, not enough to pay the gas for ${label}`
      : `${address} needs ${formatEth(short)} more for the gas of ${label} (holds ${formatEth(balance)})`,
    {
      address,
      label,
      balance: balance.toString(),
      ...(cost === null ? {} : { cost: cost.toString(), shortfall: (cost - balance).toString() }),
    },
    {
      hint: "send ETH to that address (on a dev chain: `segmint transfer --eth AMOUNT --to ADDRESS`)",
      cause,
    },
  );
}

/** A typed contract method: callable to send, with eth_call and gas-estimate twins. */
export interface SendableMethod<A extends unknown[]> {
  (...args: A): Promise<ContractTransactionResponse>;
  staticCall(...args: A): Promise<unknown>;
  estimateGas(...args: A): Promise<bigint>;
}

/**
 * One account's transactions, sent one at a time. ethers' provider caches the pending nonce
 * briefly, so a NonceManager hands them out; a send that fails before reaching the chain still
 * takes a NonceManager nonce, so the manager is reset after any failure, and a send whose nonce
 * another process used first is sent once more.
 */
export class TxSender {
  readonly signer: NonceManager;
  readonly address: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    wallet: Wallet,
    readonly provider: JsonRpcProvider,
    private readonly log: Logger,
  ) {
    this.signer = new NonceManager(wallet.connect(provider));
    this.address = wallet.address;
  }

  /** Runs `send` after every earlier send has gone out (not mined), and returns its result. */
  run<T>(label: string, send: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      try {
        try {
          return await send();
        } catch (error) {
          if (!nonceTaken(error)) throw error;
          // Someone else signed with this key meanwhile: once more, with the chain's nonce.
          this.signer.reset();
          this.log.info({ label }, "nonce taken by another sender; sending again");
          return await send();
        }
      } catch (error) {
        this.signer.reset();
        this.log.debug({ label, err: errorMessage(error) }, "send failed");
        if (lacksFunds(error)) {
          const balance = await this.provider.getBalance(this.address).catch(() => 0n);
          throw insufficientEth(this.address, label, balance, null, error);
        }
        throw error;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Sends and waits for one confirmation; a revert becomes TX_REVERTED naming `label`. */
  async sendAndWait(
    label: string,
    send: () => Promise<{
      hash: string;
      wait(): Promise<{ status: number | null; gasUsed: bigint } | null>;
    }>,
  ): Promise<string> {
    const tx = await this.run(label, send);
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1) {
      throw new ChainError("TX_REVERTED", `${label}: transaction ${tx.hash} reverted`, {
        label,
        tx: tx.hash,
      });
    }
    this.log.info({ tx: tx.hash, label, gasUsed: receipt.gasUsed.toString() }, "transaction mined");
    return tx.hash;
  }

  /**
   * Throws INSUFFICIENT_ETH, naming the shortfall, unless the account can pay `gas` at today's
   * fee cap plus `value`: a person learns it before anything is signed.
   */
  async requireEth(label: string, gas: bigint, value = 0n): Promise<void> {
    const [balance, fees] = await Promise.all([
      this.provider.getBalance(this.address),
      this.provider.getFeeData(),
    ]);
    const price = fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
    const cost = gas * price + value;
    if (balance < cost) throw insufficientEth(this.address, label, balance, cost);
  }

  /**
   * Preflights `method(...args)` with eth_call (a refused call costs no gas and says why),
   * checks the gas can be paid, then sends it and waits for the receipt; returns the hash.
   */
  async checkAndSend<A extends unknown[]>(
    label: string,
    method: SendableMethod<A>,
    ...args: A
  ): Promise<string> {
    await preflight(label, () => method.staticCall(...args));
    await this.requireEth(label, await method.estimateGas(...args));
    return this.sendAndWait(label, () => method(...args));
  }
}
