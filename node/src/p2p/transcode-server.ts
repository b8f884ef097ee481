import { createHash } from "node:crypto";
import type { Connection, Stream } from "@libp2p/interface";
import { errorMessage, isSegmintError } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import { SIGNING_DOMAIN, TRANSCODE_PROTOCOL } from "./constants.ts";
import { P2pError, WIRE_ERROR_CODES, type WireErrorCode } from "./errors.ts";
import { abortStream, exchangeSignal, finishStream, streamGoneSignal } from "./exchange.ts";
import { abortError, encodeJson, FrameReader, writeBody, writeFrame } from "./framing.ts";
import type { SegmintNode } from "./host.ts";
import type { TranscodedRendition, TranscodeService } from "./interface.ts";
import {
  type RenditionHeader,
  renditionReceipt,
  type TranscodeErrorHeader,
  type TranscodeOk,
  type TranscodeRequest,
  TranscodeRequestSchema,
} from "./messages.ts";
import type { P2pMetrics } from "./metrics.ts";
import { defaultP2pOptions, type TranscodeLimits } from "./options.ts";
import { type EthSigner, signPayload } from "./signing.ts";
import { Slots } from "./slots.ts";

export interface TranscodeProtocolInit {
  node: Pick<SegmintNode, "handle" | "unhandle">;
  signer: EthSigner;
  service: TranscodeService;
  limits?: TranscodeLimits;
  /** Shared with the info service and adverts so they report the same capacity. */
  slots?: Slots;
  metrics?: P2pMetrics | null;
  log: Logger;
}

/** Counters for tests and the status page: what is in flight and how requests ended. */
export interface TranscodeStats {
  active: number;
  served: number;
  refused: Partial<Record<WireErrorCode, number>>;
  /** Streams that broke (reset, peer gone, write failed) so no answer could be sent; a stall
   * or deadline is answered with TIMEOUT and counted under `refused`. */
  broken: number;
}

/** A refusal decided by the handler: answered with `{ok: false, code}` then the stream ends. */
class Refusal extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * /segmint/transcode/1.0.0, orchestrator side. Request: a JSON header frame then exactly
 * `segmentBytes` of body frames. Response: a JSON header frame then each rendition's bytes.
 * Everything the handler holds for a stream (its slot, its buffers) is released on every
 * way out: answer, refusal, stall, timeout, reset or stop().
 */
export class TranscodeProtocol {
  readonly limits: TranscodeLimits;
  readonly slots: Slots;
  private readonly counters: TranscodeStats = { active: 0, served: 0, refused: {}, broken: 0 };
  private stopper = new AbortController();
  private readonly metrics: P2pMetrics | null;

  constructor(private readonly init: TranscodeProtocolInit) {
    this.limits = init.limits ?? defaultP2pOptions.transcode;
    this.metrics = init.metrics ?? null;
    this.slots = init.slots ?? new Slots(this.limits.capacity);
  }

  async start(): Promise<void> {
    this.stopper = new AbortController();
    await this.init.node.handle(
      TRANSCODE_PROTOCOL,
      (stream, connection) => this.serve(stream, connection),
      { maxInboundStreams: this.limits.maxInboundStreams },
    );
  }

  async stop(): Promise<void> {
    this.stopper.abort(new P2pError("P2P_STREAM_TIMEOUT", "the transcode service is stopping", {}));
    await this.init.node.unhandle(TRANSCODE_PROTOCOL);
  }

  stats(): TranscodeStats {
    return { ...this.counters, refused: { ...this.counters.refused } };
  }

  private async serve(stream: Stream, connection: Connection): Promise<void> {
    const signal = exchangeSignal(
      this.limits.timeoutMs,
      this.stopper.signal,
      streamGoneSignal(stream),
    );
    const remotePeer = connection.remotePeer.toString();
    const log = this.init.log.child({ remotePeer, stream: stream.id });
    const reader = new FrameReader(stream, { signal, stallMs: this.limits.stallMs });
    let release: (() => void) | null = null;
    let bytesOut = 0;
    let result = "broken";
    this.counters.active += 1;
    this.metrics?.activeStreams.inc({ protocol: TRANSCODE_PROTOCOL });
    try {
      const request = await this.readHeader(reader);
      release = this.slots.tryAcquire();
      if (release === null) {
        throw new Refusal("CAPACITY_FULL", `all ${this.slots.total} transcode slots are busy`);
      }
      const segment = await this.readSegment(reader, request);
      const started = performance.now();
      const outcome = await this.runService(remotePeer, request, segment, signal);
      if (!outcome.ok) throw new Refusal(outcome.code, outcome.message);
      const { header, bodies } = await this.answer(request, outcome);
      const headerBytes = encodeJson(header);
      await writeFrame(stream, headerBytes, signal);
      bytesOut += headerBytes.byteLength;
      for (const body of bodies) {
        await writeBody(stream, body, signal);
        bytesOut += body.byteLength;
      }
      await finishStream(stream, signal);
      this.counters.served += 1;
      result = "ok";
      log.debug(
        {
          streamId: request.streamId,
          seq: request.seq,
          ms: Math.round(performance.now() - started),
        },
        "segment transcoded",
      );
    } catch (error) {
      result = await this.fail(stream, error, log);
    } finally {
      release?.();
      this.counters.active -= 1;
      const protocol = TRANSCODE_PROTOCOL;
      this.metrics?.activeStreams.dec({ protocol });
      this.metrics?.streams.inc({ protocol, result });
      this.metrics?.bytes.inc({ protocol, direction: "in" }, reader.bytesRead);
      this.metrics?.bytes.inc({ protocol, direction: "out" }, bytesOut);
    }
  }

  private async readHeader(reader: FrameReader): Promise<TranscodeRequest> {
    let request: TranscodeRequest;
    try {
      request = await reader.readJson(
        TranscodeRequestSchema,
        this.limits.maxHeaderBytes,
        "transcode request header",
      );
    } catch (error) {
      throw asRefusal(error, "BAD_REQUEST");
    }
    if (request.segmentBytes > this.limits.maxSegmentBytes) {
      throw new Refusal(
        "SEGMENT_TOO_LARGE",
        `segment of ${request.segmentBytes} bytes is over the ${this.limits.maxSegmentBytes}-byte cap`,
      );
    }
    if (request.profiles.length > this.limits.maxProfiles) {
      throw new Refusal("BAD_REQUEST", `at most ${this.limits.maxProfiles} profiles per request`);
    }
    if (request.tickets.length > this.limits.maxTickets) {
      throw new Refusal("BAD_REQUEST", `at most ${this.limits.maxTickets} tickets per request`);
    }
    const names = new Set(request.profiles.map((p) => p.name));
    if (names.size !== request.profiles.length) {
      throw new Refusal("BAD_REQUEST", "profile names must be unique");
    }
    return request;
  }

  private async readSegment(reader: FrameReader, request: TranscodeRequest): Promise<Uint8Array> {
    try {
      return await reader.readBody(request.segmentBytes, this.limits.maxFrameBytes, "segment");
    } catch (error) {
      throw asRefusal(error, "BAD_REQUEST");
    }
  }

  private async runService(
    peerId: string,
    request: TranscodeRequest,
    segment: Uint8Array,
    signal: AbortSignal,
  ) {
    try {
      return await this.init.service.handle({ peerId, request }, segment, signal);
    } catch (error) {
      if (signal.aborted) {
        const reason = abortError(signal);
        // A peer that went away gets no answer: the stream is counted as broken, not refused.
        if (reason.code !== "P2P_STREAM_TIMEOUT") throw reason;
        throw new Refusal("TIMEOUT", "the segment took too long to transcode");
      }
      // A service signals refusals as coded errors too; only wire codes cross the wire, the
      // rest is an internal failure whose details stay in our log.
      if (isSegmintError(error) && isWireCode(error.code))
        throw new Refusal(error.code, error.message);
      this.init.log.error(
        { err: error, streamId: request.streamId, seq: request.seq },
        "transcode service failed",
      );
      throw new Refusal("INTERNAL", "the orchestrator failed to transcode this segment");
    }
  }

  private async answer(
    request: TranscodeRequest,
    result: {
      renditions: TranscodedRendition[];
      balance: string;
      ticketParams: TranscodeOk["ticketParams"];
    },
  ): Promise<{ header: TranscodeOk; bodies: Uint8Array[] }> {
    const asked = new Set(request.profiles.map((p) => p.name));
    const renditions: RenditionHeader[] = result.renditions.map((r) => {
      if (!asked.has(r.profile)) {
        throw new P2pError(
          "P2P_BAD_RESPONSE",
          `the service returned an unrequested profile ${r.profile}`,
          {},
        );
      }
      return {
        profile: r.profile,
        bytes: r.data.byteLength,
        pixels: r.pixels,
        width: r.width,
        height: r.height,
        frames: r.frames,
        sha256: createHash("sha256").update(r.data).digest("hex"),
      };
    });
    const receipt = renditionReceipt(request.streamId, request.seq, renditions);
    const signature = await signPayload(this.init.signer, SIGNING_DOMAIN.renditions, receipt);
    return {
      header: {
        ok: true,
        renditions,
        signature,
        balance: result.balance,
        ticketParams: result.ticketParams,
      },
      bodies: result.renditions.map((r) => r.data),
    };
  }

  /**
   * Answers a refusal with its code when the stream can still carry it, then makes sure the
   * stream is gone: a refused peer may still be sending a body we will not read.
   */
  /** Returns the metrics label of how the exchange ended: the code sent, or "broken". */
  private async fail(stream: Stream, error: unknown, log: Logger): Promise<string> {
    const refusal = error instanceof Refusal ? error : asRefusal(error, "INTERNAL");
    const broken = !(error instanceof Refusal);
    if (broken) this.counters.broken += 1;
    else this.counters.refused[refusal.code] = (this.counters.refused[refusal.code] ?? 0) + 1;
    log.info({ code: refusal.code, reason: refusal.message }, "transcode request refused");
    const answer: TranscodeErrorHeader = {
      ok: false,
      code: refusal.code,
      message: refusal.message,
    };
    // A short budget of its own: the exchange signal may already have fired (stall, timeout).
    const grace = AbortSignal.timeout(1_000);
    try {
      if (stream.writeStatus === "writable") {
        await writeFrame(stream, encodeJson(answer), grace);
        await stream.close({ signal: grace });
      }
    } catch {
      // The peer is gone or not reading; nothing more to tell it.
    }
    abortStream(stream, error instanceof Error ? error : new Error(String(error)));
    return broken ? "broken" : refusal.code;
  }
}

function isWireCode(code: string): code is WireErrorCode {
  return (WIRE_ERROR_CODES as readonly string[]).includes(code);
}

/** Maps a local framing failure to the code the peer is told. */
function asRefusal(error: unknown, fallback: WireErrorCode): Refusal {
  if (error instanceof Refusal) return error;
  if (error instanceof P2pError) {
    switch (error.code) {
      case "P2P_STREAM_STALLED":
      case "P2P_STREAM_TIMEOUT":
        return new Refusal("TIMEOUT", error.message);
      case "P2P_FRAME_TOO_LARGE":
      case "P2P_BAD_HEADER":
      case "P2P_MALFORMED_FRAME":
      case "P2P_STREAM_ENDED":
        return new Refusal("BAD_REQUEST", error.message);
      default:
        return new Refusal(fallback, error.message);
    }
  }
  return new Refusal(fallback, errorMessage(error));
}
