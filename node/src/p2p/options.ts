/**
 * Options of the p2p subsystem: types plus one `defaultP2pOptions`. Every limit says where its
 * number comes from, so the next person can change it with reason rather than by feel.
 */

export interface HostOptions {
  /** Folder that holds the peer key file; created if missing. */
  dataDir: string;
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001` (tests: `/ip4/127.0.0.1/tcp/0`). */
  listen: string[];
  /** Multiaddrs to announce instead of the listen addresses (public IP behind NAT). */
  announce: string[];
  /** Run gossipsub (needed for adverts). */
  gossipsub: boolean;
  /** mDNS on the local network; off by default because it broadcasts on every interface. */
  mdns: boolean;
  /**
   * Cap on open connections. An orchestrator talks to its broadcasters plus a gossip mesh of
   * ~6-12 peers (gossipsub D_hi = 12); 300 leaves room for many broadcasters without letting
   * an inbound flood exhaust file descriptors (Linux' default soft limit is 1024).
   */
  maxConnections: number;
}

export interface StreamLimits {
  /** Largest JSON header frame accepted, in bytes. */
  maxHeaderBytes: number;
  /** Largest single body frame accepted, in bytes. */
  maxFrameBytes: number;
  /** A stream that delivers no byte for this long is aborted (P2P_STREAM_STALLED). */
  stallMs: number;
  /** Wall-clock cap on a whole exchange (AbortSignal.timeout). */
  timeoutMs: number;
  /** Concurrent inbound streams of this protocol per connection (libp2p enforces it). */
  maxInboundStreams: number;
}

export interface TranscodeLimits extends StreamLimits {
  /** Largest segment accepted, in bytes (checked against the header before any body byte). */
  maxSegmentBytes: number;
  /** Largest rendition a client accepts back, in bytes. */
  maxRenditionBytes: number;
  /** Most renditions one request may ask for. */
  maxProfiles: number;
  /** Most tickets one request may carry. */
  maxTickets: number;
  /** Segments transcoded at once by this orchestrator; more get CAPACITY_FULL. */
  capacity: number;
}

export interface AdvertOptions {
  /** How often an orchestrator republishes its advert. */
  republishMs: number;
  /** How long an advert stays valid after it is signed. */
  ttlMs: number;
  /** Largest advert message accepted, in bytes. */
  maxAdvertBytes: number;
}

export interface P2pOptions {
  host: HostOptions;
  info: StreamLimits;
  transcode: TranscodeLimits;
  adverts: AdvertOptions;
  /** Bootstrap multiaddrs (with /p2p/<peer id>) dialled at start. */
  bootstrap: string[];
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const defaultP2pOptions: P2pOptions = {
  host: {
    dataDir: ".segmint",
    listen: ["/ip4/0.0.0.0/tcp/4001"],
    announce: [],
    gossipsub: true,
    mdns: false,
    maxConnections: 300,
  },
  info: {
    // The info object is ticket params (~1 KiB) plus the media capability document (a few KiB
    // of encoder names and limits); 64 KiB is ten times the largest seen, and small enough
    // that a hostile peer cannot make us buffer much.
    maxHeaderBytes: 64 * KiB,
    maxFrameBytes: 64 * KiB,
    // An info exchange is one small frame each way: on any working link it takes well under a
    // second, so 5 s of silence means a dead or hostile peer, and 10 s bounds the whole call.
    stallMs: 5_000,
    timeoutMs: 10_000,
    // A broadcaster asks once per session refresh; 4 at once per connection is generous.
    maxInboundStreams: 4,
  },
  transcode: {
    // A request header is ~300 bytes plus ~650 bytes per ticket (JSON with 78-digit
    // decimals and a 65-byte hex signature); maxTickets = 64 gives ~42 KiB, so 64 KiB.
    maxHeaderBytes: 64 * KiB,
    // Body frames are sent in 256 KiB chunks (yamux' initial window), 1 MiB leaves headroom
    // for other senders while keeping each buffered frame small.
    maxFrameBytes: 1 * MiB,
    // A 4 s segment of 1080p60 at 20 Mbit/s (a high broadcast bitrate) is 10 MB; 16 MiB.
    maxSegmentBytes: 16 * MiB,
    // Renditions are at most the source's resolution, but an encoder may spend more bits
    // than a well-compressed source; same cap as a segment.
    maxRenditionBytes: 16 * MiB,
    // The default ladder has 3-4 renditions; 8 covers a full ABR ladder plus the source.
    maxProfiles: 8,
    // One segment's fee is normally covered by 1-3 tickets; 64 caps the header (see above).
    maxTickets: 64,
    // 10 s without a byte: even a 1 Mbit/s uplink moves a 256 KiB chunk in ~2 s.
    stallMs: 10_000,
    // A 2 s segment to a 3-rendition ladder takes ~1-1.5 s on one CPU here; 60 s covers slow
    // machines, long segments and big ladders while still freeing a hung slot.
    timeoutMs: 60_000,
    // A broadcaster keeps at most a few segments in flight to one orchestrator; 8 per
    // connection stops one peer from opening thousands of idle streams.
    maxInboundStreams: 8,
    // Sessions transcoded at once; the orchestrator sets it from its hardware.
    capacity: 4,
  },
  adverts: {
    // Gossipsub keeps seen-message ids ~2 minutes; republishing every minute keeps an
    // advert fresh for late joiners while costing one small message per minute.
    republishMs: 60_000,
    // Three republish periods: one lost message does not make an orchestrator disappear.
    ttlMs: 180_000,
    // An advert is addresses + price + capability document; same budget as an info answer.
    maxAdvertBytes: 64 * KiB,
  },
  bootstrap: [],
};
