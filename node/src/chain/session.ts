import { JsonRpcProvider, Wallet } from "ethers";
import type { Logger } from "../log/index.ts";
import { silentLogger } from "../log/index.ts";
import { type SegmintClients, segmintClients } from "./contracts.ts";
import { type Deployment, readDeployment } from "./deployment.ts";
import { ChainError } from "./errors.ts";
import { type KeySource, loadWallet } from "./keys.ts";
import { type ChainMetrics, instrumentProvider } from "./metrics.ts";
import { TxSender } from "./tx.ts";

/**
 * The one way every command, role and the devnet reaches the chain: connect (the URL checked
 * first), check the chain id and the deployment's code, load the signing key, and send through
 * one queued TxSender that preflights with eth_call and decodes custom errors. Each fault has
 * one code (chain/errors.ts).
 */

/** A JSON-RPC connection and the chain id it serves. */
export interface ChainConnection {
  readonly rpc: string;
  readonly provider: JsonRpcProvider;
  readonly chainId: bigint;
  close(): void;
}

/** A connection to a chain that holds a checked Segmint deployment. */
export interface ChainSession extends ChainConnection {
  readonly deployment: Deployment;
  /** Read-only clients. */
  readonly reader: SegmintClients;
}

/** A session that signs: clients that send through `tx` (one nonce sequence). */
export interface SigningSession extends ChainSession {
  readonly wallet: Wallet;
  readonly address: string;
  readonly tx: TxSender;
  readonly clients: SegmintClients;
}

export interface SessionOptions {
  rpc: string;
  /** The deployment file, or a deployment already read (with the name errors give it). */
  deployment: string | { value: Deployment; source: string };
  /** JSON-RPC metrics for this provider (a daemon's registry), or none. */
  metrics?: ChainMetrics | null;
  log?: Logger;
}

/** RPC_URL_INVALID unless `rpc` is an http(s):// or ws(s):// URL with a host. */
export function checkRpcUrl(rpc: string): URL {
  let url: URL | null = null;
  try {
    url = new URL(rpc);
  } catch {
    url = null;
  }
  if (url === null || !/^(https?|wss?):$/.test(url.protocol) || url.hostname === "") {
    throw new ChainError(
      "RPC_URL_INVALID",
      `--rpc "${rpc}" is not a JSON-RPC URL`,
      { rpc },
      { hint: "give a full URL such as http://127.0.0.1:8545" },
    );
  }
  return url;
}

/** Connects to `rpc` and reads its chain id: RPC_URL_INVALID or CHAIN_UNREACHABLE otherwise. */
export async function connectChain(
  rpc: string,
  metrics: ChainMetrics | null = null,
): Promise<ChainConnection> {
  checkRpcUrl(rpc);
  // A static network stops ethers from polling eth_chainId before every call; 250 ms polling
  // keeps receipts prompt on 1 s dev blocks without flooding a remote node.
  const provider = new JsonRpcProvider(rpc, undefined, {
    staticNetwork: true,
    pollingInterval: 250,
  });
  if (metrics !== null) instrumentProvider(provider, metrics);
  try {
    const chainId = BigInt(await provider.send("eth_chainId", []));
    return { rpc, provider, chainId, close: () => provider.destroy() };
  } catch (cause) {
    provider.destroy();
    throw new ChainError(
      "CHAIN_UNREACHABLE",
      `no JSON-RPC chain answers at ${rpc}`,
      { rpc },
      { hint: "check --rpc (start a local chain with `segmint chain`)", cause },
    );
  }
}

/** The deployment must be for this chain and every contract in it must have code. */
export async function checkDeployment(
  connection: Pick<ChainConnection, "provider" | "chainId" | "rpc">,
  deployment: Deployment,
  source: string,
): Promise<void> {
  const { provider, chainId, rpc } = connection;
  if (BigInt(deployment.chainId) !== chainId) {
    throw new ChainError(
      "CHAIN_ID_MISMATCH",
      `the deployment ${source} is for chain ${deployment.chainId}, but ${rpc} serves chain ${chainId}`,
      { source, deploymentChainId: deployment.chainId, rpcChainId: chainId.toString(), rpc },
      { hint: "point --rpc and --deployment at the same chain" },
    );
  }
  const entries = Object.entries(deployment.contracts);
  const codes = await Promise.all(entries.map(([, address]) => provider.getCode(address)));
  const missing = entries.filter((_, i) => codes[i] === "0x").map(([name]) => name);
  if (missing.length > 0) {
    throw new ChainError(
      "DEPLOYMENT_NO_CODE",
      `no contract code on chain ${chainId} for ${missing.join(", ")} from ${source}`,
      { source, missing },
      { hint: "the chain was restarted or the deployment is stale: run `segmint deploy` again" },
    );
  }
}

/** Connects and checks the deployment (chain id, code at every address). */
export async function openChainSession(options: SessionOptions): Promise<ChainSession> {
  const { value: deployment, source } =
    typeof options.deployment === "string"
      ? { value: await readDeployment(options.deployment), source: options.deployment }
      : options.deployment;
  const connection = await connectChain(options.rpc, options.metrics ?? null);
  try {
    await checkDeployment(connection, deployment, source);
  } catch (error) {
    connection.close();
    throw error;
  }
  return withDeployment(connection, deployment);
}

/** A session over `connection` for a deployment known to be on it (just deployed there). */
export function withDeployment(connection: ChainConnection, deployment: Deployment): ChainSession {
  return { ...connection, deployment, reader: segmintClients(deployment, connection.provider) };
}

/** A session that signs with `key` (a loaded wallet, or where to load it from). */
export async function openSigningSession(
  options: SessionOptions & { key: KeySource | Wallet },
): Promise<SigningSession> {
  // The key is checked before anything is connected: a bad key is a local mistake.
  const wallet = options.key instanceof Wallet ? options.key : await loadWallet(options.key);
  const session = await openChainSession(options);
  return signWith(session, wallet, options.log ?? silentLogger());
}

/** Adds a signer to an open session. */
export function signWith(session: ChainSession, wallet: Wallet, log: Logger): SigningSession {
  const tx = new TxSender(wallet, session.provider, log);
  return {
    ...session,
    wallet,
    address: wallet.address,
    tx,
    clients: segmintClients(session.deployment, tx.signer),
  };
}
