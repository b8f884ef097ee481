import { z } from "zod";
import { WIRE_ERROR_CODES } from "./errors.ts";

/**
 * Every message that crosses the wire, as zod schemas. Big numbers (wei, probabilities,
 * nonces, rounds) travel as decimal strings because JSON numbers lose precision past 2^53.
 * docs/protocol.md documents the same shapes for implementers in other languages.
 */

/** A uint256 as a decimal string: no sign, no leading zeros, at most 78 digits (2^256 ~ 1.2e77). */
export const uint256String = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, "expected a decimal uint256");
/** A signed integer as a decimal string (a balance may be negative after a debit). */
export const intString = z.string().regex(/^(0|-?[1-9][0-9]{0,77})$/, "expected a decimal integer");
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 20-byte 0x address");
export const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected a 32-byte 0x hex value");
/** A 65-byte r||s||v signature as 0x hex. */
export const signature65 = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "expected a 65-byte signature");
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase sha256 hex");
/** libp2p peer ids in their base58btc text form ("12D3Koo..." for Ed25519, "Qm..." for RSA). */
export const peerIdString = z
  .string()
  .regex(/^[1-9A-HJ-NP-Za-km-z]{40,128}$/, "expected a peer id");
/** A multiaddr's text form; parsed and checked by @multiformats/multiaddr where it is used. */
export const multiaddrString = z.string().min(2).max(256).startsWith("/");
const safeCount = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Ticket parameters an orchestrator hands a sender (from the injected TicketParamsProvider).
 * The sender copies recipient, faceValue, winProb, recipientRandHash, creationRound and
 * creationRoundBlockHash into each ticket; seed lets the orchestrator recompute the
 * recipientRand from its secret; expiry is the last round the params are good for.
 */
export const TicketParamsSchema = z.object({
  recipient: address,
  faceValue: uint256String,
  winProb: uint256String,
  recipientRandHash: bytes32,
  seed: bytes32,
  creationRound: uint256String,
  creationRoundBlockHash: bytes32,
  expiry: uint256String,
});
export type TicketParams = z.infer<typeof TicketParamsSchema>;

/**
 * One signed ticket as it travels on the wire: the EIP-712 Ticket struct, the seed of the
 * params it was made from (so the orchestrator recomputes recipientRand without keeping
 * state), and the sender's signature.
 */
export const WireTicketSchema = z.object({
  recipient: address,
  sender: address,
  faceValue: uint256String,
  winProb: uint256String,
  senderNonce: uint256String,
  recipientRandHash: bytes32,
  creationRound: uint256String,
  creationRoundBlockHash: bytes32,
  seed: bytes32,
  sig: signature65,
});
export type WireTicket = z.infer<typeof WireTicketSchema>;

/**
 * The media capability document is opaque to this layer (the media subsystem owns its
 * schema, injected where it is checked); here it only has to be a JSON object.
 */
export const CapabilitiesSchema = z.record(z.string(), z.unknown());
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

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
  ticketParams: TicketParamsSchema,
  capabilities: CapabilitiesSchema,
  capacity: CapacitySchema,
  /** Unix milliseconds when signed. */
  issuedAt: safeCount,
});
export type InfoPayload = z.infer<typeof InfoPayloadSchema>;

export const SignedInfoSchema = InfoPayloadSchema.extend({ signature: signature65 });
export type SignedInfo = z.infer<typeof SignedInfoSchema>;

// ---- /segmint/transcode/1.0.0 ----

/**
 * A rendition profile. Its fields belong to the media layer; the protocol only needs a name
 * that the response refers back to.
 */
export const ProfileSchema = z
  .object({ name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "expected a profile name") })
  .catchall(z.unknown());
export type Profile = z.infer<typeof ProfileSchema>;

export const TranscodeRequestSchema = z.object({
  streamId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, "expected a stream id"),
  seq: safeCount,
  /** Seconds of media in the segment; a segment longer than a minute is not a live segment. */
  durationSec: z.number().positive().max(60),
  profiles: z.array(ProfileSchema).min(1),
  tickets: z.array(WireTicketSchema),
  segmentBytes: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  /**
   * How long the broadcaster waits for this answer, ms (a live segment's deadline): work still
   * running then is of no use to anyone, so the orchestrator stops its ffmpeg by then.
   */
  budgetMs: z.int().min(1).max(600_000).optional(),
});
export type TranscodeRequest = z.infer<typeof TranscodeRequestSchema>;

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
  ticketParams: TicketParamsSchema.nullable(),
});
export type TranscodeOk = z.infer<typeof TranscodeOkSchema>;

export const TranscodeErrorSchema = z.object({
  ok: z.literal(false),
  code: z.enum(WIRE_ERROR_CODES),
  message: z.string().max(1024),
});
export type TranscodeErrorHeader = z.infer<typeof TranscodeErrorSchema>;

export const TranscodeResponseSchema = z.discriminatedUnion("ok", [
  TranscodeOkSchema,
  TranscodeErrorSchema,
]);

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

// ---- adverts ----

export const AdvertPayloadSchema = z.object({
  ethAddress: address,
  peerId: peerIdString,
  multiaddrs: z.array(multiaddrString).max(16),
  pricePerPixel: uint256String,
  capabilities: CapabilitiesSchema,
  capacity: CapacitySchema,
  /** Unix milliseconds after which the advert must be dropped. */
  expiresAt: safeCount,
});
export type AdvertPayload = z.infer<typeof AdvertPayloadSchema>;

export const SignedAdvertSchema = AdvertPayloadSchema.extend({ signature: signature65 });
export type SignedAdvert = z.infer<typeof SignedAdvertSchema>;
