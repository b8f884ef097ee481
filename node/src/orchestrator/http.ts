import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { SegmintError } from "../errors.ts";
import { toJson } from "../json.ts";

export interface StatusServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The JSON body of GET /status. */
  status: () => Promise<unknown> | unknown;
  /** Whether the node is up and serving (GET /healthz answers 200, else 503). */
  healthy: () => boolean;
  metrics: Registry | null;
}

export interface StatusServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The operator's HTTP window on an orchestrator: /status (JSON), /metrics (Prometheus text)
 * and /healthz. It listens on 127.0.0.1 only: it is for the operator and a local scraper, and it
 * exposes nothing that could move funds.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const respond = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      respond(405, "text/plain", "method not allowed\n");
      return;
    }
    const handle = async () => {
      switch (path) {
        case "/status":
          respond(200, "application/json", `${toJson(await options.status(), 2)}\n`);
          return;
        case "/metrics":
          if (options.metrics === null) {
            respond(404, "text/plain", "metrics are disabled\n");
            return;
          }
          respond(200, options.metrics.contentType, await options.metrics.metrics());
          return;
        case "/healthz": {
          const ok = options.healthy();
          respond(ok ? 200 : 503, "text/plain", ok ? "ok\n" : "starting or stopping\n");
          return;
        }
        default:
          respond(404, "text/plain", "not found: try /status, /metrics or /healthz\n");
      }
    };
    handle().catch((error: unknown) => {
      respond(500, "text/plain", `internal error: ${(error as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new SegmintError(
              "HTTP_PORT_IN_USE",
              `port ${options.port} on 127.0.0.1 is already in use`,
              { port: options.port },
              { hint: "pass another --http-port (0 picks a free one)" },
            )
          : error,
      );
    });
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
