import type { Command } from "commander";
import type { BondingManager } from "../chain/contracts.ts";
import { approveIfNeeded, requireTokens } from "../chain/funding.ts";
import type { SigningSession } from "../chain/session.ts";
import { formatTokens, parseAmount } from "../config/amounts.ts";
import { SegmintError } from "../errors.ts";
import {
  addChainFlags,
  addressFlag,
  type ChainFlags,
  report,
  withSigningSession,
} from "./chain-flags.ts";

interface StakeFlags extends ChainFlags {
  to?: string;
  json?: boolean;
}

type FeeBalance = Awaited<ReturnType<BondingManager["feeBalance"]>>;

/**
 * Refuses a fee withdrawal above the unlocked fees with one coded line naming the round from
 * which `wanted` is unlocked. Unsettled fees are settled first (claimEarnings), since their
 * wait only starts then.
 */
async function throwFeesLocked(
  s: SigningSession,
  wanted: bigint,
  before: FeeBalance,
): Promise<never> {
  let fees = before;
  if (fees.unsettled > 0n) {
    await s.tx.checkAndSend("claimEarnings", s.clients.bondingManager.claimEarnings);
    fees = await s.reader.bondingManager.feeBalance(s.address);
  }
  const total = fees.withdrawable + fees.locked + fees.laterLocked;
  if (wanted > total) {
    throw new SegmintError(
      "INSUFFICIENT_FEES",
      `${s.address} has ${formatTokens(total)} tokens of fees, less than ${formatTokens(wanted)}`,
      { requested: wanted.toString(), available: total.toString() },
    );
  }
  const unlockRound =
    wanted <= fees.withdrawable + fees.locked ? fees.unlockRound : fees.laterUnlockRound;
  const round = await s.reader.roundsManager.currentRound();
  throw new SegmintError(
    "FEES_LOCKED",
    `${formatTokens(wanted)} tokens of fees are not unlocked until round ${unlockRound} (now round ${round}; withdrawable now: ${formatTokens(fees.withdrawable)})`,
    {
      requested: wanted.toString(),
      withdrawable: fees.withdrawable.toString(),
      unlockRound: unlockRound.toString(),
      currentRound: round.toString(),
    },
    { hint: `run \`segmint stake withdraw-fees\` again from round ${unlockRound}` },
  );
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

interface LockResult {
  tx: string;
  delegator: string;
  lockId: bigint;
  amount: bigint;
}

/** `stake rebond|withdraw <lockId>`: one transaction on an unbonding lock, reported with its amount. */
function addLockCommand(
  stake: Command,
  spec: {
    command: "rebond" | "withdraw";
    description: string;
    label: string;
    method: (bm: BondingManager) => BondingManager["rebond"] | BondingManager["withdrawStake"];
    text: (result: LockResult) => string;
  },
): void {
  addChainFlags(
    stake
      .command(`${spec.command} <lockId>`)
      .description(spec.description)
      .option("--json", "print the result as one JSON object"),
  ).action(async (lockText: string, flags: StakeFlags) => {
    const lockId = parseLockId(lockText);
    await withSigningSession(flags, async (s) => {
      const [amount] = await s.reader.bondingManager.unbondingLock(s.address, lockId);
      const method = spec.method(s.clients.bondingManager);
      const tx = await s.tx.checkAndSend(spec.label, method, lockId);
      const result = { tx, delegator: s.address, lockId, amount };
      report(flags, { action: spec.command, ...result }, spec.text(result));
    });
  });
}

export function registerStake(program: Command): void {
  const stake = program
    .command("stake")
    .summary("bond, unbond, rebond and withdraw stake (orchestrators and delegators)")
    .description(
      "Manage stake in the BondingManager. Amounts are token wei or tokens with a unit\n" +
        '("1000 SGM", "1000tokens"). Each command checks the call with eth_call first, so a call the\n' +
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
    const toFlag = addressFlag("--to", flags.to);
    await withSigningSession(flags, async (s) => {
      const to = toFlag ?? s.address;
      await requireTokens(s, amount, "bond");
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
      const tx = await s.tx.checkAndSend("bond", bm.bond, amount, to);
      const now = await s.reader.bondingManager.pendingStake(s.address);
      report(
        flags,
        { action: "bond", tx, delegator: s.address, orchestrator: to, amount, stake: now },
        `Bonded ${formatTokens(amount)} from ${s.address} to ${to}; stake now ${formatTokens(now)} (tx ${tx})`,
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
    await withSigningSession(flags, async (s) => {
      const bm = s.clients.bondingManager;
      const lockId = (await s.reader.bondingManager.delegatorInfo(s.address)).nextUnbondingLockId;
      const tx = await s.tx.checkAndSend("unbond", bm.unbond, amount);
      const [, withdrawRound] = await s.reader.bondingManager.unbondingLock(s.address, lockId);
      report(
        flags,
        { action: "unbond", tx, delegator: s.address, amount, lockId, withdrawRound },
        `Unbonded ${formatTokens(amount)} into lock ${lockId}, withdrawable from round ${withdrawRound} (tx ${tx})`,
      );
    });
  });

  addLockCommand(stake, {
    command: "rebond",
    description: "Bond an unbonding lock's tokens again, to the same orchestrator.",
    label: "rebond",
    method: (bm) => bm.rebond,
    text: ({ lockId, amount, tx }) =>
      `Rebonded lock ${lockId} (${formatTokens(amount)}) (tx ${tx})`,
  });

  addLockCommand(stake, {
    command: "withdraw",
    description: "Withdraw an unbonding lock's tokens once its unbonding period is over.",
    label: "withdrawStake",
    method: (bm) => bm.withdrawStake,
    text: ({ lockId, amount, delegator, tx }) =>
      `Withdrew ${formatTokens(amount)} from lock ${lockId} to ${delegator} (tx ${tx})`,
  });

  addChainFlags(
    stake
      .command("withdraw-fees [amount]")
      .description(
        "Withdraw earned fees (all unlocked fees when no amount is given). Fees wait the unlock " +
          "period once settled; a withdrawal that finds them locked settles any unsettled ones " +
          "first, so their wait starts.",
      )
      .option("--to <address>", "where to send them (default: the signing address)")
      .option("--json", "print the result as one JSON object"),
  ).action(async (amountText: string | undefined, flags: StakeFlags) => {
    const toFlag = addressFlag("--to", flags.to);
    await withSigningSession(flags, async (s) => {
      const bm = s.clients.bondingManager;
      const to = toFlag ?? s.address;
      const fees = await s.reader.bondingManager.feeBalance(s.address);
      const total = fees.withdrawable + fees.locked + fees.laterLocked + fees.unsettled;
      const amount = amountText === undefined ? fees.withdrawable : parseAmount(amountText);
      if (total === 0n) {
        throw new SegmintError("NOTHING_TO_WITHDRAW", `${s.address} has no fees to withdraw`, {});
      }
      if (amount === 0n || amount > fees.withdrawable) {
        await throwFeesLocked(s, amount === 0n ? total : amount, fees);
      }
      const tx = await s.tx.checkAndSend("withdrawFees", bm.withdrawFees, to, amount);
      report(
        flags,
        { action: "withdraw-fees", tx, delegator: s.address, to, amount },
        `Withdrew ${formatTokens(amount)} of fees to ${to} (tx ${tx})`,
      );
    });
  });
}
