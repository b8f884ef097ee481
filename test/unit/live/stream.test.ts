import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { pushable } from "it-pushable";
import { describe, expect, it } from "vitest";
import { PaymentChannels } from "../../../node/src/broadcaster/channel.ts";
import type {
  OrchestratorHandle,
  OrchestratorSource,
  SegmentOutcome,
  SegmentWorker,
  SourceSegment,
  VerifiedRendition,
} from "../../../node/src/broadcaster/interface.ts";
import { OrchestratorLists } from "../../../node/src/broadcaster/selection.ts";
import type {
  LivePlaylists,
  LiveRenditionInfo,
  LiveSegment,
  LiveSourceInfo,
  PublishEndReason,
  PublishedStream,
} from "../../../node/src/live/interface.ts";
import {
  defaultLiveStreamOptions,
  LiveStream,
  type LiveStreamOptions,
} from "../../../node/src/live/stream.ts";
import { createLogger, type Logger, silentLogger } from "../../../node/src/log/index.ts";
import { presetProfile } from "../../../node/src/media/profiles.ts";
import { TicketSigner } from "../../../node/src/payments/sender.ts";

const SOURCE: LiveSourceInfo = {
  videoCodec: "h264",
  width: 1280,
  height: 720,
  fps: 30,
  audioCodec: "aac",
};

/** Records every call the stream makes on its playlists, in order. */
class RecordingPlaylists implements LivePlaylists {
  readonly streamKey = "k";
  readonly calls: string[] = [];
  renditions: LiveRenditionInfo[] = [];
  ended = false;
  async addSource(seq: number, _segment: LiveSegment, discontinuity: boolean) {
    this.calls.push(`source ${seq}${discontinuity ? " discontinuity" : ""}`);
  }
  async addRendition(seq: number, rendition: VerifiedRendition) {
    this.calls.push(`rendition ${seq} ${rendition.profile}`);
  }
  async skip(seq: number, profile: string) {
    this.calls.push(`skip ${seq} ${profile}`);
  }
  async end() {
    this.ended = true;
    this.calls.push("end");
  }
}

/** A publisher connection driven by the test. */
function publisher(key = "k") {
  const segments = pushable<LiveSegment>({ objectMode: true });
  let reason: PublishEndReason | null = null;
  let index = 0;
  const stream: PublishedStream = {
    streamKey: key,
    source: () => (index > 0 ? SOURCE : null),
    segments,
    close: () => {
      reason = "closed";
      segments.end();
    },
    endReason: () => reason,
  };
  return {
    stream,
    send() {
      segments.push({
        index: index++,
        data: new Uint8Array([index]),
        startSeconds: index * 2,
        durationSeconds: 2,
        wallClockMs: Date.now(),
      });
    },
    end(how: PublishEndReason) {
      reason = how;
      segments.end();
    },
  };
}

const handle: OrchestratorHandle = { address: "0xA", peerId: "p", multiaddrs: [], maxInFlight: 4 };
const source: OrchestratorSource = { choose: async () => [handle] };

function rendition(profile: string): VerifiedRendition {
  return {
    profile,
    data: new Uint8Array(1),
    width: 1,
    height: 1,
    frames: 1,
    pixels: 1,
    durationSeconds: 2,
    sha256: "",
  };
}

/** A worker that answers each segment after `delayMs(segment)`, or hangs when that is null. */
function worker(delayMs: (segment: SourceSegment) => number | null): {
  worker: SegmentWorker;
  asked: string[][];
} {
  const asked: string[][] = [];
  return {
    asked,
    worker: {
      run: (_h, segment, signal) =>
        new Promise<SegmentOutcome>((resolve, reject) => {
          asked.push([...(segment.profiles ?? [])]);
          signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
          const delay = delayMs(segment);
          if (delay === null) return;
          setTimeout(
            () =>
              resolve({
                renditions: (segment.profiles ?? []).map(rendition),
                ticketsSent: 1,
                expectedValue: 5n,
                faceValue: 0n,
                signature: "0x",
              }),
            delay,
          );
        }),
    },
  };
}

function setup(
  delayMs: (segment: SourceSegment) => number | null,
  options: Partial<LiveStreamOptions> = {},
  extra: { lists?: OrchestratorLists; log?: Logger } = {},
) {
  const playlists = new RecordingPlaylists();
  const fake = worker(delayMs);
  let ended = 0;
  const payments = (maxSpend: bigint) =>
    new PaymentChannels({
      signer: new TicketSigner(
        randomBytes(32),
        { chainId: 31337n, verifyingContract: `0x${"11".repeat(20)}` },
        { maxPricePerPixel: 10n, maxTicketEV: 10n ** 18n },
      ),
      params: { fetch: () => Promise.reject(new Error("unused")) },
      maxSpend,
    });
  const stream = new LiveStream({
    streamKey: "k",
    profiles: [presetProfile("360p"), presetProfile("720p"), presetProfile("480p")],
    session: {
      source,
      transport: { transcode: () => Promise.reject(new Error("unused")) },
      openPayments: payments,
      ...(extra.lists === undefined ? {} : { lists: extra.lists }),
    },
    createPlaylists: (renditions) => {
      playlists.renditions = renditions;
      return playlists;
    },
    ffmpegPath: "ffmpeg",
    options: {
      ...defaultLiveStreamOptions,
      maxSpend: 10n ** 20n,
      segmentSeconds: 0.2,
      deadlineSeconds: 0.5,
      reconnectGraceSeconds: 0.5,
      orchestrators: 1,
      ...options,
    },
    metrics: null,
    log: extra.log ?? silentLogger(),
    onEnded: () => {
      ended += 1;
    },
    worker: () => fake.worker,
  });
  return { stream, playlists, asked: fake.asked, ended: () => ended };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await sleep(10);
  }
}

describe("LiveStream", () => {
  it("lists the source at once, each rendition when it comes back, and ends on a clean unpublish", async () => {
    const { stream, playlists, ended } = setup(() => 5);
    const pub = publisher();
    stream.attach(pub.stream);
    pub.send();
    pub.send();
    await until(() => playlists.calls.filter((c) => c.startsWith("rendition")).length === 6);
    pub.end("unpublished");
    await until(() => ended() === 1);
    expect(playlists.calls[0]).toBe("source 0");
    expect(playlists.calls.filter((c) => c.startsWith("rendition 0")).sort()).toEqual([
      "rendition 0 360p",
      "rendition 0 480p",
      "rendition 0 720p",
    ]);
    expect(playlists.calls.at(-1)).toBe("end");
    expect(playlists.calls.some((c) => c.startsWith("skip"))).toBe(false);
    // Top rendition first, after the source.
    expect(playlists.renditions.map((r) => r.name)).toEqual(["source", "720p", "480p", "360p"]);
    expect(stream.stats().segments).toMatchObject({ in: 2, out: 2, lost: 0 });
    expect(stream.stats().orchestrators).toEqual({ "0xA": 2 });
    expect(stream.stats().state).toBe("ended");
  });

  it("warns once, in one line naming them, of pins it cannot use, and shows them in its stats", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n")) {
          if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    // 0xA works, 0xB was discovered but never chosen, 0xC was never discovered.
    const lists = new OrchestratorLists({
      pinnedOrchestrators: ["0xA", "0xB", "0xC"],
      excludedOrchestrators: [],
    });
    lists.filter([{ address: "0xA" }, { address: "0xB" }]);
    const { stream, playlists, ended } = setup(
      () => 5,
      { orchestrators: 2 },
      { lists, log: createLogger({ destination, format: "json" }) },
    );
    const pub = publisher();
    stream.attach(pub.stream);
    for (let i = 0; i < 3; i++) pub.send();
    await until(() => playlists.calls.filter((c) => c.startsWith("rendition 2")).length === 3);
    expect(stream.stats().pinnedUnavailable).toEqual({ notFound: ["0xc"], refused: ["0xb"] });
    pub.end("unpublished");
    await until(() => ended() === 1);
    const warned = lines.filter((l) => String(l.msg).startsWith("pinned orchestrators"));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ notFound: ["0xc"], refused: ["0xb"] });
    expect(String(warned[0]?.msg)).toContain("0xc");

    // Without pins: nothing to report and no warning.
    const plain = setup(() => 5);
    expect(plain.stream.stats().pinnedUnavailable).toBeNull();
  });

  it("skips a segment's renditions when no answer comes before its deadline, and moves on", async () => {
    const { stream, playlists, ended } = setup((segment) => (segment.index === 1 ? null : 5));
    const pub = publisher();
    stream.attach(pub.stream);
    pub.send();
    pub.send();
    pub.send();
    await until(() => playlists.calls.filter((c) => c.startsWith("skip 1")).length === 3);
    await until(() => playlists.calls.filter((c) => c.startsWith("rendition 2")).length === 3);
    pub.end("unpublished");
    await until(() => ended() === 1);
    expect(stream.stats().segments).toMatchObject({ in: 3, out: 2, lost: 1 });
  });

  it("continues the same stream, with a discontinuity, when a dropped publisher comes back within the grace", async () => {
    const { stream, playlists, ended } = setup(() => 5);
    const first = publisher();
    stream.attach(first.stream);
    first.send();
    await until(() => playlists.calls.some((c) => c.startsWith("rendition 0")));
    first.end("dropped");
    await until(() => stream.awaitingReconnect);
    expect(playlists.ended).toBe(false);
    const second = publisher();
    stream.attach(second.stream);
    second.send();
    await until(() => playlists.calls.filter((c) => c.startsWith("rendition 1")).length === 3);
    expect(playlists.calls).toContain("source 1 discontinuity");
    second.end("unpublished");
    await until(() => ended() === 1);
    expect(stream.stats().connections).toBe(2);
  });

  it("ends a dropped stream with ENDLIST once the grace period passes", async () => {
    const { stream, playlists, ended } = setup(() => 5, { reconnectGraceSeconds: 0.1 });
    const pub = publisher();
    stream.attach(pub.stream);
    pub.send();
    await until(() => playlists.calls.some((c) => c.startsWith("rendition 0")));
    pub.end("dropped");
    await until(() => ended() === 1);
    expect(playlists.ended).toBe(true);
    expect(stream.open).toBe(false);
  });

  it("sheds the top rendition when segments keep coming back later than real time", async () => {
    // Each answer takes 1.5 segment lengths: behind real time, yet inside the deadline.
    const { stream, playlists, asked, ended } = setup(() => 300, {
      segmentSeconds: 0.2,
      deadlineSeconds: 2,
      orchestrators: 4,
    });
    const pub = publisher();
    stream.attach(pub.stream);
    for (let i = 0; i < 6; i++) {
      pub.send();
      await sleep(200);
    }
    await sleep(400);
    pub.end("unpublished");
    await until(() => ended() === 1);
    expect(asked[0]).toEqual(["720p", "480p", "360p"]);
    expect(asked.at(-1)).not.toContain("720p");
    expect(playlists.calls.some((c) => /^skip \d+ 720p$/.test(c))).toBe(true);
    expect(stream.stats().segments.late).toBeGreaterThanOrEqual(2);
  });
});
