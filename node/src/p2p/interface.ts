import type {
  CapabilityDocument,
  Capacity,
  TranscodeRequestHeader,
  WireProfile,
  WireTicketParams,
} from "../protocol/index.ts";

/**
 * What the p2p layer needs from the rest of the node. Each piece is injected, so the protocols
 * are tested with fakes and wired to payments, media and the chain at the composition root.
 */

/**
 * Issues fresh ticket params for a sender (payments subsystem). A refusal meant for the
 * sender (it has no funds here, this orchestrator is not active) is thrown as a coded error
 * whose code is a wire code (INSUFFICIENT_BALANCE, NOT_ACTIVE) with a `reason` in its details;
 * the info protocol answers with that code and those details.
 */
export interface TicketParamsProvider {
  ticketParams(sender: string): Promise<WireTicketParams>;
}

/** What an orchestrator says about itself in info answers and adverts. */
export interface OrchestratorProfile {
  /** Wei per pixel, as a decimal string. */
  pricePerPixel(): string;
  /** The media capability document (already validated by the media layer). */
  capabilities(): CapabilityDocument;
  /** Current sessions: total and free. */
  capacity(): Capacity;
}

/** A transcode request as the handler hands it to the service, after framing checks. */
export interface TranscodeJob {
  /** The remote libp2p peer (its identity is proven by the noise handshake). */
  peerId: string;
  request: TranscodeRequestHeader;
}

export interface TranscodedRendition {
  profile: WireProfile["name"];
  data: Uint8Array;
  pixels: number;
  width: number;
  height: number;
  frames: number;
}

/** What the service hands back for a transcoded segment; a refusal is thrown, never returned. */
export interface TranscodeServiceResult {
  ok: true;
  renditions: TranscodedRendition[];
  /** The sender's balance after this segment, wei as a decimal string. */
  balance: string;
  ticketParams: WireTicketParams | null;
}

/**
 * How the service takes one of the orchestrator's transcode sessions. It calls `admit` once
 * the request is paid for (tickets checked, balance covers the segment) and before any
 * transcoding: a request that pays nothing never holds a session. `admit` resolves once a
 * session is held (it may wait briefly in a bounded queue) and rejects with a coded
 * CAPACITY_FULL when none frees up in time; the session is released when the exchange ends.
 */
export interface Admission {
  admit(): Promise<void>;
}

/**
 * The work behind /segmint/transcode: validate the tickets, credit and debit the sender,
 * take a session through `admission`, transcode. It must stop promptly when `signal` aborts
 * (the stream broke or timed out) and must leave no state behind for a request it refuses.
 * A refusal is thrown as a coded error whose code is a wire code, with a `reason` and the
 * values behind it in its details (scalars only cross the wire); any other error is answered
 * INTERNAL and stays in the orchestrator's log.
 */
export interface TranscodeService {
  handle(
    job: TranscodeJob,
    segment: Uint8Array,
    signal: AbortSignal,
    admission: Admission,
  ): Promise<TranscodeServiceResult>;
}

/** An orchestrator as the on-chain registry lists it (active and staked only). */
export interface RegisteredOrchestrator {
  address: string;
  peerId: string;
  multiaddrs: string[];
}

/** Reads the on-chain OrchestratorRegistry (chain subsystem; an adapter over ethers). */
export interface RegistryReader {
  /** Active, staked orchestrators with their service info. */
  listOrchestrators(): Promise<RegisteredOrchestrator[]>;
  /**
   * The peer id `address` published, when the entry's peer-key proof verifies; null when it
   * published none or cannot prove it (someone else's peer id, a bad or missing signature).
   */
  provenPeerId(address: string): Promise<string | null>;
  /** Whether `address` is an active (staked, in the active set) orchestrator now. */
  isActive(address: string): Promise<boolean>;
}

/** Milliseconds since the epoch; injected so expiry is tested without sleeping. */
export type Clock = () => number;
