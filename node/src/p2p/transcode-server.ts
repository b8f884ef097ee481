import { createHash } from "node:crypto";
import type { Connection, Stream } from "@libp2p/interface";
import { wireCodeOf } from "../error-catalog.ts";
import { errorMessage, isSegmintError } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import {
  isWireCode,
  type RefusalDetails,
  type RenditionHeader,
  refusalAnswer,
  refusalDetails,
  renditionReceipt,
  type TranscodeOk,
  type TranscodeRequestHeader,
  TranscodeRequestHeaderSchema,
  type WireErrorCode,
} from "../protocol/index.ts";
import { SIGNING_DOMAIN, TRANSCODE_PROTOCOL } from "./constants.ts";
import { P2pError } from "./errors.ts";
import { abortStream, exchangeSignal, finishStream, streamGoneSignal } from "./exchange.ts";
import { abortError, encodeJson, FrameReader, writeBody, writeFrame } from "./framing.ts";
import type { SegmintNode } from "./host.ts";
import type { Admission, TranscodedRendition, TranscodeService } from "./interface.ts";
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

/** How often a body's pace is checked; a dripping sender is cut within this of falling behind. */
const BODY_PACE_CHECK_MS = 500;

/**
 * A refusal decided by the handler: answered with `{ok: false, code, message, details}`, then
 * the stream ends. `details.reason` says which of the code's causes it was.
 */
class Refusal extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
    readonly details: RefusalDetails = {},
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
  /** Every exchange being served, so a drain can wait for their answers to be written. */
  private readonly inFlight = new Set<Promise<void>>();
  private draining = false;

  constructor(private readonly init: TranscodeProtocolInit) {
    this.limits = init.limits ?? defaultP2pOptions.transcode;
    this.metrics = init.metrics ?? null;
    this.slots =
      init.slots ??
      new Slots(this.limits.capacity, {
        maxWaiting: this.limits.maxQueued,
        maxWaitMs: this.limits.queueWaitMs,
      });
  }

  async start(): Promise<void> {
    this.stopper = new AbortController();
    await this.init.node.handle(
      TRANSCODE_PROTOCOL,
      (stream, connection) => this.serve(stream, connection),
      { maxInboundStreams: this.limits.maxInboundStreams },
    );
  }

  /**
   * Stops taking requests (new ones get CAPACITY_FULL, so broadcasters go elsewhere without
   * counting it against this node) and waits up to `timeoutMs` for the exchanges in flight,
   * answers included: a segment already transcoded is delivered, not dropped by the stop.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
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
    // The request's own deadlines (header, then body pace) end reading only; the exchange
    // signal above also bounds the transcode and the answer.
    const reading = new AbortController();
    const reader = new FrameReader(stream, {
      signal: AbortSignal.any([signal, reading.signal]),
      stallMs: this.limits.stallMs,
    });
    // Set by the service's admit(), released when the exchange ends whichever way.
    const session: { release: (() => void) | null } = { release: null };
    let bytesOut = 0;
    let result = "broken";
    this.counters.active += 1;
    this.metrics?.activeStreams.inc({ protocol: TRANSCODE_PROTOCOL });
    const work = (async () => {
      const request = await this.withDeadline(
        reading,
        this.limits.headerTimeoutMs,
        `the request header did not arrive within ${this.limits.headerTimeoutMs} ms`,
        () => this.readHeader(reader),
      );
      // Refused after its header, like every refusal, so the client reads the answer.
      if (this.draining) {
        throw new Refusal("CAPACITY_FULL", "the orchestrator is shutting down", {
          reason: "STOPPING",
        });
      }
      const segment = await this.readSegment(reader, request, reading);
      const admission = {
        admit: async () => {
          if (session.release !== null) return;
          session.release = await this.slots.acquire(signal);
          if (session.release === null) {
            throw new P2pError(
              "CAPACITY_FULL",
              `all ${this.slots.total} transcode sessions are busy`,
              { reason: "SESSIONS_BUSY", total: this.slots.total },
            );
          }
        },
      };
      const started = performance.now();
      const outcome = await this.runService(remotePeer, request, segment, signal, admission);
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
    })();
    this.inFlight.add(work);
    try {
      await work;
    } catch (error) {
      result = await this.fail(stream, error, log);
    } finally {
      this.inFlight.delete(work);
      reading.abort();
      session.release?.();
      this.counters.active -= 1;
      const protocol = TRANSCODE_PROTOCOL;
      this.metrics?.activeStreams.dec({ protocol });
      this.metrics?.streams.inc({ protocol, result });
      this.metrics?.bytes.inc({ protocol, direction: "in" }, reader.bytesRead);
      this.metrics?.bytes.inc({ protocol, direction: "out" }, bytesOut);
    }
  }

  /** Runs `read`, aborting `reading` (a TIMEOUT refusal) if it is not done within `ms`. */
  private async withDeadline<T>(
    reading: AbortController,
    ms: number,
    message: string,
    read: () => Promise<T>,
  ): Promise<T> {
    const timer = setTimeout(
      () => reading.abort(new P2pError("P2P_STREAM_TIMEOUT", message, { ms })),
      ms,
    );
    try {
      return await read();
    } finally {
      clearTimeout(timer);
    }
  }

  private async readHeader(reader: FrameReader): Promise<TranscodeRequestHeader> {
    let request: TranscodeRequestHeader;
    try {
      request = await reader.readJson(
        TranscodeRequestHeaderSchema,
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
        { size: request.segmentBytes, max: this.limits.maxSegmentBytes },
      );
    }
    if (request.profiles.length > this.limits.maxProfiles) {
      throw new Refusal("BAD_REQUEST", `at most ${this.limits.maxProfiles} profiles per request`, {
        reason: "TOO_MANY_PROFILES",
        max: this.limits.maxProfiles,
      });
    }
    if (request.tickets.length > this.limits.maxTickets) {
      throw new Refusal("BAD_REQUEST", `at most ${this.limits.maxTickets} tickets per request`, {
        reason: "TOO_MANY_TICKETS",
        max: this.limits.maxTickets,
      });
    }
    const names = new Set(request.profiles.map((p) => p.name));
    if (names.size !== request.profiles.length) {
      throw new Refusal("BAD_REQUEST", "profile names must be unique", {
        reason: "DUPLICATE_PROFILE",
      });
    }
    return request;
  }

  /**
   * Reads the body at no less than `minBodyBytesPerSecond` after `bodyGraceMs`: a sender
   * falling behind that pace is cut with TIMEOUT at once, whatever size it declared, and no
   * session is held meanwhile.
   */
  private async readSegment(
    reader: FrameReader,
    request: TranscodeRequestHeader,
    reading: AbortController,
  ): Promise<Uint8Array> {
    const { bodyGraceMs, minBodyBytesPerSecond } = this.limits;
    const startedAt = performance.now();
    const startBytes = reader.bytesRead;
    const pace = setInterval(() => {
      const elapsedMs = performance.now() - startedAt;
      const due = ((elapsedMs - bodyGraceMs) / 1000) * minBodyBytesPerSecond;
      const received = reader.bytesRead - startBytes;
      if (due > 0 && received < Math.min(due, request.segmentBytes)) {
        reading.abort(
          new P2pError(
            "P2P_STREAM_TIMEOUT",
            `the segment arrived slower than ${minBodyBytesPerSecond} bytes/s`,
            { received, declared: request.segmentBytes, elapsedMs: Math.round(elapsedMs) },
          ),
        );
      }
    }, BODY_PACE_CHECK_MS);
    try {
      return await reader.readBody(request.segmentBytes, this.limits.maxFrameBytes, "segment");
    } catch (error) {
      throw asRefusal(error, "BAD_REQUEST");
    } finally {
      clearInterval(pace);
    }
  }

  private async runService(
    peerId: string,
    request: TranscodeRequestHeader,
    segment: Uint8Array,
    signal: AbortSignal,
    admission: Admission,
  ) {
    try {
      return await this.init.service.handle({ peerId, request }, segment, signal, admission);
    } catch (error) {
      if (signal.aborted) {
        const reason = abortError(signal);
        // A peer that went away gets no answer: the stream is counted as broken, not refused.
        if (reason.code !== "P2P_STREAM_TIMEOUT") throw reason;
        throw new Refusal("TIMEOUT", "the segment took too long to transcode", {
          reason: "EXCHANGE_DEADLINE",
        });
      }
      // The service signals refusals as coded errors; only wire codes cross the wire, with
      // the scalar details (reason, values), and the rest is an internal failure whose
      // details stay in our log.
      if (isSegmintError(error) && isWireCode(error.code))
        throw new Refusal(error.code, error.message, refusalDetails(error.details));
      this.init.log.error(
        { err: error, streamId: request.streamId, seq: request.seq },
        "transcode service failed",
      );
      throw new Refusal("INTERNAL", "the orchestrator failed to transcode this segment");
    }
  }

  private async answer(
    request: TranscodeRequestHeader,
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
    log.info(
      { code: refusal.code, reason: refusal.details.reason, message: refusal.message },
      "transcode request refused",
    );
    const answer = refusalAnswer(refusal.code, refusal.message, refusal.details);
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

/** Maps a local framing failure to the code the peer is told. */
function asRefusal(error: unknown, fallback: WireErrorCode): Refusal {
  if (error instanceof Refusal) return error;
  if (error instanceof P2pError) {
    // The catalog says which wire code a framing fault is answered with; the fault is the reason.
    const wire = wireCodeOf(error.code);
    if (wire === undefined) return new Refusal(fallback, error.message);
    return wire === error.code
      ? new Refusal(wire, error.message)
      : new Refusal(wire, error.message, { reason: error.code });
  }
  return new Refusal(fallback, errorMessage(error));
}
