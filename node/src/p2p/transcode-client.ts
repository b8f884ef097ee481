import { createHash } from "node:crypto";
import type { PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import {
  type IssuedTicketParams,
  type RenditionHeader,
  type RenditionReceipt,
  renditionReceipt,
  TicketParamsCodec,
  type TranscodeRequestHeader,
  TranscodeRequestHeaderSchema,
  type TranscodeResponseHeader,
  TranscodeResponseSchema,
} from "../protocol/index.ts";
import { SIGNING_DOMAIN, TRANSCODE_PROTOCOL } from "./constants.ts";
import { P2pError } from "./errors.ts";
import { abortStream, type Dialer, exchangeSignal, openStream, refusalError } from "./exchange.ts";
import { decodeJson, encodeJson, FrameReader, writeBody, writeFrame } from "./framing.ts";
import { defaultP2pOptions, type TranscodeLimits } from "./options.ts";
import { recoverSigner, sameAddress } from "./signing.ts";

export interface ReceivedRendition extends RenditionHeader {
  data: Uint8Array;
}

export interface TranscodeResponse {
  renditions: ReceivedRendition[];
  /** The orchestrator's signature over the receipt (stream, seq, each profile's hash and pixels). */
  signature: string;
  /** The address that signed the receipt (equal to `expectedSigner` when one was given). */
  signer: string;
  /**
   * The sender's balance with the orchestrator after this segment, in wei; it and the fresh
   * params are decoded here, as the receipt signature covers neither (only the renditions).
   */
  balance: bigint;
  /** Fresh params for the next tickets (without a price: it comes from the info answer). */
  ticketParams: IssuedTicketParams | null;
}

export interface RequestTranscodeOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  limits?: TranscodeLimits;
  /** The orchestrator's Ethereum address (from its info); the receipt must be signed by it. */
  expectedSigner?: string;
}

/**
 * Sends one segment to an orchestrator and returns its verified renditions: every body
 * matches its announced sha256 and the receipt signature covers those hashes. A refusal
 * from the orchestrator throws a RemoteError whose `code` is the wire code (BAD_TICKET, ...)
 * and whose details are the refusal's, decoded by the protocol schema (`reason`, values).
 */
export async function requestTranscode(
  node: Dialer,
  peer: PeerId | Multiaddr | Multiaddr[],
  request: Omit<TranscodeRequestHeader, "segmentBytes">,
  segment: Uint8Array,
  options: RequestTranscodeOptions = {},
): Promise<TranscodeResponse> {
  const limits = options.limits ?? defaultP2pOptions.transcode;
  const signal = exchangeSignal(options.timeoutMs ?? limits.timeoutMs, options.signal);
  // Check our own request first: a mistake here is ours to report, not the orchestrator's.
  const header: TranscodeRequestHeader = decodeJson(
    TranscodeRequestHeaderSchema,
    encodeJson({ ...request, segmentBytes: segment.byteLength }),
    "transcode request header",
  );
  const { stream } = await openStream(node, peer, TRANSCODE_PROTOCOL, signal);

  // The upload runs while we wait for the answer: an orchestrator that refuses early (bad
  // ticket, capacity) answers before the body is through and we must not miss that.
  const upload = (async () => {
    await writeFrame(stream, encodeJson(header), signal);
    await writeBody(stream, segment, signal);
    await stream.close({ signal });
  })();
  let uploadError: unknown = null;
  upload.catch((error: unknown) => {
    uploadError = error;
  });

  try {
    const reader = new FrameReader(stream, { signal, stallMs: limits.stallMs });
    // No byte comes back while the orchestrator transcodes: only the overall time limit
    // applies to the wait for the answer; the stall limit applies again to the bodies.
    reader.stallMs = options.timeoutMs ?? limits.timeoutMs;
    let response: TranscodeResponseHeader;
    try {
      response = await reader.readJson(
        TranscodeResponseSchema,
        limits.maxHeaderBytes,
        "transcode response header",
      );
    } catch (error) {
      // The stream broke before any answer: the upload's failure is the better explanation.
      throw uploadError ?? error;
    }
    if (!response.ok) throw refusalError(response);
    await upload;
    reader.stallMs = limits.stallMs;

    const renditions: ReceivedRendition[] = [];
    const asked = new Set(request.profiles.map((p) => p.name));
    for (const rendition of response.renditions) {
      if (!asked.delete(rendition.profile)) {
        throw new P2pError(
          "P2P_BAD_RESPONSE",
          `rendition ${rendition.profile} was not requested or came twice`,
          { profile: rendition.profile },
        );
      }
    }
    for (const rendition of response.renditions) {
      if (rendition.bytes > limits.maxRenditionBytes) {
        throw new P2pError(
          "P2P_FRAME_TOO_LARGE",
          `rendition ${rendition.profile} of ${rendition.bytes} bytes is over the ${limits.maxRenditionBytes}-byte cap`,
          { size: rendition.bytes, max: limits.maxRenditionBytes },
        );
      }
      const data = await reader.readBody(rendition.bytes, limits.maxFrameBytes, "rendition");
      const hash = createHash("sha256").update(data).digest("hex");
      if (hash !== rendition.sha256) {
        throw new P2pError(
          "P2P_BAD_RESPONSE",
          `rendition ${rendition.profile} does not match its hash`,
          {
            profile: rendition.profile,
          },
        );
      }
      renditions.push({ ...rendition, data });
    }
    const receipt = renditionReceipt(request.streamId, request.seq, response.renditions);
    const signer = recoverSigner(SIGNING_DOMAIN.renditions, receipt, response.signature);
    if (options.expectedSigner !== undefined && !sameAddress(signer, options.expectedSigner)) {
      throw new P2pError("P2P_BAD_SIGNATURE", "the renditions are not signed by the orchestrator", {
        expected: options.expectedSigner,
        signer,
      });
    }
    await stream.close({ signal }).catch(() => {});
    return {
      renditions,
      signature: response.signature,
      signer,
      balance: BigInt(response.balance),
      // The header schema has checked the wire form, so decoding cannot fail here.
      ticketParams:
        response.ticketParams === null ? null : TicketParamsCodec.decode(response.ticketParams),
    };
  } catch (error) {
    abortStream(stream, error);
    throw error;
  }
}

/** Verifies a receipt kept from an earlier response (e.g. for a later dispute or audit). */
export function receiptSigner(receipt: RenditionReceipt, signature: string): string {
  return recoverSigner(SIGNING_DOMAIN.renditions, receipt, signature);
}
