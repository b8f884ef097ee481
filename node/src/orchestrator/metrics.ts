import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The orchestrator's own metrics: paid segments as the service handles them. */
export interface TranscodeServiceMetrics {
  segments: Counter<"result">;
  transcodeSeconds: Histogram<never>;
  realtimeRatio: Histogram<never>;
  errors: Counter<"code">;
  sessions: Gauge<never>;
  capacity: Gauge<never>;
}

// A 2 s segment takes ~1 s on 2 CPU cores (docs/performance.md); buckets span fast GPUs to
// overload.
const TRANSCODE_SECONDS_BUCKETS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];
// Media seconds per wall second: below 1 a node cannot keep up with live input.
const REALTIME_RATIO_BUCKETS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20];

export function createTranscodeServiceMetrics(registry: Registry): TranscodeServiceMetrics {
  const registers = [registry];
  return {
    segments: new Counter({
      name: "segmint_segments_total",
      help: "Segments handled, by result (ok or an error code)",
      labelNames: ["result"],
      registers,
    }),
    transcodeSeconds: new Histogram({
      name: "segmint_transcode_seconds",
      help: "Wall time to transcode one segment into every requested rendition",
      buckets: TRANSCODE_SECONDS_BUCKETS,
      registers,
    }),
    realtimeRatio: new Histogram({
      name: "segmint_transcode_realtime_ratio",
      help: "Segment media duration divided by its transcode wall time",
      buckets: REALTIME_RATIO_BUCKETS,
      registers,
    }),
    errors: new Counter({
      name: "segmint_errors_total",
      help: "Requests refused or failed, by error code",
      labelNames: ["code"],
      registers,
    }),
    sessions: new Gauge({
      name: "segmint_transcode_sessions",
      help: "Transcodes in progress",
      registers,
    }),
    capacity: new Gauge({
      name: "segmint_transcode_capacity_sessions",
      help: "Concurrent transcodes this node accepts",
      registers,
    }),
  };
}
