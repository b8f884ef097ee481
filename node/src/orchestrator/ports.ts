import { createServer } from "node:net";
import { OrchestratorError } from "./errors.ts";

/** The host and port of a TCP listen multiaddr with a fixed port; null for anything else. */
function tcpListen(addr: string): { host: string; port: number } | null {
  const match = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d+)(?:\/|$)/.exec(addr);
  if (!match) return null;
  const port = Number(match[3]);
  return port === 0 ? null : { host: match[2] ?? "", port };
}

/** Resolves when `host:port` could be bound (and is released again), rejects with the error. */
function tryBind(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/**
 * P2P_PORT_IN_USE when a fixed libp2p TCP port is taken: checked at start-up before any
 * transaction, so a clash costs no gas and publishes no entry pointing at someone else's port.
 */
export async function checkListenPorts(listen: readonly string[]): Promise<void> {
  for (const addr of listen) {
    const target = tcpListen(addr);
    if (target === null) continue;
    try {
      await tryBind(target.host, target.port);
    } catch (error) {
      const code = error instanceof Error && "code" in error ? error.code : undefined;
      if (code !== "EADDRINUSE" && code !== "EACCES") continue; // libp2p reports the rest
      throw new OrchestratorError(
        "P2P_PORT_IN_USE",
        code === "EACCES"
          ? `the libp2p listen address ${addr} needs privileges this process lacks`
          : `the libp2p listen address ${addr} is already in use`,
        { addr, port: target.port },
        { hint: "stop what uses it or pass --listen with another port" },
      );
    }
  }
}
