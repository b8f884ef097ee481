import { z } from "zod";

/**
 * The value formats every message is built from. Numbers that can pass 2^53 (wei, win
 * probabilities, nonces, rounds) travel as decimal strings, because JSON numbers lose precision
 * there. The ticket codecs (tickets.ts) decode them into bigints; the formats are strict (no
 * leading zeros, no sign on a uint) so a value re-encodes to the very string it came from.
 */

const UINT256_MAX = (1n << 256n) - 1n;

/** A uint256 as a decimal string: no sign, no leading zeros, at most 2^256 - 1 (78 digits). */
export const uint256String = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, "expected a decimal uint256")
  // Only a 78-digit string can pass 2^256 - 1 (about 1.16e77).
  .refine((text) => text.length < 78 || BigInt(text) <= UINT256_MAX, "above 2^256 - 1");
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
/** A count or a time in ms: a JSON number that is still an exact integer. */
export const safeCount = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
