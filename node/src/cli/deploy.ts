import type { Command } from "commander";
import type { Wallet } from "ethers";
import { z } from "zod";
import { type DeployParams, defaultDeployParams, deploySegmint } from "../chain/deploy.ts";
import { writeDeployment } from "../chain/deployment.ts";
import { DEV_CHAIN_ID, devAccounts } from "../chain/devchain.ts";
import { loadWallet } from "../chain/keys.ts";
import { connectChain } from "../chain/session.ts";
import { readConfigFile } from "../config/load.ts";
import { SegmintError } from "../errors.ts";
import { toJson } from "../json.ts";
import { parseBigIntOption, parseIntegerOption } from "./options.ts";

const positiveInt = z.coerce.number().int().positive();
const paramsSchema = z
  .object({
    roundLength: positiveInt,
    unbondingPeriod: positiveInt,
    unlockPeriod: positiveInt,
    maxActiveSetSize: positiveInt,
    minSelfStake: z.coerce.bigint().positive(),
    inflationPerRound: z.coerce.bigint().nonnegative(),
    ticketValidityRounds: positiveInt,
    initialSupply: z.coerce.bigint().nonnegative(),
  })
  .partial()
  .strict();

/**
 * On a local dev chain (1 s blocks from `segmint chain`) the L1 defaults would make a round last
 * two hours; these make rounds, unbonding and unlocking take about a minute.
 */
export const devChainDeployParams: Partial<DeployParams> = {
  roundLength: 20,
  unbondingPeriod: 2,
  // Tickets expire a round before a sender's unlock ends, so none is redeemable in the round
  // the sender can already withdraw (docs/contracts.md).
  unlockPeriod: 3,
  ticketValidityRounds: 2,
};

interface DeployFlags {
  rpc: string;
  key?: string;
  keystore?: string;
  passwordFile?: string;
  out: string;
  config?: string;
  roundLength?: number;
  unbondingPeriod?: number;
  unlockPeriod?: number;
  activeSetSize?: number;
  minSelfStake?: bigint;
  inflation?: bigint;
  ticketValidity?: number;
  initialSupply?: bigint;
  json?: boolean;
}

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .summary("deploy and wire every Segmint contract, and write the deployment file")
    .description(
      "Deploy the Token, RoundsManager, BondingManager, Minter, TicketBroker and OrchestratorRegistry,\n" +
        "wire them together, set their parameters and write a deployment JSON (chain id, block,\n" +
        "addresses). Parameters come from --config FILE (JSON), then the flags; the rest take\n" +
        "their defaults. On a local dev chain (chain id 31337) the first dev account deploys when\n" +
        "no key is given, and the defaults suit a dev chain: 20-block rounds, a 2-round unbonding\n" +
        "period, a 3-round unlock period and tickets valid for 2 rounds. Token amounts are wei or\n" +
        'tokens with a unit ("1000 SGM", "1000tokens").',
    )
    .requiredOption("--rpc <url>", "JSON-RPC endpoint of the chain, e.g. http://127.0.0.1:8545")
    .requiredOption("--out <file>", "where to write the deployment JSON")
    .option("--key <hex>", "deployer private key (or set SEGMINT_PRIVATE_KEY)")
    .option("--keystore <file>", "deployer's encrypted JSON keystore")
    .option(
      "--password-file <file>",
      "file holding the keystore password (or SEGMINT_KEYSTORE_PASSWORD)",
    )
    .option("--config <file>", "JSON file with deployment parameters (names as below, camelCase)")
    .option("--round-length <blocks>", "blocks per round", parseIntegerOption(1, 1_000_000))
    .option(
      "--unbonding-period <rounds>",
      "rounds before unbonded stake can be withdrawn",
      parseIntegerOption(1, 100_000),
    )
    .option(
      "--unlock-period <rounds>",
      "rounds before an unlocked deposit/reserve can be withdrawn",
      parseIntegerOption(1, 100_000),
    )
    .option(
      "--active-set-size <n>",
      "orchestrators in the active set (top N by stake, at most 100)",
      parseIntegerOption(1, 100),
    )
    .option(
      "--min-self-stake <amount>",
      "tokens an orchestrator must bond to itself to hold a seat in the active set",
      parseBigIntOption,
    )
    .option("--inflation <amount>", "tokens minted per round for rewards", parseBigIntOption)
    .option(
      "--ticket-validity <rounds>",
      "rounds a ticket stays redeemable after its creation round",
      parseIntegerOption(1, 100_000),
    )
    .option(
      "--initial-supply <amount>",
      "tokens minted to the deployer at deployment",
      parseBigIntOption,
    )
    .option("--json", "print the deployment as JSON on stdout")
    .action(async (flags: DeployFlags) => {
      const fromFile = flags.config === undefined ? {} : await readConfigFile(flags.config);
      const parsed = paramsSchema.safeParse(fromFile);
      if (!parsed.success) {
        const problems = parsed.error.issues.map(
          (i) => `${i.path.join(".") || "(root)"}: ${i.message}`,
        );
        throw new SegmintError(
          "CONFIG_INVALID",
          `invalid deployment parameters in ${flags.config}: ${problems.join("; ")}`,
          { problems },
        );
      }
      const connection = await connectChain(flags.rpc);
      const { provider, chainId } = connection;
      const isDevChain = chainId === BigInt(DEV_CHAIN_ID);
      const params: DeployParams = {
        ...defaultDeployParams,
        ...(isDevChain ? devChainDeployParams : {}),
        ...parsed.data,
        ...definedOnly({
          roundLength: flags.roundLength,
          unbondingPeriod: flags.unbondingPeriod,
          unlockPeriod: flags.unlockPeriod,
          maxActiveSetSize: flags.activeSetSize,
          minSelfStake: flags.minSelfStake,
          inflationPerRound: flags.inflation,
          ticketValidityRounds: flags.ticketValidity,
          initialSupply: flags.initialSupply,
        }),
      };

      try {
        const privateKey = flags.key ?? process.env.SEGMINT_PRIVATE_KEY;
        const noKey = privateKey === undefined && flags.keystore === undefined;
        let wallet: Wallet;
        if (noKey && isDevChain) {
          const [first] = devAccounts(1);
          if (first === undefined) throw new Error("no dev account");
          wallet = await loadWallet({ privateKey: first.privateKey });
          process.stderr.write(`deploying from dev account #0 ${wallet.address}\n`);
        } else {
          wallet = await loadWallet({
            privateKey,
            keystoreFile: flags.keystore,
            passwordFile: flags.passwordFile,
            password: process.env.SEGMINT_KEYSTORE_PASSWORD,
          });
        }
        const signer = wallet.connect(provider);
        const deployment = await deploySegmint(signer, params);
        await writeDeployment(flags.out, deployment);
        if (flags.json) {
          process.stdout.write(`${toJson(deployment)}\n`);
        } else {
          const lines = [
            `Deployed Segmint to chain ${deployment.chainId} at block ${deployment.deploymentBlock}:`,
            ...Object.entries(deployment.contracts).map(
              ([name, address]) => `  ${name.padEnd(22)} ${address}`,
            ),
            `Deployment written to ${flags.out}`,
          ];
          process.stdout.write(`${lines.join("\n")}\n`);
        }
      } finally {
        connection.close();
      }
    });
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
