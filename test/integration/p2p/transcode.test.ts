import { createHash } from "node:crypto";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { SegmintError } from "../../../node/src/errors.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import { TRANSCODE_PROTOCOL } from "../../../node/src/p2p/constants.ts";
import { isP2pError } from "../../../node/src/p2p/errors.ts";
import { encodeJson, FrameReader, writeFrame } from "../../../node/src/p2p/framing.ts";
import type { SegmintNode } from "../../../node/src/p2p/host.ts";
import type {
  Admission,
  TranscodeJob,
  TranscodeServiceResult as TranscodeResult,
  TranscodeService,
} from "../../../node/src/p2p/interface.ts";
import { createP2pMetrics } from "../../../node/src/p2p/metrics.ts";
import { defaultP2pOptions, type TranscodeLimits } from "../../../node/src/p2p/options.ts";
import { receiptSigner, requestTranscode } from "../../../node/src/p2p/transcode-client.ts";
import { TranscodeProtocol } from "../../../node/src/p2p/transcode-server.ts";
import type {
  TranscodeRequestHeader as TranscodeRequest,
  WireTicket,
} from "../../../node/src/protocol/index.ts";
import { broadcasterWallet, fakeTicketParams, orchestratorWallet, Testbed } from "./helpers.ts";

/** Fake work: each rendition is the segment's bytes reversed and cut to a profile-sized share. */
class FakeService implements TranscodeService {
  readonly jobs: Array<{ job: TranscodeJob; segment: Uint8Array }> = [];
  /** When set, each call waits for it (to hold slots and streams open). */
  gate: Promise<void> | null = null;
  answer: ((job: TranscodeJob, segment: Uint8Array) => TranscodeResult) | null = null;
  readonly signals: AbortSignal[] = [];
  /** When true, each call works until its signal aborts (a long transcode). */
  hang = false;

  async handle(
    job: TranscodeJob,
    segment: Uint8Array,
    signal: AbortSignal,
    admission: Admission,
  ): Promise<TranscodeResult> {
    // Paid for, as far as this fake knows: take a session as the real service does.
    await admission.admit();
    this.jobs.push({ job, segment });
    this.signals.push(signal);
    if (this.hang) {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    }
    if (this.gate !== null) await this.gate;
    signal.throwIfAborted();
    if (this.answer !== null) return this.answer(job, segment);
    return {
      ok: true,
      renditions: job.request.profiles.map((profile, i) => ({
        profile: profile.name,
        data: segment.slice(0, Math.floor(segment.byteLength / (i + 2))).reverse(),
        pixels: 1280 * 720 * 60,
        width: 1280,
        height: 720,
        frames: 60,
      })),
      balance: "-1500",
      ticketParams: fakeTicketParams(orchestratorWallet.address, broadcasterWallet.address),
    };
  }
}

function segmentOf(bytes: number): Uint8Array {
  const segment = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 1) segment[i] = (i * 31 + 7) & 0xff;
  return segment;
}

const ticket: WireTicket = {
  recipient: orchestratorWallet.address,
  sender: broadcasterWallet.address,
  faceValue: "1000",
  winProb: "5",
  senderNonce: "1",
  recipientRandHash: `0x${"ab".repeat(32)}`,
  creationRound: "7",
  creationRoundBlockHash: `0x${"cd".repeat(32)}`,
  seed: `0x${"ef".repeat(32)}`,
  sig: `0x${"11".repeat(65)}`,
};

const request: Omit<TranscodeRequest, "segmentBytes"> = {
  streamId: "stream-1",
  seq: 3,
  durationSec: 2,
  profiles: [{ name: "720p", width: 1280, height: 720 }, { name: "360p" }],
  tickets: [ticket],
};

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isP2pError(error), `expected a P2pError, got ${String(error)}`).toBe(true);
  expect((error as SegmintError).code).toBe(code);
}

/** Sends a raw request header and optional body bytes; returns the answer header, if any. */
async function rawExchange(
  client: SegmintNode,
  server: SegmintNode,
  header: unknown,
  body: Uint8Array | null,
  closeAfter: boolean,
): Promise<unknown> {
  const stream = await client.dialProtocol(server.getMultiaddrs(), TRANSCODE_PROTOCOL);
  const signal = AbortSignal.timeout(10_000);
  await writeFrame(stream, header instanceof Uint8Array ? header : encodeJson(header), signal);
  if (body !== null) await writeFrame(stream, body, signal);
  if (closeAfter) await stream.close();
  const reader = new FrameReader(stream, { signal, stallMs: 10_000 });
  const frame = await reader.next(65_536, "answer");
  stream.abort(new Error("test done"));
  return JSON.parse(new TextDecoder().decode(frame));
}

describe("/segmint/transcode/1.0.0 between two real hosts", () => {
  const bed = new Testbed();
  afterEach(() => bed.close());

  async function orchestrator(limits: Partial<TranscodeLimits> = {}) {
    const node = await bed.host();
    const service = new FakeService();
    const registry = new Registry();
    const protocol = new TranscodeProtocol({
      node,
      signer: orchestratorWallet,
      service,
      metrics: createP2pMetrics(registry),
      limits: { ...defaultP2pOptions.transcode, ...limits },
      log: silentLogger(),
    });
    await protocol.start();
    const client = await bed.host();
    /** The value of segmint_p2p_streams_total for one result label. */
    const streams = async (result: string) => {
      const metric = await registry.getSingleMetric("segmint_p2p_streams_total")?.get();
      return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
    };
    return { node, service, protocol, client, streams };
  }

  function expectNoState(protocol: TranscodeProtocol): void {
    expect(protocol.stats().active).toBe(0);
    expect(protocol.slots.capacity().free).toBe(protocol.slots.total);
  }

  it("round-trips a multi-frame segment and returns verified, signed renditions", async () => {
    const { node, service, protocol, client } = await orchestrator();
    const segment = segmentOf(700_000); // three body frames of up to 256 KiB
    const response = await requestTranscode(client, node.getMultiaddrs(), request, segment, {
      expectedSigner: orchestratorWallet.address,
    });

    expect(service.jobs).toHaveLength(1);
    const job = service.jobs[0];
    expect(job?.job.peerId).toBe(client.peerId.toString());
    expect(job?.job.request).toEqual({ ...request, segmentBytes: segment.byteLength });
    expect(Buffer.compare(Buffer.from(job?.segment ?? []), Buffer.from(segment))).toBe(0);

    expect(response.renditions.map((r) => r.profile)).toEqual(["720p", "360p"]);
    for (const [i, rendition] of response.renditions.entries()) {
      const expected = segment.slice(0, Math.floor(segment.byteLength / (i + 2))).reverse();
      expect(Buffer.from(rendition.data).equals(Buffer.from(expected))).toBe(true);
      expect(rendition.sha256).toBe(createHash("sha256").update(expected).digest("hex"));
      expect(rendition.pixels).toBe(1280 * 720 * 60);
    }
    expect(response.signer).toBe(orchestratorWallet.address);
    // Balance and params arrive decoded to bigints (the wire's `expiry` as expirationRound).
    expect(response.balance).toBe(-1500n);
    expect(response.ticketParams?.recipient).toBe(orchestratorWallet.address);
    expect(response.ticketParams?.faceValue).toBe(1_000_000_000_000_000n);
    expect(response.ticketParams?.creationRound).toBe(7n);
    expect(response.ticketParams?.expirationRound).toBe(9n);
    const receipt = {
      streamId: request.streamId,
      seq: request.seq,
      renditions: response.renditions.map(({ profile, sha256, pixels }) => ({
        profile,
        sha256,
        pixels,
      })),
    };
    expect(receiptSigner(receipt, response.signature)).toBe(orchestratorWallet.address);
    expect(receiptSigner({ ...receipt, seq: 4 }, response.signature)).not.toBe(
      orchestratorWallet.address,
    );
    expect(protocol.stats().served).toBe(1);
    expectNoState(protocol);
  });

  it("refuses receipts signed by another key than the expected orchestrator", async () => {
    const { node, client } = await orchestrator();
    await expectCode(
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000), {
        expectedSigner: broadcasterWallet.address,
      }),
      "P2P_BAD_SIGNATURE",
    );
  });

  it("refuses a bad local request before dialing, and renditions nobody asked for", async () => {
    const { node, service, client } = await orchestrator();
    await expectCode(
      requestTranscode(
        client,
        node.getMultiaddrs(),
        { ...request, streamId: "bad id!" },
        segmentOf(10),
      ),
      "P2P_BAD_HEADER",
    );
    expect(service.jobs).toHaveLength(0);
    service.answer = () => ({
      ok: true,
      renditions: [
        { profile: "720p", data: new Uint8Array(4), pixels: 1, width: 1, height: 1, frames: 1 },
        { profile: "720p", data: new Uint8Array(4), pixels: 1, width: 1, height: 1, frames: 1 },
      ],
      balance: "0",
      ticketParams: null,
    });
    await expectCode(
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(10)),
      "P2P_BAD_RESPONSE",
    );
  });

  it("passes the service's refusal through with its wire code", async () => {
    const { node, service, protocol, client } = await orchestrator();
    service.answer = () => {
      throw new SegmintError("BAD_TICKET", "replayed nonce", { reason: "REPLAYED_NONCE" });
    };
    await expectCode(
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000)),
      "BAD_TICKET",
    );
    service.answer = () => {
      throw new SegmintError("INSUFFICIENT_BALANCE", "balance too low", {});
    };
    await expectCode(
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000)),
      "INSUFFICIENT_BALANCE",
    );
    service.answer = () => {
      throw new Error("disk on fire");
    };
    await expectCode(
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000)),
      "INTERNAL",
    );
    expect(protocol.stats().refused).toEqual({
      BAD_TICKET: 1,
      INSUFFICIENT_BALANCE: 1,
      INTERNAL: 1,
    });
    expectNoState(protocol);
  });

  it("answers a malformed header with BAD_REQUEST and never calls the service", async () => {
    const { node, service, protocol, client } = await orchestrator();
    const notJson = new TextEncoder().encode("{ this is not json");
    expect(await rawExchange(client, node, notJson, null, true)).toMatchObject({
      ok: false,
      code: "BAD_REQUEST",
    });
    const badFields = {
      ...request,
      seq: -1,
      segmentBytes: 10,
      tickets: [{ ...ticket, sig: "0x12" }],
    };
    expect(await rawExchange(client, node, badFields, null, true)).toMatchObject({
      ok: false,
      code: "BAD_REQUEST",
    });
    expect(service.jobs).toHaveLength(0);
    expect(protocol.stats().refused).toEqual({ BAD_REQUEST: 2 });
    expectNoState(protocol);
  });

  it("refuses a header over its byte cap before reading it", async () => {
    const { node, service, protocol, client } = await orchestrator({ maxHeaderBytes: 2048 });
    const huge = {
      ...request,
      tickets: Array.from({ length: 10 }, () => ticket),
      segmentBytes: 10,
    };
    expect(await rawExchange(client, node, huge, null, false)).toMatchObject({
      ok: false,
      code: "BAD_REQUEST",
    });
    expect(service.jobs).toHaveLength(0);
    expectNoState(protocol);
  });

  it("refuses a segment over the byte cap with SEGMENT_TOO_LARGE", async () => {
    const { node, service, protocol, client, streams } = await orchestrator({
      maxSegmentBytes: 100_000,
    });
    await expectCode(
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(600_000)),
      "SEGMENT_TOO_LARGE",
    );
    // A body that runs past its declared size is refused too.
    expect(
      await rawExchange(client, node, { ...request, segmentBytes: 10 }, segmentOf(20), true),
    ).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    expect(service.jobs).toHaveLength(0);
    expectNoState(protocol);
    // The orchestrator still serves honest requests afterwards.
    const ok = await requestTranscode(client, node.getMultiaddrs(), request, segmentOf(50_000));
    expect(ok.renditions).toHaveLength(2);
    expect(await streams("SEGMENT_TOO_LARGE")).toBe(1);
    expect(await streams("BAD_REQUEST")).toBe(1);
    expect(await streams("ok")).toBe(1);
  });

  it("aborts a stream that stalls mid-segment and frees its slot", async () => {
    const { node, service, protocol, client } = await orchestrator({ capacity: 1, stallMs: 300 });
    const answer = await rawExchange(
      client,
      node,
      { ...request, segmentBytes: 100_000 },
      segmentOf(40_000),
      false, // keep the stream open and send nothing more: a stall, not an end
    );
    expect(answer).toMatchObject({ ok: false, code: "TIMEOUT" });
    expect(service.jobs).toHaveLength(0);
    expectNoState(protocol);
    // The only slot is free again: a normal request goes through.
    const ok = await requestTranscode(client, node.getMultiaddrs(), request, segmentOf(10_000));
    expect(ok.renditions).toHaveLength(2);
  });

  it("stops the work and frees the slot when the client goes away mid-transcode", async () => {
    const { node, service, protocol, client, streams } = await orchestrator({ capacity: 1 });
    service.hang = true;
    const stream = await client.dialProtocol(node.getMultiaddrs(), TRANSCODE_PROTOCOL);
    const signal = AbortSignal.timeout(10_000);
    await writeFrame(stream, encodeJson({ ...request, segmentBytes: 1000 }), signal);
    await writeFrame(stream, segmentOf(1000), signal);
    await waitFor(() => service.jobs.length === 1);
    stream.abort(new Error("client gone"));
    await waitFor(() => protocol.stats().active === 0);
    expect(service.signals[0]?.aborted).toBe(true);
    expect(protocol.stats().broken).toBe(1);
    expect(await streams("broken")).toBe(1);
    expectNoState(protocol);
  });

  it("answers CAPACITY_FULL when every slot is taken and none frees up within the wait", async () => {
    const { node, service, protocol, client } = await orchestrator({
      capacity: 1,
      queueWaitMs: 200,
    });
    let open = () => {};
    service.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000));
    await waitFor(() => service.jobs.length === 1);
    await expectCode(
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000)),
      "CAPACITY_FULL",
    );
    open();
    expect((await first).renditions).toHaveLength(2);
    expectNoState(protocol);
  });

  it("queues a paid request briefly for a busy slot instead of refusing it", async () => {
    const { node, service, protocol, client } = await orchestrator({ capacity: 1 });
    let open = () => {};
    service.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000));
    await waitFor(() => service.jobs.length === 1);
    const second = requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000));
    await waitFor(() => protocol.slots.queued === 1);
    expect(service.jobs).toHaveLength(1);
    open();
    expect((await first).renditions).toHaveLength(2);
    expect((await second).renditions).toHaveLength(2);
    expect(protocol.stats().refused).toEqual({});
    expectNoState(protocol);
  });

  it("cuts a header dribbled a byte at a time, holding no slot meanwhile", async () => {
    const { node, service, protocol, client } = await orchestrator({
      capacity: 1,
      headerTimeoutMs: 600,
    });
    const stream = await client.dialProtocol(node.getMultiaddrs(), TRANSCODE_PROTOCOL);
    const header = encodeJson({ ...request, segmentBytes: 1000 });
    // A length prefix, then the header's bytes one every 150 ms: never a stall, never done.
    const prefix = new Uint8Array([0x80 | (header.byteLength & 0x7f), header.byteLength >> 7]);
    stream.send(prefix);
    const reader = new FrameReader(stream, {
      signal: AbortSignal.timeout(10_000),
      stallMs: 10_000,
    });
    const answer = reader.next(65_536, "answer");
    for (let i = 0; i < header.byteLength && stream.writeStatus === "writable"; i += 1) {
      expect(protocol.slots.capacity().free).toBe(1);
      stream.send(header.subarray(i, i + 1));
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (protocol.stats().refused.TIMEOUT === 1) break;
    }
    expect(JSON.parse(new TextDecoder().decode(await answer))).toMatchObject({
      ok: false,
      code: "TIMEOUT",
    });
    expect(service.jobs).toHaveLength(0);
    expectNoState(protocol);
  });

  it("cuts a body sent slower than the minimum rate, whatever size it declared", async () => {
    const { node, service, protocol, client } = await orchestrator({
      capacity: 1,
      bodyGraceMs: 300,
      minBodyBytesPerSecond: 64 * 1024,
    });
    const stream = await client.dialProtocol(node.getMultiaddrs(), TRANSCODE_PROTOCOL);
    const signal = AbortSignal.timeout(10_000);
    await writeFrame(stream, encodeJson({ ...request, segmentBytes: 1_000_000 }), signal);
    const reader = new FrameReader(stream, { signal, stallMs: 10_000 });
    const answer = reader.next(65_536, "answer");
    // 100 bytes every 100 ms: 1 KB/s, never silent long enough to stall.
    const drip = setInterval(() => {
      if (stream.writeStatus === "writable") void writeFrame(stream, segmentOf(100), signal);
    }, 100);
    try {
      expect(JSON.parse(new TextDecoder().decode(await answer))).toMatchObject({
        ok: false,
        code: "TIMEOUT",
      });
    } finally {
      clearInterval(drip);
    }
    expect(service.jobs).toHaveLength(0);
    expectNoState(protocol);
    const ok = await requestTranscode(client, node.getMultiaddrs(), request, segmentOf(10_000));
    expect(ok.renditions).toHaveLength(2);
  });

  it("delivers work in flight on a drain before stopping, and refuses new work with CAPACITY_FULL", async () => {
    const { node, service, protocol, client } = await orchestrator({ capacity: 2 });
    let open = () => {};
    service.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const inFlight = requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000));
    await waitFor(() => service.jobs.length === 1);
    let drained = false;
    const draining = protocol.drain(10_000).then(() => {
      drained = true;
    });
    await expectCode(
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000)),
      "CAPACITY_FULL",
    );
    expect(drained).toBe(false);
    open();
    // The segment finished during the drain reaches its broadcaster; only then does it stop.
    expect((await inFlight).renditions).toHaveLength(2);
    await draining;
    await protocol.stop();
    expect(service.jobs).toHaveLength(1);
    expectNoState(protocol);
  });

  it("refuses inbound streams past maxInboundStreams per connection", async () => {
    const { node, service, protocol, client } = await orchestrator({
      capacity: 4,
      maxInboundStreams: 2,
    });
    let open = () => {};
    service.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const held = [1, 2].map(() =>
      requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000)),
    );
    await waitFor(() => service.jobs.length === 2);
    const third = requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000));
    const error = await third.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isP2pError(error) && error.code.startsWith("P2P_")).toBe(true);
    expect(service.jobs).toHaveLength(2);
    open();
    for (const result of await Promise.all(held)) expect(result.renditions).toHaveLength(2);
    expectNoState(protocol);
    expect(
      (await requestTranscode(client, node.getMultiaddrs(), request, segmentOf(1000))).renditions,
    ).toHaveLength(2);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = AbortSignal.timeout(10_000);
  while (!condition()) {
    deadline.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
