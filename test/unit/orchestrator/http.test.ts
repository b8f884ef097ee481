import { afterEach, describe, expect, it } from "vitest";
import { createOrchestratorMetrics } from "../../../node/src/metrics/index.ts";
import { type StatusServer, startStatusServer } from "../../../node/src/orchestrator/http.ts";

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("status server", () => {
  it("serves /status as JSON with bigints as strings, /metrics and /healthz", async () => {
    const metrics = createOrchestratorMetrics();
    metrics.segments.inc({ result: "ok" });
    let healthy = false;
    server = await startStatusServer({
      port: 0,
      status: () => ({ address: "0xabc", earnings: 10n ** 20n }),
      healthy: () => healthy,
      metrics: metrics.registry,
    });
    const status = await fetch(`${server.url}/status`);
    expect(status.status).toBe(200);
    expect(await status.json()).toEqual({ address: "0xabc", earnings: "100000000000000000000" });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('segmint_segments_total{result="ok"} 1');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    healthy = true;
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/status`, { method: "POST" })).status).toBe(405);
  });

  it("serves the dashboard at / as one self-contained page that reads /status", async () => {
    server = await startStatusServer({
      port: 0,
      status: () => ({}),
      healthy: () => true,
      metrics: null,
    });
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain('fetch("/status"');
    // Nothing loaded from elsewhere: no script, style or font URL.
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).not.toMatch(/url\(/);
    const head = await fetch(`${server.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBe(Buffer.byteLength(html));
  });

  it("refuses a port in use with a coded error", async () => {
    server = await startStatusServer({
      port: 0,
      status: () => ({}),
      healthy: () => true,
      metrics: null,
    });
    await expect(
      startStatusServer({
        port: server.port,
        status: () => ({}),
        healthy: () => true,
        metrics: null,
      }),
    ).rejects.toMatchObject({ code: "HTTP_PORT_IN_USE" });
  });
});
