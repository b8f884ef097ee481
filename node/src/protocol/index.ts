/**
 * The protocol between roles: the only definition of the messages a broadcaster and an
 * orchestrator exchange (zod schemas, with codecs that decode tickets and ticket params into
 * bigints), the refusal codes, the price rule both sides apply, and the profile's wire form.
 * p2p, payments, broadcaster and orchestrator import it; it imports none of them.
 */
export * from "./messages.ts";
export { ASSUMED_FPS, maxChargeablePixels } from "./price.ts";
export * from "./primitives.ts";
export { type WireProfile, WireProfileSchema, wireProfile } from "./profiles.ts";
export * from "./refusals.ts";
export * from "./tickets.ts";
