import { createHash } from "node:crypto";
import type { CodeOf } from "../error-catalog.ts";
import type { StartDecision } from "./funding.ts";
import type { PublishDecision } from "./interface.ts";

/** Why the daemon refuses a publisher at connect: a stable code for logs, metrics and /status. */
export type PublishRefusalCode = CodeOf<"live">;

export type PublishVerdict =
  | { accept: true; reconnect: boolean }
  | { accept: false; code: PublishRefusalCode; reason: string };

export interface PublishPolicy {
  /** Keys publishers may use; ignored with `allowAnyKey`. */
  keys: ReadonlySet<string>;
  allowAnyKey: boolean;
  maxStreams: number;
  /** The stream on this key, if any (an ended one counts as none). */
  stream(key: string): { open: boolean; awaitingReconnect: boolean } | undefined;
  /** Streams live or waiting for their publisher to come back. */
  openStreams(): number;
  /** Whether the deposit can pay for one more stream. */
  funds(): StartDecision;
}

/**
 * The daemon's decision on a publisher, in the order a user would want to hear about it: the
 * key, then whether it continues a dropped stream (always welcome), then the key's and the
 * daemon's capacity, then money. A new stream is never started that cannot be paid for.
 */
export function decidePublish(key: string, policy: PublishPolicy): PublishVerdict {
  if (!policy.allowAnyKey && !policy.keys.has(key)) {
    return { accept: false, code: "UNKNOWN_KEY", reason: "unknown stream key" };
  }
  const existing = policy.stream(key);
  if (existing?.awaitingReconnect) return { accept: true, reconnect: true };
  if (existing?.open) {
    return { accept: false, code: "KEY_BUSY", reason: "a publisher is already live on this key" };
  }
  if (policy.openStreams() >= policy.maxStreams) {
    return {
      accept: false,
      code: "STREAM_LIMIT",
      reason: `${policy.maxStreams} streams are live, the most this broadcaster takes (--max-streams)`,
    };
  }
  const funds = policy.funds();
  if (!funds.ok) return { accept: false, code: "CANNOT_PAY", reason: funds.reason };
  return { accept: true, reconnect: false };
}

/** The ingest's form of a verdict. */
export function toPublishDecision(verdict: PublishVerdict): PublishDecision {
  return verdict.accept ? { accept: true } : { accept: false, reason: verdict.reason };
}

/**
 * The public name of a stream in its playback URLs (/live/ID/..., /watch/ID). It is derived from
 * the stream key but does not reveal it: a viewer who knows a stream's URL cannot publish to it
 * (nor take it over while its publisher reconnects). 16 base64url characters: 96 bits.
 */
export function playbackId(streamKey: string): string {
  return createHash("sha256")
    .update(`segmint-playback/${streamKey}`)
    .digest("base64url")
    .slice(0, 16);
}
