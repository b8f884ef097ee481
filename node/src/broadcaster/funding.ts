import type { SegmintClients } from "../chain/contracts.ts";
import type { Logger } from "../log/index.ts";
import { BroadcasterError } from "./errors.ts";

/**
 * Tops up the broadcaster's TicketBroker deposit and reserve: one approve for the sum, then
 * fundDepositAndReserve. Both are preflighted with staticCall, because a send whose gas
 * estimate reverts would still take a NonceManager nonce, and a clear error beats a revert.
 */
export async function fundDepositAndReserve(
  clients: SegmintClients,
  owner: string,
  amounts: { deposit: bigint; reserve: bigint },
  log: Logger,
): Promise<void> {
  const total = amounts.deposit + amounts.reserve;
  if (total === 0n) return;
  const balance = await clients.token.balanceOf(owner);
  if (balance < total) {
    throw new BroadcasterError(
      "FUNDING_FAILED",
      `the broadcaster holds ${balance} token wei, less than the ${total} asked for deposit and reserve`,
      { balance: balance.toString(), needed: total.toString(), address: owner },
      { hint: "get tokens to this address first, or lower --deposit/--reserve" },
    );
  }
  const broker = await clients.ticketBroker.getAddress();
  try {
    await clients.token.approve.staticCall(broker, total);
    await (await clients.token.approve(broker, total)).wait();
    await clients.ticketBroker.fundDepositAndReserve.staticCall(amounts.deposit, amounts.reserve);
    await (
      await clients.ticketBroker.fundDepositAndReserve(amounts.deposit, amounts.reserve)
    ).wait();
  } catch (cause) {
    throw new BroadcasterError(
      "FUNDING_FAILED",
      "funding the deposit and reserve failed on chain",
      { deposit: amounts.deposit.toString(), reserve: amounts.reserve.toString() },
      { hint: "check the token balance and that the deployment matches this chain", cause },
    );
  }
  log.info(
    { deposit: amounts.deposit.toString(), reserve: amounts.reserve.toString() },
    "deposit and reserve funded",
  );
}
