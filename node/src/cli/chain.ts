import type { Command } from "commander";
import { startDevChain } from "../chain/devchain.ts";
import { parseIntegerOption } from "./options.ts";

export function registerChain(program: Command): void {
  program
    .command("chain")
    .summary("run a local development chain (Hardhat, JSON-RPC on 127.0.0.1)")
    .description(
      "Run a local Hardhat development chain with a JSON-RPC server on 127.0.0.1 until stopped.\n" +
        "Its funded accounts come from Hardhat's public test mnemonic: never send real funds to them.",
    )
    .option(
      "--port <n>",
      "port on 127.0.0.1 (0 picks a free one)",
      parseIntegerOption(0, 65535),
      8545,
    )
    .option(
      "--block-time <ms>",
      "also mine an empty block every <ms> milliseconds, so rounds advance on an idle chain (0: only on transactions)",
      parseIntegerOption(0, 3_600_000),
      1000,
    )
    .option("--accounts <n>", "number of funded dev accounts", parseIntegerOption(1, 1000), 20)
    .option("--json", "print the chain's URL, chain id and accounts as one JSON object")
    .action(
      async (options: { port: number; blockTime: number; accounts: number; json?: boolean }) => {
        const chain = await startDevChain({
          port: options.port,
          blockIntervalMs: options.blockTime,
          accounts: options.accounts,
        });
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ url: chain.url, chainId: chain.chainId, accounts: chain.accounts })}\n`,
          );
        } else {
          const lines = [
            `Segmint dev chain listening at ${chain.url} (chain id ${chain.chainId})`,
            "",
            "Funded accounts (10000 ETH each; keys are PUBLIC test keys, for local use only):",
            ...chain.accounts.map((a, i) => `  #${i} ${a.address}  key ${a.privateKey}`),
            "",
            `Deploy the contracts with: npx segmint deploy --rpc ${chain.url} --out deployment.json`,
            "Stop with Ctrl-C.",
          ];
          process.stdout.write(`${lines.join("\n")}\n`);
        }
        const stop = () => void chain.close();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        await chain.closed;
      },
    );
}
