import { collectDefaultMetrics, Registry } from "prom-client";
import { type ChainMetrics, createChainMetrics } from "../chain/metrics.ts";
import { createMediaMetrics, type MediaMetrics } from "../media/metrics.ts";
import {
  createTranscodeServiceMetrics,
  type TranscodeServiceMetrics,
} from "../orchestrator/metrics.ts";
import { createP2pMetrics, type P2pMetrics } from "../p2p/metrics.ts";
import { createPaymentsMetrics, type PaymentsMetrics } from "../payments/metrics.ts";
import { createStoreMetrics, type StoreMetrics } from "../store/metrics.ts";

/**
 * Every metric of an orchestrator, on one registry: the role's own (segments handled, at the
 * top level) and each subsystem's, each defined in that subsystem's metrics.ts. The composition
 * root builds this once and hands each subsystem its part; a subsystem takes `XMetrics | null`
 * so tests and library users can run without metrics. Names carry their unit and histograms
 * have explicit buckets.
 */
export interface OrchestratorMetrics extends TranscodeServiceMetrics {
  registry: Registry;
  media: MediaMetrics;
  p2p: P2pMetrics;
  payments: PaymentsMetrics;
  chain: ChainMetrics;
  store: StoreMetrics;
}

export interface MetricsOptions {
  /** Also export the process's CPU, memory, event-loop and GC figures (segmint_process_...). */
  process: boolean;
}

export const defaultMetricsOptions: MetricsOptions = { process: true };

/** A registry, with the Node process's own metrics when asked (prefixed segmint_). */
export function createRegistry(options: MetricsOptions = defaultMetricsOptions): Registry {
  const registry = new Registry();
  if (options.process) collectDefaultMetrics({ register: registry, prefix: "segmint_" });
  return registry;
}

export function createOrchestratorMetrics(
  options: MetricsOptions = defaultMetricsOptions,
): OrchestratorMetrics {
  const registry = createRegistry(options);
  return {
    registry,
    ...createTranscodeServiceMetrics(registry),
    media: createMediaMetrics(registry),
    p2p: createP2pMetrics(registry),
    payments: createPaymentsMetrics(registry),
    chain: createChainMetrics(registry),
    store: createStoreMetrics(registry),
  };
}
