import type { Registry } from "prom-client";
import { type HttpServer, listenHttp, send, sendText, serveOperatorRoute } from "../http.ts";
import { dashboardPage } from "./dashboard.ts";

export interface StatusServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The JSON body of GET /status. */
  status: () => Promise<unknown> | unknown;
  /** Whether the node is up and serving (GET /healthz answers 200, else 503). */
  healthy: () => boolean;
  metrics: Registry | null;
}

export type StatusServer = HttpServer;

/**
 * The operator's HTTP window on an orchestrator: the dashboard (/), /status (JSON), /metrics
 * (Prometheus text) and /healthz. It listens on 127.0.0.1 only: it is for the operator and a
 * local scraper, and it exposes nothing that could move funds.
 */
export function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const page = dashboardPage();
  return listenHttp(
    {
      host: "127.0.0.1",
      port: options.port,
      portHint: "pass another --http-port (0 picks a free one)",
    },
    async (request, res) => {
      if (request.method !== "GET" && request.method !== "HEAD") {
        sendText(res, 405, "method not allowed: use GET or HEAD", { allow: "GET, HEAD" });
        return;
      }
      if (request.path === "/") {
        send(
          res,
          200,
          { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
          page,
        );
        return;
      }
      if (await serveOperatorRoute(request.path, options, res)) return;
      sendText(res, 404, "not found: try /, /status, /metrics or /healthz");
    },
  );
}
