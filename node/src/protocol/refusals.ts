import { z } from "zod";

/**
 * How an orchestrator says no: a wire code, a human-readable message, and details (always a
 * `reason` when the code alone does not say what to fix: BAD_TICKET's STALE_PARAMS, an
 * INSUFFICIENT_BALANCE's SENDER_UNLOCKING). Codes and reasons are part of the protocol
 * (docs/protocol.md): add them, never rename them.
 */
export const WIRE_ERROR_CODES = [
  "BAD_TICKET",
  "INSUFFICIENT_BALANCE",
  "CAPACITY_FULL",
  "BAD_SEGMENT",
  "SEGMENT_TOO_LARGE",
  "BAD_REQUEST",
  "TIMEOUT",
  "INTERNAL",
  "NOT_ACTIVE",
] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

export function isWireCode(code: string): code is WireErrorCode {
  return (WIRE_ERROR_CODES as readonly string[]).includes(code);
}

/** A reason is a code of its own: upper snake case, so callers match it like a code. */
export const refusalReason = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, "expected a reason code");

/**
 * At most this many details, each a short scalar: enough for a reason and the numbers behind it
 * (size and cap, balance and what was required), far inside the 64 KiB header cap.
 */
const MAX_DETAILS = 16;
const MAX_DETAIL_CHARS = 256;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const detailValue = z.union([z.string().max(MAX_DETAIL_CHARS), z.number(), z.boolean(), z.null()]);

export const RefusalDetailsSchema = z
  .object({ reason: refusalReason.optional() })
  .catchall(detailValue)
  .refine((details) => Object.keys(details).length <= MAX_DETAILS, "too many details");
export type RefusalDetails = z.infer<typeof RefusalDetailsSchema>;

/** `{ ok: false, code, message, details? }`: the refusal answer of both protocols. */
export const RefusalSchema = z.object({
  ok: z.literal(false),
  code: z.enum(WIRE_ERROR_CODES),
  message: z.string().max(1024),
  /** Optional: an orchestrator from before details existed sends none. */
  details: RefusalDetailsSchema.optional(),
});
export type RefusalAnswer = z.infer<typeof RefusalSchema>;

/**
 * The details of a coded error as they may cross the wire: scalar values only (bigints as
 * decimal strings), long strings cut, at most MAX_DETAILS of them, and `reason` only when it
 * is reason-shaped. Objects, arrays and anything else stay in the orchestrator's own log.
 */
export function refusalDetails(details: Readonly<Record<string, unknown>>): RefusalDetails {
  const out: RefusalDetails = {};
  for (const [key, raw] of Object.entries(details)) {
    if (Object.keys(out).length >= MAX_DETAILS) break;
    if (!DETAIL_KEY.test(key)) continue;
    const value = typeof raw === "bigint" ? raw.toString() : raw;
    if (key === "reason") {
      if (refusalReason.safeParse(value).success && typeof value === "string") out.reason = value;
    } else if (typeof value === "string") {
      out[key] = value.slice(0, MAX_DETAIL_CHARS);
    } else if (typeof value === "number" && Number.isFinite(value)) {
      out[key] = value;
    } else if (typeof value === "boolean" || value === null) {
      out[key] = value;
    }
  }
  return out;
}

/** The refusal answer for a code, a message (cut to the wire's limit) and details. */
export function refusalAnswer(
  code: WireErrorCode,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
): RefusalAnswer {
  const picked = refusalDetails(details);
  return {
    ok: false,
    code,
    message: message.slice(0, 1024),
    ...(Object.keys(picked).length === 0 ? {} : { details: picked }),
  };
}
