import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { isIgnitionAddresses, writeDeployment } from "../chain/deployment.ts";
import { deploymentFromIgnition, ignitionContracts } from "../chain/ignition.ts";
import { connectChain } from "../chain/session.ts";
import { SegmintError } from "../errors.ts";
import { report } from "./chain-flags.ts";

interface ImportFlags {
  rpc: string;
  out: string;
  json?: boolean;
}

export function registerImportDeployment(program: Command): void {
  program
    .command("import-deployment <file>")
    .summary("turn Hardhat Ignition's deployed_addresses.json into a deployment file")
    .description(
      "`npx hardhat ignition deploy ignition/modules/Segmint.ts` writes deployed_addresses.json\n" +
        "(contract addresses only). This reads the chain id, the deployment block, the deployer\n" +
        "and every parameter from the chain at --rpc and writes the deployment file the other\n" +
        "commands take with --deployment.",
    )
    .requiredOption("--rpc <url>", "JSON-RPC endpoint of the chain Ignition deployed to")
    .requiredOption("--out <file>", "where to write the deployment JSON")
    .option("--json", "print the deployment as one JSON object")
    .action(async (file: string, flags: ImportFlags) => {
      let json: unknown;
      try {
        json = JSON.parse(await readFile(file, "utf8"));
      } catch (cause) {
        throw new SegmintError(
          "DEPLOYMENT_NOT_FOUND",
          `cannot read ${file} as JSON`,
          { file },
          { hint: "Ignition writes it under ignition/deployments/chain-ID/", cause },
        );
      }
      if (!isIgnitionAddresses(json)) {
        throw new SegmintError(
          "DEPLOYMENT_INVALID",
          `${file} is not Ignition's deployed_addresses.json (keys like "Segmint#Token")`,
          { file },
          { hint: "a file written by `segmint deploy` needs no import: pass it to --deployment" },
        );
      }
      const contracts = ignitionContracts(json, file);
      const connection = await connectChain(flags.rpc);
      try {
        const deployment = await deploymentFromIgnition(contracts, connection.provider);
        await writeDeployment(flags.out, deployment);
        report(
          flags,
          { ...deployment },
          `Imported the Segmint deployment on chain ${deployment.chainId} (block ${deployment.deploymentBlock}) into ${flags.out}`,
        );
      } finally {
        connection.close();
      }
    });
}
