import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, toBeHex, Wallet } from "ethers";
import { type SegmintClients, segmintClients } from "../../../node/src/chain/contracts.ts";
import { defaultDeployParams, deploySegmint } from "../../../node/src/chain/deploy.ts";
import { type Deployment, writeDeployment } from "../../../node/src/chain/deployment.ts";
import { type DevChain, startDevChain } from "../../../node/src/chain/devchain.ts";
import { repoRoot, segmintBin } from "../../helpers/cli.ts";

export const TOKEN = 10n ** 18n;
export const ROUND_LENGTH = 10;

/** A real Hardhat chain over JSON-RPC on 127.0.0.1 with Segmint deployed, and a temp dir. */
export interface TestChain {
  chain: DevChain;
  provider: JsonRpcProvider;
  deployment: Deployment;
  deploymentFile: string;
  dir: string;
  /** Dev account i's private key. */
  key(i: number): string;
  wallet(i: number): Wallet;
  /** Typed clients sending as dev account i (one NonceManager per account). */
  as(i: number): SegmintClients;
  /** Sends tokens from the deployer (account 0) to `to`. */
  fund(to: string, amount: bigint): Promise<void>;
  mineRounds(rounds: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTestChain(): Promise<TestChain> {
  const dir = await mkdtemp(path.join(tmpdir(), "segmint-orch-"));
  // Blocks only on transactions (and hardhat_mine): the test moves rounds itself.
  const chain = await startDevChain({ port: 0, blockIntervalMs: 0, accounts: 6 });
  const provider = new JsonRpcProvider(chain.url, undefined, {
    staticNetwork: true,
    pollingInterval: 50,
  });
  const signers = new Map<number, NonceManager>();
  const signer = (i: number) => {
    let s = signers.get(i);
    if (!s) {
      const account = chain.accounts[i];
      if (!account) throw new Error(`no dev account ${i}`);
      s = new NonceManager(new Wallet(account.privateKey, provider));
      signers.set(i, s);
    }
    return s;
  };
  const deployment = await deploySegmint(signer(0), {
    ...defaultDeployParams,
    roundLength: ROUND_LENGTH,
    unbondingPeriod: 2,
    unlockPeriod: 3,
    ticketValidityRounds: 2,
  });
  const deploymentFile = path.join(dir, "deployment.json");
  await writeDeployment(deploymentFile, deployment);
  const as = (i: number) => segmintClients(deployment, signer(i));
  return {
    chain,
    provider,
    deployment,
    deploymentFile,
    dir,
    key: (i) => chain.accounts[i]?.privateKey ?? "",
    wallet: (i) => new Wallet(chain.accounts[i]?.privateKey ?? "", provider),
    as,
    fund: async (to, amount) => {
      await (await as(0).token.transfer(to, amount)).wait();
    },
    mineRounds: async (rounds) => {
      await provider.send("hardhat_mine", [toBeHex(rounds * ROUND_LENGTH)]);
    },
    close: async () => {
      provider.destroy();
      await chain.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Ready {
  event: "ready";
  address: string;
  peerId: string;
  multiaddrs: string[];
  httpUrl: string;
}

/** A `segmint orchestrator` child process. */
export interface OrchestratorProcess {
  child: ChildProcess;
  ready: Ready;
  /** Lines printed on stdout (the ready line must be the only one). */
  stdout(): string;
  stderr(): string;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
}

/** Spawns `segmint orchestrator ARGS` and waits for its ready line. */
export function spawnOrchestrator(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 90_000,
): Promise<OrchestratorProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [segmintBin, "orchestrator", ...args], {
      cwd: repoRoot,
      env: { ...process.env, SEGMINT_LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let settled = false;
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`orchestrator not ready in time; stderr: ${err.slice(-3000)}`));
    }, timeoutMs);
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const newline = out.indexOf("\n");
      if (newline < 0 || settled) return;
      settled = true;
      clearTimeout(timer);
      const ready = JSON.parse(out.slice(0, newline)) as Ready;
      resolve({
        child,
        ready,
        stdout: () => out,
        stderr: () => err,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          return exited;
        },
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          await exited;
        },
      });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (!settled)
        reject(new Error(`orchestrator exited with ${code}; stderr: ${err.slice(-3000)}`));
    });
  });
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
