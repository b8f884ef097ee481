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
  /**
   * Inbound connections still in their handshake (noise, then yamux) at once, from everyone.
   * Each holds only a socket and a timer, so the cap can sit far above what a handful of
   * silent sockets can fill.
   */
  maxPendingConnections: number;
  /** Of those, how many one remote IP may hold: one host cannot take the whole pool. */
  maxPendingPerHost: number;
  /** A connection whose handshake is not done within this long is dropped. */
  handshakeTimeoutMs: number;
  /** New inbound connections one IP may open per second; more are refused at once. */
  inboundConnectionsPerSecond: number;
  /**
   * Networks (multiaddrs such as `/ip4/10.0.0.0/ipcidr/8`) whose connections skip the
   * pending and rate limits and are taken even at `maxConnections`: an operator's own
   * broadcasters. Before the handshake a peer is only an address, so allow-listing is by IP.
   */
  allow: string[];
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

export interface InfoLimits extends StreamLimits {
  /** A refused sender is logged at most once per this long. */
  refusalLogIntervalMs: number;
  /** Senders remembered for that purpose; the oldest is forgotten first. */
  maxRefusalLogSenders: number;
}

export interface TranscodeLimits extends StreamLimits {
  /** The request header must be in within this long of the stream opening. */
  headerTimeoutMs: number;
  /**
   * The body must arrive at this rate at least, after `bodyGraceMs`: its deadline is
   * `bodyGraceMs + segmentBytes / minBodyBytesPerSecond`, and a body falling behind that pace
   * is cut (TIMEOUT) before the deadline.
   */
  minBodyBytesPerSecond: number;
  bodyGraceMs: number;
  /** Paid requests that may wait for a free session when all are busy; more: CAPACITY_FULL. */
  maxQueued: number;
  /** How long a paid request may wait for a session before CAPACITY_FULL. */
  queueWaitMs: number;
  /** Largest segment accepted, in bytes (checked against the header before any body byte). */
  maxSegmentBytes: number;
  /** Largest rendition a client accepts back, in bytes. */
  maxRenditionBytes: number;
  /** Most renditions one request may ask for. */
  maxProfiles: number;
  /** Most tickets one request may carry. */
  maxTickets: number;
  /** Segments transcoded at once by this orchestrator; more wait (see above) or get CAPACITY_FULL. */
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
  info: InfoLimits;
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
    // libp2p's default is 10, and 10 sockets that never start the handshake filled it and
    // locked every honest dialer out. A pending connection costs a socket and a timer only;
    // 128 is far more than a busy orchestrator's legitimate handshakes in flight (a few
    // broadcasters and a gossip mesh connecting at once), and well under the fd limit.
    maxPendingConnections: 128,
    // Honest peers open one connection each and reuse it; 16 per IP leaves room for several
    // broadcasters behind one NAT while one host can hold only an eighth of the pool.
    maxPendingPerHost: 16,
    // Noise XX is 1.5 round trips and the muxer negotiation one more: well under a second on
    // any working link (even 300 ms RTT), so 3 s (libp2p's default: 10 s) frees a socket held
    // silent three times faster.
    handshakeTimeoutMs: 3_000,
    // libp2p's default is 5 per second per host, which a broadcaster behind the same IP as an
    // attacker (or a test on 127.0.0.1) loses to; the per-host pending cap above is the
    // real bound, this only stops a tight reconnect loop.
    inboundConnectionsPerSecond: 20,
    allow: [],
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
    // An unfunded sender asking again and again must not fill the log: one line a minute
    // tells the operator it is happening.
    refusalLogIntervalMs: 60_000,
    // Each remembered sender costs ~100 bytes; 10,000 bounds the table near 1 MB.
    maxRefusalLogSenders: 10_000,
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
    // A header is at most 64 KiB (above); even at 1 Mbit/s it is in within a second, so 5 s
    // cuts a header dribbled a byte at a time long before the whole exchange's limit.
    headerTimeoutMs: 5_000,
    // 1 Mbit/s is a slow uplink; a 2 s 720p segment (~1 MB) then arrives in about 8 s, and
    // the grace covers the first round trips and TCP slow start. A sender dripping a byte
    // every few seconds falls behind this pace after the grace and is cut then.
    minBodyBytesPerSecond: 128 * KiB,
    bodyGraceMs: 5_000,
    // A segment takes ~1-1.5 s (above): a paid request waiting 3 s behind at most 8 others is
    // served about as soon as a client-side retry would be, and 8 waiting bodies bound the
    // memory held (8 x maxSegmentBytes at worst).
    maxQueued: 8,
    queueWaitMs: 3_000,
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
