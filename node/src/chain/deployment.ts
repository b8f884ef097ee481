import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { getAddress } from "ethers";
import { z } from "zod";
import { toJson } from "../json.ts";
import { ChainError } from "./errors.ts";

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte hex address")
  .transform((value) => getAddress(value.toLowerCase()));

const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Token amounts are written as decimal strings: JSON numbers lose precision past 2^53. */
const tokenAmount = z
  .union([
    z.string().regex(/^\d+$/, "expected a decimal integer string"),
    z.number().int().nonnegative(),
  ])
  .transform((value) => BigInt(value));

export const deploymentParamsSchema = z.strictObject({
  roundLength: positiveInt,
  unbondingPeriod: positiveInt,
  unlockPeriod: positiveInt,
  maxActiveSetSize: positiveInt,
  // Absent in deployments made before the minimum self-stake existed.
  minSelfStake: tokenAmount.optional(),
  inflationPerRound: tokenAmount,
  ticketValidityRounds: positiveInt,
  initialSupply: tokenAmount,
});

export const deploymentContractsSchema = z.strictObject({
  Token: address,
  RoundsManager: address,
  BondingManager: address,
  Minter: address,
  TicketBroker: address,
  OrchestratorRegistry: address,
});

/** The deployment file: where Segmint lives on a chain and with which parameters. */
export const deploymentSchema = z.strictObject({
  chainId: positiveInt,
  deploymentBlock: z.number().int().nonnegative(),
  deployer: address,
  params: deploymentParamsSchema,
  contracts: deploymentContractsSchema,
});

export type Deployment = z.output<typeof deploymentSchema>;
export type DeploymentParams = Deployment["params"];
export type DeploymentContracts = Deployment["contracts"];

/**
 * DEPLOYMENT_INVALID listing every problem zod found, each with its field path: `what` says
 * what `source` failed to be, `hint` how to get a good one.
 */
export function invalidDeployment(
  source: string,
  issues: readonly z.core.$ZodIssue[],
  what: string,
  hint: string,
): ChainError {
  const problems = issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  return new ChainError(
    "DEPLOYMENT_INVALID",
    `${source} ${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    { source, problems },
    { hint },
  );
}

/** Checks a parsed JSON value; every problem is reported at once with its field path. */
export function parseDeployment(value: unknown, source = "deployment"): Deployment {
  const parsed = deploymentSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidDeployment(
    source,
    parsed.error.issues,
    "is not a valid Segmint deployment",
    "write it again with `segmint deploy --out FILE`",
  );
}

export async function readDeployment(file: string): Promise<Deployment> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new ChainError(
      "DEPLOYMENT_NOT_FOUND",
      `cannot read the deployment file ${file}`,
      { file },
      { hint: "deploy first with `segmint deploy --out FILE`, or pass the right path", cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ChainError(
      "DEPLOYMENT_INVALID",
      `the deployment file ${file} is not valid JSON`,
      { source: file, problems: [{ path: "(root)", message: "not valid JSON" }] },
      { hint: "write it again with `segmint deploy --out FILE`", cause },
    );
  }
  if (isIgnitionAddresses(json)) {
    throw new ChainError(
      "DEPLOYMENT_IS_IGNITION",
      `${file} is Hardhat Ignition's deployed_addresses.json, which has no chain id or parameters`,
      { file },
      {
        hint: `convert it once: segmint import-deployment ${file} --rpc URL --out deployment.json`,
      },
    );
  }
  return parseDeployment(json, file);
}

/**
 * Hardhat Ignition writes `deployed_addresses.json` as `{ "Segmint#Token": "0x...", ... }`
 * (module id, then the contract's id in ignition/modules/Segmint.ts).
 */
export const IGNITION_KEY = /^[A-Za-z_][\w-]*#([A-Za-z_]\w*)$/;

/** Whether `value` looks like Ignition's deployed_addresses.json (every key `Module#Id`). */
export function isIgnitionAddresses(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length > 0 && entries.every(([k, v]) => IGNITION_KEY.test(k) && typeof v === "string")
  );
}

/** The JSON text of a deployment: bigints as decimal strings, two-space indent, final newline. */
export function serializeDeployment(deployment: Deployment): string {
  const checked = parseDeployment(JSON.parse(toJson(deployment)));
  return `${toJson(checked, 2)}\n`;
}

/** Writes `deployment` to `file` (creating folders), replacing it atomically. */
export async function writeDeployment(file: string, deployment: Deployment): Promise<void> {
  const text = serializeDeployment(deployment);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(temp, text, "utf8");
    await rename(temp, file);
  } catch (cause) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new ChainError(
      "DEPLOYMENT_WRITE_FAILED",
      `cannot write the deployment file ${file}`,
      { file },
      { hint: "check that the folder exists and is writable", cause },
    );
  }
}
