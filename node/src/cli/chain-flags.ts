import type { Command } from "commander";
import { getAddress, isAddress } from "ethers";
import {
  type ChainSession,
  openChainSession,
  openSigningSession,
  type SigningSession,
} from "../chain/session.ts";
import { SegmintError } from "../errors.ts";
import { toJson } from "../json.ts";
import { silentLogger } from "../log/index.ts";

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
  if (withKey) addKeyFlags(command);
  return command;
}

/** Adds --key, --keystore and --password-file to `command`. */
export function addKeyFlags(command: Command): Command {
  return command
    .option("--key <hex>", "private key to sign with (or SEGMINT_PRIVATE_KEY)")
    .option("--keystore <file>", "encrypted JSON keystore to sign with (or SEGMINT_KEYSTORE)")
    .option(
      "--password-file <file>",
      "file whose first line is the keystore password (or SEGMINT_KEYSTORE_PASSWORD)",
    );
}

/** The signing key named by the flags or SEGMINT_PRIVATE_KEY / SEGMINT_KEYSTORE. */
export function keySource(flags: ChainFlags, env = process.env) {
  return {
    privateKey: flags.key ?? nonEmpty(env.SEGMINT_PRIVATE_KEY),
    keystoreFile: flags.keystore ?? nonEmpty(env.SEGMINT_KEYSTORE),
    passwordFile: flags.passwordFile ?? nonEmpty(env.SEGMINT_PASSWORD_FILE),
    password: env.SEGMINT_KEYSTORE_PASSWORD,
  };
}

/** --rpc and --deployment from the flags or the environment; CONFIG_INVALID names what is missing. */
export function chainTarget(flags: ChainFlags, env = process.env): { rpc: string; file: string } {
  const rpc = flags.rpc ?? nonEmpty(env.SEGMINT_RPC);
  const file = flags.deployment ?? nonEmpty(env.SEGMINT_DEPLOYMENT);
  if (rpc === undefined || file === undefined) {
    const missing = [
      rpc === undefined ? "--rpc (or SEGMINT_RPC)" : null,
      file === undefined ? "--deployment (or SEGMINT_DEPLOYMENT)" : null,
    ].filter((m): m is string => m !== null);
    throw new SegmintError(
      "CONFIG_INVALID",
      `missing ${missing.join(" and ")}`,
      { missing },
      { hint: "name the chain and the deployment file written by `segmint deploy`" },
    );
  }
  return { rpc, file };
}

/** Connects to the chain and checks the deployment (chain id, code at every address). */
export async function openChain(flags: ChainFlags, env = process.env): Promise<ChainSession> {
  const { rpc, file } = chainTarget(flags, env);
  return openChainSession({ rpc, deployment: file });
}

/** openChain plus the signing key from the flags or SEGMINT_PRIVATE_KEY / SEGMINT_KEYSTORE. */
export async function openSigningChain(
  flags: ChainFlags,
  env = process.env,
): Promise<SigningSession> {
  const { rpc, file } = chainTarget(flags, env);
  return openSigningSession({
    rpc,
    deployment: file,
    key: keySource(flags, env),
    log: silentLogger(),
  });
}

/** Runs `run` in a session that is closed however `run` ends. */
export async function withChain<T>(
  flags: ChainFlags,
  run: (s: ChainSession) => Promise<T>,
): Promise<T> {
  const session = await openChain(flags);
  try {
    return await run(session);
  } finally {
    session.close();
  }
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

/** An optional address flag, checked (BAD_ADDRESS) and checksummed; undefined when not given. */
export function addressFlag(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isAddress(value)) {
    throw new SegmintError(
      "BAD_ADDRESS",
      `${name} "${value}" is not an address`,
      { value },
      { hint: "give a 0x-prefixed address of 40 hex digits" },
    );
  }
  return getAddress(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** A command's result: one JSON line with --json, else text for people. */
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
