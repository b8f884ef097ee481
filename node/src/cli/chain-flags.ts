import type { Command } from "commander";
import {
  type ContractTransactionResponse,
  getAddress,
  isAddress,
  type JsonRpcProvider,
  type Wallet,
} from "ethers";
import { type SegmintClients, segmintClients } from "../chain/contracts.ts";
import { type Deployment, readDeployment } from "../chain/deployment.ts";
import { loadWallet } from "../chain/keys.ts";
import { parseTokenAmount } from "../config/schemas.ts";
import { SegmintError } from "../errors.ts";
import { toJson } from "../json.ts";
import { silentLogger } from "../log/index.ts";
import { checkDeployment, connectProvider, preflight, TxSender } from "../orchestrator/chain.ts";

export { preflight };

/** The flags every chain command shares; SEGMINT_* variables fill what is not given. */
export interface ChainFlags {
  rpc?: string;
  deployment?: string;
  key?: string;
  keystore?: string;
  passwordFile?: string;
}

/** Adds --rpc, --deployment and (when `withKey`) the key flags to `command`. */
export function addChainFlags(command: Command, withKey = true): Command {
  command
    .option("--rpc <url>", "JSON-RPC endpoint of the chain (or SEGMINT_RPC)")
    .option("--deployment <file>", "deployment JSON from `segmint deploy` (or SEGMINT_DEPLOYMENT)");
  if (withKey) {
    command
      .option("--key <hex>", "private key to sign with (or SEGMINT_PRIVATE_KEY)")
      .option("--keystore <file>", "encrypted JSON keystore to sign with (or SEGMINT_KEYSTORE)")
      .option(
        "--password-file <file>",
        "file whose first line is the keystore password (or SEGMINT_KEYSTORE_PASSWORD)",
      );
  }
  return command;
}

export interface ChainSession {
  provider: JsonRpcProvider;
  chainId: bigint;
  deployment: Deployment;
  /** Read-only clients. */
  reader: SegmintClients;
  close(): void;
}

export interface SigningSession extends ChainSession {
  wallet: Wallet;
  address: string;
  /** Clients that send through `tx`'s NonceManager. */
  clients: SegmintClients;
  tx: TxSender;
}

/** Connects to the chain and checks the deployment (chain id, code at every address). */
export async function openChain(flags: ChainFlags, env = process.env): Promise<ChainSession> {
  const rpc = flags.rpc ?? env.SEGMINT_RPC;
  const file = flags.deployment ?? env.SEGMINT_DEPLOYMENT;
  const missing = [
    rpc === undefined || rpc === "" ? "--rpc (or SEGMINT_RPC)" : null,
    file === undefined || file === "" ? "--deployment (or SEGMINT_DEPLOYMENT)" : null,
  ].filter((m): m is string => m !== null);
  if (missing.length > 0 || rpc === undefined || file === undefined) {
    throw new SegmintError(
      "CONFIG_INVALID",
      `missing ${missing.join(" and ")}`,
      { missing },
      { hint: "name the chain and the deployment file written by `segmint deploy`" },
    );
  }
  const deployment = await readDeployment(file);
  const { provider, chainId } = await connectProvider(rpc);
  try {
    await checkDeployment(provider, chainId, deployment, file);
  } catch (error) {
    provider.destroy();
    throw error;
  }
  return {
    provider,
    chainId,
    deployment,
    reader: segmintClients(deployment, provider),
    close: () => provider.destroy(),
  };
}

/** openChain plus the signing key from the flags or SEGMINT_PRIVATE_KEY / SEGMINT_KEYSTORE. */
export async function openSigningChain(
  flags: ChainFlags,
  env = process.env,
): Promise<SigningSession> {
  const wallet = await loadWallet({
    privateKey: flags.key ?? nonEmpty(env.SEGMINT_PRIVATE_KEY),
    keystoreFile: flags.keystore ?? nonEmpty(env.SEGMINT_KEYSTORE),
    passwordFile: flags.passwordFile ?? nonEmpty(env.SEGMINT_PASSWORD_FILE),
    password: env.SEGMINT_KEYSTORE_PASSWORD,
  });
  const session = await openChain(flags, env);
  const tx = new TxSender(wallet, session.provider, silentLogger());
  return {
    ...session,
    wallet,
    address: wallet.address,
    tx,
    clients: segmintClients(session.deployment, tx.signer),
  };
}

/** Runs `run` in a signing session that is closed however `run` ends. */
export async function withSigningSession<T>(
  flags: ChainFlags,
  run: (s: SigningSession) => Promise<T>,
): Promise<T> {
  const session = await openSigningChain(flags);
  try {
    return await run(session);
  } finally {
    session.close();
  }
}

/** A typed contract method: callable to send, with an eth_call twin for the preflight. */
interface SendableMethod<A extends unknown[]> {
  (...args: A): Promise<ContractTransactionResponse>;
  staticCall(...args: A): Promise<unknown>;
}

/**
 * Preflights `method(...args)` with eth_call (a refused call costs no gas and says why), then
 * sends it and waits for the receipt; returns the transaction hash.
 */
export async function checkAndSend<A extends unknown[]>(
  s: SigningSession,
  label: string,
  method: SendableMethod<A>,
  ...args: A
): Promise<string> {
  await preflight(label, () => method.staticCall(...args));
  return s.tx.sendAndWait(label, () => method(...args));
}

/** An optional address flag, checked (BAD_ADDRESS) and checksummed; undefined when not given. */
export function addressFlag(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isAddress(value)) {
    throw new SegmintError("BAD_ADDRESS", `${name} "${value}" is not an address`, { value });
  }
  return getAddress(value);
}

/**
 * Throws INSUFFICIENT_TOKENS when the signer holds less than `amount`, before any approval or
 * transaction is spent on it.
 */
export async function requireTokens(
  s: SigningSession,
  amount: bigint,
  verb: string,
): Promise<void> {
  const balance = await s.reader.token.balanceOf(s.address);
  if (balance < amount) {
    throw new SegmintError(
      "INSUFFICIENT_TOKENS",
      `${s.address} holds ${formatTokens(balance)} tokens, less than the ${formatTokens(amount)} to ${verb}`,
      { balance: balance.toString(), amount: amount.toString() },
      { hint: `${verb} less, or get tokens to this address first` },
    );
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

const TOKEN_DECIMALS = 18;

/**
 * An amount of tokens: whole token wei ("1500000000000000000") or tokens with a unit
 * ("1.5tokens", "1000 token"), for people who do not count in 10^-18.
 */
export function parseAmount(text: string, what = "amount"): bigint {
  const value = text.trim();
  if (/^\d+$/.test(value)) return BigInt(value);
  const tokens = parseTokenAmount(value);
  if (tokens !== undefined) return tokens;
  throw new SegmintError(
    "BAD_AMOUNT",
    `${what} "${text}" is not an amount`,
    { what, value: text },
    {
      hint: 'give token wei ("1000000000000000000") or tokens with a unit ("1token", "2.5tokens")',
    },
  );
}

/** Token wei as tokens, for people: 1500000000000000000 -> "1.5". */
export function formatTokens(wei: bigint): string {
  const unit = 10n ** BigInt(TOKEN_DECIMALS);
  const whole = wei / unit;
  const fraction = (wei % unit).toString().padStart(TOKEN_DECIMALS, "0").replace(/0+$/, "");
  return fraction.length > 0 ? `${whole}.${fraction}` : whole.toString();
}

/** A command's result: one JSON line with --json, else one line of text for people. */
export function report(
  flags: { json?: boolean },
  json: Record<string, unknown>,
  text: string,
): void {
  if (flags.json) printJson(json);
  else process.stdout.write(`${text}\n`);
}

/** Prints `value` as one JSON line (bigints as decimal strings). */
export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}
