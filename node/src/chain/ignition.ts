import type { Provider } from "ethers";
import { SegmintError } from "../errors.ts";
import { segmintClients } from "./contracts.ts";
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

/** The first block at which `address` has code (binary search over historical eth_getCode). */
async function creationBlock(provider: Provider, address: string): Promise<number> {
  let high = await provider.getBlockNumber();
  let low = 0;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if ((await provider.getCode(address, mid)) === "0x") low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * A full deployment for Ignition's addresses on the chain `provider` serves: the chain id, the
 * block the Token was created in, its owner as the deployer, and every parameter as the
 * contracts hold it (the initial supply as the Token's supply in its creation block).
 */
export async function deploymentFromIgnition(
  contracts: DeploymentContracts,
  provider: Provider,
): Promise<Deployment> {
  const c = segmintClients({ contracts }, provider);
  const [network, deploymentBlock] = await Promise.all([
    provider.getNetwork(),
    creationBlock(provider, contracts.Token),
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
  const [inflationPerRound, ticketValidityRounds, initialSupply] = await Promise.all([
    c.minter.inflationPerRound(),
    c.ticketBroker.ticketValidityRounds(),
    c.token.totalSupply({ blockTag: deploymentBlock }),
  ]);
  return parseDeployment(
    {
      chainId: Number(network.chainId),
      deploymentBlock,
      deployer,
      params: {
        roundLength: Number(roundLength),
        unbondingPeriod: Number(unbondingPeriod),
        unlockPeriod: Number(unlockPeriod),
        maxActiveSetSize: Number(maxActiveSetSize),
        minSelfStake: minSelfStake.toString(),
        inflationPerRound: inflationPerRound.toString(),
        ticketValidityRounds: Number(ticketValidityRounds),
        initialSupply: initialSupply.toString(),
      },
      contracts,
    },
    "the imported deployment",
  );
}
