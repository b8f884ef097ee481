import { Counter, Gauge, type Registry } from "prom-client";

/**
 * Prometheus metrics of the p2p subsystem, registered on the role's registry. Components take
 * `P2pMetrics | null` so tests and library users can run without them.
 */
export interface P2pMetrics {
  /** Inbound exchanges by protocol and how they ended ("ok" or the wire code sent). */
  streams: Counter<"protocol" | "result">;
  /** Inbound exchanges in progress, by protocol. */
  activeStreams: Gauge<"protocol">;
  /** Bytes read from and written to inbound streams (frame prefixes included on reads). */
  bytes: Counter<"protocol" | "direction">;
  /** Adverts considered, by verdict ("accepted" or the drop reason). */
  adverts: Counter<"verdict">;
  /** Open libp2p connections (the role's composition root keeps it current). */
  connections: Gauge<never>;
}

export function createP2pMetrics(registry: Registry): P2pMetrics {
  const registers = [registry];
  return {
    streams: new Counter({
      name: "segmint_p2p_streams_total",
      help: "Inbound protocol exchanges, by protocol and result (ok or the error code answered)",
      labelNames: ["protocol", "result"],
      registers,
    }),
    activeStreams: new Gauge({
      name: "segmint_p2p_active_streams",
      help: "Inbound protocol exchanges in progress",
      labelNames: ["protocol"],
      registers,
    }),
    bytes: new Counter({
      name: "segmint_p2p_bytes_total",
      help: "Bytes moved on inbound protocol streams, by protocol and direction (in or out)",
      labelNames: ["protocol", "direction"],
      registers,
    }),
    adverts: new Counter({
      name: "segmint_p2p_adverts_total",
      help: "Orchestrator adverts considered, by verdict (accepted or the drop reason)",
      labelNames: ["verdict"],
      registers,
    }),
    connections: new Gauge({
      name: "segmint_p2p_connections",
      help: "Open libp2p connections to other peers",
      registers,
    }),
  };
}
