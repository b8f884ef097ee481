import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { InterfaceAbi } from "ethers";
import { z } from "zod";
import { ChainError } from "./errors.ts";

/** The Segmint contracts, in deployment order. */
export const CONTRACT_NAMES = [
  "Token",
  "RoundsManager",
  "BondingManager",
  "Minter",
  "TicketBroker",
  "OrchestratorRegistry",
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

/** Each contract's source file under contracts/; Hardhat mirrors this layout under artifacts/. */
export const CONTRACT_SOURCES: Readonly<Record<ContractName, string>> = {
  Token: "token/Token.sol",
  RoundsManager: "rounds/RoundsManager.sol",
  BondingManager: "bonding/BondingManager.sol",
  Minter: "token/Minter.sol",
  TicketBroker: "payments/TicketBroker.sol",
  OrchestratorRegistry: "registry/OrchestratorRegistry.sol",
};

export interface ContractArtifact {
  contractName: ContractName;
  abi: InterfaceAbi;
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const hexCode = z
  .string()
  .regex(/^0x([0-9a-fA-F]{2})+$/, "expected non-empty 0x-prefixed hex bytecode");
const artifactSchema = z.object({
  contractName: z.string(),
  abi: z.array(z.record(z.string(), z.unknown())),
  bytecode: hexCode,
  deployedBytecode: hexCode,
});

/** EIP-170: the most runtime code a contract may have. */
const MAX_RUNTIME_CODE_BYTES = 24_576;

const cache = new Map<string, ContractArtifact>();

/** Where Hardhat writes `name`'s artifact, under `root` (the repository root by default). */
export function artifactPath(name: ContractName, root: string = projectRoot): string {
  const source = CONTRACT_SOURCES[name];
  return path.join(root, "artifacts", "contracts", source, `${name}.json`);
}

/**
 * Loads `name`'s ABI and creation bytecode from Hardhat's build output (`npx hardhat build`,
 * which `npm ci` runs through the `prepare` script). Cached per file.
 */
export async function loadArtifact(
  name: ContractName,
  options: { root?: string } = {},
): Promise<ContractArtifact> {
  const file = artifactPath(name, options.root);
  const cached = cache.get(file);
  if (cached !== undefined) return cached;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new ChainError(
      "ARTIFACTS_MISSING",
      `the compiled ${name} contract is missing (${file})`,
      { contract: name, file },
      { hint: "run npm run build", cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw invalidArtifact(name, file, "not valid JSON", cause);
  }
  const parsed = artifactSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join(".") || "(root)"}: ${i.message}`,
    );
    throw invalidArtifact(name, file, problems.join("; "));
  }
  if (parsed.data.contractName !== name) {
    throw invalidArtifact(name, file, `contractName is ${parsed.data.contractName}`);
  }
  // `hardhat test --coverage` leaves instrumented artifacts behind, too big to deploy.
  const runtimeBytes = (parsed.data.deployedBytecode.length - 2) / 2;
  if (runtimeBytes > MAX_RUNTIME_CODE_BYTES) {
    throw invalidArtifact(
      name,
      file,
      `its runtime code is ${runtimeBytes} bytes, over the 24,576-byte limit: it was compiled for coverage`,
    );
  }
  const artifact: ContractArtifact = {
    contractName: name,
    abi: parsed.data.abi,
    bytecode: parsed.data.bytecode,
  };
  cache.set(file, artifact);
  return artifact;
}

/** Every Segmint contract's artifact, by name. */
export async function loadArtifacts(
  options: { root?: string } = {},
): Promise<Record<ContractName, ContractArtifact>> {
  const entries = await Promise.all(
    CONTRACT_NAMES.map(async (name) => [name, await loadArtifact(name, options)] as const),
  );
  return Object.fromEntries(entries) as Record<ContractName, ContractArtifact>;
}

function invalidArtifact(
  name: ContractName,
  file: string,
  problem: string,
  cause?: unknown,
): ChainError {
  return new ChainError(
    "ARTIFACTS_INVALID",
    `the compiled ${name} contract at ${file} is unreadable: ${problem}`,
    { contract: name, file, problem },
    { hint: "run npm run build", cause },
  );
}
