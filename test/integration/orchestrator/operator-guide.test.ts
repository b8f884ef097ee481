import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateBinaries, probeMedia } from "../../../node/src/media/index.ts";
import { type LongRunning, repoRoot, runCli, startCli } from "../../helpers/cli.ts";
import { ffmpegMake, playHlsVariant } from "../../helpers/media.ts";
import { eventually, type OrchestratorProcess, spawnOrchestrator } from "./helpers.ts";

/**
 * docs/operator-guide.md followed as a new user would, in its order, with only the commands it
 * documents: each step first checks that the guide still says what the step runs, so the guide
 * and this walk cannot drift apart. What a person would change is changed here too: fixed ports
 * become free ones (0) and files go to a temporary folder. Rounds are moved on with hardhat_mine
 * where a person would wait a round of the dev chain's 1 s blocks. While the walked orchestrator
 * serves, a new broadcaster follows docs/broadcaster-guide.md's quick start against it, up to
 * HLS a player can play.
 */
describe("the operator and broadcaster guides, followed literally", () => {
  let dir: string;
  let guide: string;
  let broadcasterGuide: string;
  let chain: LongRunning | null = null;
  let orch: OrchestratorProcess | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "segmint-guide-"));
    guide = await readFile(path.join(repoRoot, "docs", "operator-guide.md"), "utf8");
    broadcasterGuide = await readFile(path.join(repoRoot, "docs", "broadcaster-guide.md"), "utf8");
  });

  afterAll(async () => {
    await orch?.kill();
    await chain?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The guide still documents `text` (a command line as it is written there). */
  const documented = (text: string) => expect(guide).toContain(text);
  /** The broadcaster guide still documents `text`. */
  const inBroadcasterGuide = (text: string) => expect(broadcasterGuide).toContain(text);

  /**
   * docs/broadcaster-guide.md's quick start, from a new key to played HLS, against a chain with
   * a serving orchestrator: the first broadcast (the one that funds) and what it leaves behind.
   */
  async function walkBroadcasterGuide(chain: {
    rpc: string;
    deployment: string;
    orchestrator: string;
    orchestratorHttpUrl: string;
  }): Promise<void> {
    // A key: the guide's one-liner prints the address, then the private key.
    const oneLiner = /^node -e '([^']+)'$/m.exec(broadcasterGuide)?.[1];
    if (oneLiner === undefined)
      throw new Error("the broadcaster guide no longer shows its key one-liner");
    const [address = "", privateKey = ""] = (await runNode(["-e", oneLiner], dir)).split("\n");
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(privateKey).toMatch(/^0x[0-9a-f]{64}$/);
    inBroadcasterGuide(
      "export SEGMINT_RPC=http://127.0.0.1:8545 SEGMINT_DEPLOYMENT=deployment.json",
    );
    inBroadcasterGuide("export SEGMINT_PRIVATE_KEY=0xThePrivateKeyItPrinted");
    const env = {
      SEGMINT_RPC: chain.rpc,
      SEGMINT_DEPLOYMENT: chain.deployment,
      SEGMINT_PRIVATE_KEY: privateKey,
    };
    const cli = (args: string[]) => runCli(args, { env });

    // Tokens and gas from the faucet, then the test video with the guide's ffmpeg line.
    inBroadcasterGuide("npx segmint faucet 0xBroadcasterAddress\n");
    expect((await cli(["faucet", address])).code).toBe(0);
    const ffmpegLine = /^ffmpeg (-f lavfi .+) talk\.mp4$/m.exec(broadcasterGuide)?.[1];
    if (ffmpegLine === undefined)
      throw new Error("the broadcaster guide no longer shows its test video");
    const ffmpegPath = (await locateBinaries()).ffmpeg.path;
    const video = path.join(dir, "talk.mp4");
    await ffmpegMake(ffmpegPath, [...ffmpegLine.split(" "), video]);

    // The first broadcast funds the deposit and reserve and keeps its history in bcast/.
    inBroadcasterGuide(
      "npx segmint broadcast talk.mp4 --out hls/ --data-dir bcast/ --deposit 10SGM --reserve 1SGM",
    );
    const hls = path.join(dir, "hls");
    const bcast = path.join(dir, "bcast");
    const broadcast = await cli([
      ...["broadcast", video, "--out", hls, "--data-dir", bcast],
      ...["--deposit", "10SGM", "--reserve", "1SGM"],
    ]);
    expect(broadcast.code, broadcast.stderr).toBe(0);
    expect(broadcast.stdout).toContain(`orchestrator ${chain.orchestrator.toLowerCase()}:`);
    expect(broadcast.stdout).toContain("funded   deposit +10 SGM, reserve +1 SGM");
    const segments = Number(/^Broadcast (\d+) segments/m.exec(broadcast.stdout)?.[1]);
    const ticketsSent = Number(/tickets sent (\d+)/.exec(broadcast.stdout)?.[1]);
    expect(segments).toBeGreaterThan(0);
    expect(ticketsSent).toBeGreaterThan(0);

    // Playable HLS: the master lists every default rendition; each playlist is VOD, its
    // segments exist, probe as video and play through without a decoder error.
    inBroadcasterGuide("Play `hls/master.m3u8` with any HLS");
    const master = await readFile(path.join(hls, "master.m3u8"), "utf8");
    const variants = master.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    expect(variants).toEqual(["720p/index.m3u8", "480p/index.m3u8", "360p/index.m3u8"]);
    const source = await probeMedia(video, { ffmpegPath });
    for (const variant of variants) {
      const playlist = path.join(hls, variant);
      const text = await readFile(playlist, "utf8");
      expect(text.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
      const files = text.split("\n").filter((line) => line.endsWith(".ts"));
      expect(files).toHaveLength(segments);
      for (const file of files) {
        const probed = await probeMedia(path.join(path.dirname(playlist), file), { ffmpegPath });
        expect(probed.video?.codec).toBe("h264");
      }
      const played = await playHlsVariant(ffmpegPath, playlist);
      expect(played.errors).toBe("");
      expect(played.width).toBe(source.video?.width);
      expect(Math.abs(played.durationSeconds - source.durationSeconds)).toBeLessThan(0.5);
    }

    // The orchestrator counted the tickets the segments carried.
    const status = (await (await fetch(`${chain.orchestratorHttpUrl}/status`)).json()) as {
      tickets: { received: number };
    };
    expect(status.tickets.received).toBeGreaterThanOrEqual(ticketsSent);

    // The market as the funded broadcaster sees it, then the spend history of the run.
    inBroadcasterGuide("npx segmint orchestrators --sender 0xBroadcasterAddress");
    const market = await cli(["orchestrators", "--sender", address]);
    expect(market.code).toBe(0);
    expect(market.stdout).toContain(chain.orchestrator);
    expect(market.stdout).toContain("reachable, price 1000 wei per pixel");
    inBroadcasterGuide("npx segmint spend --data-dir bcast/");
    const spend = await cli(["spend", "--data-dir", bcast]);
    expect(spend.code).toBe(0);
    expect(spend.stdout).toContain(`${segments} segments, ${ticketsSent} tickets`);
  }

  // Two roles' guides on one chain: longer than the project's default per-test limit.
  it("takes new keys from nothing to a staked orchestrator that earns and a broadcaster's playable HLS", async () => {
    // 1. Install: a development chain and the contracts.
    documented("node bin/segmint.js chain --port 8545 &");
    chain = await startCli(["chain", "--port", "0"]);
    const rpc = /listening at (http:\/\/\S+)/.exec(chain.firstLine)?.[1] ?? "";
    expect(rpc).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const mineRound = async () => {
      // The dev deployment's rounds are 20 blocks (`segmint protocol` says so).
      const response = await fetch(rpc, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "hardhat_mine", params: ["0x14"] }),
      });
      expect(response.ok).toBe(true);
    };
    documented("npx segmint deploy --rpc http://127.0.0.1:8545 --out deployment.json");
    const deployment = path.join(dir, "deployment.json");
    const deployed = await runCli(["deploy", "--rpc", rpc, "--out", deployment]);
    expect(deployed.code).toBe(0);

    // 2. Keys: the guide's own one-liner makes the keystore (run in the user's folder, which
    // here is not the repository, so ethers is found through NODE_PATH), then the password file.
    const oneLiner = /node -e '([^']+)' 'your password'/.exec(guide)?.[1];
    if (oneLiner === undefined) throw new Error("the guide no longer shows the keystore one-liner");
    const address = await runNode(["-e", oneLiner, "your password"], dir);
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    documented("printf '%s\\n' 'your password' > pw.txt");
    await writeFile(path.join(dir, "pw.txt"), "your password\n", { mode: 0o600 });

    // 2. Tokens and gas from the dev chain's faucet.
    documented(
      "npx segmint faucet 0xYourAddress --rpc http://127.0.0.1:8545 --deployment deployment.json",
    );
    const funded = await runCli(["faucet", address, "--rpc", rpc, "--deployment", deployment]);
    expect(funded.code).toBe(0);

    // 3. Register and stake, by hand, with the variables the guide exports.
    documented("export SEGMINT_RPC=http://127.0.0.1:8545 SEGMINT_DEPLOYMENT=deployment.json");
    documented("export SEGMINT_KEYSTORE=key.json SEGMINT_PASSWORD_FILE=pw.txt");
    const env = {
      SEGMINT_RPC: rpc,
      SEGMINT_DEPLOYMENT: deployment,
      SEGMINT_KEYSTORE: path.join(dir, "key.json"),
      SEGMINT_PASSWORD_FILE: path.join(dir, "pw.txt"),
    };
    const cli = (args: string[]) => runCli(args, { env });
    documented("npx segmint orchestrator-params --reward-cut 100000 --fee-share 500000");
    expect(
      (await cli(["orchestrator-params", "--reward-cut", "100000", "--fee-share", "500000"])).code,
    ).toBe(0);
    documented("npx segmint stake bond 1000SGM");
    const bonded = await cli(["stake", "bond", "1000SGM"]);
    expect(bonded.code).toBe(0);
    expect(bonded.stdout).toContain("stake now 1000 SGM");
    documented("npx segmint status 0xYourAddress");
    const status = await cli(["status", address]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(address);

    // 4. Run the orchestrator (its stake is already there: start-up sends nothing for it).
    documented("npx segmint orchestrator \\");
    for (const line of [
      "--rpc http://127.0.0.1:8545 --deployment deployment.json",
      "--keystore key.json --password-file pw.txt",
      "--data-dir .segmint",
      "--price-per-pixel 1000",
      "--reward-cut 100000 --fee-share 500000 --stake 1000SGM",
      "--listen 0.0.0.0:4001",
      "--http-port 7935",
    ]) {
      documented(line);
    }
    const dataDir = path.join(dir, ".segmint");
    orch = await spawnOrchestrator([
      ...["--rpc", rpc, "--deployment", deployment],
      ...["--keystore", env.SEGMINT_KEYSTORE, "--password-file", env.SEGMINT_PASSWORD_FILE],
      ...["--data-dir", dataDir, "--price-per-pixel", "1000"],
      ...["--reward-cut", "100000", "--fee-share", "500000", "--stake", "1000SGM"],
      ...["--listen", "127.0.0.1:0", "--http-port", "0"],
    ]);
    expect(orch.ready.address).toBe(address);

    // Stake bonded this round counts from the next: then the node calls reward() by itself.
    await mineRound();
    const httpUrl = orch.ready.httpUrl;
    // 8. Monitoring: GET /status.
    documented("`GET /status`");
    const serving = await eventually(
      async () => {
        const s = (await (await fetch(`${httpUrl}/status`)).json()) as {
          state: string;
          active: boolean;
          rewardCalls: number;
        };
        return s.active && s.rewardCalls >= 1 ? s : undefined;
      },
      60_000,
      "the node's first reward() call",
    );
    expect(serving.state).toBe("serving");

    // 9. Earnings: the history in the data dir shows the round's reward.
    documented("npx segmint earnings --data-dir .segmint --rounds 30 --tickets 20 --json");
    const history = await eventually(
      async () => {
        const result = await cli(["earnings", "--data-dir", dataDir, "--json"]);
        expect(result.code).toBe(0);
        const h = JSON.parse(result.stdout) as { rounds: { rewardMinted: string | null }[] };
        return h.rounds.some((r) => r.rewardMinted !== null) ? h : undefined;
      },
      20_000,
      "the reward in the earnings history",
    );
    const minted = history.rounds.find((r) => r.rewardMinted !== null)?.rewardMinted;
    expect(BigInt(minted ?? "0")).toBeGreaterThan(0n);

    // A broadcaster new to the network follows its own guide against this node.
    await walkBroadcasterGuide({
      rpc,
      deployment,
      orchestrator: address,
      orchestratorHttpUrl: httpUrl,
    });

    // Stopped (Ctrl-C or SIGTERM), the node exits 0; by hand, the next round's reward and its
    // initialization are one command each.
    expect(await orch.stop()).toBe(0);
    orch = null;
    await mineRound();
    documented("npx segmint reward             # reward() for the current round");
    const reward = await cli(["reward", "--json"]);
    expect(reward.code, reward.stderr).toBe(0);
    expect(BigInt((JSON.parse(reward.stdout) as { amount: string }).amount)).toBeGreaterThan(0n);
    documented("npx segmint round initialize   # store the current round's block hash");
    const initialized = await cli(["round", "initialize"]);
    expect(initialized.code, initialized.stderr).toBe(0);
  }, 300_000);
});

/** Runs `node ARGS` in `cwd` (ethers found through NODE_PATH) and returns its stdout, trimmed. */
function runNode(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, NODE_PATH: path.join(repoRoot, "node_modules") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`node exited ${code}: ${err}`)),
    );
  });
}
