import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { multiaddr } from "@multiformats/multiaddr";
import { Wallet } from "ethers";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBroadcast } from "../../../node/src/broadcaster/index.ts";
import { fundDepositAndReserve } from "../../../node/src/chain/funding.ts";
import { openChainSession, signWith } from "../../../node/src/chain/session.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import {
  type OrchestratorNode,
  orchestratorConfigSchema,
  startOrchestrator,
} from "../../../node/src/orchestrator/index.ts";
import { TRANSCODE_PROTOCOL } from "../../../node/src/p2p/constants.ts";
import { isP2pError } from "../../../node/src/p2p/errors.ts";
import { encodeJson, FrameReader, writeFrame } from "../../../node/src/p2p/framing.ts";
import type { SegmintNode } from "../../../node/src/p2p/host.ts";
import { requestInfo } from "../../../node/src/p2p/info.ts";
import {
  broadcast144p,
  type MarketChain,
  oneSecondSegmentsClip,
  openDialerHost,
  startMarketChain,
} from "../../helpers/market.ts";
import { createMediaWorkspace, type MediaWorkspace } from "../../helpers/media.ts";

const TOKEN = 10n ** 18n;
const ROUND_LENGTH = 10;
const SEGMENTS = 3;

/**
 * A public orchestrator against cheap attacks, each while honest broadcasts are served: one
 * real orchestrator with a single transcode session, a Hardhat chain over JSON-RPC, real
 * ffmpeg, libp2p on 127.0.0.1. Every attack costs the attacker nothing (no deposit, no
 * ticket); none of them may cost an honest broadcaster a segment.
 */
describe("an orchestrator under bounded abuse", () => {
  let market: MarketChain;
  let media: MediaWorkspace;
  let orchestrator: OrchestratorNode;
  let clip: string;
  let attacker: SegmintNode;
  const broadcasters: string[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    media = await createMediaWorkspace();
    // Three 1 s segments of 256x144: quick to transcode, so the attacks are what is measured.
    clip = await oneSecondSegmentsClip(media, SEGMENTS);
    market = await startMarketChain({
      dirPrefix: "segmint-abuse-",
      accounts: 5,
      roundLength: ROUND_LENGTH,
    });
    const [o, ...rest] = market.accounts;
    if (!o || rest.length < 3) throw new Error("dev accounts");
    await market.fund(o.address, 1_000n * TOKEN);
    for (const b of rest) {
      await market.fund(b.address, 100n * TOKEN);
      const session = signWith(
        await openChainSession({
          rpc: market.chain.url,
          deployment: { value: market.deployment, source: "test" },
        }),
        new Wallet(b.privateKey),
        silentLogger(),
      );
      try {
        await fundDepositAndReserve(session, { deposit: 10n * TOKEN, reserve: 1n * TOKEN });
      } finally {
        session.close();
      }
      broadcasters.push(b.privateKey);
    }

    orchestrator = await startOrchestrator(
      orchestratorConfigSchema.parse({
        rpc: market.chain.url,
        deployment: market.deploymentFile,
        privateKey: o.privateKey,
        dataDir: join(market.dir, "orchestrator"),
        pricePerPixel: "1000000",
        stake: (100n * TOKEN).toString(),
        listen: ["/ip4/127.0.0.1/tcp/0"],
        httpPort: 0,
        // One session: the least an attacker has to take, and the most broadcasters contend for.
        maxSessions: 1,
        ticketEv: "10000000000000",
        winProb: 0.01,
        pollIntervalMs: 300,
      }),
      { log: pino({ level: "info" }, { write: (line: string) => logLines.push(line) }) },
    );
    await market.mineRound();
    attacker = await openDialerHost(join(market.dir, "attacker"));
  });

  afterAll(async () => {
    await attacker?.stop();
    await orchestrator?.stop();
    await market?.close();
    await media?.cleanup();
  });

  const broadcast = (key: string, name: string) =>
    runBroadcast({
      ...broadcast144p(market, { input: clip, outDir: join(market.dir, name), privateKey: key }),
      orchestrators: 1,
      bootstrap: [],
    });

  const orchestratorAddrs = () => orchestrator.multiaddrs.map((a) => multiaddr(a));

  it("serves an honest broadcast while unpaid requests dribble their header and body", async () => {
    const honest = broadcasters[0] ?? "";
    const header = encodeJson({
      streamId: "slow",
      seq: 0,
      durationSec: 1,
      profiles: [{ name: "144p" }],
      tickets: [],
      segmentBytes: 1_000_000,
    });
    const answers: Array<Promise<unknown>> = [];
    const drips: NodeJS.Timeout[] = [];
    for (const part of ["header", "body", "header", "body"] as const) {
      const stream = await attacker.dialProtocol(orchestratorAddrs(), TRANSCODE_PROTOCOL);
      const signal = AbortSignal.timeout(60_000);
      const reader = new FrameReader(stream, { signal, stallMs: 60_000 });
      answers.push(
        reader.next(65_536, "answer").then((frame) => JSON.parse(new TextDecoder().decode(frame))),
      );
      let sent = 0;
      if (part === "header") {
        // The length prefix, then one byte of the header every 300 ms.
        stream.send(new Uint8Array([0x80 | (header.byteLength & 0x7f), header.byteLength >> 7]));
        drips.push(
          setInterval(() => {
            if (stream.writeStatus !== "writable" || sent >= header.byteLength) return;
            stream.send(header.subarray(sent, sent + 1));
            sent += 1;
          }, 300),
        );
      } else {
        // A whole header with no ticket, then 100 bytes of a declared megabyte every 300 ms.
        await writeFrame(stream, header, signal);
        drips.push(
          setInterval(() => {
            if (stream.writeStatus === "writable") {
              void writeFrame(stream, new Uint8Array(100), signal).catch(() => {});
            }
          }, 300),
        );
      }
    }
    try {
      // While they dribble, none holds a session, and /status and info say the same.
      const status = await orchestrator.status();
      const info = await requestInfo(attacker, orchestratorAddrs(), {
        sender: new Wallet(honest).address,
      });
      expect(status.sessions).toBe(0);
      expect(info.capacity).toEqual({ total: 1, free: 1 });

      const summary = await broadcast(honest, "slowloris");
      expect(summary.segments).toBe(SEGMENTS);
      expect(summary.suspended).toEqual([]);
      // Each dribbler was cut with a coded TIMEOUT (never the whole exchange's minute).
      for (const answer of await Promise.all(answers)) {
        expect(answer).toMatchObject({ ok: false, code: "TIMEOUT" });
      }
    } finally {
      for (const drip of drips) clearInterval(drip);
    }
  });

  it("serves an honest broadcast while ten raw sockets sit silent before the handshake", async () => {
    const parts = orchestratorAddrs()[0]?.getComponents() ?? [];
    const target = {
      host: parts.find((c) => c.name === "ip4")?.value ?? "",
      port: Number(parts.find((c) => c.name === "tcp")?.value),
    };
    const sockets = new Set<Socket>();
    let closedByServer = 0;
    let attacking = true;
    // Ten sockets held open all along: each one the orchestrator drops is opened again.
    const open = () => {
      const socket = connect({ host: target.host, port: target.port });
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        closedByServer += 1;
        if (attacking) open();
      });
      sockets.add(socket);
    };
    for (let i = 0; i < 10; i += 1) open();
    try {
      const summary = await broadcast(broadcasters[1] ?? "", "silent-sockets");
      expect(summary.segments).toBe(SEGMENTS);
      // The orchestrator drops sockets that never start the handshake, and keeps doing so.
      for (let i = 0; i < 100 && closedByServer < 10; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(closedByServer).toBeGreaterThanOrEqual(10);
    } finally {
      attacking = false;
      for (const socket of sockets) socket.destroy();
    }
  });

  it("delivers every segment of three broadcasts at once against one session", async () => {
    const summaries = await Promise.all(
      broadcasters.map((key, i) => broadcast(key, `contended-${i}`)),
    );
    for (const summary of summaries) {
      expect(summary.segments).toBe(SEGMENTS);
      // Busy is never a fault: nobody suspended the orchestrator for being full.
      expect(summary.suspended).toEqual([]);
    }
  });

  it("refuses info to unfunded senders with a code, logging each at most once", async () => {
    const senders = Array.from({ length: 20 }, () => Wallet.createRandom().address);
    const before = logLines.length;
    for (const sender of [...senders, ...senders]) {
      const error = await requestInfo(attacker, orchestratorAddrs(), { sender }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isP2pError(error) ? error.code : String(error)).toBe("INSUFFICIENT_BALANCE");
    }
    const refusals = logLines.slice(before).filter((line) => line.includes("info request refused"));
    expect(refusals).toHaveLength(senders.length);
    expect(refusals.some((line) => line.includes('"stack"'))).toBe(false);
  });
});
