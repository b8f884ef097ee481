import type { Command } from "commander";
import type { SigningSession } from "../chain/session.ts";
import { formatTokens } from "../config/amounts.ts";
import { SegmintError } from "../errors.ts";
import { addChainFlags, type ChainFlags, report, withSigningSession } from "./chain-flags.ts";

interface RoundFlags extends ChainFlags {
  json?: boolean;
}

/** What one reward() call minted, read from its Rewarded event. */
interface Minted {
  amount: bigint;
  orchestratorCut: bigint;
}

/** The Rewarded event in `txHash`'s receipt; zeros when the node returns no such log. */
async function mintedBy(s: SigningSession, txHash: string): Promise<Minted> {
  const receipt = await s.provider.getTransactionReceipt(txHash);
  const bm = s.reader.bondingManager;
  for (const log of receipt?.logs ?? []) {
    const parsed = bm.interface.parseLog(log);
    if (parsed?.name === "Rewarded") {
      return { amount: parsed.args.amount, orchestratorCut: parsed.args.orchestratorCut };
    }
  }
  return { amount: 0n, orchestratorCut: 0n };
}

/**
 * The reasons reward() would revert, each checked before anything is signed so the operator
 * reads one line that says what to do rather than a decoded revert.
 */
async function checkCanReward(s: SigningSession, round: bigint): Promise<void> {
  const info = await s.reader.bondingManager.getOrchestrator(s.address);
  if (!info.registered) {
    throw new SegmintError(
      "NOT_ORCHESTRATOR",
      `${s.address} is not a registered orchestrator`,
      { orchestrator: s.address },
      { hint: "register with `segmint orchestrator-params` and bond with `segmint stake bond`" },
    );
  }
  if (!info.active) {
    throw new SegmintError(
      "NOT_ACTIVE_ORCHESTRATOR",
      `${s.address} is not in round ${round}'s active set, so it earns no reward this round`,
      { orchestrator: s.address, round: round.toString(), inNextActiveSet: info.inNextActiveSet },
      {
        hint: info.inNextActiveSet
          ? `it holds a seat from round ${round + 1n}: call reward then`
          : "bond at least the minimum self-stake (`segmint stake bond`); stake counts from the next round",
      },
    );
  }
  if (info.lastRewardRound === round) {
    throw new SegmintError(
      "REWARD_ALREADY_CALLED",
      `${s.address} already called reward() in round ${round}`,
      { orchestrator: s.address, round: round.toString() },
      { hint: `call it again in round ${round + 1n}` },
    );
  }
}

export function registerRound(program: Command): void {
  addChainFlags(
    program
      .command("reward")
      .summary("call reward() for this round: mint the signing orchestrator's share of inflation")
      .description(
        "Call the BondingManager's reward() as the signing orchestrator, once per round while it\n" +
          "is active. The daemon does this by itself unless run with --no-reward; this command is\n" +
          "for a node run that way, or one that missed a round.",
      )
      .option("--json", "print the result as one JSON object"),
  ).action(async (flags: RoundFlags) => {
    await withSigningSession(flags, async (s) => {
      const round = await s.reader.roundsManager.currentRound();
      await checkCanReward(s, round);
      const bm = s.clients.bondingManager;
      const tx = await s.tx.checkAndSend("reward", bm.reward);
      const minted = await mintedBy(s, tx);
      report(
        flags,
        { action: "reward", tx, orchestrator: s.address, round, ...minted },
        `Called reward() for round ${round}: minted ${formatTokens(minted.amount)} into the pool of ${s.address}, its cut ${formatTokens(minted.orchestratorCut)} (tx ${tx})`,
      );
    });
  });

  const round = program
    .command("round")
    .summary("round commands: initialize the current round")
    .description("Commands on the RoundsManager's rounds.");
  addChainFlags(
    round
      .command("initialize")
      .description(
        "Initialize the current round: store its block hash, which tickets of this round carry.\n" +
          "Anyone may call it; an orchestrator's daemon does it by itself, so this is rarely needed.",
      )
      .option("--json", "print the result as one JSON object"),
  ).action(async (flags: RoundFlags) => {
    await withSigningSession(flags, async (s) => {
      const rm = s.reader.roundsManager;
      const current = await rm.currentRound();
      if (await rm.currentRoundInitialized()) {
        throw new SegmintError(
          "ROUND_ALREADY_INITIALIZED",
          `round ${current} is already initialized`,
          { round: current.toString() },
          { hint: "nothing to do: the next round can be initialized once it starts" },
        );
      }
      const tx = await s.tx.checkAndSend(
        "initializeRound",
        s.clients.roundsManager.initializeRound,
      );
      const blockHash = await rm.blockHashForRound(current);
      report(
        flags,
        { action: "round-initialize", tx, round: current, blockHash },
        `Initialized round ${current} (block hash ${blockHash}) (tx ${tx})`,
      );
    });
  });
}
