import { createServer, isIPv4, isIPv6 } from "node:net";
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

/** A DNS name: dot-separated labels of letters, digits and inner hyphens, not all digits. */
const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function invalidAddress(flag: string, addr: string, why: string, hint: string, cause?: unknown) {
  return new OrchestratorError(
    "P2P_ADDRESS_INVALID",
    `${flag} ${addr} ${why}`,
    { flag, addr },
    cause === undefined ? { hint } : { hint, cause },
  );
}

/**
 * One --listen or --announce value as a multiaddr: a multiaddr as it is, or host:port as TCP
 * (`0.0.0.0:4001` -> /ip4/0.0.0.0/tcp/4001, `[::1]:4001` -> /ip6/::1/tcp/4001,
 * `node1.example.org:4001` -> /dns4/node1.example.org/tcp/4001, announce only: a node listens
 * on addresses, not names). P2P_ADDRESS_INVALID, naming the value, for anything else (a
 * placeholder copied from a guide, say): found before any transaction, not when libp2p starts.
 */
export function toMultiaddr(flag: "--listen" | "--announce", addr: string): string {
  const value = addr.trim();
  const hint =
    flag === "--listen"
      ? "write it as HOST:PORT (0.0.0.0:4001, [::]:4001) or a multiaddr (/ip4/0.0.0.0/tcp/4001)"
      : "write it as HOST:PORT (198.51.100.4:4001, node.example.org:4001, [2001:db8::1]:4001) or a multiaddr";
  if (value.startsWith("/")) {
    try {
      multiaddr(value);
    } catch (cause) {
      throw invalidAddress(flag, addr, "is not a valid multiaddr", hint, cause);
    }
    return value;
  }
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) {
    throw invalidAddress(flag, addr, "is neither HOST:PORT nor a multiaddr", hint);
  }
  if (port === 0 && flag === "--announce") {
    throw invalidAddress(flag, addr, "announces port 0, which nobody can dial", hint);
  }
  const v6 = match[1];
  const host = match[2] ?? "";
  if (v6 !== undefined) {
    if (!isIPv6(v6)) throw invalidAddress(flag, addr, "holds no IPv6 address in brackets", hint);
    return `/ip6/${v6}/tcp/${port}`;
  }
  if (isIPv4(host)) return `/ip4/${host}/tcp/${port}`;
  if (/^[\d.]+$/.test(host) || !DNS_NAME.test(host)) {
    throw invalidAddress(flag, addr, "names no IPv4 address or DNS name", hint);
  }
  if (flag === "--listen") {
    throw invalidAddress(
      flag,
      addr,
      "is a name; a node listens on an IP address",
      "listen on 0.0.0.0:PORT and publish the name with --announce NAME:PORT",
    );
  }
  return `/dns4/${host}/tcp/${port}`;
}

/** Every value of a --listen or --announce list as a multiaddr (see toMultiaddr). */
export function toMultiaddrs(flag: "--listen" | "--announce", addrs: readonly string[]): string[] {
  return addrs.map((addr) => toMultiaddr(flag, addr));
}
