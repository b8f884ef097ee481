import { z } from "zod";
import {
  address,
  intString,
  multiaddrString,
  peerIdString,
  safeCount,
  sha256Hex,
  signature65,
  uint256String,
} from "./primitives.ts";
import { WireProfileSchema } from "./profiles.ts";
import { RefusalSchema } from "./refusals.ts";
import { WireTicketParamsSchema, WireTicketSchema } from "./tickets.ts";

/**
 * Every message between a broadcaster and an orchestrator, as zod schemas. docs/protocol.md
 * documents the same shapes for implementers in other languages. Signed objects (info answers,
 * adverts) are kept in their wire form after decoding: the signature covers exactly those
 * bytes. Tickets and ticket params decode into bigints through the codecs in tickets.ts.
 */

/**
 * The media capability document is opaque to the protocol (the media subsystem owns its
 * schema, injected where it is checked); here it only has to be a JSON object.
 */
export const CapabilityDocumentSchema = z.record(z.string(), z.unknown());
export type CapabilityDocument = z.infer<typeof CapabilityDocumentSchema>;

export const CapacitySchema = z
  .object({ total: safeCount, free: safeCount })
  .refine((c) => c.free <= c.total, "free must not exceed total");
export type Capacity = z.infer<typeof CapacitySchema>;

// ---- /segmint/info/1.0.0 ----

export const InfoRequestSchema = z.object({
  /** The broadcaster's Ethereum address: ticket params are issued per sender. */
  sender: address,
});
export type InfoRequest = z.infer<typeof InfoRequestSchema>;

export const InfoPayloadSchema = z.object({
  ethAddress: address,
  /** The libp2p peer answering: binds the answer to this host so it cannot be relayed. */
  peerId: peerIdString,
  pricePerPixel: uint256String,
  ticketParams: WireTicketParamsSchema,
  capabilities: CapabilityDocumentSchema,
  capacity: CapacitySchema,
  /** Unix milliseconds when signed. */
  issuedAt: safeCount,
});
export type InfoPayload = z.infer<typeof InfoPayloadSchema>;

export const SignedInfoSchema = InfoPayloadSchema.extend({ signature: signature65 });
export type SignedInfo = z.infer<typeof SignedInfoSchema>;

/** The info answer: the signed info, or a refusal. */
export const InfoResponseSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), info: SignedInfoSchema }),
  RefusalSchema,
]);
export type InfoResponse = z.infer<typeof InfoResponseSchema>;

// ---- /segmint/transcode/1.0.0 ----

/** The header of a transcode request (the segment's bytes follow it). */
export const TranscodeRequestHeaderSchema = z.object({
  streamId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, "expected a stream id"),
  seq: safeCount,
  /** Seconds of media in the segment; a segment longer than a minute is not a live segment. */
  durationSec: z.number().positive().max(60),
  profiles: z.array(WireProfileSchema).min(1),
  tickets: z.array(WireTicketSchema),
  segmentBytes: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  /**
   * How long the broadcaster waits for this answer, ms (a live segment's deadline): work still
   * running then is of no use to anyone, so the orchestrator stops its ffmpeg by then.
   */
  budgetMs: z.int().min(1).max(600_000).optional(),
});
export type TranscodeRequestHeader = z.infer<typeof TranscodeRequestHeaderSchema>;

export const RenditionHeaderSchema = z.object({
  profile: z.string().min(1).max(64),
  bytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  pixels: safeCount,
  width: z.int().min(1).max(16384),
  height: z.int().min(1).max(16384),
  frames: safeCount,
  sha256: sha256Hex,
});
export type RenditionHeader = z.infer<typeof RenditionHeaderSchema>;

export const TranscodeOkSchema = z.object({
  ok: z.literal(true),
  renditions: z.array(RenditionHeaderSchema),
  /** Orchestrator's signature over streamId, seq and each rendition's profile, hash and pixels. */
  signature: signature65,
  /** The sender's balance with this orchestrator after this segment, in wei. */
  balance: intString,
  /** Fresh params for the next tickets, or null when the current ones are still good. */
  ticketParams: WireTicketParamsSchema.nullable(),
});
export type TranscodeOk = z.infer<typeof TranscodeOkSchema>;

/** The transcode answer's header: the renditions that follow, or a refusal. */
export const TranscodeResponseSchema = z.discriminatedUnion("ok", [
  TranscodeOkSchema,
  RefusalSchema,
]);
export type TranscodeResponseHeader = z.infer<typeof TranscodeResponseSchema>;

/** What the receipt signature covers (SIGNING_DOMAIN.renditions). */
export interface RenditionReceipt {
  streamId: string;
  seq: number;
  renditions: Array<{ profile: string; sha256: string; pixels: number }>;
}

/**
 * The receipt for one segment's renditions: only the fields the signature covers, in one
 * order, so the orchestrator that signs it and the broadcaster that checks it hash the same
 * JSON.
 */
export function renditionReceipt(
  streamId: string,
  seq: number,
  renditions: ReadonlyArray<{ profile: string; sha256: string; pixels: number }>,
): RenditionReceipt {
  return {
    streamId,
    seq,
    renditions: renditions.map(({ profile, sha256, pixels }) => ({ profile, sha256, pixels })),
  };
}

// ---- adverts (gossipsub /segmint/adverts/1.0.0) ----

export const AdvertPayloadSchema = z.object({
  ethAddress: address,
  peerId: peerIdString,
  multiaddrs: z.array(multiaddrString).max(16),
  pricePerPixel: uint256String,
  capabilities: CapabilityDocumentSchema,
  capacity: CapacitySchema,
  /** Unix milliseconds after which the advert must be dropped. */
  expiresAt: safeCount,
});
export type AdvertPayload = z.infer<typeof AdvertPayloadSchema>;

export const SignedAdvertSchema = AdvertPayloadSchema.extend({ signature: signature65 });
export type SignedAdvert = z.infer<typeof SignedAdvertSchema>;
