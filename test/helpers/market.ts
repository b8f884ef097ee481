import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import type { BroadcastConfigInput } from "../../node/src/broadcaster/options.ts";
import { segmintClients } from "../../node/src/chain/contracts.ts";
import {
  type DeployParams,
  defaultDeployParams,
  deploySegmint,
} from "../../node/src/chain/deploy.ts";
import { type Deployment, writeDeployment } from "../../node/src/chain/deployment.ts";
import { type DevAccount, type DevChain, startDevChain } from "../../node/src/chain/devchain.ts";
import { silentLogger } from "../../node/src/log/index.ts";
import { createHost, defaultP2pOptions, type SegmintNode } from "../../node/src/p2p/index.ts";
import type { MediaWorkspace } from "./media.ts";

/** A real Hardhat chain over JSON-RPC on 127.0.0.1 with Segmint deployed, and a temp dir. */
export interface MarketChain {
  dir: string;
  chain: DevChain;
  provider: JsonRpcProvider;
  deployment: Deployment;
  /** The deployment written as JSON in `dir`, as `--deployment` takes it. */
  deploymentFile: string;
  /** Dev account 0, which deployed and holds every token. */
  deployer: NonceManager;
  /** Dev accounts 1 and up, free for the test's roles. */
  accounts: DevAccount[];
  /** Sends `amount` tokens from the deployer to `to`. */
  fund(to: string, amount: bigint): Promise<void>;
  /** Mines one round's blocks: a stake bonded now counts from the round this reaches. */
  mineRound(): Promise<void>;
  close(): Promise<void>;
}

export interface MarketChainOptions {
  /** The temp dir's name prefix, so a leftover dir tells which test left it. */
  dirPrefix: string;
  /** Dev accounts, the deployer included. */
  accounts: number;
  roundLength: number;
  /** Deploy parameters other than the defaults and `roundLength`. */
  deployParams?: Partial<Omit<DeployParams, "roundLength">>;
}

/**
 * Starts a chain that mines only on transactions (and hardhat_mine), so the test moves rounds
 * itself; deploys Segmint with `roundLength` and writes the deployment file.
 */
export async function startMarketChain(options: MarketChainOptions): Promise<MarketChain> {
  const dir = await mkdtemp(join(tmpdir(), options.dirPrefix));
  const chain = await startDevChain({ port: 0, blockIntervalMs: 0, accounts: options.accounts });
  const provider = new JsonRpcProvider(chain.url, undefined, {
    staticNetwork: true,
    pollingInterval: 50,
  });
  const [deployerAccount, ...accounts] = chain.accounts;
  if (!deployerAccount) throw new Error("no dev account to deploy from");
  const deployer = new NonceManager(new Wallet(deployerAccount.privateKey, provider));
  const deployment = await deploySegmint(deployer, {
    ...defaultDeployParams,
    ...options.deployParams,
    roundLength: options.roundLength,
  });
  const deploymentFile = join(dir, "deployment.json");
  await writeDeployment(deploymentFile, deployment);
  const token = segmintClients(deployment, deployer).token;
  return {
    dir,
    chain,
    provider,
    deployment,
    deploymentFile,
    deployer,
    accounts,
    fund: async (to, amount) => {
      await (await token.transfer(to, amount)).wait();
    },
    mineRound: async () => {
      await provider.send("hardhat_mine", [`0x${options.roundLength.toString(16)}`]);
    },
    close: async () => {
      provider.destroy();
      await chain.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A clip of `segments` seconds of 256x144 with a keyframe every second: one 1 s segment each. */
export function oneSecondSegmentsClip(media: MediaWorkspace, segments: number): Promise<string> {
  return media.clip("source.ts", {
    width: 256,
    height: 144,
    fps: 30,
    durationSeconds: segments,
    gopSeconds: 1,
  });
}

/**
 * What every market broadcast shares: `input` in 1 s segments to 144p on `market`'s chain,
 * libp2p on a free 127.0.0.1 port. The caller adds funding, discovery and checks.
 */
export function broadcast144p(
  market: MarketChain,
  run: { input: string; outDir: string; privateKey: string },
): BroadcastConfigInput {
  return {
    ...run,
    rpc: market.chain.url,
    deployment: market.deploymentFile,
    profiles: "144p",
    segmentSeconds: 1,
    listen: ["/ip4/127.0.0.1/tcp/0"],
  };
}

/** A libp2p host on a free 127.0.0.1 port that only dials (no gossipsub), its key in `dataDir`. */
export function openDialerHost(dataDir: string): Promise<SegmintNode> {
  return createHost(
    {
      ...defaultP2pOptions.host,
      dataDir,
      listen: ["/ip4/127.0.0.1/tcp/0"],
      gossipsub: false,
    },
    silentLogger(),
  );
}
