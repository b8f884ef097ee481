import type { Command } from "commander";
import { fundDepositAndReserve } from "../chain/funding.ts";
import type { SigningSession } from "../chain/session.ts";
import { formatTokens, parseAmount } from "../config/amounts.ts";
import { SegmintError } from "../errors.ts";
import { addChainFlags, type ChainFlags, report, withSigningSession } from "./chain-flags.ts";

interface DepositFlags extends ChainFlags {
  deposit?: string;
  reserve?: string;
  json?: boolean;
}

async function fundsOf(s: SigningSession) {
  const info = await s.reader.ticketBroker.getSenderInfo(s.address);
  return { deposit: info.deposit, reserve: info.reserve, withdrawRound: info.withdrawRound };
}

export function registerDeposit(program: Command): void {
  const deposit = program
    .command("deposit")
    .summary("a broadcaster's ticket deposit and reserve: fund, unlock, cancel-unlock, withdraw")
    .description(
      "Manage the TicketBroker funds that back a broadcaster's tickets. The deposit pays\n" +
        "winning tickets first; the reserve is a guarantee split between active orchestrators.\n" +
        'Amounts are token wei or tokens with a unit ("100 SGM", "100tokens").',
    );

  addChainFlags(
    deposit
      .command("fund")
      .description("Add to the deposit and/or the reserve (approves the TicketBroker when needed).")
      .option("--deposit <amount>", "added to the deposit")
      .option("--reserve <amount>", "added to the reserve")
      .option("--json", "print the result as one JSON object"),
  ).action(async (flags: DepositFlags) => {
    const add = flags.deposit === undefined ? 0n : parseAmount(flags.deposit, "--deposit");
    const reserve = flags.reserve === undefined ? 0n : parseAmount(flags.reserve, "--reserve");
    if (add + reserve === 0n) {
      throw new SegmintError(
        "BAD_AMOUNT",
        "nothing to fund: give --deposit and/or --reserve above 0",
        {},
        { hint: "e.g. segmint deposit fund --deposit 100tokens --reserve 50tokens" },
      );
    }
    await withSigningSession(flags, async (s) => {
      const tx = await fundDepositAndReserve(s, { deposit: add, reserve });
      const now = await fundsOf(s);
      report(
        flags,
        { action: "fund", tx, sender: s.address, addedDeposit: add, addedReserve: reserve, ...now },
        `Funded ${formatTokens(add)} deposit + ${formatTokens(reserve)} reserve; now deposit ${formatTokens(now.deposit)}, reserve ${formatTokens(now.reserve)} (tx ${tx})`,
      );
    });
  });

  addChainFlags(
    deposit
      .command("unlock")
      .description(
        "Start the unlock period, after which `segmint deposit withdraw` pays everything back.\n" +
          "Orchestrators stop accepting this account's tickets while it is unlocking.",
      )
      .option("--json", "print the result as one JSON object"),
  ).action(async (flags: DepositFlags) => {
    await withSigningSession(flags, async (s) => {
      const broker = s.clients.ticketBroker;
      const tx = await s.tx.checkAndSend("unlock", broker.unlock);
      const now = await fundsOf(s);
      report(
        flags,
        { action: "unlock", tx, sender: s.address, ...now },
        `Unlock started: withdrawable from round ${now.withdrawRound} (tx ${tx})`,
      );
    });
  });

  addChainFlags(
    deposit
      .command("cancel-unlock")
      .description("Cancel an unlock in progress, so tickets are accepted again.")
      .option("--json", "print the result as one JSON object"),
  ).action(async (flags: DepositFlags) => {
    await withSigningSession(flags, async (s) => {
      const broker = s.clients.ticketBroker;
      const tx = await s.tx.checkAndSend("cancelUnlock", broker.cancelUnlock);
      report(
        flags,
        { action: "cancel-unlock", tx, sender: s.address },
        `Unlock cancelled (tx ${tx})`,
      );
    });
  });

  addChainFlags(
    deposit
      .command("withdraw")
      .description("Withdraw the whole deposit and reserve once the unlock period is over.")
      .option("--json", "print the result as one JSON object"),
  ).action(async (flags: DepositFlags) => {
    await withSigningSession(flags, async (s) => {
      const before = await fundsOf(s);
      const broker = s.clients.ticketBroker;
      const tx = await s.tx.checkAndSend("withdraw", broker.withdraw);
      report(
        flags,
        {
          action: "withdraw",
          tx,
          sender: s.address,
          deposit: before.deposit,
          reserve: before.reserve,
        },
        `Withdrew ${formatTokens(before.deposit)} deposit + ${formatTokens(before.reserve)} reserve to ${s.address} (tx ${tx})`,
      );
    });
  });
}
