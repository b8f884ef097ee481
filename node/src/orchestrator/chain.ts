import type { TxSender } from "../chain/tx.ts";
import type { BrokerClient } from "../payments/broker-client.ts";
import type { RedeemChain } from "../payments/interface.ts";

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
