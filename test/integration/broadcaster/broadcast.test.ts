import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BroadcastSummary,
  isBroadcasterError,
  runBroadcast,
} from "../../../node/src/broadcaster/index.ts";
import { segmintClients } from "../../../node/src/chain/contracts.ts";
import { defaultDeployParams, deploySegmint } from "../../../node/src/chain/deploy.ts";
import { type Deployment, writeDeployment } from "../../../node/src/chain/deployment.ts";
import { type DevChain, startDevChain } from "../../../node/src/chain/devchain.ts";
import { probeMedia } from "../../../node/src/media/index.ts";
import {
  type OrchestratorNode,
  orchestratorConfigSchema,
  startOrchestrator,
} from "../../../node/src/orchestrator/index.ts";
import { type LongRunning, runCli, startCli } from "../../helpers/cli.ts";
import { createMediaWorkspace, type MediaWorkspace, playHlsVariant } from "../../helpers/media.ts";

const TOKEN = 10n ** 18n;
const ROUND_LENGTH = 10;
// Each ticket is worth 0.00001 token and wins 1% of the time; at 1e6 wei per pixel a 1 s
// segment of 240p + 144p costs about 4e12 wei, so a ticket pays for a couple of segments.
const PRICE = "1000000";
const TICKET_EV = "10000000000000";
const WIN_PROB = "0.01";
const PROFILES = "240p,144p";

let chain: DevChain;
let provider: JsonRpcProvider;
let dir: string;
let deploymentFile: string;
let deployment: Deployment;
let media: MediaWorkspace;
let clip: string;
let clipSeconds: number;
let clipSegments: number;
let broadcasterKey: string;
let inProcess: OrchestratorNode;
let child: LongRunning;
let childAddress: string;

async function mine(blocks: number): Promise<void> {
  await provider.send("hardhat_mine", [`0x${blocks.toString(16)}`]);
}

async function probeVariant(playlist: string) {
  const played = await playHlsVariant(media.ffmpegPath, playlist);
  expect(played.errors).toBe("");
  return { duration: played.durationSeconds, width: played.width, height: played.height };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "segmint-bcast-it-"));
  media = await createMediaWorkspace();
  // 8 s of 426x240 with a keyframe every second: eight 1 s segments, quick to transcode.
  clip = await media.clip("source.ts", {
    width: 426,
    height: 240,
    fps: 30,
    durationSeconds: 8,
    gopSeconds: 1,
  });
  const info = await probeMedia(clip, { ffmpegPath: media.ffmpegPath });
  clipSeconds = info.video?.durationSeconds ?? 0;
  clipSegments = info.video?.keyframes ?? 0;

  chain = await startDevChain({ port: 0, blockIntervalMs: 0, accounts: 4 });
  provider = new JsonRpcProvider(chain.url, undefined, {
    staticNetwork: true,
    pollingInterval: 50,
  });
  const [d, a, b, c] = chain.accounts;
  if (!d || !a || !b || !c) throw new Error("dev chain has too few accounts");
  const deployer = new NonceManager(new Wallet(d.privateKey, provider));
  deployment = await deploySegmint(deployer, {
    ...defaultDeployParams,
    roundLength: ROUND_LENGTH,
    maxActiveSetSize: 10,
  });
  deploymentFile = join(dir, "deployment.json");
  await writeDeployment(deploymentFile, deployment);
  const token = segmintClients(deployment, deployer).token;
  for (const to of [a.address, b.address, c.address]) {
    await (await token.transfer(to, 1_000n * TOKEN)).wait();
  }
  broadcasterKey = c.privateKey;

  // One orchestrator in this process, one as its own `segmint orchestrator` process (the
  // one the kill test SIGKILLs), both staked.
  const common = {
    rpc: chain.url,
    deployment: deploymentFile,
    pricePerPixel: PRICE,
    stake: (100n * TOKEN).toString(),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    httpPort: 0,
    maxSessions: 2,
    ticketEv: TICKET_EV,
    winProb: WIN_PROB,
    pollIntervalMs: 500,
    logLevel: "silent" as const,
  };
  inProcess = await startOrchestrator(
    orchestratorConfigSchema.parse({
      ...common,
      privateKey: a.privateKey,
      dataDir: join(dir, "orch-a"),
    }),
  );
  child = await startCli(
    [
      "orchestrator",
      "--rpc",
      chain.url,
      "--deployment",
      deploymentFile,
      "--key",
      b.privateKey,
      "--data-dir",
      join(dir, "orch-b"),
      "--price-per-pixel",
      PRICE,
      "--stake",
      common.stake,
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--http-port",
      "0",
      "--max-sessions",
      "2",
      "--ticket-ev",
      TICKET_EV,
      "--win-prob",
      WIN_PROB,
      "--poll-interval",
      "500",
      "--log-level",
      "warn",
    ],
    { timeoutMs: 120_000 },
  );
  childAddress = (JSON.parse(child.firstLine) as { address: string }).address;
  // Bonded stake counts from the next round: only active orchestrators are listed.
  await mine(ROUND_LENGTH);
});

afterAll(async () => {
  await child?.stop();
  await inProcess?.stop();
  provider?.destroy();
  await chain?.close();
  await media?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const config = (outDir: string) => ({
  input: clip,
  outDir,
  rpc: chain.url,
  deployment: deploymentFile,
  privateKey: broadcasterKey,
  profiles: PROFILES,
  orchestrators: 2,
  segmentSeconds: 1,
  listen: ["/ip4/127.0.0.1/tcp/0"],
});

describe("segmint broadcast on a real chain, real orchestrators, real ffmpeg", () => {
  it("broadcasts a clip through two orchestrators into playable HLS, paying with tickets", async () => {
    const outDir = join(dir, "hls-1");
    // Through the real command line, as a user runs it: one JSON object on stdout.
    const cli = await runCli(
      [
        "broadcast",
        clip,
        "--out",
        outDir,
        "--rpc",
        chain.url,
        "--deployment",
        deploymentFile,
        "--key",
        broadcasterKey,
        "--profiles",
        PROFILES,
        "--orchestrators",
        "2",
        "--segment",
        "1",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--deposit",
        (10n * TOKEN).toString(),
        "--reserve",
        (1n * TOKEN).toString(),
        "--data-dir",
        join(dir, "bcast-data"),
        "--json",
      ],
      { timeoutMs: 150_000 },
    );
    expect(cli.stderr).not.toMatch(/^error/m);
    expect(cli.code).toBe(0);
    const lines = cli.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] ?? "") as BroadcastSummary;
    expect(summary.segments).toBe(clipSegments);
    expect(summary.renditions).toBe(2);
    expect(summary.hlsDir).toBe(outDir);
    expect(summary.wallSeconds).toBeGreaterThan(0);
    expect(summary.realtimeFactor).toBeCloseTo(summary.mediaSeconds / summary.wallSeconds, 6);
    // Both orchestrators did work, and only they did.
    const workers = Object.keys(summary.orchestrators)
      .map((a) => a.toLowerCase())
      .sort();
    expect(workers).toEqual([inProcess.address.toLowerCase(), childAddress.toLowerCase()].sort());
    expect(Object.values(summary.orchestrators).reduce((a, b) => a + b, 0)).toBe(clipSegments);
    expect(summary.ticketsSent).toBeGreaterThan(0);
    expect(BigInt(summary.expectedValuePaid)).toBeGreaterThan(0n);

    const master = await readFile(join(outDir, "master.m3u8"), "utf8");
    expect(master).toContain("240p/index.m3u8");
    expect(master).toContain("144p/index.m3u8");
    for (const [name, width, height] of [
      ["240p", 426, 240],
      ["144p", 256, 144],
    ] as const) {
      const playlist = join(outDir, name, "index.m3u8");
      expect(await readFile(playlist, "utf8")).toContain("#EXT-X-ENDLIST");
      const probed = await probeVariant(playlist);
      expect([probed.width, probed.height]).toEqual([width, height]);
      expect(Math.abs(probed.duration - clipSeconds)).toBeLessThanOrEqual(0.2);
    }
    // The deposit and reserve were funded on chain (wins may already have drawn on the deposit).
    const broker = segmintClients(deployment, provider).ticketBroker;
    const funds = await broker.getSenderInfo(new Wallet(broadcasterKey).address);
    expect(funds.reserve).toBe(1n * TOKEN);
    expect(funds.deposit).toBeGreaterThan(9n * TOKEN);
    expect(funds.deposit).toBeLessThanOrEqual(10n * TOKEN);
    // Each ticket is worth TICKET_EV (rounded up by the orchestrator's win probability).
    const perTicket = BigInt(TICKET_EV);
    const paid = BigInt(summary.expectedValuePaid);
    expect(paid).toBeGreaterThanOrEqual(perTicket * BigInt(summary.ticketsSent));
    expect(paid).toBeLessThan(perTicket * BigInt(summary.ticketsSent + 1));
    // The summary funded the deposit, and says so.
    expect(summary.funded).toEqual({
      deposit: (10n * TOKEN).toString(),
      reserve: (1n * TOKEN).toString(),
    });

    // The spend history the run kept in --data-dir, as `segmint spend` shows it.
    const spend = await runCli(["spend", "--data-dir", join(dir, "bcast-data"), "--json"]);
    expect(spend.code).toBe(0);
    const history = JSON.parse(spend.stdout) as {
      runs: Array<{
        kind: string;
        label: string;
        orchestrators: Array<{
          orchestrator: string;
          segments: number;
          tickets: number;
          faceValue: string;
          expectedValue: string;
          winners: number | null;
          verificationFailures: number;
        }>;
      }>;
    };
    expect(history.runs).toHaveLength(1);
    const [recorded] = history.runs;
    expect(recorded).toMatchObject({ kind: "broadcast", label: clip });
    const rows = recorded?.orchestrators ?? [];
    expect(rows.map((r) => r.orchestrator).sort()).toEqual(workers);
    for (const row of rows) {
      expect(row.segments).toBe(summary.orchestrators[getAddress(row.orchestrator)]);
      expect(row.verificationFailures).toBe(0);
      expect(row.winners).toBeNull();
      // Each ticket's face value is its expected value over the win probability (1%).
      expect(BigInt(row.faceValue)).toBeGreaterThanOrEqual(BigInt(row.expectedValue) * 99n);
    }
    // The summary's per-orchestrator spend is what the store holds.
    expect(
      summary.spend.map((e) => [e.orchestrator, e.segments, e.tickets, e.expectedValue]).sort(),
    ).toEqual(rows.map((r) => [r.orchestrator, r.segments, r.tickets, r.expectedValue]).sort());
    const settledValue = rows.reduce((sum, r) => sum + BigInt(r.expectedValue), 0n);
    expect(settledValue).toBeGreaterThan(0n);
    expect(settledValue).toBeLessThanOrEqual(paid);
    // A folder no broadcast kept a history in: one coded line.
    const none = await runCli(["spend", "--data-dir", join(dir, "no-such-data")]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/error \[SPEND_HISTORY_NOT_FOUND\]/);
  });

  it("says what an interrupted broadcast kept and spent, and the same command resumes without paying twice", async () => {
    const outDir = join(dir, "hls-resume");
    const stop = new AbortController();
    const interrupted = await runBroadcast(config(outDir), {
      signal: stop.signal,
      onProgress: ({ segments }) => {
        if (segments >= 2) stop.abort();
      },
    }).catch((error: unknown) => error);
    expect(isBroadcasterError(interrupted, "BROADCAST_ABORTED")).toBe(true);
    const kept = isBroadcasterError(interrupted) ? interrupted.details : {};
    const written = Number(kept.written);
    expect(written).toBeGreaterThanOrEqual(2);
    expect(written).toBeLessThan(clipSegments);
    expect(BigInt(String(kept.expectedValuePaid))).toBeGreaterThan(0n);

    // The same command: the verified segments are taken back, only the rest is sent and paid,
    // here pinned to one orchestrator (--orchestrator), which does all of it.
    const resumed = await runBroadcast({
      ...config(outDir),
      pinnedOrchestrators: [inProcess.address],
    });
    expect(resumed.resumed).toBe(written);
    expect(resumed.segments).toBe(clipSegments);
    expect(Object.keys(resumed.orchestrators)).toEqual([inProcess.address]);
    expect(resumed.pinnedUnavailable).toEqual({ notFound: [], refused: [] });
    expect(Object.values(resumed.orchestrators).reduce((a, b) => a + b, 0)).toBe(
      clipSegments - written,
    );
    const probed = await probeVariant(join(outDir, "240p", "index.m3u8"));
    expect(Math.abs(probed.duration - clipSeconds)).toBeLessThanOrEqual(0.2);

    // Once more: everything is there, nothing is sent or paid.
    const again = await runBroadcast(config(outDir));
    expect(again.resumed).toBe(clipSegments);
    expect(again.ticketsSent).toBe(0);
    expect(again.expectedValuePaid).toBe("0");
  });

  it("finishes every segment when an orchestrator is killed mid-broadcast, counting the retries", async () => {
    const outDir = join(dir, "hls-kill");
    let killed = false;
    const summary = await runBroadcast(config(outDir), {
      onProgress: ({ segments }) => {
        if (!killed && segments >= 2) {
          killed = true;
          child.child.kill("SIGKILL");
        }
      },
    });
    expect(killed).toBe(true);
    expect(summary.segments).toBe(clipSegments);
    expect(summary.retries).toBeGreaterThanOrEqual(1);
    expect(summary.orchestrators[inProcess.address]).toBeGreaterThan(0);
    const probed = await probeVariant(join(outDir, "240p", "index.m3u8"));
    expect(Math.abs(probed.duration - clipSeconds)).toBeLessThanOrEqual(0.2);
  });

  it("refuses to spend past --max-spend and to pay above --max-price-per-pixel", async () => {
    const capped = await runBroadcast({ ...config(join(dir, "hls-cap")), maxSpend: "1" }).catch(
      (e: unknown) => e,
    );
    expect(capped).toMatchObject({ code: "SPEND_CAP_REACHED" });
    const cheap = await runBroadcast({
      ...config(join(dir, "hls-cheap")),
      maxPricePerPixel: "999999",
      discoveryWaitMs: 500,
    }).catch((e: unknown) => e);
    expect(cheap).toMatchObject({ code: "NO_ORCHESTRATORS" });
    // Pinned to an address no orchestrator has: refused, naming it.
    const stranger = Wallet.createRandom().address;
    const pinned = await runBroadcast({
      ...config(join(dir, "hls-pinned")),
      pinnedOrchestrators: [stranger],
      discoveryWaitMs: 500,
    }).catch((e: unknown) => e);
    expect(pinned).toMatchObject({
      code: "PINNED_ORCHESTRATORS_UNAVAILABLE",
      details: { notFound: [stranger.toLowerCase()], refused: [] },
    });
  });

  it("segmint broadcast exits 1 with one coded line on a missing or non-media input", async () => {
    const missing = await runCli([
      "broadcast",
      join(dir, "nope.mp4"),
      "--out",
      join(dir, "x"),
      "--rpc",
      chain.url,
      "--deployment",
      deploymentFile,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error \[INPUT_NOT_FOUND\]/);
    const text = await runCli([
      "broadcast",
      deploymentFile,
      "--out",
      join(dir, "x"),
      "--rpc",
      chain.url,
      "--deployment",
      deploymentFile,
    ]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/error \[INPUT_INVALID\]/);
  });

  it("segmint broadcast says what to fund, in one line, when the key has no deposit", async () => {
    const common = ["--rpc", chain.url, "--deployment", deploymentFile];
    const unfunded = await runCli([
      "broadcast",
      clip,
      "--out",
      join(dir, "hls-unfunded"),
      "--key",
      Wallet.createRandom().privateKey,
      ...common,
    ]);
    expect(unfunded.code).toBe(1);
    const lines = unfunded.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error \[NO_DEPOSIT\]/);
    expect(lines[0]).toContain("--deposit");
    // An --out that is a file is refused before any work.
    const onFile = await runCli([
      "broadcast",
      clip,
      "--out",
      clip,
      "--key",
      broadcasterKey,
      ...common,
    ]);
    expect(onFile.code).toBe(1);
    expect(onFile.stderr.trim()).toMatch(/^error \[OUT_NOT_A_DIRECTORY\]/);
    // An --out holding an older run's HLS and no broadcast record: refused before the chain,
    // naming the folder and the flag; --overwrite removes Segmint's files there, nothing else.
    const stale = join(dir, "hls-stale");
    await mkdir(join(stale, "240p"), { recursive: true });
    await writeFile(join(stale, "master.m3u8"), "#EXTM3U\n");
    await writeFile(join(stale, "240p", "seg000009.ts"), "old");
    await writeFile(join(stale, "notes.txt"), "mine");
    const reused = ["broadcast", clip, "--out", stale, "--profiles", PROFILES];
    const unkeyed = ["--key", Wallet.createRandom().privateKey, ...common];
    const refused = await runCli([...reused, ...unkeyed]);
    expect(refused.code).toBe(1);
    const refusal = refused.stderr.trim().split("\n");
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatch(/^error \[OUT_DIR_NOT_EMPTY\]/);
    expect(refusal[0]).toContain(stale);
    expect(refusal[0]).toContain("--overwrite");
    const cleared = await runCli([...reused, "--overwrite", ...unkeyed]);
    expect(cleared.stderr).toMatch(/^error \[NO_DEPOSIT\]/);
    expect(await readdir(stale)).toEqual(["notes.txt"]);
  });
});
