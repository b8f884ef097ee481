import type { Connection, PeerId, Stream } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { z } from "zod";
import { isSegmintError } from "../errors.ts";
import type { Logger } from "../log/index.ts";
import {
  type InfoPayload,
  InfoRequestSchema,
  type InfoResponse,
  InfoResponseSchema,
  isWireCode,
  refusalAnswer,
  type SignedInfo,
} from "../protocol/index.ts";
import { INFO_PROTOCOL, SIGNING_DOMAIN } from "./constants.ts";
import { P2pError } from "./errors.ts";
import {
  abortStream,
  type Dialer,
  exchangeSignal,
  finishStream,
  openStream,
  refusalError,
  streamGoneSignal,
} from "./exchange.ts";
import { encodeJson, FrameReader, writeFrame } from "./framing.ts";
import type { SegmintNode } from "./host.ts";
import type { Clock, OrchestratorProfile, TicketParamsProvider } from "./interface.ts";
import { LogLimiter } from "./log-limiter.ts";
import type { P2pMetrics } from "./metrics.ts";
import { defaultP2pOptions, type InfoLimits, type StreamLimits } from "./options.ts";
import { type EthSigner, recoverSigner, sameAddress, signPayload } from "./signing.ts";

/**
 * /segmint/info/1.0.0: the broadcaster sends `{sender}`; the orchestrator answers with one
 * frame, `{ok: true, info}` (info signed by its Ethereum key) or a refusal
 * `{ok: false, code, message, details}`.
 */

export interface InfoProtocolInit {
  node: Pick<SegmintNode, "handle" | "unhandle" | "peerId">;
  signer: EthSigner;
  profile: OrchestratorProfile;
  tickets: TicketParamsProvider;
  limits?: InfoLimits;
  metrics?: P2pMetrics | null;
  log: Logger;
  clock?: Clock;
}

export class InfoProtocol {
  private readonly limits: InfoLimits;
  private readonly clock: Clock;
  private readonly refusals: LogLimiter;
  private stopper = new AbortController();

  constructor(private readonly init: InfoProtocolInit) {
    this.limits = init.limits ?? defaultP2pOptions.info;
    this.clock = init.clock ?? Date.now;
    this.refusals = new LogLimiter(
      this.limits.refusalLogIntervalMs,
      this.limits.maxRefusalLogSenders,
      this.clock,
    );
  }

  async start(): Promise<void> {
    this.stopper = new AbortController();
    await this.init.node.handle(
      INFO_PROTOCOL,
      (stream, connection) => this.serve(stream, connection),
      {
        maxInboundStreams: this.limits.maxInboundStreams,
      },
    );
  }

  async stop(): Promise<void> {
    this.stopper.abort(new P2pError("P2P_STREAM_TIMEOUT", "the info service is stopping", {}));
    await this.init.node.unhandle(INFO_PROTOCOL);
  }

  private async serve(stream: Stream, connection: Connection): Promise<void> {
    const metrics = this.init.metrics ?? null;
    metrics?.activeStreams.inc({ protocol: INFO_PROTOCOL });
    const result = await this.exchange(stream, connection);
    metrics?.activeStreams.dec({ protocol: INFO_PROTOCOL });
    metrics?.streams.inc({ protocol: INFO_PROTOCOL, result });
  }

  /** Serves one info request; returns "ok", the code answered, or "broken". */
  private async exchange(stream: Stream, connection: Connection): Promise<string> {
    const signal = exchangeSignal(
      this.limits.timeoutMs,
      this.stopper.signal,
      streamGoneSignal(stream),
    );
    const remotePeer = connection.remotePeer.toString();
    try {
      const reader = new FrameReader(stream, { signal, stallMs: this.limits.stallMs });
      let sender: string;
      try {
        ({ sender } = await reader.readJson(
          InfoRequestSchema,
          this.limits.maxHeaderBytes,
          "info request",
        ));
      } catch (error) {
        if (error instanceof P2pError && isMalformed(error)) {
          this.init.log.debug({ remotePeer, code: error.code }, "info request refused");
          await writeFrame(
            stream,
            encodeJson(refusalAnswer("BAD_REQUEST", error.message, { reason: error.code })),
            signal,
          );
          await finishStream(stream, signal);
          return "BAD_REQUEST";
        }
        throw error;
      }
      const answer = await this.quote(sender, remotePeer);
      await writeFrame(stream, encodeJson(answer), signal);
      await finishStream(stream, signal);
      return answer.ok ? "ok" : answer.code;
    } catch (error) {
      this.init.log.debug(
        { remotePeer, code: error instanceof P2pError ? error.code : undefined, err: error },
        "info exchange failed",
      );
      abortStream(stream, error);
      return "broken";
    }
  }

  /**
   * The answer for `sender`: its signed info, or a coded refusal. A refusal the ticket
   * provider decided (an unfunded or unlocking sender: INSUFFICIENT_BALANCE; this node out of
   * the active set: NOT_ACTIVE), with its reason and values in the details, is a fact and
   * logged in one line; anything else is ours (INTERNAL) and logged with its cause. Either
   * way a sender is logged at most once per `refusalLogIntervalMs`, so a flood of random
   * senders cannot fill the disk.
   */
  async quote(sender: string, remotePeer: string): Promise<InfoResponse> {
    try {
      return { ok: true, info: await this.signedInfo(sender) };
    } catch (error) {
      const refused = isSegmintError(error) && isWireCode(error.code) ? error.code : null;
      if (this.refusals.shouldLog(sender.toLowerCase())) {
        if (refused !== null) {
          const reason = isSegmintError(error) ? error.details.reason : undefined;
          this.init.log.info({ remotePeer, sender, code: refused, reason }, "info request refused");
        } else {
          this.init.log.error({ err: error, remotePeer, sender }, "cannot build info");
        }
      }
      if (refused !== null && isSegmintError(error)) {
        return refusalAnswer(refused, error.message, error.details);
      }
      // Payments or media failed to say what we offer: tell the peer, keep details here.
      return refusalAnswer("INTERNAL", "the orchestrator cannot quote now");
    }
  }

  /** Senders remembered for log limiting (bounded by `maxRefusalLogSenders`). */
  get refusalLogSize(): number {
    return this.refusals.size;
  }

  /** Builds and signs this orchestrator's info for `sender`. */
  async signedInfo(sender: string): Promise<SignedInfo> {
    const payload: InfoPayload = {
      ethAddress: this.init.signer.address,
      peerId: this.init.node.peerId.toString(),
      pricePerPixel: this.init.profile.pricePerPixel(),
      ticketParams: await this.init.tickets.ticketParams(sender),
      capabilities: this.init.profile.capabilities(),
      capacity: this.init.profile.capacity(),
      issuedAt: this.clock(),
    };
    const signature = await signPayload(this.init.signer, SIGNING_DOMAIN.info, payload);
    return { ...payload, signature };
  }
}

function isMalformed(error: P2pError): boolean {
  return (
    error.code === "P2P_BAD_HEADER" ||
    error.code === "P2P_MALFORMED_FRAME" ||
    error.code === "P2P_FRAME_TOO_LARGE"
  );
}

export interface RequestInfoOptions {
  /** The broadcaster's Ethereum address, for which ticket params are issued. */
  sender: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  limits?: StreamLimits;
  /** The media layer's capability schema; when given, the document must match it. */
  capabilitiesSchema?: z.ZodType;
}

/**
 * Asks `peer` for its info and verifies it: the signature recovers to the claimed eth
 * address, the answer names the peer we are actually connected to, and the ticket params
 * pay that same address. Anything else is P2P_BAD_SIGNATURE or P2P_BAD_RESPONSE.
 */
export async function requestInfo(
  node: Dialer,
  peer: PeerId | Multiaddr | Multiaddr[],
  options: RequestInfoOptions,
): Promise<SignedInfo> {
  const limits = options.limits ?? defaultP2pOptions.info;
  const signal = exchangeSignal(options.timeoutMs ?? limits.timeoutMs, options.signal);
  const { stream, remotePeer } = await openStream(node, peer, INFO_PROTOCOL, signal);
  try {
    await writeFrame(stream, encodeJson({ sender: options.sender }), signal);
    await stream.close({ signal });
    // The orchestrator may consult the chain before it answers, and no byte flows meanwhile:
    // only the deadline bounds this wait.
    const reader = new FrameReader(stream, {
      signal,
      stallMs: options.timeoutMs ?? limits.timeoutMs,
    });
    const response = await reader.readJson(
      InfoResponseSchema,
      limits.maxHeaderBytes,
      "info response",
    );
    if (!response.ok) throw refusalError(response);
    verifyInfo(response.info, remotePeer.toString(), options.capabilitiesSchema);
    return response.info;
  } catch (error) {
    abortStream(stream, error);
    throw error;
  }
}

/** Checks a signed info object as received from `remotePeer`; throws a coded error if bad. */
export function verifyInfo(
  info: SignedInfo,
  remotePeer: string,
  capabilitiesSchema?: z.ZodType,
): void {
  const { signature, ...payload } = info;
  const signer = recoverSigner(SIGNING_DOMAIN.info, payload, signature);
  if (!sameAddress(signer, info.ethAddress)) {
    throw new P2pError("P2P_BAD_SIGNATURE", "the info is not signed by the address it names", {
      claimed: info.ethAddress,
      signer,
    });
  }
  if (info.peerId !== remotePeer) {
    throw new P2pError("P2P_BAD_RESPONSE", "the info names another peer than the one answering", {
      claimed: info.peerId,
      remotePeer,
    });
  }
  if (!sameAddress(info.ticketParams.recipient, info.ethAddress)) {
    throw new P2pError(
      "P2P_BAD_RESPONSE",
      "the ticket params pay another address than the signer",
      {
        recipient: info.ticketParams.recipient,
        ethAddress: info.ethAddress,
      },
    );
  }
  if (
    capabilitiesSchema !== undefined &&
    !capabilitiesSchema.safeParse(info.capabilities).success
  ) {
    throw new P2pError("P2P_BAD_RESPONSE", "the capability document does not match its schema", {
      peerId: info.peerId,
    });
  }
}
