import { formatTokens } from "../config/amounts.ts";
import { ChainError } from "./errors.ts";
import type { SigningSession } from "./session.ts";

/** What the token moves below need of a signing session. */
export type TokenSession = Pick<SigningSession, "address" | "reader" | "clients" | "tx">;

/**
 * Throws INSUFFICIENT_TOKENS when the signer holds less than `amount`, before any approval or
 * transaction is spent on it. `verb` says what the tokens were for ("bond", "fund").
 */
export async function requireTokens(s: TokenSession, amount: bigint, verb: string): Promise<void> {
  const balance = await s.reader.token.balanceOf(s.address);
  if (balance < amount) {
    throw new ChainError(
      "INSUFFICIENT_TOKENS",
      `${s.address} holds ${formatTokens(balance)}, less than the ${formatTokens(amount)} to ${verb}`,
      { address: s.address, balance: balance.toString(), amount: amount.toString() },
      {
        hint: `${verb} less, or get tokens to this address first (\`segmint transfer AMOUNT --to ${s.address}\` from an account that holds some)`,
      },
    );
  }
}

/** Approves `spender` for `amount` unless the allowance already covers it. */
export async function approveIfNeeded(
  s: TokenSession,
  spender: string,
  amount: bigint,
): Promise<void> {
  const allowance = await s.reader.token.allowance(s.address, spender);
  if (allowance >= amount) return;
  await s.tx.checkAndSend("approve", s.clients.token.approve, spender, amount);
}

/**
 * Adds to a broadcaster's TicketBroker deposit and reserve: checks the balance, approves the
 * broker for the sum when needed, then fundDepositAndReserve, each preflighted. The one place
 * deposits are funded (the CLI, both broadcasters and the live deposit keeper call it).
 * Returns the funding transaction's hash, or null when there was nothing to add.
 */
export async function fundDepositAndReserve(
  s: TokenSession,
  amounts: { deposit: bigint; reserve: bigint },
): Promise<string | null> {
  const total = amounts.deposit + amounts.reserve;
  if (total === 0n) return null;
  await requireTokens(s, total, "fund the deposit and reserve");
  const broker = s.clients.ticketBroker;
  await approveIfNeeded(s, await broker.getAddress(), total);
  return s.tx.checkAndSend(
    "fundDepositAndReserve",
    broker.fundDepositAndReserve,
    amounts.deposit,
    amounts.reserve,
  );
}
