import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterEach, describe, expect, it } from "vitest";
import { isBroadcasterError } from "../../../node/src/broadcaster/errors.ts";
import { HlsOutput } from "../../../node/src/broadcaster/hls-output.ts";
import type { OrchestratorHandle, SourceSegment } from "../../../node/src/broadcaster/interface.ts";
import { PaymentLedger } from "../../../node/src/broadcaster/payment.ts";
import {
  NetworkSegmentWorker,
  type OrchestratorTransport,
} from "../../../node/src/broadcaster/worker.ts";
import { WIN_PROB_SCALE } from "../../../node/src/chain/ticket.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import type { RenditionMeasurement } from "../../../node/src/media/interface.ts";
import { presetProfile } from "../../../node/src/media/profiles.ts";
import { SIGNING_DOMAIN } from "../../../node/src/p2p/constants.ts";
import { RemoteError } from "../../../node/src/p2p/errors.ts";
import type { SignedInfo, TranscodeRequest } from "../../../node/src/p2p/messages.ts";
import { signPayload } from "../../../node/src/p2p/signing.ts";
import type { TranscodeResponse } from "../../../node/src/p2p/transcode-client.ts";
import { TicketSender } from "../../../node/src/payments/sender.ts";

const orchestrator = new Wallet(`0x${"11".repeat(32)}`);
const impostor = new Wallet(`0x${"22".repeat(32)}`);
const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const handle: OrchestratorHandle = {
  address: orchestrator.address,
  peerId: "peer",
  multiaddrs: [],
  maxInFlight: 2,
};
const segment = (index: number): SourceSegment => ({
  index,
  data: new Uint8Array([1, 2, 3]),
  startSeconds: index * 2,
  durationSeconds: 2,
});

/** A fake rendition's bytes say what the fake measurement will find in them. */
interface FakeMedia {
  width: number;
  height: number;
  frames: number;
  durationSeconds: number;
}
const encode = (m: FakeMedia) => new TextEncoder().encode(JSON.stringify(m));
const measure = async (data: Uint8Array): Promise<RenditionMeasurement> => {
  const m = JSON.parse(new TextDecoder().decode(data)) as FakeMedia;
  return { ...m, bytes: data.byteLength, pixels: m.width * m.height * m.frames };
};

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

  async info(): Promise<SignedInfo> {
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
  ): Promise<TranscodeResponse> {
    this.requests.push(request);
    await new Promise((resolve) => setImmediate(resolve));
    if (this.behaviour.refuseFirst !== undefined && !this.refused) {
      this.refused = true;
      throw new RemoteError(this.behaviour.refuseFirst, "RAND_REVEALED");
    }
    const media = this.behaviour.media ?? {
      width: 640,
      height: 360,
      frames: 60,
      durationSeconds: 2,
    };
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
      balance: "0",
      ticketParams: null,
    };
  }
}

function worker(transport: FakeTransport) {
  const ledger = new PaymentLedger(
    new TicketSender(
      new Uint8Array(32).fill(9),
      {
        chainId: 31337n,
        verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      },
      { maxPricePerPixel: 10n, maxTicketEV: 10n ** 9n, maxTotalSpend: 10n ** 12n },
    ),
  );
  const w = new NetworkSegmentWorker({
    transport,
    ledger,
    profiles: [presetProfile("360p")],
    source: { width: 640, height: 360, fps: 30 },
    streamId: "s1",
    probeSegment: async () => ({ frames: 60, durationSeconds: 2 }),
    measure,
    log: silentLogger(),
  });
  return { w, ledger };
}

const signal = new AbortController().signal;

describe("NetworkSegmentWorker", () => {
  it("pays for the estimated pixels, sends, verifies and settles", async () => {
    const transport = new FakeTransport();
    const { w, ledger } = worker(transport);
    const outcome = await w.run(handle, segment(0), signal);
    expect(outcome.renditions.map((r) => [r.profile, r.width, r.height, r.pixels])).toEqual([
      ["360p", 640, 360, 640 * 360 * 60],
    ]);
    // 13.8 Mpixel at 1 wei each, tickets worth 1 Mwei: 14 tickets.
    expect(outcome.ticketsSent).toBe(14);
    expect(outcome.expectedValue).toBe(14_000_000n);
    expect(transport.requests[0]?.profiles[0]).toMatchObject({
      name: "360p",
      width: 640,
      height: 360,
    });
    expect(ledger.credit(orchestrator.address)).toBe(14_000_000n - 13_824_000n);
  });

  it("fetches fresh ticket params and tries again once when the payment is refused", async () => {
    const transport = new FakeTransport({ refuseFirst: "BAD_TICKET" });
    const { w } = worker(transport);
    const outcome = await w.run(handle, segment(0), signal);
    expect(transport.infoCalls).toBe(2);
    const [first, second] = transport.requests;
    expect(first?.tickets[0]?.recipientRandHash).not.toBe(second?.tickets[0]?.recipientRandHash);
    expect(outcome.ticketsSent).toBe(28);
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
    const error = await w.run(handle, segment(0), signal).catch((e: unknown) => e);
    expect(isBroadcasterError(error, "VERIFICATION_FAILED")).toBe(true);
    expect((error as { details: { field: string } }).details.field).toBe("pixels");
  });

  it("rejects a receipt signed by another key", async () => {
    const { w } = worker(new FakeTransport({ signer: impostor }));
    const error = await w.run(handle, segment(0), signal).catch((e: unknown) => e);
    expect((error as { details: { field: string } }).details.field).toBe("signature");
  });

  it("rejects a wrong resolution and a wrong duration", async () => {
    const small = worker(
      new FakeTransport({ media: { width: 320, height: 180, frames: 60, durationSeconds: 2 } }),
    );
    const e1 = await small.w.run(handle, segment(0), signal).catch((e: unknown) => e);
    expect((e1 as { details: { field: string } }).details.field).toBe("resolution");
    const short = worker(
      new FakeTransport({ media: { width: 640, height: 360, frames: 60, durationSeconds: 1 } }),
    );
    const e2 = await short.w.run(handle, segment(0), signal).catch((e: unknown) => e);
    expect((e2 as { details: { field: string } }).details.field).toBe("duration");
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
