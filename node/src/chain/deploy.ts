import {
  Contract,
  ContractFactory,
  type ContractRunner,
  type ContractTransactionResponse,
  type Signer,
  type TransactionResponse,
} from "ethers";
import type {
  BondingManager,
  Minter,
  OrchestratorRegistry,
  RoundsManager,
  TicketBroker,
  Token,
} from "../../../types/ethers-contracts/index.ts";
import { formatEth } from "../config/amounts.ts";
import { errorMessage } from "../errors.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { type ContractName, loadArtifacts } from "./artifacts.ts";
import { type Deployment, type DeploymentContracts, parseDeployment } from "./deployment.ts";
import { ChainError } from "./errors.ts";
import { lacksFunds } from "./tx.ts";

/** Every parameter of a deployment; rounds and blocks are counts, token amounts are wei. */
export interface DeployParams {
  /** Blocks per round. */
  roundLength: number;
  /** Rounds between unbond() and the earliest withdrawStake(). */
  unbondingPeriod: number;
  /** Rounds between a sender's unlock() and the earliest withdraw(). */
  unlockPeriod: number;
  /** Orchestrators in the active set (1..100). */
  maxActiveSetSize: number;
  /** Tokens (wei) an orchestrator must have bonded to itself to hold a seat in the active set. */
  minSelfStake: bigint;
  /** Tokens (wei) minted per round and shared among active orchestrators by stake. */
  inflationPerRound: bigint;
  /** Rounds after its creation round during which a ticket can be redeemed. */
  ticketValidityRounds: number;
  /** Tokens (wei) minted to the deployer at deployment. */
  initialSupply: bigint;
}

const TOKEN = 10n ** 18n;

/**
 * Production-ish defaults, for Ethereum L1 (12 s blocks). A dev chain overrides roundLength.
 * - roundLength 7200: one day of blocks, so an orchestrator calls reward() once a day.
 * - unbondingPeriod 7: a week before unbonded stake is liquid, long enough to react to misbehaviour.
 * - ticketValidityRounds 2 and unlockPeriod 3: every ticket accepted before a sender's unlock
 *   expires a round before the sender can withdraw, so redeeming it never races the withdrawal
 *   (checkDeployParams and the TicketBroker require unlockPeriod > ticketValidityRounds).
 * - maxActiveSetSize 100: the contract's bound, as in Livepeer.
 * - minSelfStake 100 SGM: a seat needs real, locked stake of the orchestrator's own, so
 *   throwaway orchestrators cannot take seats (and with them shares of senders' reserves).
 * - inflationPerRound 10,000 SGM and initialSupply 10,000,000 SGM: about 36% yearly inflation at
 *   first, falling as supply grows; governance is expected to lower it.
 */
export const defaultDeployParams: DeployParams = {
  roundLength: 7200,
  unbondingPeriod: 7,
  unlockPeriod: 3,
  maxActiveSetSize: 100,
  minSelfStake: 100n * TOKEN,
  inflationPerRound: 10_000n * TOKEN,
  ticketValidityRounds: 2,
  initialSupply: 10_000_000n * TOKEN,
};

/** The bounds the contracts enforce, checked before any transaction is sent. */
const LIMITS = {
  roundLength: [1, 2 ** 32 - 1],
  unbondingPeriod: [1, 2 ** 32 - 1],
  unlockPeriod: [1, 2 ** 32 - 1],
  maxActiveSetSize: [1, 100],
  ticketValidityRounds: [1, 2 ** 32 - 1],
} as const;
const MAX_INFLATION = (1n << 104n) - 1n;
const MAX_MIN_SELF_STAKE = (1n << 96n) - 1n;

export interface DeployOptions {
  log?: Logger;
}

/** Every problem with `params` at once, each naming its field; empty when valid. */
export function checkDeployParams(params: DeployParams): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const [field, [min, max]] of Object.entries(LIMITS)) {
    const value: unknown = params[field as keyof typeof LIMITS];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      problems.push({
        path: field,
        message: `must be an integer from ${min} to ${max}, got ${String(value)}`,
      });
    }
  }
  if (
    typeof params.inflationPerRound !== "bigint" ||
    params.inflationPerRound < 0n ||
    params.inflationPerRound > MAX_INFLATION
  ) {
    problems.push({
      path: "inflationPerRound",
      message: "must be a bigint from 0 to 2^104-1 (token wei)",
    });
  }
  if (
    typeof params.minSelfStake !== "bigint" ||
    params.minSelfStake < 1n ||
    params.minSelfStake > MAX_MIN_SELF_STAKE
  ) {
    problems.push({
      path: "minSelfStake",
      message: "must be a bigint from 1 to 2^96-1 (token wei)",
    });
  }
  if (
    typeof params.initialSupply !== "bigint" ||
    params.initialSupply < 0n ||
    params.initialSupply >= 1n << 256n
  ) {
    problems.push({
      path: "initialSupply",
      message: "must be a non-negative bigint below 2^256 (token wei)",
    });
  }
  if (
    Number.isInteger(params.unlockPeriod) &&
    Number.isInteger(params.ticketValidityRounds) &&
    params.unlockPeriod <= params.ticketValidityRounds
  ) {
    problems.push({
      path: "unlockPeriod",
      message: `must be more than ticketValidityRounds (${params.ticketValidityRounds}), or a sender could withdraw while its tickets are still redeemable (the TicketBroker refuses it too)`,
    });
  }
  return problems;
}

/**
 * Deploys every Segmint contract from `signer`, wires them (Minter on the Token; Minter and
 * TicketBroker on the BondingManager), and returns the deployment. Transactions carry explicit
 * nonces, counted from the signer's pending nonce, and each receipt is awaited before the next
 * step, so it works against any JSON-RPC node. The signer stays owner of every contract.
 */
export async function deploySegmint(
  signer: Signer,
  params: DeployParams,
  options: DeployOptions = {},
): Promise<Deployment> {
  const log = options.log ?? silentLogger();
  const problems = checkDeployParams(params);
  if (problems.length > 0) {
    throw new ChainError(
      "DEPLOY_PARAMS_INVALID",
      `invalid deployment parameters: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      { problems },
      { hint: "fix the named parameters" },
    );
  }
  const provider = signer.provider;
  if (provider === null) {
    throw new ChainError(
      "DEPLOY_NO_PROVIDER",
      "the deployer signer is not connected to a chain",
      {},
      {
        hint: "connect the signer to a JSON-RPC provider",
      },
    );
  }
  const artifacts = await loadArtifacts();
  const deployer = await signer.getAddress();
  const chainId = Number((await provider.getNetwork()).chainId);
  let nonce = await signer.getNonce("pending");
  log.info({ chainId, deployer, nonce, params: paramsForLog(params) }, "deploying Segmint");

  const addresses: Partial<Record<ContractName, string>> = {};
  let firstBlock: number | undefined;

  const deploy = async (name: ContractName, args: unknown[]): Promise<string> => {
    const { abi, bytecode } = artifacts[name];
    const factory = new ContractFactory(abi, bytecode, signer);
    const tx = await factory.getDeployTransaction(...args);
    const response = await send(signer, { ...tx, nonce: nonce++ }, `deploy ${name}`);
    const receipt = await waitFor(response, `deploy ${name}`);
    const address = receipt.contractAddress;
    if (address === null)
      throw txFailed(`deploy ${name}`, response.hash, "no contract address in the receipt");
    firstBlock ??= receipt.blockNumber;
    addresses[name] = address;
    log.info(
      { contract: name, address, gasUsed: receipt.gasUsed.toString(), block: receipt.blockNumber },
      "deployed",
    );
    return address;
  };
  const call = async (
    name: ContractName,
    target: string,
    method: string,
    args: unknown[],
  ): Promise<void> => {
    const contract = new Contract(target, artifacts[name].abi, signer);
    const data = contract.interface.encodeFunctionData(method, args);
    const step = `${name}.${method}`;
    const response = await send(signer, { to: target, data, nonce: nonce++ }, step);
    const receipt = await waitFor(response, step);
    log.info({ step, gasUsed: receipt.gasUsed.toString() }, "wired");
  };

  const token = await deploy("Token", [deployer, params.initialSupply]);
  const rounds = await deploy("RoundsManager", [deployer, params.roundLength]);
  const bonding = await deploy("BondingManager", [
    deployer,
    token,
    rounds,
    params.unbondingPeriod,
    params.maxActiveSetSize,
    params.minSelfStake,
  ]);
  const minter = await deploy("Minter", [deployer, token, bonding, params.inflationPerRound]);
  const broker = await deploy("TicketBroker", [
    deployer,
    token,
    rounds,
    bonding,
    params.unlockPeriod,
    params.ticketValidityRounds,
  ]);
  await deploy("OrchestratorRegistry", [bonding]);
  await call("Token", token, "setMinter", [minter]);
  await call("BondingManager", bonding, "setWiring", [minter, broker]);

  const deployment = parseDeployment({
    chainId,
    deploymentBlock: firstBlock ?? 0,
    deployer,
    params: {
      ...params,
      inflationPerRound: params.inflationPerRound.toString(),
      minSelfStake: params.minSelfStake.toString(),
      initialSupply: params.initialSupply.toString(),
    },
    contracts: addresses,
  });
  log.info({ contracts: deployment.contracts }, "Segmint deployed");
  return deployment;
}

/**
 * Typed handles on every contract. The types come from the TypeChain bindings that
 * `hardhat build` generates under types/ethers-contracts (type-only: nothing of them runs).
 */
export interface SegmintContracts {
  Token: Token;
  RoundsManager: RoundsManager;
  BondingManager: BondingManager;
  Minter: Minter;
  TicketBroker: TicketBroker;
  OrchestratorRegistry: OrchestratorRegistry;
}

/** Ethers contracts for every deployed contract, bound to `runner` (a signer or provider). */
export async function connectContracts(
  deployment: Pick<Deployment, "contracts">,
  runner: ContractRunner | null,
): Promise<SegmintContracts> {
  const artifacts = await loadArtifacts();
  const at = (name: ContractName): Contract =>
    new Contract(deployment.contracts[name], artifacts[name].abi, runner);
  // Each Contract is built from that contract's own ABI, which is what its TypeChain type describes.
  return {
    Token: at("Token") as unknown as Token,
    RoundsManager: at("RoundsManager") as unknown as RoundsManager,
    BondingManager: at("BondingManager") as unknown as BondingManager,
    Minter: at("Minter") as unknown as Minter,
    TicketBroker: at("TicketBroker") as unknown as TicketBroker,
    OrchestratorRegistry: at("OrchestratorRegistry") as unknown as OrchestratorRegistry,
  };
}

/** The addresses as a plain record, e.g. for logs. */
export function contractAddresses(deployment: Deployment): DeploymentContracts {
  return { ...deployment.contracts };
}

async function send(
  signer: Signer,
  tx: { to?: string | null; data?: string; nonce: number },
  step: string,
): Promise<TransactionResponse> {
  try {
    return await signer.sendTransaction(tx);
  } catch (cause) {
    if (lacksFunds(cause)) {
      const address = await signer.getAddress();
      const shortfall = await deployShortfall(signer, tx, address);
      const short = shortfall === null ? "" : ` (${formatEth(shortfall)} short)`;
      throw new ChainError(
        "DEPLOY_INSUFFICIENT_FUNDS",
        `the deployer ${address} cannot pay the gas for ${step}${short}`,
        { step, address, ...(shortfall === null ? {} : { shortfall: shortfall.toString() }) },
        { hint: "fund the deployer account with the chain's native currency", cause },
      );
    }
    throw txFailed(step, undefined, errorMessage(cause), cause);
  }
}

/** What the deployer lacks for `tx` at today's fee cap, or null when the node cannot say. */
async function deployShortfall(
  signer: Signer,
  tx: { to?: string | null; data?: string },
  address: string,
): Promise<bigint | null> {
  const provider = signer.provider;
  if (provider === null) return null;
  try {
    const [gas, fees, balance] = await Promise.all([
      provider.estimateGas({ ...tx, from: address }),
      provider.getFeeData(),
      provider.getBalance(address),
    ]);
    const cost = gas * (fees.maxFeePerGas ?? fees.gasPrice ?? 0n);
    return cost > balance ? cost - balance : null;
  } catch {
    return null;
  }
}

async function waitFor(response: TransactionResponse | ContractTransactionResponse, step: string) {
  let receipt: Awaited<ReturnType<TransactionResponse["wait"]>>;
  try {
    receipt = await response.wait();
  } catch (cause) {
    throw txFailed(step, response.hash, errorMessage(cause), cause);
  }
  if (receipt === null || receipt.status !== 1) throw txFailed(step, response.hash, "reverted");
  return receipt;
}

function txFailed(
  step: string,
  txHash: string | undefined,
  reason: string,
  cause?: unknown,
): ChainError {
  return new ChainError(
    "DEPLOY_TX_FAILED",
    `deployment step ${step} failed: ${reason}`,
    { step, txHash },
    { hint: "check the RPC endpoint and the deployer's balance, then deploy again", cause },
  );
}

function paramsForLog(params: DeployParams): Record<string, string | number> {
  return {
    ...params,
    inflationPerRound: params.inflationPerRound.toString(),
    minSelfStake: params.minSelfStake.toString(),
    initialSupply: params.initialSupply.toString(),
  };
}
