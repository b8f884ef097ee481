import type { Command } from "commander";
import { getAddress, isAddress } from "ethers";
import { SegmintError } from "../errors.ts";
import { approveIfNeeded } from "../orchestrator/registration.ts";
import {
  addChainFlags,
  type ChainFlags,
  formatTokens,
  openSigningChain,
  parseAmount,
  preflight,
  printJson,
  type SigningSession,
} from "./chain-flags.ts";

interface StakeFlags extends ChainFlags {
  to?: string;
  json?: boolean;
}

function parseLockId(text: string): bigint {
  if (!/^\d+$/.test(text.trim())) {
    throw new SegmintError(
      "BAD_LOCK_ID",
      `unbonding lock id "${text}" is not a whole number`,
      { value: text },
      { hint: "`segmint stake unbond` prints the lock id; `segmint status ADDRESS` lists them" },
    );
  }
  return BigInt(text.trim());
}

async function withSession<T>(
  flags: ChainFlags,
  run: (s: SigningSession) => Promise<T>,
): Promise<T> {
  const session = await openSigningChain(flags);
  try {
    return await run(session);
  } finally {
    session.close();
  }
}

function report(flags: { json?: boolean }, json: Record<string, unknown>, text: string): void {
  if (flags.json) printJson(json);
  else process.stdout.write(`${text}\n`);
}

export function registerStake(program: Command): void {
  const stake = program
    .command("stake")
    .summary("bond, unbond, rebond and withdraw stake (orchestrators and delegators)")
    .description(
      "Manage stake in the BondingManager. Amounts are token wei or tokens with a unit\n" +
        '("1000tokens"). Each command checks the call with eth_call first, so a call the\n' +
        "contract would refuse costs no gas and prints why.",
    );

  addChainFlags(
    stake
      .command("bond <amount>")
      .description(
        "Bond tokens to an orchestrator (yourself by default: an orchestrator bonds to itself).\n" +
          "Approves the BondingManager for the amount first when needed.",
      )
      .option("--to <address>", "orchestrator to delegate to (default: the signing address)")
      .option("--json", "print the result as one JSON object"),
  ).action(async (amountText: string, flags: StakeFlags) => {
    const amount = parseAmount(amountText);
    if (flags.to !== undefined && !isAddress(flags.to)) {
      throw new SegmintError("BAD_ADDRESS", `--to "${flags.to}" is not an address`, {
        value: flags.to,
      });
    }
    await withSession(flags, async (s) => {
      const to = flags.to === undefined ? s.address : getAddress(flags.to);
      const balance = await s.reader.token.balanceOf(s.address);
      if (balance < amount) {
        throw new SegmintError(
          "INSUFFICIENT_TOKENS",
          `${s.address} holds ${formatTokens(balance)} tokens, less than the ${formatTokens(amount)} to bond`,
          { balance: balance.toString(), amount: amount.toString() },
          { hint: "bond less, or get tokens to this address first" },
        );
      }
      // Checked before the approval, which would otherwise cost gas for a bond that fails.
      if (!(await s.reader.bondingManager.isRegisteredOrchestrator(to))) {
        throw new SegmintError(
          "NOT_ORCHESTRATOR",
          `${to} is not a registered orchestrator`,
          { orchestrator: to },
          {
            hint:
              to === s.address
                ? "register first with `segmint orchestrator-params`, or bond to one with --to"
                : "bond to a registered orchestrator (see `segmint status ADDRESS`)",
          },
        );
      }
      const bm = s.clients.bondingManager;
      await approveIfNeeded(s, await bm.getAddress(), amount);
      await preflight("bond", () => bm.bond.staticCall(amount, to));
      const tx = await s.tx.sendAndWait("bond", () => bm.bond(amount, to));
      const now = await s.reader.bondingManager.pendingStake(s.address);
      report(
        flags,
        { action: "bond", tx, delegator: s.address, orchestrator: to, amount, stake: now },
        `Bonded ${formatTokens(amount)} tokens from ${s.address} to ${to}; stake now ${formatTokens(now)} (tx ${tx})`,
      );
    });
  });

  addChainFlags(
    stake
      .command("unbond <amount>")
      .description(
        "Unbond stake into a new unbonding lock, withdrawable after the unbonding period with\n" +
          "`segmint stake withdraw LOCK_ID` (or put back with `segmint stake rebond LOCK_ID`).",
      )
      .option("--json", "print the result as one JSON object"),
  ).action(async (amountText: string, flags: StakeFlags) => {
    const amount = parseAmount(amountText);
    await withSession(flags, async (s) => {
      const bm = s.clients.bondingManager;
      const lockId = (await s.reader.bondingManager.delegatorInfo(s.address)).nextUnbondingLockId;
      await preflight("unbond", () => bm.unbond.staticCall(amount));
      const tx = await s.tx.sendAndWait("unbond", () => bm.unbond(amount));
      const [, withdrawRound] = await s.reader.bondingManager.unbondingLock(s.address, lockId);
      report(
        flags,
        { action: "unbond", tx, delegator: s.address, amount, lockId, withdrawRound },
        `Unbonded ${formatTokens(amount)} tokens into lock ${lockId}, withdrawable from round ${withdrawRound} (tx ${tx})`,
      );
    });
  });

  addChainFlags(
    stake
      .command("rebond <lockId>")
      .description("Bond an unbonding lock's tokens again, to the same orchestrator.")
      .option("--json", "print the result as one JSON object"),
  ).action(async (lockText: string, flags: StakeFlags) => {
    const lockId = parseLockId(lockText);
    await withSession(flags, async (s) => {
      const bm = s.clients.bondingManager;
      const [amount] = await s.reader.bondingManager.unbondingLock(s.address, lockId);
      await preflight("rebond", () => bm.rebond.staticCall(lockId));
      const tx = await s.tx.sendAndWait("rebond", () => bm.rebond(lockId));
      report(
        flags,
        { action: "rebond", tx, delegator: s.address, lockId, amount },
        `Rebonded lock ${lockId} (${formatTokens(amount)} tokens) (tx ${tx})`,
      );
    });
  });

  addChainFlags(
    stake
      .command("withdraw <lockId>")
      .description("Withdraw an unbonding lock's tokens once its unbonding period is over.")
      .option("--json", "print the result as one JSON object"),
  ).action(async (lockText: string, flags: StakeFlags) => {
    const lockId = parseLockId(lockText);
    await withSession(flags, async (s) => {
      const bm = s.clients.bondingManager;
      const [amount] = await s.reader.bondingManager.unbondingLock(s.address, lockId);
      await preflight("withdrawStake", () => bm.withdrawStake.staticCall(lockId));
      const tx = await s.tx.sendAndWait("withdrawStake", () => bm.withdrawStake(lockId));
      report(
        flags,
        { action: "withdraw", tx, delegator: s.address, lockId, amount },
        `Withdrew ${formatTokens(amount)} tokens from lock ${lockId} to ${s.address} (tx ${tx})`,
      );
    });
  });

  addChainFlags(
    stake
      .command("withdraw-fees [amount]")
      .description("Withdraw earned fees (all pending fees when no amount is given).")
      .option("--to <address>", "where to send them (default: the signing address)")
      .option("--json", "print the result as one JSON object"),
  ).action(async (amountText: string | undefined, flags: StakeFlags) => {
    if (flags.to !== undefined && !isAddress(flags.to)) {
      throw new SegmintError("BAD_ADDRESS", `--to "${flags.to}" is not an address`, {
        value: flags.to,
      });
    }
    await withSession(flags, async (s) => {
      const bm = s.clients.bondingManager;
      const to = flags.to === undefined ? s.address : getAddress(flags.to);
      const amount =
        amountText === undefined
          ? await s.reader.bondingManager.pendingFees(s.address)
          : parseAmount(amountText);
      if (amount === 0n) {
        throw new SegmintError("NOTHING_TO_WITHDRAW", `${s.address} has no fees to withdraw`, {});
      }
      await preflight("withdrawFees", () => bm.withdrawFees.staticCall(to, amount));
      const tx = await s.tx.sendAndWait("withdrawFees", () => bm.withdrawFees(to, amount));
      report(
        flags,
        { action: "withdraw-fees", tx, delegator: s.address, to, amount },
        `Withdrew ${formatTokens(amount)} tokens of fees to ${to} (tx ${tx})`,
      );
    });
  });
}
