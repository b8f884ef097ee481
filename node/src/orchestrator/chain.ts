import {
  type ContractTransactionResponse,
  hexlify,
  JsonRpcProvider,
  NonceManager,
  type Wallet,
} from "ethers";
import { type SegmintClients, segmintClients } from "../chain/contracts.ts";
import type { Deployment } from "../chain/deployment.ts";
import type { Logger } from "../log/index.ts";
import type {
  PaymentsChainView,
  RedeemChain,
  RedeemReceipt,
  SenderInfo,
  WinningTicket,
} from "../payments/interface.ts";
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

  /** Runs `send` after every earlier one has been sent (not mined), and returns its response. */
  submit(
    label: string,
    send: () => Promise<ContractTransactionResponse>,
  ): Promise<ContractTransactionResponse> {
    const run = this.queue.then(async () => {
      try {
        const tx = await send();
        this.log.debug({ tx: tx.hash, label }, "transaction sent");
        return tx;
      } catch (error) {
        this.signer.reset();
        throw error;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Sends and waits for one confirmation; a revert becomes TX_REVERTED naming `label`. */
  async sendAndWait(
    label: string,
    send: () => Promise<ContractTransactionResponse>,
  ): Promise<string> {
    const tx = await this.submit(label, send);
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
 * The chain as the orchestrator's payments code sees it: reads for ticket issuance and
 * validation, and the redeemer's calls, over the typed contract clients.
 */
export class OrchestratorChain implements PaymentsChainView, RedeemChain {
  readonly clients: SegmintClients;

  constructor(
    deployment: Pick<Deployment, "contracts">,
    readonly tx: TxSender,
  ) {
    this.clients = segmintClients(deployment, tx.signer);
  }

  currentRound(): Promise<bigint> {
    return this.clients.roundsManager.currentRound();
  }

  lastInitializedRound(): Promise<bigint> {
    return this.clients.roundsManager.lastInitializedRound();
  }

  /** Zero hash when `round` was never initialized (RoundService initializes each round). */
  blockHashForRound(round: bigint): Promise<string> {
    return this.clients.roundsManager.blockHashForRound(round);
  }

  ticketValidityRounds(): Promise<bigint> {
    return this.clients.ticketBroker.ticketValidityRounds();
  }

  async senderInfo(sender: string): Promise<SenderInfo> {
    const raw = await this.clients.ticketBroker.getSenderInfo(sender);
    const info = {
      deposit: raw.deposit,
      withdrawRound: raw.withdrawRound,
      reserve: raw.reserve,
      reserveClaimedInCurrentRound: raw.reserveClaimedInCurrentRound,
    };
    return info;
  }

  claimedReserve(sender: string, claimant: string, round: bigint): Promise<bigint> {
    return this.clients.ticketBroker.claimedReserveInRound(sender, claimant, round);
  }

  async activeStatus(orchestrator: string): Promise<{ active: boolean; activeCount: bigint }> {
    const [active, activeCount] = await this.clients.bondingManager.activeStatus(orchestrator);
    return { active, activeCount };
  }

  async gasPrice(): Promise<bigint> {
    const fees = await this.tx.provider.getFeeData();
    return fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
  }

  isTicketUsed(ticketHash: string): Promise<boolean> {
    return this.clients.ticketBroker.isTicketUsed(ticketHash);
  }

  async redeemWinningTicket(win: WinningTicket, gasPrice: bigint): Promise<string> {
    const broker = this.clients.ticketBroker;
    const args = [win.ticket, hexlify(win.signature), win.recipientRand] as const;
    // A preflight call catches a ticket the contract would refuse without spending a nonce.
    await broker.redeemWinningTicket.staticCall(...args);
    const tx = await this.tx.submit("redeemWinningTicket", () =>
      broker.redeemWinningTicket(...args, feeOverrides(gasPrice)),
    );
    return tx.hash;
  }

  async batchRedeemWinningTickets(
    wins: readonly WinningTicket[],
    gasPrice: bigint,
  ): Promise<string> {
    const broker = this.clients.ticketBroker;
    const tickets = wins.map((w) => w.ticket);
    const sigs = wins.map((w) => hexlify(w.signature));
    const rands = wins.map((w) => w.recipientRand);
    const tx = await this.tx.submit("batchRedeemWinningTickets", () =>
      broker.batchRedeemWinningTickets(tickets, sigs, rands, feeOverrides(gasPrice)),
    );
    return tx.hash;
  }

  async receipt(txHash: string): Promise<RedeemReceipt | null> {
    const receipt = await this.tx.provider.getTransactionReceipt(txHash);
    if (receipt === null) return null;
    return { success: receipt.status === 1, gasUsed: receipt.gasUsed };
  }
}

/** Caps what a redemption may pay per gas at the price the redeemer checked against its cap. */
function feeOverrides(gasPrice: bigint): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
  const tip = 1_000_000_000n; // 1 gwei, a common default tip; never above the cap itself
  return { maxFeePerGas: gasPrice, maxPriorityFeePerGas: tip < gasPrice ? tip : gasPrice };
}
