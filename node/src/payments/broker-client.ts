import type { Provider, Signer } from "ethers";
import { toHex } from "../chain/bytes.ts";
import { type SegmintClients, segmintClients } from "../chain/contracts.ts";
import type { Deployment } from "../chain/deployment.ts";
import type { TicketDomain } from "../chain/ticket.ts";
import { errorMessage } from "../errors.ts";
import { PollLoop } from "../poll-loop.ts";
import { PaymentsError } from "./errors.ts";
import type {
  FeeQuote,
  PaymentsChainView,
  RedeemChain,
  RedeemReceipt,
  SenderInfo,
  TxFees,
  WinningTicket,
} from "./interface.ts";

type BrokerContracts = Pick<
  SegmintClients,
  "ticketBroker" | "roundsManager" | "bondingManager" | "token"
>;

/** Something whose cached chain state events can invalidate (payments' ChainStateCache). */
export interface ChainStateInvalidation {
  invalidateSender(sender: string): void;
  invalidateRound(): void;
}

async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    throw new PaymentsError(
      "CHAIN_UNAVAILABLE",
      `could not read ${what} from the chain: ${errorMessage(cause)}`,
      { what },
      { hint: "check the JSON-RPC endpoint and the deployment addresses", cause },
    );
  }
}

function ticketStruct(win: WinningTicket) {
  const t = win.ticket;
  return {
    recipient: t.recipient,
    sender: t.sender,
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: t.senderNonce,
    recipientRandHash: t.recipientRandHash,
    creationRound: t.creationRound,
    creationRoundBlockHash: t.creationRoundBlockHash,
  };
}

/**
 * The TicketBroker, RoundsManager and BondingManager calls payments make, over ethers v6:
 * the validator's reads (PaymentsChainView) and the redeemer's reads and writes (RedeemChain).
 * Reads go through the provider; writes need the runner to be a signer (the orchestrator's
 * key). Deposits are funded by chain/funding.ts.
 */
export class BrokerClient implements PaymentsChainView, RedeemChain {
  private validityRounds: bigint | null = null;

  /**
   * `safeDepth`: blocks below the head that a reorganization is not expected to reach. With a
   * depth above 0 a sender's funds are read both at the head and that deep and the less
   * favourable of the two is believed, so a deposit that only a reorganizable block holds does
   * not back tickets.
   */
  constructor(
    private readonly contracts: BrokerContracts,
    private readonly provider: Provider,
    private readonly safeDepth = 0,
  ) {}

  /** A client that can send transactions from `signer` (orchestrator or broadcaster). */
  static async connect(
    deployment: Pick<Deployment, "contracts">,
    signer: Signer,
  ): Promise<BrokerClient> {
    if (!signer.provider) {
      throw new PaymentsError(
        "BAD_PAYMENTS_OPTIONS",
        "the signer is not connected to a chain",
        {},
        {
          hint: "connect the signer to a JSON-RPC provider",
        },
      );
    }
    return new BrokerClient(segmintClients(deployment, signer), signer.provider);
  }

  static readOnly(
    deployment: Pick<Deployment, "contracts">,
    provider: Provider,
    safeDepth = 0,
  ): BrokerClient {
    return new BrokerClient(segmintClients(deployment, provider), provider, safeDepth);
  }

  /** The EIP-712 domain tickets for this deployment are signed in. */
  async ticketDomain(): Promise<TicketDomain> {
    const network = await read("the chain id", () => this.provider.getNetwork());
    return {
      chainId: network.chainId,
      verifyingContract: await this.contracts.ticketBroker.getAddress(),
    };
  }

  // ---- reads (PaymentsChainView, RedeemChain)

  currentRound(): Promise<bigint> {
    return read("the current round", () => this.contracts.roundsManager.currentRound());
  }

  blockHashForRound(round: bigint): Promise<string> {
    return read("a round's block hash", () =>
      this.contracts.roundsManager.blockHashForRound(round),
    );
  }

  async ticketValidityRounds(): Promise<bigint> {
    // Changes only by an owner transaction; read once per process.
    this.validityRounds ??= await read("the ticket validity", () =>
      this.contracts.ticketBroker.ticketValidityRounds(),
    );
    return this.validityRounds;
  }

  async senderInfo(sender: string): Promise<SenderInfo> {
    const at = async (blockTag: number | "latest"): Promise<SenderInfo> => {
      const info = await read("the sender's deposit", () =>
        this.contracts.ticketBroker.getSenderInfo(sender, { blockTag }),
      );
      return {
        deposit: info.deposit,
        reserve: info.reserve,
        withdrawRound: info.withdrawRound,
        reserveClaimedInCurrentRound: info.reserveClaimedInCurrentRound,
      };
    };
    if (this.safeDepth === 0) return at("latest");
    const head = await read("the block number", () => this.provider.getBlockNumber());
    const [latest, safe] = await Promise.all([at(head), at(Math.max(0, head - this.safeDepth))]);
    return {
      deposit: bigMin(latest.deposit, safe.deposit),
      reserve: bigMin(latest.reserve, safe.reserve),
      // An unlock started (or cancelled) only in the reorganizable blocks still counts.
      withdrawRound: latest.withdrawRound !== 0n ? latest.withdrawRound : safe.withdrawRound,
      reserveClaimedInCurrentRound:
        latest.reserveClaimedInCurrentRound > safe.reserveClaimedInCurrentRound
          ? latest.reserveClaimedInCurrentRound
          : safe.reserveClaimedInCurrentRound,
    };
  }

  claimedReserve(sender: string, claimant: string, round: bigint): Promise<bigint> {
    return read("the claimed reserve", () =>
      this.contracts.ticketBroker.claimedReserveInRound(sender, claimant, round),
    );
  }

  async activeStatus(orchestrator: string): Promise<{ active: boolean; activeCount: bigint }> {
    const [active, activeCount] = await read("the active set", () =>
      this.contracts.bondingManager.activeStatus(orchestrator),
    );
    return { active, activeCount };
  }

  /**
   * The latest block's base fee plus the node's suggested tip on an EIP-1559 chain, else its gas
   * price. (ethers' own maxFeePerGas doubles the base fee as headroom: a cap, not a cost.)
   */
  async feeQuote(): Promise<FeeQuote> {
    const [fee, block] = await Promise.all([
      read("the fee market", () => this.provider.getFeeData()),
      read("the latest block", () => this.provider.getBlock("latest")),
    ]);
    const baseFee = block?.baseFeePerGas ?? null;
    if (baseFee !== null && fee.maxPriorityFeePerGas !== null) {
      const priorityFee = fee.maxPriorityFeePerGas;
      return { price: baseFee + priorityFee, baseFee, priorityFee };
    }
    if (fee.gasPrice === null) {
      throw new PaymentsError("CHAIN_UNAVAILABLE", "the node reports no gas price");
    }
    return { price: fee.gasPrice, baseFee: null, priorityFee: 0n };
  }

  isTicketUsed(ticketHash: string): Promise<boolean> {
    return read("a ticket's redemption", () =>
      this.contracts.ticketBroker.isTicketUsed(ticketHash),
    );
  }

  async receipt(txHash: string): Promise<RedeemReceipt | null> {
    const receipt = await read("a receipt", () => this.provider.getTransactionReceipt(txHash));
    if (!receipt) return null;
    const broker = this.contracts.ticketBroker;
    const brokerAddress = (await broker.getAddress()).toLowerCase();
    const redeemed = broker.interface.getEvent("WinningTicketRedeemed");
    const paid = new Map<string, bigint>();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== brokerAddress || log.topics[0] !== redeemed.topicHash) {
        continue;
      }
      const event = broker.interface.decodeEventLog(redeemed, log.data, log.topics);
      const fromDeposit: bigint = event.paidFromDeposit;
      const fromReserve: bigint = event.paidFromReserve;
      paid.set(String(event.ticketHash).toLowerCase(), fromDeposit + fromReserve);
    }
    return {
      success: receipt.status === 1,
      gasUsed: receipt.gasUsed,
      blockNumber: BigInt(receipt.blockNumber),
      paid,
    };
  }

  async blockNumber(): Promise<bigint> {
    return BigInt(await read("the block number", () => this.provider.getBlockNumber()));
  }

  // ---- writes

  /** Sends a single redemption; returns its hash without waiting for it to be mined. */
  async redeemWinningTicket(win: WinningTicket, fees: TxFees): Promise<string> {
    const tx = await this.contracts.ticketBroker.redeemWinningTicket(
      ticketStruct(win),
      toHex(win.signature),
      win.recipientRand,
      fees,
    );
    return tx.hash;
  }

  async batchRedeemWinningTickets(wins: readonly WinningTicket[], fees: TxFees): Promise<string> {
    const tx = await this.contracts.ticketBroker.batchRedeemWinningTickets(
      wins.map(ticketStruct),
      wins.map((w) => toHex(w.signature)),
      wins.map((w) => w.recipientRand),
      fees,
    );
    return tx.hash;
  }

  /** Initializes the current round if nobody has (idempotent on chain); waits for it. */
  async initializeRound(): Promise<void> {
    const tx = await this.contracts.roundsManager.initializeRound();
    await tx.wait();
  }

  /**
   * Drops cached sender funds when TicketBroker reports a change to them, and everything
   * round-bound when a round is initialized. Polls eth_getLogs for new blocks every
   * `intervalMs` rather than using node-side filters: no filter to install or leak, it works
   * on any JSON-RPC node, and the returned stop function waits for the poll in flight, so
   * nothing is left running against a provider about to be destroyed.
   */
  async watch(target: ChainStateInvalidation, intervalMs = 2_000): Promise<() => Promise<void>> {
    const broker = this.contracts.ticketBroker;
    const rounds = this.contracts.roundsManager;
    const brokerAddress = (await broker.getAddress()).toLowerCase();
    const roundsAddress = (await rounds.getAddress()).toLowerCase();
    const senderEvents = [
      "DepositFunded",
      "ReserveFunded",
      "UnlockStarted",
      "UnlockCancelled",
      "Withdrawn",
    ] as const;
    const senderTopics = new Set<string>(
      senderEvents.map((name) => broker.interface.getEvent(name).topicHash),
    );
    const redeemedTopic = broker.interface.getEvent("WinningTicketRedeemed").topicHash;
    const roundTopic = rounds.interface.getEvent("RoundInitialized").topicHash;
    let from = (await this.provider.getBlockNumber()) + 1;
    const poll = async (): Promise<void> => {
      const head = await this.provider.getBlockNumber();
      if (head < from) return;
      const logs = await this.provider.getLogs({
        address: [brokerAddress, roundsAddress],
        fromBlock: from,
        toBlock: head,
      });
      from = head + 1;
      for (const log of logs) {
        const topic = log.topics[0] ?? "";
        // Indexed address topics are 32 bytes; the address is the low 20.
        const addressAt = (i: number) => `0x${(log.topics[i] ?? "").slice(26)}`;
        if (senderTopics.has(topic)) target.invalidateSender(addressAt(1));
        else if (topic === redeemedTopic) target.invalidateSender(addressAt(2));
        else if (topic === roundTopic) target.invalidateRound();
      }
    };
    // A failed poll retries the same block range next time; the TTL still bounds staleness.
    const loop = new PollLoop(poll, intervalMs, () => {});
    loop.start({ delayFirst: true });
    return () => loop.stop();
  }
}

function bigMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
