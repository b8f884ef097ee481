import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { JsonRpcProvider } from "ethers";

/**
 * anvil, Foundry's EVM node, from its npm package: a second, independent chain client for the
 * tests that must not lean on Hardhat (chain id, mining, error shapes).
 */
export interface Anvil {
  url: string;
  chainId: number;
  provider: JsonRpcProvider;
  send(method: string, params?: unknown[]): Promise<unknown>;
  stop(): Promise<void>;
}

export function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const require = createRequire(import.meta.url);
  return require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts anvil on 127.0.0.1. `blockTime` (seconds) mines on a timer; without it anvil mines one
 * block per transaction.
 */
export async function startAnvil(options: { chainId: number; blockTime?: number }): Promise<Anvil> {
  const port = await freePort();
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--chain-id",
    String(options.chainId),
  ];
  if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime));
  const child: ChildProcess = spawn(anvilBinary(), args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(url, options.chainId, {
    staticNetwork: true,
    pollingInterval: 250,
  });
  const stop = async () => {
    provider.destroy();
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await provider.send("eth_chainId", []);
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`anvil did not start: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    chainId: options.chainId,
    provider,
    send: (method, params = []) => provider.send(method, params),
    stop,
  };
}
