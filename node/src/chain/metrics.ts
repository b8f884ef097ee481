import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * Prometheus metrics of the node's chain access: every JSON-RPC request by method (sent
 * transactions show as eth_sendRawTransaction), its errors and latency, and the current round.
 */
export interface ChainMetrics {
  rpcRequests: Counter<"method">;
  /** JSON-RPC error answers by method; "transport" when the request got no answer at all. */
  rpcErrors: Counter<"method">;
  rpcSeconds: Histogram<"method">;
  round: Gauge<never>;
}

// A local node answers in about a millisecond, a hosted one in 50-300 ms; seconds mean trouble
// (tickets then wait on stale round data).
const RPC_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export function createChainMetrics(registry: Registry): ChainMetrics {
  const registers = [registry];
  return {
    rpcRequests: new Counter({
      name: "segmint_chain_rpc_requests_total",
      help: "JSON-RPC requests sent, by method",
      labelNames: ["method"],
      registers,
    }),
    rpcErrors: new Counter({
      name: "segmint_chain_rpc_errors_total",
      help: "JSON-RPC requests answered with an error (or not at all: method transport)",
      labelNames: ["method"],
      registers,
    }),
    rpcSeconds: new Histogram({
      name: "segmint_chain_rpc_seconds",
      help: "Time from sending a JSON-RPC request to its answer, by method",
      labelNames: ["method"],
      buckets: RPC_SECONDS_BUCKETS,
      registers,
    }),
    round: new Gauge({
      name: "segmint_chain_round",
      help: "The protocol round this node last saw",
      registers,
    }),
  };
}

/** A provider that reports its JSON-RPC traffic as ethers' JsonRpcProvider does ("debug"). */
export interface DebugEmitter {
  on(event: "debug", listener: (info: unknown) => void): unknown;
}

/**
 * Requests whose answer has not come yet. Answers normally come within seconds; requests lost to
 * a transport error never get one, so entries older than this are dropped.
 */
const PENDING_TTL_MS = 60_000;

/** Feeds `metrics` from the provider's debug events: each request, error and answer time. */
export function instrumentProvider(
  provider: DebugEmitter,
  metrics: ChainMetrics,
  now: () => number = () => performance.now(),
): void {
  const pending = new Map<number | string, { method: string; at: number }>();
  provider.on("debug", (info: unknown) => {
    if (!isRecord(info)) return;
    const at = now();
    switch (info.action) {
      case "sendRpcPayload":
        for (const request of asList(info.payload)) {
          if (!isRecord(request) || typeof request.method !== "string") continue;
          metrics.rpcRequests.inc({ method: request.method });
          const id = request.id;
          if (typeof id === "number" || typeof id === "string") {
            pending.set(id, { method: request.method, at });
          }
        }
        for (const [id, p] of pending) {
          if (at - p.at <= PENDING_TTL_MS) break; // insertion order: the rest are newer
          pending.delete(id);
        }
        return;
      case "receiveRpcResult":
        for (const answer of asList(info.result)) {
          if (!isRecord(answer)) continue;
          const id = answer.id;
          if (typeof id !== "number" && typeof id !== "string") continue;
          const sent = pending.get(id);
          if (sent === undefined) continue;
          pending.delete(id);
          metrics.rpcSeconds.observe({ method: sent.method }, (at - sent.at) / 1000);
          if ("error" in answer) metrics.rpcErrors.inc({ method: sent.method });
        }
        return;
      case "receiveRpcError":
        metrics.rpcErrors.inc({ method: "transport" });
        return;
      default:
        return;
    }
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}
