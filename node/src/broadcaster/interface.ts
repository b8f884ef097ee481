/**
 * The pieces the dispatcher is built from. Each is injected, so the dispatch, retry and
 * suspension logic is unit-tested with fakes and wired to libp2p, payments and ffmpeg at the
 * composition root (session.ts).
 */

/** One source segment, as the media segmenter yields it. */
export interface SourceSegment {
  index: number;
  data: Uint8Array;
  startSeconds: number;
  durationSeconds: number;
  /**
   * The profiles (by name) wanted for this segment, in ladder order; all of them when unset.
   * A live stream that falls behind sheds its top rendition this way.
   */
  profiles?: readonly string[];
  /**
   * How long this try's answer is waited for, ms (the dispatcher sets it from the segment's
   * deadline and the node's observed speed); sent so the orchestrator stops its work by then.
   */
  budgetMs?: number;
}

/** An orchestrator the broadcaster has chosen to work with. */
export interface OrchestratorHandle {
  /** Ethereum address (checksummed): the key of every per-orchestrator table. */
  address: string;
  peerId: string;
  /** Where to dial it (each may lack the /p2p/ suffix); empty: by peer id. */
  multiaddrs: string[];
  /** Segments sent to it at once, from its free capacity when chosen. */
  maxInFlight: number;
}

/** A rendition that passed verification. */
export interface VerifiedRendition {
  profile: string;
  data: Uint8Array;
  width: number;
  height: number;
  frames: number;
  pixels: number;
  durationSeconds: number;
  sha256: string;
}

export interface SegmentOutcome {
  renditions: VerifiedRendition[];
  /** Tickets sent with this segment (all tries on this orchestrator). */
  ticketsSent: number;
  /** Expected value of those tickets, token wei. */
  expectedValue: bigint;
  /** Face value of those tickets, token wei. */
  faceValue: bigint;
  /** The receipt signature, kept as proof of what the orchestrator claimed. */
  signature: string;
}

/** Pays for, sends and verifies one segment on one orchestrator; throws on any failure. */
export interface SegmentWorker {
  run(
    orchestrator: OrchestratorHandle,
    segment: SourceSegment,
    signal: AbortSignal,
  ): Promise<SegmentOutcome>;
}

/** Where orchestrators come from: the first choice and replacements for dropped ones. */
export interface OrchestratorSource {
  /** Up to `count` orchestrators, best first (selection strategy). */
  choose(count: number, exclude: ReadonlySet<string>): Promise<OrchestratorHandle[]>;
}

/** Receives verified results; called once per segment, in any order. */
export interface ResultSink {
  write(segment: SourceSegment, outcome: SegmentOutcome): Promise<void>;
}
