import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * The broadcaster daemon's live-stream metrics, labelled by stream key. Names carry their unit;
 * buckets are explicit. Streams take `LiveMetrics | null`.
 */
export interface LiveMetrics {
  streams: Gauge<never>;
  segmentsIn: Counter<"stream">;
  segmentsOut: Counter<"stream">;
  segmentsLost: Counter<"stream">;
  segmentsLate: Counter<"stream">;
  availabilitySeconds: Histogram<"stream">;
  spendTokens: Counter<"stream">;
  renditionsShed: Gauge<"stream">;
  refusals: Counter<"reason">;
}

// From a segment's first frame at the ingest to all its renditions listed: a 2 s segment is
// complete after ~2 s, transcoded ~1 s later on a CPU orchestrator; past the deadline it is lost.
const AVAILABILITY_BUCKETS = [1, 2, 2.5, 3, 3.5, 4, 5, 6, 8, 10, 15, 30];

export function createLiveMetrics(registry: Registry): LiveMetrics {
  const registers = [registry];
  const perStream = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ["stream"], registers });
  return {
    streams: new Gauge({
      name: "segmint_live_streams",
      help: "Live streams being served (publishing or waiting for a reconnect)",
      registers,
    }),
    segmentsIn: perStream("segmint_live_segments_in_total", "Source segments cut from the ingest"),
    segmentsOut: perStream(
      "segmint_live_segments_out_total",
      "Segments transcoded, verified and listed in every rendition asked for",
    ),
    segmentsLost: perStream(
      "segmint_live_segments_lost_total",
      "Segments whose transcoded renditions were skipped (deadline passed or every try failed)",
    ),
    segmentsLate: perStream(
      "segmint_live_segments_late_total",
      "Segments that took longer than their own duration to come back after they closed",
    ),
    availabilitySeconds: new Histogram({
      name: "segmint_live_availability_seconds",
      help: "From a segment's first frame at the ingest to its renditions being listed",
      labelNames: ["stream"],
      buckets: AVAILABILITY_BUCKETS,
      registers,
    }),
    spendTokens: perStream(
      "segmint_live_spend_tokens_total",
      "Expected value of the tickets sent for the stream, in tokens",
    ),
    renditionsShed: new Gauge({
      name: "segmint_live_renditions_shed",
      help: "Top renditions not transcoded now because the network fell behind real time",
      labelNames: ["stream"],
      registers,
    }),
    refusals: new Counter({
      name: "segmint_live_publish_refusals_total",
      help: "Publishers refused at connect, by reason",
      labelNames: ["reason"],
      registers,
    }),
  };
}
