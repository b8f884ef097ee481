import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterEach, describe, expect, it } from "vitest";
import { PaymentChannels } from "../../../node/src/broadcaster/channel.ts";
import { isBroadcasterError } from "../../../node/src/broadcaster/errors.ts";
import { HlsOutput } from "../../../node/src/broadcaster/hls-output.ts";
import type { OrchestratorHandle, SourceSegment } from "../../../node/src/broadcaster/interface.ts";
import {
  defaultVerificationOptions,
  type VerificationOptions,
} from "../../../node/src/broadcaster/options.ts";
import { ReputationStore } from "../../../node/src/broadcaster/reputation.ts";
import type { SpotCheckTools } from "../../../node/src/broadcaster/spot-check.ts";
import { SuspensionList } from "../../../node/src/broadcaster/suspension.ts";
import { StreamTrust } from "../../../node/src/broadcaster/trust.ts";
import {
  NetworkSegmentWorker,
  type OrchestratorTransport,
} from "../../../node/src/broadcaster/worker.ts";
import { WIN_PROB_SCALE } from "../../../node/src/chain/ticket.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import { presetProfile } from "../../../node/src/media/profiles.ts";
import type { PictureSummary, QualityScore } from "../../../node/src/media/quality.ts";
import { SIGNING_DOMAIN } from "../../../node/src/p2p/constants.ts";
import { RemoteError } from "../../../node/src/p2p/errors.ts";
import { signPayload } from "../../../node/src/p2p/signing.ts";
import type { TranscodeResponse } from "../../../node/src/p2p/transcode-client.ts";
import { TicketSigner } from "../../../node/src/payments/sender.ts";
import {
  type SignedInfo,
  type TranscodeRequestHeader as TranscodeRequest,
  ticketParamsFromWire,
} from "../../../node/src/protocol/index.ts";

const orchestrator = new Wallet(`0x${"11".repeat(32)}`);
const impostor = new Wallet(`0x${"22".repeat(32)}`);
const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const handle: OrchestratorHandle = {
  address: orchestrator.address,
  peerId: "peer",
  multiaddrs: [],
  maxInFlight: 2,
};
/**
 * A fake segment's bytes say what the fake inspection finds in them: size, frames (at 30 fps
 * from 10 s unless `times` lists them), brightness and whether the picture moves.
 */
interface FakeMedia {
  width: number;
  height: number;
  frames: number;
  times?: number[];
  /** Frames that decode (default all). */
  decoded?: number;
  luma?: number;
  frozen?: boolean;
  videoBytes?: number;
}
const encode = (m: FakeMedia) => new TextEncoder().encode(JSON.stringify(m));
const inspect = async (data: Uint8Array): Promise<PictureSummary> => {
  const m = JSON.parse(new TextDecoder().decode(data)) as FakeMedia;
  const times = m.times ?? Array.from({ length: m.frames }, (_, i) => 10 + i / 30);
  const decoded = m.decoded ?? m.frames;
  const luma = m.luma ?? 120;
  return {
    packets: m.frames,
    decodedFrames: decoded,
    firstSeconds: times[0] ?? 0,
    lastSeconds: times.at(-1) ?? 0,
    videoBytes: m.videoBytes ?? 200_000,
    width: m.width,
    height: m.height,
    thumbnails: Array.from({ length: decoded }, (_, i) =>
      new Uint8Array(32 * 18).fill(m.frozen ? luma : luma + (i % 4) * 3),
    ),
  };
};

const SOURCE: FakeMedia = { width: 640, height: 360, frames: 60 };
const segment = (index: number, media: FakeMedia = SOURCE): SourceSegment => ({
  index,
  data: encode(media),
  startSeconds: index * 2,
  durationSeconds: 2,
});

interface Behaviour {
  refuseFirst?: "BAD_TICKET";
  /** Pixels claimed instead of the true count. */
  claimPixels?: number;
  signer?: Wallet;
  media?: FakeMedia;
}

class FakeTransport implements OrchestratorTransport {
  infoCalls = 0;
  readonly requests: Array<Omit<TranscodeRequest, "segmentBytes">> = [];
  private refused = false;

  constructor(private readonly behaviour: Behaviour = {}) {}

  async info(_target: unknown, _signal: AbortSignal): Promise<SignedInfo> {
    this.infoCalls += 1;
    return {
      ethAddress: orchestrator.address,
      peerId: "peer",
      pricePerPixel: "1",
      ticketParams: {
        recipient: orchestrator.address.toLowerCase(),
        faceValue: "4000000",
        winProb: (WIN_PROB_SCALE / 4n).toString(),
        recipientRandHash: hex(1000 + this.infoCalls),
        seed: hex(2),
        creationRound: "5",
        creationRoundBlockHash: hex(3),
        expiry: "7",
      },
      capabilities: {},
      capacity: { total: 4, free: 4 },
      issuedAt: 0,
      signature: `0x${"00".repeat(65)}`,
    };
  }

  async transcode(
    _handle: OrchestratorHandle,
    request: Omit<TranscodeRequest, "segmentBytes">,
    segmentData: Uint8Array,
  ): Promise<TranscodeResponse> {
    this.requests.push(request);
    await new Promise((resolve) => setImmediate(resolve));
    if (this.behaviour.refuseFirst !== undefined && !this.refused) {
      this.refused = true;
      throw new RemoteError(this.behaviour.refuseFirst, "RAND_REVEALED");
    }
    // An honest result keeps the source's frames and timestamps.
    const source = JSON.parse(new TextDecoder().decode(segmentData)) as FakeMedia;
    const media = this.behaviour.media ?? { ...source };
    const data = encode(media);
    const pixels = this.behaviour.claimPixels ?? media.width * media.height * media.frames;
    const sha256 = createHash("sha256").update(data).digest("hex");
    const header = {
      profile: "360p",
      bytes: data.byteLength,
      pixels,
      width: media.width,
      height: media.height,
      frames: media.frames,
      sha256,
    };
    const receipt = {
      streamId: request.streamId,
      seq: request.seq,
      renditions: [{ profile: "360p", sha256, pixels }],
    };
    const signature = await signPayload(
      this.behaviour.signer ?? orchestrator,
      SIGNING_DOMAIN.renditions,
      receipt,
    );
    return {
      renditions: [{ ...header, data }],
      signature,
      signer: orchestrator.address,
      balance: 0n,
      ticketParams: null,
    };
  }
}

class FakeTools implements SpotCheckTools {
  references = 0;
  constructor(
    private readonly ssim: number,
    private readonly referenceSsim: number,
  ) {}
  async compare(rendition: Uint8Array): Promise<QualityScore> {
    const reference = new TextDecoder().decode(rendition) === "reference";
    return { ssim: reference ? this.referenceSsim : this.ssim, psnr: 40 };
  }
  async reference(): Promise<Uint8Array> {
    this.references += 1;
    return new TextEncoder().encode("reference");
  }
}

function worker(
  transport: FakeTransport,
  options: { tools?: SpotCheckTools; verification?: Partial<VerificationOptions> } = {},
) {
  const channels = new PaymentChannels({
    signer: new TicketSigner(
      new Uint8Array(32).fill(9),
      {
        chainId: 31337n,
        verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      },
      { maxPricePerPixel: 10n, maxTicketEV: 10n ** 9n },
    ),
    params: {
      fetch: async (target, s) => {
        const info = await transport.info(target, s);
        return ticketParamsFromWire(info.ticketParams, BigInt(info.pricePerPixel));
      },
    },
    maxSpend: 10n ** 12n,
  });
  const verification = { ...defaultVerificationOptions, ...options.verification };
  const reputation = ReputationStore.open(":memory:");
  const suspension = new SuspensionList();
  const trust = new StreamTrust({
    reputation,
    suspension,
    options: verification,
    metrics: null,
    log: silentLogger(),
    random: () => 0,
  });
  const w = new NetworkSegmentWorker({
    transport,
    channels,
    profiles: [presetProfile("360p")],
    source: { width: 640, height: 360, fps: 30 },
    streamId: "s1",
    inspect,
    verification,
    trust,
    ...(options.tools === undefined ? {} : { spotCheckTools: options.tools }),
    log: silentLogger(),
  });
  return { w, channel: channels.channel(handle), trust, reputation, suspension };
}

const signal = new AbortController().signal;

async function failure(run: Promise<unknown>): Promise<{ code: string; check: string }> {
  const error = await run.catch((e: unknown) => e);
  expect(isBroadcasterError(error, "VERIFICATION_FAILED")).toBe(true);
  const details = (error as { details: { check: string } }).details;
  return { code: "VERIFICATION_FAILED", check: details.check };
}

describe("NetworkSegmentWorker", () => {
  it("pays for the pixels an honest result holds, sends, verifies and settles", async () => {
    const transport = new FakeTransport();
    const { w, channel, reputation } = worker(transport);
    const outcome = await w.run(handle, segment(0), signal);
    expect(outcome.renditions.map((r) => [r.profile, r.width, r.height, r.pixels])).toEqual([
      ["360p", 640, 360, 640 * 360 * 60],
    ]);
    // At most 61 frames of 640x360 at 1 wei each, tickets worth 1 Mwei: 15 tickets.
    expect(outcome.ticketsSent).toBe(15);
    expect(outcome.expectedValue).toBe(15_000_000n);
    expect(transport.requests[0]?.profiles[0]).toMatchObject({
      name: "360p",
      width: 640,
      height: 360,
    });
    expect(channel.credit()).toBe(15_000_000n - 13_824_000n);
    expect(reputation.get(orchestrator.address).verified).toBe(1);
  });

  it("fetches fresh ticket params and tries again once when the payment is refused", async () => {
    const transport = new FakeTransport({ refuseFirst: "BAD_TICKET" });
    const { w } = worker(transport);
    const outcome = await w.run(handle, segment(0), signal);
    expect(transport.infoCalls).toBe(2);
    const [first, second] = transport.requests;
    expect(first?.tickets[0]?.recipientRandHash).not.toBe(second?.tickets[0]?.recipientRandHash);
    expect(outcome.ticketsSent).toBe(30);
  });

  it("gives segments in flight to one orchestrator their own ticket params", async () => {
    const transport = new FakeTransport();
    const { w } = worker(transport);
    await Promise.all([w.run(handle, segment(0), signal), w.run(handle, segment(1), signal)]);
    const hashes = transport.requests.map((r) => r.tickets[0]?.recipientRandHash);
    expect(new Set(hashes).size).toBe(2);
    // Both lanes are reused afterwards: no more info calls.
    await w.run(handle, segment(2), signal);
    expect(transport.infoCalls).toBe(2);
  });

  it("rejects a result that claims more pixels than it holds", async () => {
    const { w } = worker(new FakeTransport({ claimPixels: 640 * 360 * 61 }));
    expect((await failure(w.run(handle, segment(0), signal))).check).toBe("claimed");
  });

  it("rejects a receipt signed by another key", async () => {
    const { w } = worker(new FakeTransport({ signer: impostor }));
    expect((await failure(w.run(handle, segment(0), signal))).check).toBe("signature");
  });

  it("rejects a wrong resolution, and timestamps that are not the source's", async () => {
    const small = worker(new FakeTransport({ media: { ...SOURCE, width: 320, height: 180 } }));
    expect((await failure(small.w.run(handle, segment(0), signal))).check).toBe("resolution");
    const shifted = Array.from({ length: 60 }, (_, i) => 11 + i / 30);
    const late = worker(new FakeTransport({ media: { ...SOURCE, times: shifted } }));
    expect((await failure(late.w.run(handle, segment(0), signal))).check).toBe("timestamps");
  });

  it("fails duplicated frames, and settles no more than the pixels it expected", async () => {
    const doubled = Array.from({ length: 120 }, (_, i) => 10 + i / 60);
    const { w, channel } = worker(
      new FakeTransport({ media: { ...SOURCE, frames: 120, times: doubled } }),
    );
    expect((await failure(w.run(handle, segment(0), signal))).check).toBe("frames");
    // Paid 15 Mwei; its 2x claim is settled at the 61 frames an honest result may hold.
    expect(channel.credit()).toBe(15_000_000n - 640n * 360n * 61n);
  });

  it("fails missing frames and truncated output", async () => {
    const { w } = worker(new FakeTransport({ media: { ...SOURCE, frames: 12 } }));
    expect((await failure(w.run(handle, segment(0), signal))).check).toBe("frames");
  });

  it("passes an honest variable-frame-rate result (same frames, same first and last times)", async () => {
    // 23 frames over 2.3 s with uneven gaps: no length of the last frame is assumed.
    const times = Array.from({ length: 23 }, (_, i) => 10 + i * 0.1 + (i % 3 === 0 ? 0.02 : 0));
    const vfr: FakeMedia = { width: 640, height: 360, frames: 23, times };
    const { w } = worker(new FakeTransport());
    const outcome = await w.run(handle, segment(0, vfr), signal);
    expect(outcome.renditions[0]?.frames).toBe(23);
  });

  it("passes an honest result that lacks the source frames nothing could decode (open GOP)", async () => {
    // The first 3 packets of the source depend on a frame before the cut: no decoder shows them.
    const openGop: FakeMedia = { ...SOURCE, decoded: 57 };
    const times = Array.from({ length: 57 }, (_, i) => 10 + (i + 3) / 30);
    const honest = new FakeTransport({ media: { ...SOURCE, frames: 57, times } });
    const outcome = await worker(honest).w.run(handle, segment(0, openGop), signal);
    expect(outcome.renditions[0]?.frames).toBe(57);
  });

  it("fails black, frozen and undecodable pictures, but not a dark or still source", async () => {
    const black = worker(new FakeTransport({ media: { ...SOURCE, luma: 0 } }));
    expect((await failure(black.w.run(handle, segment(0), signal))).check).toBe("black");
    const frozen = worker(new FakeTransport({ media: { ...SOURCE, frozen: true } }));
    expect((await failure(frozen.w.run(handle, segment(0), signal))).check).toBe("frozen");
    const broken = worker(new FakeTransport({ media: { ...SOURCE, decoded: 40 } }));
    expect((await failure(broken.w.run(handle, segment(0), signal))).check).toBe("decodable");
    const dark = worker(new FakeTransport());
    await dark.w.run(handle, segment(0, { ...SOURCE, luma: 0 }), signal);
    await dark.w.run(handle, segment(1, { ...SOURCE, frozen: true }), signal);
  });

  it("fails a picture unlike the source's, and a bitrate outside the profile's bounds", async () => {
    const other = worker(new FakeTransport({ media: { ...SOURCE, luma: 60 } }));
    expect((await failure(other.w.run(handle, segment(0), signal))).check).toBe("content");
    const starved = worker(new FakeTransport({ media: { ...SOURCE, videoBytes: 500 } }));
    expect((await failure(starved.w.run(handle, segment(0), signal))).check).toBe("bitrate");
    const bloated = worker(new FakeTransport({ media: { ...SOURCE, videoBytes: 2_000_000 } }));
    expect((await failure(bloated.w.run(handle, segment(0), signal))).check).toBe("bitrate");
  });

  it("suspends a failed orchestrator at once, records it and reports what it was paid", async () => {
    const { w, trust, reputation, suspension } = worker(
      new FakeTransport({ media: { ...SOURCE, luma: 0 } }),
    );
    await failure(w.run(handle, segment(3), signal));
    expect(suspension.isSuspended(orchestrator.address)).toBe(true);
    const record = reputation.get(orchestrator.address);
    expect([record.failed, record.lastFailure?.check]).toEqual([1, "black"]);
    const report = trust.report();
    expect(report.failures).toEqual([
      {
        orchestrator: orchestrator.address,
        segment: 3,
        check: "black",
        profile: "360p",
        valuePaid: "15000000",
      },
    ]);
    expect(report.rejectedValue).toBe("15000000");
    expect(record.rejectedValue).toBe(15_000_000n);
  });

  it("spot-checks against the source, and below the floor against a local reference", async () => {
    const good = new FakeTools(0.99, 0.99);
    await worker(new FakeTransport(), { tools: good }).w.run(handle, segment(0), signal);
    expect(good.references).toBe(0);
    // Hard content: below the floor, but as good as this broadcaster's own transcode.
    const hard = new FakeTools(0.9, 0.92);
    await worker(new FakeTransport(), { tools: hard }).w.run(handle, segment(0), signal);
    expect(hard.references).toBe(1);
    const cheap = new FakeTools(0.86, 0.99);
    const run = worker(new FakeTransport(), { tools: cheap }).w.run(handle, segment(0), signal);
    expect((await failure(run)).check).toBe("quality");
  });
});

describe("StreamTrust", () => {
  it("samples unproven and suspect orchestrators more often than proven ones", () => {
    const reputation = ReputationStore.open(":memory:");
    const trust = new StreamTrust({
      reputation,
      suspension: new SuspensionList(),
      options: { ...defaultVerificationOptions, provenAfterSegments: 2 },
      metrics: null,
      log: silentLogger(),
    });
    expect(trust.spotCheckRate("0xA")).toBe(defaultVerificationOptions.unprovenSpotCheckRate);
    trust.passed("0xA");
    trust.passed("0xA");
    expect(trust.proven("0xA")).toBe(true);
    expect(trust.spotCheckRate("0xA")).toBe(defaultVerificationOptions.spotCheckRate);
    trust.failed("0xA", { segment: 1, check: "frames", profile: "360p", valuePaid: 5n });
    expect(trust.proven("0xA")).toBe(false);
    expect(trust.spotCheckRate("0xA")).toBe(defaultVerificationOptions.suspectSpotCheckRate);
  });
});

describe("HlsOutput", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it("lists segments in order as they arrive out of order, and ends with ENDLIST", async () => {
    const dir = await mkdtemp(join(tmpdir(), "segmint-hls-unit-"));
    dirs.push(dir);
    const out = new HlsOutput({
      dir,
      profiles: [presetProfile("360p")],
      hasAudio: false,
      frameRate: () => 30,
    });
    await out.init();
    const outcome = (seconds: number) => ({
      renditions: [
        {
          profile: "360p",
          data: new Uint8Array(1000),
          width: 640,
          height: 360,
          frames: 60,
          pixels: 640 * 360 * 60,
          durationSeconds: seconds,
          sha256: "",
        },
      ],
      ticketsSent: 0,
      expectedValue: 0n,
      faceValue: 0n,
      signature: "0x",
    });
    await out.write(segment(1), outcome(2.1));
    const playlist = () => readFile(join(dir, "360p", "index.m3u8"), "utf8");
    expect(await playlist()).not.toContain("seg000001.ts");
    await out.write(segment(0), outcome(2));
    const during = await playlist();
    expect(during.indexOf("seg000000.ts")).toBeLessThan(during.indexOf("seg000001.ts"));
    expect(during).not.toContain("#EXT-X-ENDLIST");
    expect(await readFile(join(dir, "master.m3u8"), "utf8")).toContain("RESOLUTION=640x360");
    const { segments } = await out.finish();
    expect(segments).toBe(2);
    const final = await playlist();
    expect(final).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
    expect(final.trim().endsWith("#EXT-X-ENDLIST")).toBe(true);
    expect((await readFile(join(dir, "360p", "seg000001.ts"))).byteLength).toBe(1000);
    expect(final).not.toContain("#EXT-X-DISCONTINUITY");
  });

  it("marks the segment after a lost one with EXT-X-DISCONTINUITY", async () => {
    const dir = await mkdtemp(join(tmpdir(), "segmint-hls-unit-"));
    dirs.push(dir);
    const out = new HlsOutput({
      dir,
      profiles: [presetProfile("360p")],
      hasAudio: false,
      frameRate: () => 30,
    });
    await out.init();
    const outcome = {
      renditions: [
        {
          profile: "360p",
          data: new Uint8Array(1000),
          width: 640,
          height: 360,
          frames: 60,
          pixels: 640 * 360 * 60,
          durationSeconds: 2,
          sha256: "",
        },
      ],
      ticketsSent: 0,
      expectedValue: 0n,
      faceValue: 0n,
      signature: "0x",
    };
    // Segment 1 failed everywhere: 0 and 2 arrive, and the playlists end.
    await out.write(segment(0), outcome);
    await out.write(segment(2), outcome);
    expect((await out.finish()).segments).toBe(2);
    const lines = (await readFile(join(dir, "360p", "index.m3u8"), "utf8")).trim().split("\n");
    const tag = lines.indexOf("#EXT-X-DISCONTINUITY");
    expect(lines.filter((l) => l === "#EXT-X-DISCONTINUITY")).toHaveLength(1);
    expect(lines[tag + 2]).toBe("seg000002.ts");
    expect(lines.indexOf("seg000000.ts")).toBeLessThan(tag);
  });
});
