import { Gauge, Histogram, type Registry } from "prom-client";
import { REDEMPTION_STATUSES } from "../payments/interface.ts";
import type { JournalTotals } from "./ticket-journal.ts";

/**
 * Prometheus metrics of the store: how long the journal's fsync'd writes take (they sit on the
 * path of a segment's answer when a ticket wins) and the journal's contents, read from its
 * totals when scraped.
 */
export interface StoreMetrics {
  writeSeconds: Histogram<"operation">;
  winningTickets: Gauge<"status">;
  /** Makes the journal gauges read `totals` at each scrape (set once the journal is open). */
  observeJournal(totals: () => JournalTotals): void;
}

// A durable SQLite commit is one or two fsyncs: ~0.1-2 ms on an SSD, 10-50 ms on spinning or
// network disks; past 0.25 s the disk is in trouble.
const WRITE_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export function createStoreMetrics(registry: Registry): StoreMetrics {
  const registers = [registry];
  let source: (() => JournalTotals) | null = null;
  const winningTickets = new Gauge({
    name: "segmint_store_winning_tickets",
    help: "Winning tickets in the journal, by redemption status",
    labelNames: ["status"],
    registers,
    collect() {
      if (source === null) return;
      const { counts } = source();
      for (const status of REDEMPTION_STATUSES) this.set({ status }, counts[status]);
    },
  });
  return {
    writeSeconds: new Histogram({
      name: "segmint_store_write_seconds",
      help: "Time of one durable journal write (insert or status change), fsync included",
      labelNames: ["operation"],
      buckets: WRITE_SECONDS_BUCKETS,
      registers,
    }),
    winningTickets,
    observeJournal(totals) {
      source = totals;
    },
  };
}
