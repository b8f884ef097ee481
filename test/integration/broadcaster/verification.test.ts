import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaymentChannels } from "../../../node/src/broadcaster/channel.ts";
import type { OrchestratorHandle } from "../../../node/src/broadcaster/interface.ts";
import { defaultVerificationOptions } from "../../../node/src/broadcaster/options.ts";
import { ReputationStore } from "../../../node/src/broadcaster/reputation.ts";
import { ffmpegSpotCheckTools } from "../../../node/src/broadcaster/spot-check.ts";
import { SuspensionList } from "../../../node/src/broadcaster/suspension.ts";
import { StreamTrust } from "../../../node/src/broadcaster/trust.ts";
import {
  ffmpegSegmentChecks,
  NetworkSegmentWorker,
  type OrchestratorTransport,
} from "../../../node/src/broadcaster/worker.ts";
import { WIN_PROB_SCALE } from "../../../node/src/chain/ticket.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import { type Profile, parseLadder, profileFromJson } from "../../../node/src/media/index.ts";
import { pictureSummary } from "../../../node/src/media/quality.ts";
import { type Segment, segmentFile } from "../../../node/src/media/segmenter.ts";
import { SegmentTranscoder } from "../../../node/src/media/transcoder.ts";
import { SIGNING_DOMAIN } from "../../../node/src/p2p/constants.ts";
import { signPayload } from "../../../node/src/p2p/signing.ts";
import type { TranscodeResponse } from "../../../node/src/p2p/transcode-client.ts";
import { TicketSigner } from "../../../node/src/payments/sender.ts";
import {
  renditionReceipt,
  type SignedInfo,
  type TranscodeRequestHeader as TranscodeRequest,
  ticketParamsFromWire,
} from "../../../node/src/protocol/index.ts";
import { CAUGHT_BY, CHEATS, writeCheatingFfmpeg } from "../../helpers/cheating-ffmpeg.ts";
import { createMediaWorkspace, ffmpegChildren, type MediaWorkspace } from "../../helpers/media.ts";

/**
 * The verifier against the real engine: segments cut by the real segmenter, transcoded by the
 * real SegmentTranscoder (the orchestrator's engine, in this process: only the network is left
 * out), checked by the real ffmpeg measurements and spot checks. Honest work on awkward inputs
 * passes; every cheating ffmpeg is caught on the first segment it returns.
 */
const orchestrator = new Wallet(`0x${"31".repeat(32)}`);
const handle: OrchestratorHandle = {
  address: orchestrator.address,
  peerId: "engine",
  multiaddrs: [],
  maxInFlight: 1,
};
const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

/** An orchestrator without the network: the engine, the receipt signature, ticket params. */
class EngineTransport implements OrchestratorTransport {
  constructor(private readonly transcoder: SegmentTranscoder) {}

  async info(): Promise<SignedInfo> {
    return {
      ethAddress: orchestrator.address,
      peerId: "engine",
      pricePerPixel: "1",
      ticketParams: {
        recipient: orchestrator.address.toLowerCase(),
        faceValue: "4000000",
        winProb: (WIN_PROB_SCALE / 4n).toString(),
        recipientRandHash: hex(7),
        seed: hex(2),
        creationRound: "5",
        creationRoundBlockHash: hex(3),
        expiry: "7",
      },
      capabilities: {},
      capacity: { total: 1, free: 1 },
      issuedAt: 0,
      signature: `0x${"00".repeat(65)}`,
    };
  }

  async transcode(
    _handle: OrchestratorHandle,
    request: Omit<TranscodeRequest, "segmentBytes">,
    segment: Uint8Array,
    signal: AbortSignal,
  ): Promise<TranscodeResponse> {
    const result = await this.transcoder.transcode(Buffer.from(segment), {
      profiles: request.profiles.map(profileFromJson),
      signal,
    });
    const renditions = result.renditions.map((r) => ({
      profile: r.profile,
      bytes: r.bytes,
      pixels: r.pixels,
      width: r.width,
      height: r.height,
      frames: r.frames,
      sha256: createHash("sha256").update(r.data).digest("hex"),
      data: new Uint8Array(r.data),
    }));
    const signature = await signPayload(
      orchestrator,
      SIGNING_DOMAIN.renditions,
      renditionReceipt(request.streamId, request.seq, renditions),
    );
    return {
      renditions,
      signature,
      signer: orchestrator.address,
      balance: 0n,
      ticketParams: null,
    };
  }
}

let media: MediaWorkspace;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  media = await createMediaWorkspace();
});

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  await media?.cleanup();
});

async function collect(path: string): Promise<Segment[]> {
  const segments: Segment[] = [];
  for await (const s of segmentFile(path, { ffmpegPath: media.ffmpegPath, targetSeconds: 1 })) {
    segments.push(s);
  }
  return segments;
}

/** Runs every segment through a worker whose orchestrator runs `ffmpegPath`; spot-checks all. */
async function verifyAll(
  segments: Segment[],
  profiles: Profile[],
  source: { width: number; height: number; fps: number },
  ffmpegPath: string,
) {
  const signal = new AbortController().signal;
  const tools = await ffmpegSpotCheckTools(media.ffmpegPath, signal);
  closers.push(tools.close);
  const verification = { ...defaultVerificationOptions, unprovenSpotCheckRate: 1 };
  const suspension = new SuspensionList();
  const trust = new StreamTrust({
    reputation: ReputationStore.open(":memory:"),
    suspension,
    options: verification,
    metrics: null,
    log: silentLogger(),
  });
  const transport = new EngineTransport(new SegmentTranscoder({ ffmpegPath }));
  const worker = new NetworkSegmentWorker({
    transport,
    channels: new PaymentChannels({
      signer: new TicketSigner(
        new Uint8Array(32).fill(5),
        { chainId: 31337n, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
        { maxPricePerPixel: 10n, maxTicketEV: 10n ** 12n },
      ),
      params: {
        fetch: async () => {
          const info = await transport.info();
          return ticketParamsFromWire(info.ticketParams, BigInt(info.pricePerPixel));
        },
      },
      maxSpend: 10n ** 15n,
    }),
    profiles,
    source,
    streamId: "engine",
    ...ffmpegSegmentChecks(media.ffmpegPath, signal),
    verification,
    trust,
    spotCheckTools: tools,
    log: silentLogger(),
  });
  const verified: number[] = [];
  const errors: unknown[] = [];
  for (const segment of segments) {
    if (suspension.isSuspended(handle.address)) break;
    try {
      await worker.run(handle, segment, signal);
      verified.push(segment.index);
    } catch (error) {
      errors.push(error);
    }
  }
  return { verified, errors, report: trust.report() };
}

describe("verification against the real engine", () => {
  it("passes an honest variable-frame-rate source: same frames, same first and last times", async () => {
    // Every fifth frame dropped and its neighbour's timestamp kept: gaps of 33 and 67 ms.
    const path = join(media.dir, "vfr.ts");
    await promisify(execFile)(media.ffmpegPath, [
      ...["-hide_banner", "-v", "error", "-f", "lavfi"],
      ...["-i", "testsrc2=size=320x180:rate=30:duration=3"],
      ...["-vf", "select='not(eq(mod(n\\,5)\\,4))'", "-vsync", "vfr"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-force_key_frames", "expr:gte(t,n_forced)"],
      ...["-f", "mpegts", path],
    ]);
    const segments = await collect(path);
    const first = await pictureSummary(segments[0]?.data ?? new Uint8Array(), {
      ffmpegPath: media.ffmpegPath,
    });
    // 24 of 30 frames a second: the last frame's length is not 1/30 s, nor 1/24 s.
    expect(first.packets).toBe(24);
    const { verified, errors, report } = await verifyAll(
      segments,
      parseLadder("240p,144p"),
      { width: 320, height: 180, fps: 30 },
      media.ffmpegPath,
    );
    expect(errors).toEqual([]);
    expect(verified).toHaveLength(segments.length);
    expect(report.failures).toEqual([]);
    expect(report.spotChecks).toBe(segments.length);
  });

  it("passes honest renditions that lower the frame rate (60 fps source, 30 fps profile)", async () => {
    const path = await media.clip("sixty.ts", {
      width: 256,
      height: 144,
      fps: 60,
      durationSeconds: 2,
      gopSeconds: 1,
    });
    const segments = await collect(path);
    const { errors, report } = await verifyAll(
      segments,
      parseLadder("144p30"),
      { width: 256, height: 144, fps: 60 },
      media.ffmpegPath,
    );
    expect(errors).toEqual([]);
    expect(report.failures).toEqual([]);
  });

  it("catches every cheating ffmpeg on the first segment it returns", async () => {
    const path = await media.clip("clip.ts", {
      width: 256,
      height: 144,
      fps: 30,
      durationSeconds: 2,
      gopSeconds: 1,
    });
    const segments = await collect(path);
    const caught: Record<string, string> = {};
    for (const cheat of CHEATS) {
      const wrapper = await writeCheatingFfmpeg(media.dir, cheat, media.ffmpegPath);
      const { verified, report } = await verifyAll(
        segments,
        parseLadder("144p"),
        { width: 256, height: 144, fps: 30 },
        wrapper,
      );
      expect(verified, cheat).toEqual([]);
      expect(report.failures, cheat).toHaveLength(1);
      expect(report.failures[0]?.segment, cheat).toBe(0);
      caught[cheat] = report.failures[0]?.check ?? "";
      expect(CAUGHT_BY[cheat], cheat).toContain(caught[cheat]);
      // Paid: the tickets sent with that one segment, never more.
      expect(BigInt(report.rejectedValue), cheat).toBeGreaterThan(0n);
      expect(BigInt(report.rejectedValue), cheat).toBeLessThanOrEqual(
        256n * 144n * 31n + 1_000_000n,
      );
    }
    expect(ffmpegChildren()).toEqual([]);
  });
});
