import { type Provider, ZeroAddress } from "ethers";
import { segmintClients } from "./contracts.ts";
import {
  type Deployment,
  type DeploymentContracts,
  deploymentContractsSchema,
  IGNITION_KEY,
  invalidDeployment,
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
  throw invalidDeployment(
    source,
    parsed.error.issues,
    "does not name every Segmint contract",
    "deploy with ignition/modules/Segmint.ts, which names them all",
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
 * The Token's creation block and the supply its constructor minted. The constructor's mint
 * (Transfer from the zero address in the creation transaction) says both; a node that keeps no
 * logs that far back, or a deployment that minted nothing, falls back to a binary search over
 * eth_getCode and the supply at that block (some dev nodes answer historical state only
 * roughly, hence the logs first).
 */
async function tokenCreation(
  c: ReturnType<typeof segmintClients>,
  provider: Provider,
  token: string,
): Promise<{ block: number; initialSupply: bigint }> {
  try {
    const [first] = await c.token.queryFilter(c.token.filters.Transfer(ZeroAddress), 0, "latest");
    if (first !== undefined) {
      const receipt = await provider.getTransactionReceipt(first.transactionHash);
      if (receipt?.contractAddress?.toLowerCase() === token.toLowerCase()) {
        return { block: first.blockNumber, initialSupply: first.args.value };
      }
    }
  } catch {
    // Fall back below.
  }
  const block = await creationBlock(provider, token);
  return { block, initialSupply: await c.token.totalSupply({ blockTag: block }) };
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
    tokenCreation(c, provider, contracts.Token),
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
