import { isIPv4, isIPv6 } from "node:net";
import { multiaddr } from "@multiformats/multiaddr";
import { P2pError } from "./errors.ts";

/**
 * The address forms a person types for a libp2p node: a multiaddr, or HOST:PORT as TCP. Both
 * roles read their `--listen` (and the orchestrator its `--announce`) through here, so the
 * forms and the refusals are the same everywhere.
 */

export type AddressFlag = "--listen" | "--announce";

/** A DNS name: dot-separated labels of letters, digits and inner hyphens, not all digits. */
const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** HOST:PORT with the host bare or, for IPv6, in brackets; the port has at most 5 digits. */
const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

function invalidAddress(
  flag: AddressFlag,
  addr: string,
  why: string,
  hint: string,
  cause?: unknown,
) {
  return new P2pError(
    "P2P_ADDRESS_INVALID",
    `${flag} ${addr} ${why}`,
    { flag, addr },
    cause === undefined ? { hint } : { hint, cause },
  );
}

/**
 * One --listen or --announce value as a multiaddr: a multiaddr as it is, or HOST:PORT as TCP
 * (`0.0.0.0:4001` -> /ip4/0.0.0.0/tcp/4001, `[::1]:4001` -> /ip6/::1/tcp/4001,
 * `node1.example.org:4001` -> /dns4/node1.example.org/tcp/4001, announce only: a node listens
 * on addresses, not names). P2P_ADDRESS_INVALID, naming the value, for anything else (a
 * placeholder copied from a guide, say), so it is found when the settings are read, not when
 * libp2p starts.
 */
export function toMultiaddr(flag: AddressFlag, addr: string): string {
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
  const match = HOST_PORT.exec(value);
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
export function toMultiaddrs(flag: AddressFlag, addrs: readonly string[]): string[] {
  return addrs.map((addr) => toMultiaddr(flag, addr));
}
