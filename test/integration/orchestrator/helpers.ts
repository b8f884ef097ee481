import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { getBytes, type JsonRpcProvider, NonceManager, toBeHex, Wallet } from "ethers";
import { afterAll, beforeAll, expect } from "vitest";
import { type SegmintClients, segmintClients } from "../../../node/src/chain/contracts.ts";
import type { Deployment } from "../../../node/src/chain/deployment.ts";
import type { DevChain } from "../../../node/src/chain/devchain.ts";
import { generateTestMedia, locateBinaries, presetProfile } from "../../../node/src/media/index.ts";
import {
  requestInfo,
  requestTranscode,
  type SegmintNode,
  type TranscodeResponse,
} from "../../../node/src/p2p/index.ts";
import { type TicketParams, TicketSender } from "../../../node/src/payments/index.ts";
import {
  maxChargeablePixels,
  paymentToWire,
  type TicketPayment,
  ticketParamsFromWire,
} from "../../../node/src/protocol/index.ts";
import { repoRoot, segmintBin } from "../../helpers/cli.ts";
import { startMarketChain } from "../../helpers/market.ts";

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
  const market = await startMarketChain({
    dirPrefix: "segmint-orch-",
    accounts: 6,
    roundLength: ROUND_LENGTH,
    deployParams: { unbondingPeriod: 2, unlockPeriod: 3, ticketValidityRounds: 2 },
  });
  const { chain, provider, deployment } = market;
  const signers = new Map<number, NonceManager>([[0, market.deployer]]);
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
  return {
    chain,
    provider,
    deployment,
    deploymentFile: market.deploymentFile,
    dir: market.dir,
    key: (i) => chain.accounts[i]?.privateKey ?? "",
    wallet: (i) => new Wallet(chain.accounts[i]?.privateKey ?? "", provider),
    as: (i) => segmintClients(deployment, signer(i)),
    fund: market.fund,
    mineRounds: async (rounds) => {
      await provider.send("hardhat_mine", [toBeHex(rounds * ROUND_LENGTH)]);
    },
    close: market.close,
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

/** `--rpc` and `--deployment` for `t`, as every `segmint` command on the chain takes them. */
export function chainFlags(t: TestChain): string[] {
  return ["--rpc", t.chain.url, "--deployment", t.deploymentFile];
}

/**
 * Gives dev account `orchestrator` 2,000 tokens to stake from, and dev account `broadcaster`
 * 100 tokens of which 50 become its TicketBroker deposit.
 */
export async function fundOrchestratorAndBroadcaster(
  t: TestChain,
  orchestrator: number,
  broadcaster: number,
): Promise<void> {
  await t.fund(t.wallet(orchestrator).address, 2_000n * TOKEN);
  await t.fund(t.wallet(broadcaster).address, 100n * TOKEN);
  const asBroadcaster = t.as(broadcaster);
  await (
    await asBroadcaster.token.approve(t.deployment.contracts.TicketBroker, 50n * TOKEN)
  ).wait();
  await (await asBroadcaster.ticketBroker.fundDepositAndReserve(50n * TOKEN, 0n)).wait();
}

/**
 * `segmint orchestrator` flags for a paid orchestrator on `t`: price 1 per pixel, 1,000 tokens
 * staked, tickets of `faceValue` that always win, libp2p and HTTP on free 127.0.0.1 ports.
 */
export function paidOrchestratorArgs(t: TestChain, dataDir: string, faceValue: bigint): string[] {
  return [
    ...chainFlags(t),
    "--data-dir",
    dataDir,
    "--price-per-pixel",
    "1",
    "--stake",
    (1_000n * TOKEN).toString(),
    "--face-value",
    faceValue.toString(),
    "--win-prob",
    "1",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--http-port",
    "0",
  ];
}

/** The first listen address of a spawned orchestrator. */
export function firstMultiaddr(orch: OrchestratorProcess): Multiaddr {
  return multiaddr(orch.ready.multiaddrs[0] ?? "");
}

/**
 * Moves on one round (a seat comes with the round after the bond: only a seated orchestrator
 * quotes) and asks the orchestrator at `addr` for ticket params until it answers.
 */
export async function quoteOnceSeated(
  t: TestChain,
  host: SegmintNode,
  addr: Multiaddr,
  sender: string,
): Promise<TicketParams> {
  await t.mineRounds(1);
  const info = await eventually(
    () => requestInfo(host, addr, { sender }).catch(() => undefined),
    30_000,
    "the orchestrator to quote once seated",
  );
  return ticketParamsFromWire(info.ticketParams, BigInt(info.pricePerPixel));
}

/** One paid 2 s segment: what was sent and what came back. */
export interface PaidSegment {
  payments: TicketPayment[];
  segment: Buffer;
  response: TranscodeResponse;
}

/**
 * Pays the orchestrator at `addr` for one real 2 s segment into `profile` with exactly one
 * ticket signed by dev account `senderIndex`, and transcodes it over libp2p.
 */
export async function payOneSegment(
  t: TestChain,
  host: SegmintNode,
  addr: Multiaddr,
  request: {
    params: TicketParams;
    senderIndex: number;
    streamId: string;
    profile: string;
    width: number;
    height: number;
    segmentFile: string;
  },
): Promise<PaidSegment> {
  const { params } = request;
  const sender = new TicketSender(
    getBytes(t.key(request.senderIndex)),
    { chainId: 31337n, verifyingContract: t.deployment.contracts.TicketBroker },
    { maxPricePerPixel: 10n, maxTicketEV: 2n * TOKEN, maxTotalSpend: 10n * TOKEN },
  );
  const fee = maxChargeablePixels([presetProfile(request.profile)], 2) * params.pricePerPixel;
  const payments = sender.createTickets(params, fee);
  expect(payments).toHaveLength(1);
  const ffmpeg = (await locateBinaries()).ffmpeg.path;
  await generateTestMedia(ffmpeg, request.segmentFile, {
    width: request.width,
    height: request.height,
    fps: 30,
    durationSeconds: 2,
  });
  const segment = await readFile(request.segmentFile);
  const response = await requestTranscode(
    host,
    addr,
    {
      streamId: request.streamId,
      seq: 0,
      durationSec: 2,
      profiles: [{ name: request.profile }],
      tickets: payments.map(paymentToWire),
    },
    segment,
  );
  return { payments, segment, response };
}

/**
 * What a describe block of paid-segment tests holds: a test chain started before its tests,
 * and the orchestrator process and dialer host a test opens on it. All three are closed after
 * the block, the process first; a test that stops its process itself sets `orch` to null.
 */
export interface ChainSuite {
  readonly t: TestChain;
  orch: OrchestratorProcess | null;
  host: SegmintNode | null;
}

/** Registers the block's beforeAll/afterAll and returns what they manage. */
export function useChainSuite(): ChainSuite {
  let chain: TestChain | undefined;
  const suite: ChainSuite = {
    get t() {
      if (!chain) throw new Error("the test chain starts in beforeAll; read t inside a test");
      return chain;
    },
    orch: null,
    host: null,
  };
  beforeAll(async () => {
    chain = await startTestChain();
  });
  afterAll(async () => {
    await suite.orch?.kill();
    await suite.host?.stop();
    await chain?.close();
  });
  return suite;
}
