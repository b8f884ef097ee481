import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type {
  BaseContract,
  BaseContractMethod,
  ContractRunner,
  ContractTransactionReceipt,
  ContractTransactionResponse,
  Interface,
} from "ethers";
import { network } from "hardhat";
import { expect } from "vitest";
import { connectContracts, type DeployParams, deploySegmint } from "../../node/src/chain/deploy.ts";
import type { Deployment } from "../../node/src/chain/deployment.ts";
import {
  hashRecipientRand,
  type Ticket,
  ticketTypedDataDomain,
  ticketTypedDataTypes,
} from "../../node/src/chain/ticket.ts";

export const TOKEN = 10n ** 18n;
export const PPM = 1_000_000n;
export const MAX_UINT256 = (1n << 256n) - 1n;

/** Short rounds and periods so tests can cross them by mining a few blocks. */
export const TEST_PARAMS: DeployParams = {
  roundLength: 20,
  unbondingPeriod: 2,
  unlockPeriod: 3,
  maxActiveSetSize: 3,
  minSelfStake: 1n * TOKEN,
  inflationPerRound: 1_000n * TOKEN,
  ticketValidityRounds: 2,
  initialSupply: 10_000_000n * TOKEN,
};

export type Connection = Awaited<ReturnType<typeof network.connect>>;

/** Calls contract method `name` (as `runner` when given). */
export function fn(
  contract: BaseContract,
  name: string,
  runner?: ContractRunner,
): BaseContractMethod {
  const bound = runner === undefined ? contract : contract.connect(runner);
  return bound.getFunction(name);
}

/** Sends `name(...args)` as `runner` and waits for the receipt. */
export async function send(
  contract: BaseContract,
  runner: ContractRunner,
  name: string,
  ...args: unknown[]
): Promise<ContractTransactionReceipt> {
  const tx = (await fn(contract, name, runner)(...args)) as ContractTransactionResponse;
  const receipt = await tx.wait();
  if (receipt === null) throw new Error(`no receipt for ${name}`);
  return receipt;
}

/** Reads view `name(...args)`. */
export async function read<T = unknown>(
  contract: BaseContract,
  name: string,
  ...args: unknown[]
): Promise<T> {
  return (await fn(contract, name).staticCall(...args)) as T;
}

function revertData(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const data = (current as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x")) return data;
    if (typeof data === "object" && data !== null) {
      const nested = (data as { data?: unknown }).data;
      if (typeof nested === "string" && nested.startsWith("0x")) return nested;
    }
    current =
      (current as { cause?: unknown; error?: unknown }).error ??
      (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function normalize(value: unknown): unknown {
  if (typeof value === "number") return BigInt(value);
  if (typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value)) return value.toLowerCase();
  if (Array.isArray(value)) return value.map(normalize);
  return value;
}

/**
 * Expects `action` to revert with custom error `name` of `contract` (and, when given, exactly
 * these arguments; numbers compare as bigints, addresses case-insensitively).
 */
export async function expectRevert(
  action: Promise<unknown>,
  contract: { interface: Interface },
  name: string,
  args?: readonly unknown[],
): Promise<void> {
  let error: unknown;
  try {
    await action;
  } catch (caught) {
    error = caught;
  }
  if (error === undefined)
    throw new Error(`expected a revert with ${name}, but the call succeeded`);
  const data = revertData(error);
  if (data === undefined) throw new Error(`expected a revert with ${name}, got ${String(error)}`);
  const parsed = contract.interface.parseError(data);
  expect(parsed?.name, `revert data ${data}`).toBe(name);
  if (args !== undefined && parsed !== null) {
    expect(normalize(parsed.args.toArray())).toEqual(normalize([...args]));
  }
}

export interface Fixture {
  conn: Connection;
  deployment: Deployment;
  deployer: HardhatEthersSigner;
  accounts: HardhatEthersSigner[];
  token: BaseContract;
  rounds: BaseContract;
  bonding: BaseContract;
  minter: BaseContract;
  broker: BaseContract;
  registry: BaseContract;
}

export interface ReceiptLogs {
  logs: readonly { topics: readonly string[]; data: string }[];
}

/** The events of `contract` in a receipt, decoded (other contracts' logs are skipped). */
export function parseEvents(contract: BaseContract, receipt: ReceiptLogs) {
  return receipt.logs
    .map((log) => contract.interface.parseLog({ topics: [...log.topics], data: log.data }))
    .filter((e) => e !== null);
}

/** Each test file gets its own in-process chain. */
export async function connect(): Promise<Connection> {
  return network.connect();
}

/** The named fixture loadFixture snapshots: the whole system deployed with TEST_PARAMS. */
export async function deployFixture(conn: Connection): Promise<Fixture> {
  return deploySystem(conn);
}

/** A fresh snapshot of the deployed system for each test. */
export async function loadSystem(conn: Connection): Promise<Fixture> {
  return conn.networkHelpers.loadFixture(deployFixture);
}

/**
 * Deploys Segmint through deploy.ts and gives accounts 1..8 100,000 SGM each, approved to the
 * BondingManager and the TicketBroker.
 */
export async function deploySystem(
  conn: Connection,
  params: DeployParams = TEST_PARAMS,
): Promise<Fixture> {
  const [deployer, ...accounts] = await conn.ethers.getSigners();
  if (deployer === undefined) throw new Error("no signers");
  const deployment = await deploySegmint(deployer, params);
  const contracts = await connectContracts(deployment, deployer);
  const fixture: Fixture = {
    conn,
    deployment,
    deployer,
    accounts,
    token: contracts.Token,
    rounds: contracts.RoundsManager,
    bonding: contracts.BondingManager,
    minter: contracts.Minter,
    broker: contracts.TicketBroker,
    registry: contracts.OrchestratorRegistry,
  };
  for (const account of accounts.slice(0, 8)) {
    await send(fixture.token, deployer, "transfer", account.address, 100_000n * TOKEN);
    await send(fixture.token, account, "approve", deployment.contracts.BondingManager, MAX_UINT256);
    await send(fixture.token, account, "approve", deployment.contracts.TicketBroker, MAX_UINT256);
  }
  return fixture;
}

export function account(f: Fixture, index: number): HardhatEthersSigner {
  const signer = f.accounts[index];
  if (signer === undefined) throw new Error(`no account ${index}`);
  return signer;
}

export async function currentRound(f: Fixture): Promise<bigint> {
  return read<bigint>(f.rounds, "currentRound");
}

/** Mines to the first block of the next round (plus `rounds - 1` more rounds). */
export async function advanceRounds(f: Fixture, rounds = 1): Promise<void> {
  const start = await read<bigint>(f.rounds, "currentRoundStartBlock");
  const length = await read<bigint>(f.rounds, "roundLength");
  const block = BigInt(await f.conn.ethers.provider.getBlockNumber());
  const target = start + length * BigInt(rounds);
  await f.conn.networkHelpers.mine(target - block);
}

/** Registers `signer` as an orchestrator and self-bonds `stake`. */
export async function registerOrchestrator(
  f: Fixture,
  signer: HardhatEthersSigner,
  stake: bigint,
  rewardCut = 100_000n,
  feeShare = 500_000n,
): Promise<void> {
  await send(f.bonding, signer, "setOrchestratorParams", rewardCut, feeShare);
  if (stake > 0n) await send(f.bonding, signer, "bond", stake, signer.address);
}

/** The ticket struct as node/src encodes it, so these tests check the contract against it. */
export type TicketFields = Ticket;

export const TICKET_TYPES = ticketTypedDataTypes();

export const randHash = (recipientRand: bigint): string => hashRecipientRand(recipientRand);

/**
 * A ticket from `sender` to `recipient` for the current round (with its stored block hash, zero
 * while it is not initialized, as the node's senders write them), signed with EIP-712.
 */
export async function makeTicket(
  f: Fixture,
  sender: HardhatEthersSigner,
  recipient: string,
  overrides: Partial<TicketFields> & { recipientRand?: bigint } = {},
): Promise<{ ticket: TicketFields; sig: string; recipientRand: bigint; hash: string }> {
  const { recipientRand: rand, ...fields } = overrides;
  const recipientRand = rand ?? 42n;
  const creationRound = fields.creationRound ?? (await read<bigint>(f.rounds, "currentRound"));
  const ticket: TicketFields = {
    recipient,
    sender: sender.address,
    faceValue: 10n * TOKEN,
    winProb: MAX_UINT256,
    senderNonce: 1n,
    recipientRandHash: randHash(recipientRand),
    creationRound,
    creationRoundBlockHash: await read<string>(f.rounds, "blockHashForRound", creationRound),
    ...fields,
  };
  const { chainId } = await f.conn.ethers.provider.getNetwork();
  const domain = ticketTypedDataDomain({
    chainId,
    verifyingContract: f.deployment.contracts.TicketBroker,
  });
  const sig = await sender.signTypedData(domain, TICKET_TYPES, ticket);
  const hash = await read<string>(f.broker, "getTicketHash", ticket);
  return { ticket, sig, recipientRand, hash };
}
