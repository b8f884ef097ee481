import { type Provider, ZeroAddress } from "ethers";
import { SegmintError } from "../errors.ts";
import { segmintClients, type Token } from "./contracts.ts";
import {
  type Deployment,
  type DeploymentContracts,
  deploymentContractsSchema,
  IGNITION_KEY,
  parseDeployment,
} from "./deployment.ts";

/*
 * Ignition's deployed_addresses.json has no chain id, block or parameters: those are read from
 * the chain to make a full deployment file.
 */

/** The contract addresses of an Ignition file, by contract name; DEPLOYMENT_INVALID if some lack. */
export function ignitionContracts(
  value: Record<string, string>,
  source: string,
): DeploymentContracts {
  const byName: Record<string, string> = {};
  for (const [key, address] of Object.entries(value)) {
    const name = IGNITION_KEY.exec(key)?.[1];
    if (name !== undefined) byName[name] = address;
  }
  const parsed = deploymentContractsSchema.safeParse(byName);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  throw new SegmintError(
    "DEPLOYMENT_INVALID",
    `${source} does not name every Segmint contract: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    { source, problems },
    { hint: "deploy with ignition/modules/Segmint.ts, which names them all" },
  );
}

/**
 * The Token's creation block and initial supply, from its first mint (the constructor's
 * Transfer from the zero address): logs need no historical state, which not every node keeps.
 * A token minted nothing at creation when it has no such log; then the block is found by
 * searching for its code and the supply is 0.
 */
async function tokenCreation(
  provider: Provider,
  token: Token,
): Promise<{ block: number; initialSupply: bigint }> {
  const [first] = await token.queryFilter(token.filters.Transfer(ZeroAddress), 0, "latest");
  if (first !== undefined) return { block: first.blockNumber, initialSupply: first.args.value };
  let high = await provider.getBlockNumber();
  let low = 0;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if ((await provider.getCode(await token.getAddress(), mid)) === "0x") low = mid + 1;
    else high = mid;
  }
  return { block: low, initialSupply: 0n };
}

/**
 * A full deployment for Ignition's addresses on the chain `provider` serves: the chain id, the
 * block the Token was created in, its owner as the deployer, and every parameter as the
 * contracts hold it (the initial supply as the Token's first mint).
 */
export async function deploymentFromIgnition(
  contracts: DeploymentContracts,
  provider: Provider,
): Promise<Deployment> {
  const c = segmintClients({ contracts }, provider);
  const [network, creation] = await Promise.all([
    provider.getNetwork(),
    tokenCreation(provider, c.token),
  ]);
  const [deployer, roundLength, unbondingPeriod, unlockPeriod, maxActiveSetSize, minSelfStake] =
    await Promise.all([
      c.token.owner(),
      c.roundsManager.roundLength(),
      c.bondingManager.unbondingPeriod(),
      c.ticketBroker.unlockPeriod(),
      c.bondingManager.maxActiveSetSize(),
      c.bondingManager.minSelfStake(),
    ]);
  const [inflationPerRound, ticketValidityRounds] = await Promise.all([
    c.minter.inflationPerRound(),
    c.ticketBroker.ticketValidityRounds(),
  ]);
  return parseDeployment(
    {
      chainId: Number(network.chainId),
      deploymentBlock: creation.block,
      deployer,
      params: {
        roundLength: Number(roundLength),
        unbondingPeriod: Number(unbondingPeriod),
        unlockPeriod: Number(unlockPeriod),
        maxActiveSetSize: Number(maxActiveSetSize),
        minSelfStake: minSelfStake.toString(),
        inflationPerRound: inflationPerRound.toString(),
        ticketValidityRounds: Number(ticketValidityRounds),
        initialSupply: creation.initialSupply.toString(),
      },
      contracts,
    },
    "the imported deployment",
  );
}
