import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { IngestRefusalCode } from "./ingest-errors.ts";

/**
 * What the RTMP ingest reports. The ingest is a library the daemon and the tests drive, so it
 * calls this port; `createIngestMetrics` turns the calls into Prometheus metrics on the role's
 * registry (per-stream figures belong to the stream pipeline, these are the port's own).
 */
export interface IngestMetrics {
  connectionOpened(): void;
  refused(code: IngestRefusalCode): void;
  bytesReceived(bytes: number): void;
  /** Streams past their first keyframe (each has a segmenting ffmpeg). */
  streamsChanged(live: number): void;
  /** A piece was cut; `delaySeconds` from its last frame's due time to the hand-over. */
  segmentCut(delaySeconds: number): void;
  segmentDropped(): void;
}

// A piece is handed over tens to hundreds of ms after the keyframe that closes it
// (docs/performance.md, "RTMP ingest"); seconds mean the machine is overloaded.
const DELAY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5];

export function createIngestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry];
  const connections = new Counter({
    name: "segmint_ingest_connections_total",
    help: "TCP connections accepted on the RTMP port",
    registers,
  });
  const refusals = new Counter({
    name: "segmint_ingest_refusals_total",
    help: "Publishers refused or ended by the ingest, by code",
    labelNames: ["code"],
    registers,
  });
  const bytes = new Counter({
    name: "segmint_ingest_received_bytes_total",
    help: "Bytes received on the RTMP port",
    registers,
  });
  const streams = new Gauge({
    name: "segmint_ingest_live_streams",
    help: "Streams being cut into segments now",
    registers,
  });
  const segments = new Counter({
    name: "segmint_ingest_segments_total",
    help: "Segments cut from live streams",
    registers,
  });
  const dropped = new Counter({
    name: "segmint_ingest_segments_dropped_total",
    help: "Segments dropped because the broadcaster fell too far behind reading them",
    registers,
  });
  const delay = new Histogram({
    name: "segmint_ingest_segment_delay_seconds",
    help: "From a segment's last frame being due (its first frame's arrival + its duration) to the segment being handed over",
    buckets: DELAY_BUCKETS,
    registers,
  });
  return {
    connectionOpened: () => connections.inc(),
    refused: (code) => refusals.inc({ code }),
    bytesReceived: (count) => bytes.inc(count),
    streamsChanged: (live) => streams.set(live),
    segmentCut: (delaySeconds) => {
      segments.inc();
      delay.observe(Math.max(0, delaySeconds));
    },
    segmentDropped: () => dropped.inc(),
  };
}
