import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createChainMetrics, instrumentProvider } from "../../../node/src/chain/metrics.ts";
import { createOrchestratorMetrics } from "../../../node/src/metrics/index.ts";
import { MeteredJournal } from "../../../node/src/orchestrator/journal.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { randomWin } from "../../helpers/tickets.ts";

/** Emits ethers-style "debug" events on demand. */
class FakeProvider {
  private listener: ((info: unknown) => void) | null = null;
  on(_event: "debug", listener: (info: unknown) => void) {
    this.listener = listener;
    return this;
  }
  emit(info: unknown) {
    this.listener?.(info);
  }
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  const found = values.find((v) =>
    Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
  );
  return found?.value;
}

const win = (faceValue: bigint) => randomWin({ faceValue });

describe("chain metrics from the provider's debug events", () => {
  it("counts requests by method (batches too), errors, and times answers", async () => {
    const registry = new Registry();
    const metrics = createChainMetrics(registry);
    const provider = new FakeProvider();
    let now = 1_000;
    instrumentProvider(provider, metrics, () => now);

    provider.emit({
      action: "sendRpcPayload",
      payload: [
        { id: 1, method: "eth_call", params: [], jsonrpc: "2.0" },
        { id: 2, method: "eth_blockNumber", params: [], jsonrpc: "2.0" },
      ],
    });
    now += 250;
    provider.emit({
      action: "receiveRpcResult",
      result: [
        { id: 1, result: "0x" },
        { id: 2, error: { code: -32000, message: "boom" } },
      ],
    });
    provider.emit({
      action: "sendRpcPayload",
      payload: { id: 3, method: "eth_call", params: [], jsonrpc: "2.0" },
    });
    provider.emit({ action: "receiveRpcError", error: new Error("socket hang up") });
    provider.emit({ action: "somethingElse" });

    expect(await value(registry, "segmint_chain_rpc_requests_total", { method: "eth_call" })).toBe(
      2,
    );
    expect(
      await value(registry, "segmint_chain_rpc_requests_total", { method: "eth_blockNumber" }),
    ).toBe(1);
    expect(
      await value(registry, "segmint_chain_rpc_errors_total", { method: "eth_blockNumber" }),
    ).toBe(1);
    expect(await value(registry, "segmint_chain_rpc_errors_total", { method: "transport" })).toBe(
      1,
    );
    const text = await registry.metrics();
    expect(text).toMatch(/segmint_chain_rpc_seconds_sum\{method="eth_call"\} 0\.25/);
    expect(text).toMatch(/segmint_chain_rpc_seconds_count\{method="eth_call"\} 1/);
  });
});

describe("payments and store metrics of the journal", () => {
  it("counts what a partly paid ticket paid, not its face value", async () => {
    const metrics = createOrchestratorMetrics({ process: false });
    const db = openDatabase(":memory:");
    const store = new TicketJournal(db, Date.now, metrics.store);
    const journal = new MeteredJournal(store, metrics.payments);
    metrics.store.observeJournal(() => journal.totals());
    for (const v of [1_000n, 5_000n, 7n]) store.record(win(v));
    const [full, partial, failed] = store.listByStatus(["pending"]).map((e) => e.id);
    journal.markRedeemed(full ?? 0, null); // no receipt: face value
    journal.markRedeemed(partial ?? 0, "0xabc", "ran short", 1_200n);
    journal.markFailed(failed ?? 0, "reverted");

    const r = metrics.registry;
    expect(await value(r, "segmint_value_redeemed_wei_total")).toBe(2_200);
    expect(await value(r, "segmint_tickets_redeemed_total", { status: "redeemed" })).toBe(2);
    expect(await value(r, "segmint_tickets_redeemed_total", { status: "failed" })).toBe(1);
    // The journal gauge reads the SQL aggregate at scrape time.
    expect(await value(r, "segmint_store_winning_tickets", { status: "redeemed" })).toBe(2);
    expect(await value(r, "segmint_store_winning_tickets", { status: "failed" })).toBe(1);
    expect(await value(r, "segmint_store_winning_tickets", { status: "pending" })).toBe(0);
    const text = await r.metrics();
    expect(text).toMatch(/segmint_store_write_seconds_count\{operation="record"\} 3/);
    expect(text).toMatch(/segmint_store_write_seconds_count\{operation="update"\} 3/);
    db.close();
  });

  it("puts every subsystem on one registry", async () => {
    const metrics = createOrchestratorMetrics({ process: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    for (const prefix of [
      "segmint_media_",
      "segmint_p2p_",
      "segmint_tickets_",
      "segmint_chain_",
      "segmint_store_",
      "segmint_segments_total",
    ]) {
      expect(names.some((n) => n.startsWith(prefix))).toBe(true);
    }
    expect(names.some((n) => n.startsWith("segmint_process_"))).toBe(false);
    const withProcess = createOrchestratorMetrics();
    expect(
      await withProcess.registry.getSingleMetricAsString("segmint_process_cpu_seconds_total"),
    ).toContain("segmint_process_cpu_seconds_total");
  });
});
