import type { Command } from "commander";
import { SegmintError } from "../errors.ts";
import { addChainFlags, type ChainFlags, openSigningChain, printJson } from "./chain-flags.ts";

interface ParamsFlags extends ChainFlags {
  rewardCut?: string;
  feeShare?: string;
  json?: boolean;
}

function ppm(text: string | undefined, flag: string): bigint | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  if (!/^\d+$/.test(value) || BigInt(value) > 1_000_000n) {
    throw new SegmintError(
      "BAD_PPM",
      `${flag} "${text}" is not parts per million (0 to 1000000)`,
      { flag, value: text },
      { hint: "10% is 100000" },
    );
  }
  return BigInt(value);
}

export function registerOrchestratorParams(program: Command): void {
  addChainFlags(
    program
      .command("orchestrator-params")
      .summary("register as an orchestrator or change its reward cut and fee share")
      .description(
        "Register the signing address as an orchestrator, or update its terms. The reward cut\n" +
          "is the share of each round's reward the orchestrator keeps; the fee share is the share\n" +
          "of ticket fees passed to its delegators (both in parts per million: 10% = 100000).\n" +
          "A value not given keeps the current one (or the default 100000 / 500000 when new).",
      )
      .option("--reward-cut <ppm>", "share of rewards kept by the orchestrator")
      .option("--fee-share <ppm>", "share of fees given to delegators")
      .option("--json", "print the result as one JSON object"),
  ).action(async (flags: ParamsFlags) => {
    const rewardCut = ppm(flags.rewardCut, "--reward-cut");
    const feeShare = ppm(flags.feeShare, "--fee-share");
    const s = await openSigningChain(flags);
    try {
      const info = await s.reader.bondingManager.getOrchestrator(s.address);
      const cut = rewardCut ?? (info.registered ? info.rewardCut : 100_000n);
      const share = feeShare ?? (info.registered ? info.feeShare : 500_000n);
      const bm = s.clients.bondingManager;
      const tx = await s.tx.checkAndSend(
        "setOrchestratorParams",
        bm.setOrchestratorParams,
        cut,
        share,
      );
      if (flags.json) {
        printJson({
          action: "orchestrator-params",
          tx,
          orchestrator: s.address,
          rewardCut: cut,
          feeShare: share,
          registered: true,
        });
      } else {
        process.stdout.write(
          `${info.registered ? "Updated" : "Registered"} orchestrator ${s.address}: reward cut ${cut} ppm, fee share ${share} ppm (tx ${tx})\n`,
        );
      }
    } finally {
      s.close();
    }
  });
}
