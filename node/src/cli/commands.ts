import type { Command } from "commander";
import { registerChain } from "./chain.ts";

/**
 * Every subcommand lives in its own file under cli/ and exports a `register*` function;
 * this list is the one place they are attached to the program, in the order `--help` shows.
 */
export function registerCommands(program: Command): void {
  registerChain(program);
}
