import type { Command } from "commander";
import { getAddress, isAddress } from "ethers";
import { formatEth, formatTokens } from "../config/amounts.ts";
import { SegmintError } from "../errors.ts";
import { addChainFlags, type ChainFlags, openChain, printJson } from "./chain-flags.ts";

interface StatusFlags extends ChainFlags {
  json?: boolean;
  locks?: string;
}

const MAX_UINT = (1n << 256n) - 1n;

export function registerStatus(program: Command): void {
  addChainFlags(
    program
      .command("status <address>")
      .summary("an account's stake, delegation, orchestrator terms, fees, deposit and reserve")
      .description(
        "Read everything the chain knows about ADDRESS: token balance; stake, delegate and\n" +
          "pending fees; its unbonding locks; as an orchestrator, its reward cut, fee share,\n" +
          "total stake, whether it is active and its registry entry; as a broadcaster, its\n" +
          "ticket deposit and reserve. No key is needed.",
      )
      .option("--json", "print one JSON object"),
    false,
  ).action(async (addressText: string, flags: StatusFlags) => {
    if (!isAddress(addressText)) {
      throw new SegmintError("BAD_ADDRESS", `"${addressText}" is not an address`, {
        value: addressText,
      });
    }
    const address = getAddress(addressText);
    const s = await openChain(flags);
    try {
      const { bondingManager: bm, ticketBroker: broker, token, roundsManager, registry } = s.reader;
      const [round, balance, eth, delegator, orch, sender, service] = await Promise.all([
        roundsManager.currentRound(),
        token.balanceOf(address),
        s.provider.getBalance(address),
        bm.delegatorInfo(address),
        bm.getOrchestrator(address),
        broker.getSenderInfo(address),
        registry.serviceInfo(address),
      ]);
      const locks: Array<{ id: bigint; amount: bigint; withdrawRound: bigint }> = [];
      for (let id = 0n; id < delegator.nextUnbondingLockId; id++) {
        const [amount, withdrawRound] = await bm.unbondingLock(address, id);
        if (amount > 0n) locks.push({ id, amount, withdrawRound });
      }
      const result = {
        address,
        round,
        tokenBalance: balance,
        ethBalance: eth,
        delegator: {
          delegate: delegator.delegate,
          stake: delegator.stake,
          pendingFees: delegator.fees,
          unbondingLocks: locks,
        },
        orchestrator: {
          registered: orch.registered,
          rewardCut: orch.rewardCut,
          feeShare: orch.feeShare,
          totalStake: orch.totalStake,
          active: orch.active,
          inNextActiveSet: orch.inNextActiveSet,
          lastRewardRound: orch.lastRewardRound === MAX_UINT ? null : orch.lastRewardRound,
          peerId: service.peerId === "" ? null : service.peerId,
          multiaddrs: [...service.multiaddrs],
        },
        broadcaster: {
          deposit: sender.deposit,
          reserve: sender.reserve,
          withdrawRound: sender.withdrawRound,
          unlocking: sender.withdrawRound !== 0n,
        },
      };
      if (flags.json) {
        printJson(result);
        return;
      }
      const zero = "0x0000000000000000000000000000000000000000";
      const lines = [
        `${address} at round ${round}`,
        `  balance        ${formatTokens(balance)}; ${formatEth(eth)} for gas`,
        `  stake          ${formatTokens(delegator.stake)}${delegator.delegate === zero ? "" : ` bonded to ${delegator.delegate}`}`,
        `  pending fees   ${formatTokens(delegator.fees)}`,
        ...locks.map(
          (l) =>
            `  unbonding lock ${l.id}: ${formatTokens(l.amount)} withdrawable from round ${l.withdrawRound}`,
        ),
      ];
      if (orch.registered) {
        lines.push(
          `  orchestrator   ${orch.active ? "active" : "not active"} this round, ${orch.inNextActiveSet ? "in" : "not in"} the next round's active set; total stake ${formatTokens(orch.totalStake)}; reward cut ${orch.rewardCut} ppm; fee share ${orch.feeShare} ppm`,
          `  last reward    ${result.orchestrator.lastRewardRound ?? "never"}`,
          `  peer id        ${result.orchestrator.peerId ?? "(not published)"} ${result.orchestrator.multiaddrs.join(" ")}`,
        );
      } else {
        lines.push("  orchestrator   not registered");
      }
      lines.push(
        `  deposit        ${formatTokens(sender.deposit)}; reserve ${formatTokens(sender.reserve)}${sender.withdrawRound !== 0n ? `; unlocking, withdrawable from round ${sender.withdrawRound}` : ""}`,
      );
      process.stdout.write(`${lines.join("\n")}\n`);
    } finally {
      s.close();
    }
  });
}
