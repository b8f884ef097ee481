import { createServer } from "node:net";
import { multiaddr } from "@multiformats/multiaddr";
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

/**
 * P2P_ADDRESS_INVALID for a --listen or --announce value that is no multiaddr (a placeholder
 * copied from a guide, say): found before any transaction, not when libp2p starts.
 */
export function checkMultiaddrs(flag: string, addrs: readonly string[]): void {
  for (const addr of addrs) {
    try {
      multiaddr(addr);
    } catch (cause) {
      throw new OrchestratorError(
        "P2P_ADDRESS_INVALID",
        `${flag} ${addr} is not a valid multiaddr`,
        { flag, addr },
        {
          hint: "write it like /ip4/198.51.100.4/tcp/4001 or /dns4/node.example.org/tcp/4001",
          cause,
        },
      );
    }
  }
}
