import type { Command } from "commander";
import { registerBroadcast } from "./broadcast.ts";
import { registerBroadcaster } from "./broadcaster.ts";
import { registerCapabilities } from "./capabilities.ts";
import { registerChain } from "./chain.ts";
import { registerDeploy } from "./deploy.ts";
import { registerDeposit } from "./deposit.ts";
import { registerDevnet } from "./devnet.ts";
import { registerEarnings } from "./earnings.ts";
import { registerImportDeployment } from "./import-deployment.ts";
import { registerMarket } from "./market.ts";
import { registerOrchestrator } from "./orchestrator.ts";
import { registerOrchestratorParams } from "./orchestrator-params.ts";
import { registerRound } from "./round.ts";
import { registerSpend } from "./spend.ts";
import { registerStake } from "./stake.ts";
import { registerStatus } from "./status.ts";
import { registerTranscode } from "./transcode.ts";
import { registerTransfer } from "./transfer.ts";

/**
 * Every subcommand lives in its own file under cli/ and exports a `register*` function;
 * this list is the one place they are attached to the program, in the order `--help` shows.
 */
export function registerCommands(program: Command): void {
  registerChain(program);
  registerDeploy(program);
  registerImportDeployment(program);
  registerDevnet(program);
  registerOrchestrator(program);
  registerOrchestratorParams(program);
  registerStake(program);
  registerRound(program);
  registerDeposit(program);
  registerTransfer(program);
  registerStatus(program);
  registerEarnings(program);
  registerMarket(program);
  registerBroadcast(program);
  registerBroadcaster(program);
  registerSpend(program);
  registerTranscode(program);
  registerCapabilities(program);
}
