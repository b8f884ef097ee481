import {
  AbstractSigner,
  type BlockTag,
  type ContractTransactionResponse,
  JsonRpcProvider,
  type Provider,
  type TransactionRequest,
  type TransactionResponse,
  type TypedDataDomain,
  type TypedDataField,
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
 * estimate would also waste a nonce.)
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

/**
 * Whether `test` holds for the error or one it wraps (its `cause`, or ethers' `error`): ethers
 * and the nodes nest the message that says what happened a few levels down.
 */
function anyCause(error: unknown, test: (error: Error & { code?: unknown }) => boolean): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (test(current)) return true;
    current = current.cause ?? ("error" in current ? current.error : undefined);
  }
  return false;
}

/** Nodes word it differently: geth "insufficient funds", Hardhat "doesn't have enough funds". */
export function lacksFunds(error: unknown): boolean {
  return anyCause(
    error,
    (e) => /insufficient funds|enough funds/i.test(e.message) || e.code === "INSUFFICIENT_FUNDS",
  );
}

/**
 * Another sender used this account's next nonce first (a CLI command signing with a running
 * daemon's key, or the other way round): the transaction was never accepted, so sending it
 * again with a fresh nonce is safe.
 */
export function nonceTaken(error: unknown): boolean {
  return anyCause(
    error,
    (e) =>
      e.code === "NONCE_EXPIRED" ||
      e.code === "REPLACEMENT_UNDERPRICED" ||
      /nonce too low|nonce has already been used|replacement transaction underpriced/i.test(
        e.message,
      ),
  );
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
 * A burst of sends closer together than this uses the local nonce count; after a pause the next
 * send asks the node again, so sends by another process with the same key (a CLI command beside
 * the daemon) or a reorganization that dropped one of ours cannot leave the count wrong.
 */
const NONCE_RESYNC_AFTER_IDLE_MS = 1_000;

/**
 * Hands out one account's nonces: the node's pending count, read once and then counted up
 * locally so that sends in quick succession (even concurrent ones) get consecutive nonces.
 * reset() makes the next send read the node again. The count is read with a raw
 * eth_getTransactionCount: ethers' own getTransactionCount answers identical calls from a short
 * cache, which can hand back a count another sender has already used.
 */
export class AccountNonces extends AbstractSigner {
  private base: Promise<number> | null = null;
  private delta = 0;

  constructor(
    readonly wallet: Wallet,
    private readonly rpc: JsonRpcProvider,
  ) {
    super(rpc);
  }

  getAddress(): Promise<string> {
    return Promise.resolve(this.wallet.address);
  }

  connect(provider: null | Provider): AccountNonces {
    if (!(provider instanceof JsonRpcProvider)) {
      throw new Error("AccountNonces needs a JSON-RPC provider");
    }
    return new AccountNonces(this.wallet, provider);
  }

  override async getNonce(blockTag?: BlockTag): Promise<number> {
    if (blockTag !== "pending") return this.wallet.connect(this.rpc).getNonce(blockTag);
    if (this.base === null) {
      this.base = this.rpc
        .send("eth_getTransactionCount", [this.wallet.address, "pending"])
        .then((count: string) => Number(count));
    }
    const delta = this.delta++;
    return (await this.base) + delta;
  }

  reset(): void {
    this.base = null;
    this.delta = 0;
  }

  override async sendTransaction(request: TransactionRequest): Promise<TransactionResponse> {
    const nonce = request.nonce ?? (await this.getNonce("pending"));
    const signer = this.wallet.connect(this.rpc);
    return signer.sendTransaction(await signer.populateTransaction({ ...request, nonce }));
  }

  signTransaction(request: TransactionRequest): Promise<string> {
    return this.wallet.signTransaction(request);
  }

  signMessage(message: string | Uint8Array): Promise<string> {
    return this.wallet.signMessage(message);
  }

  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    return this.wallet.signTypedData(domain, types, value);
  }
}

/**
 * One account's transactions, sent one at a time. Nonces come from AccountNonces, re-read from
 * the node after any failure and after a pause; a send the node refuses for its nonce is retried
 * once with a fresh one.
 */
export class TxSender {
  readonly signer: AccountNonces;
  readonly address: string;
  private queue: Promise<unknown> = Promise.resolve();
  private lastSendAt = 0;

  constructor(
    wallet: Wallet,
    readonly provider: JsonRpcProvider,
    private readonly log: Logger,
  ) {
    this.signer = new AccountNonces(wallet, provider);
    this.address = wallet.address;
  }

  /** Runs `send` after every earlier send has gone out (not mined), and returns its result. */
  run<T>(label: string, send: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      if (Date.now() - this.lastSendAt > NONCE_RESYNC_AFTER_IDLE_MS) this.signer.reset();
      try {
        try {
          return await send();
        } catch (error) {
          if (!nonceTaken(error)) throw error;
          this.signer.reset();
          this.log.info({ label, err: errorMessage(error) }, "nonce taken; sending again");
          return await send();
        } finally {
          this.lastSendAt = Date.now();
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
