import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { errorMessage, SegmintError } from "./errors.ts";
import { toJson } from "./json.ts";

/**
 * The HTTP plumbing both daemons share: listening with a coded port-in-use error, one way to
 * answer (with a length, so HEAD is exact), and the operator routes /status, /metrics and
 * /healthz.
 */

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** What an operator should change when the port is taken (the flag's name). */
  portHint: string;
}

export interface HttpRequest {
  method: string;
  /** The path without the query, percent-decoding left to the route. */
  path: string;
  /** The query string's parameters. */
  query: URLSearchParams;
}

/** Answers one request; a thrown error becomes a 500 with its message. */
export type HttpHandler = (request: HttpRequest, res: ServerResponse) => Promise<void> | void;

/** Writes a whole response; Node drops the body itself for HEAD. */
export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Uint8Array,
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, "content-length": String(bytes.byteLength) });
  res.end(bytes);
}

/** A short plain-text answer (errors, refusals), never cached. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  send(
    res,
    status,
    { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers },
    `${text}\n`,
  );
}

/** An HTML page built from text we were given: every interpolated value goes through this. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function listenHttp(
  options: ListenOptions,
  handler: HttpHandler,
): Promise<HttpServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const request: HttpRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
    };
    Promise.resolve()
      .then(() => handler(request, res))
      .catch((error: unknown) => {
        if (res.headersSent) res.destroy();
        else sendText(res, 500, `internal error: ${errorMessage(error)}`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new SegmintError(
              "HTTP_PORT_IN_USE",
              `port ${options.port} on ${options.host} is already in use`,
              { host: options.host, port: options.port },
              { hint: options.portHint },
            )
          : error,
      );
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface OperatorRoutes {
  /** The JSON body of GET /status. */
  status: () => Promise<unknown> | unknown;
  /** Whether the node is up and serving (GET /healthz answers 200, else 503). */
  healthy: () => boolean;
  metrics: Registry | null;
}

/** Answers /status, /metrics or /healthz; false when the path is none of them. */
export async function serveOperatorRoute(
  path: string,
  routes: OperatorRoutes,
  res: ServerResponse,
): Promise<boolean> {
  const fresh = { "cache-control": "no-store" };
  switch (path) {
    case "/status":
      send(
        res,
        200,
        { "content-type": "application/json", ...fresh },
        `${toJson(await routes.status(), 2)}\n`,
      );
      return true;
    case "/metrics":
      if (routes.metrics === null) sendText(res, 404, "metrics are disabled");
      else
        send(
          res,
          200,
          { "content-type": routes.metrics.contentType, ...fresh },
          await routes.metrics.metrics(),
        );
      return true;
    case "/healthz": {
      const ok = routes.healthy();
      sendText(res, ok ? 200 : 503, ok ? "ok" : "starting or stopping");
      return true;
    }
    default:
      return false;
  }
}
